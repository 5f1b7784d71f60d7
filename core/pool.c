/* SPDX-License-Identifier: MIT */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* count descriptors over count buffers of buf bytes at *mem, a free stack
 * holding all of them; touched and, with lock, pinned. */
static int carve(uint32_t count, uint64_t buf, bool lock, uint8_t **mem, struct sn_pkt **pkts,
		 struct sn_pkt ***free_stack, bool *locked)
{
	uint64_t bytes = buf * count;
	void *m;

	if (count == 0 || buf > UINT32_MAX || bytes > (1ull << 34))
		return -EINVAL;
	m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	*pkts = calloc(count, sizeof(**pkts));
	*free_stack = calloc(count, sizeof(**free_stack));
	if (!*pkts || !*free_stack) {
		munmap(m, bytes);
		free(*pkts);
		free(*free_stack);
		*pkts = NULL;
		*free_stack = NULL;
		return -ENOMEM;
	}
	*mem = m;
	/* Touch every page now so RSS is flat under load, then pin it. */
	memset(m, 0, bytes);
	*locked = lock && mlock(m, bytes) == 0 && mlock(*pkts, count * sizeof(**pkts)) == 0;
	for (uint32_t i = 0; i < count; i++) {
		(*pkts)[i].buf = *mem + (uint64_t)i * buf;
		(*pkts)[i].cap = (uint32_t)buf;
		(*free_stack)[i] = &(*pkts)[count - 1 - i];
	}
	return 0;
}

int sn_pool_init(struct sn_pool *p, uint32_t count, uint32_t headroom, uint32_t room,
		 uint32_t tailroom, bool lock)
{
	uint64_t buf = ((uint64_t)headroom + room + tailroom + 63) & ~(uint64_t)63;
	int r;

	memset(p, 0, sizeof(*p));
	r = carve(count, buf, lock, &p->mem, &p->pkts, &p->free, &p->locked);
	if (r < 0)
		return r;
	p->count = count;
	p->headroom = headroom;
	p->buf_size = (uint32_t)buf;
	p->mem_bytes = buf * count + (uint64_t)count * (sizeof(*p->pkts) + sizeof(*p->free));
	p->n_free = count;
	return 0;
}

int sn_pool_add_big(struct sn_pool *p, uint32_t count, bool lock)
{
	uint64_t buf = ((uint64_t)p->headroom + SN_PKT_BIG_ROOM + 63) & ~(uint64_t)63;
	bool locked;
	int r;

	if (p->big)
		return -EALREADY;
	if (buf <= p->buf_size)
		return -EINVAL; /* big packets are told apart by their cap */
	r = carve(count, buf, lock, &p->big_mem, &p->big, &p->big_free, &locked);
	if (r < 0)
		return r;
	p->locked = p->locked && locked;
	p->big_count = count;
	p->big_size = (uint32_t)buf;
	p->n_big_free = count;
	p->mem_bytes += buf * count + (uint64_t)count * (sizeof(*p->big) + sizeof(*p->big_free));
	return 0;
}

void sn_pool_destroy(struct sn_pool *p)
{
	if (p->mem)
		munmap(p->mem, (uint64_t)p->buf_size * p->count);
	if (p->big_mem)
		munmap(p->big_mem, (uint64_t)p->big_size * p->big_count);
	free(p->pkts);
	free(p->free);
	free(p->big);
	free(p->big_free);
	memset(p, 0, sizeof(*p));
}
