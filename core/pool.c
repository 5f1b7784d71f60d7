/* SPDX-License-Identifier: MIT */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int sn_pool_init(struct sn_pool *p, uint32_t count, uint32_t headroom, uint32_t room,
		 uint32_t tailroom, bool lock)
{
	uint64_t buf = ((uint64_t)headroom + room + tailroom + 63) & ~(uint64_t)63;
	uint64_t bytes = buf * count;
	void *mem;

	memset(p, 0, sizeof(*p));
	if (count == 0 || buf > UINT32_MAX || bytes > (1ull << 34))
		return -EINVAL;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	p->pkts = calloc(count, sizeof(*p->pkts));
	p->free = calloc(count, sizeof(*p->free));
	if (!p->pkts || !p->free) {
		munmap(mem, bytes);
		free(p->pkts);
		free(p->free);
		return -ENOMEM;
	}
	p->mem = mem;
	p->count = count;
	p->headroom = headroom;
	p->buf_size = (uint32_t)buf;
	p->mem_bytes = bytes + (uint64_t)count * (sizeof(*p->pkts) + sizeof(*p->free));
	/* Touch every page now so RSS is flat under load, then pin it. */
	memset(mem, 0, bytes);
	if (lock)
		p->locked = mlock(mem, bytes) == 0 && mlock(p->pkts, count * sizeof(*p->pkts)) == 0;
	for (uint32_t i = 0; i < count; i++) {
		p->pkts[i].buf = p->mem + (uint64_t)i * buf;
		p->pkts[i].cap = (uint32_t)buf;
		p->free[i] = &p->pkts[count - 1 - i];
	}
	p->n_free = count;
	return 0;
}

void sn_pool_destroy(struct sn_pool *p)
{
	if (p->mem)
		munmap(p->mem, (uint64_t)p->buf_size * p->count);
	free(p->pkts);
	free(p->free);
	memset(p, 0, sizeof(*p));
}
