/* SPDX-License-Identifier: MIT */
/*
 * core/sched.c: the packet thread asks the kernel for a short time slice
 * (node.slice_us, docs/configuration.md).
 *
 * On a machine with fewer cores than busy threads, a packet that arrives
 * while the packet thread is runnable but not running waits until the
 * scheduler gets to it: measured under a TCP load on 2 cores, each daemon
 * of the bench star waited for a CPU about as long as it ran
 * (bench/README.md, "Latency under load"), at every node the ping passes.
 * Linux's EEVDF scheduler (6.12 and later) takes a per-thread slice
 * (sched_attr.sched_runtime for SCHED_OTHER, 0.1-100 ms): a thread with a
 * shorter slice gets an earlier deadline when it wakes and may preempt a
 * thread with a longer one, without a real-time policy, a privilege or a
 * change of its share of the CPU. Older kernels take the value and ignore
 * it; a kernel that refuses it is told once in the log and changes
 * nothing. Other systems: nothing to do.
 */
#include <errno.h>
#include <string.h>

#include "node.h"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* struct sched_attr of <linux/sched/types.h>, which clashes with glibc's
 * struct sched_param when both are included */
struct sn_sched_attr {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

static int set_slice(uint32_t us)
{
	struct sn_sched_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.sched_policy = 0; /* SCHED_OTHER, as it is */
	errno = 0;
	a.sched_nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		return -errno;
	a.sched_runtime = (uint64_t)us * 1000u;
	return syscall(SYS_sched_setattr, 0, &a, 0) == 0 ? 0 : -errno;
}
#else
static int set_slice(uint32_t us)
{
	(void)us;
	return 0;
}
#endif

void sn__sched_slice(struct sn_node *n)
{
	int rc;

	if (!n->cfg->slice_us)
		return;
	rc = set_slice(n->cfg->slice_us);
	if (rc < 0)
		sn_log(&n->host, SN_LOG_INFO, "node.slice_us: the kernel keeps its own time slice for "
		       "the packet thread (sched_setattr: %s); packets may wait longer for a CPU",
		       strerror(-rc));
}
