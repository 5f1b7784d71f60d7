/* SPDX-License-Identifier: MIT */
/*
 * core/sched.c: the packet thread's scheduling (node.slice_us and
 * node.rt_priority, docs/configuration.md).
 *
 * On a machine with fewer cores than busy threads, a packet that arrives
 * while the packet thread is runnable but not running waits until the
 * scheduler gets to it: measured under a TCP load on 2 cores, each daemon
 * of the bench star waited for a CPU about as long as it ran
 * (bench/README.md, "Latency under load"), at every node the ping passes.
 *
 * node.slice_us: Linux's EEVDF scheduler (6.12 and later) takes a
 * per-thread slice (sched_attr.sched_runtime for SCHED_OTHER, 0.1-100 ms):
 * a thread with a shorter slice gets an earlier deadline when it wakes and
 * may preempt a thread with a longer one, without a real-time policy, a
 * privilege or a change of its share of the CPU. Older kernels take the
 * value and ignore it; a kernel that refuses it is told once in the log and
 * changes nothing. A thread started under another policy (chrt,
 * systemd's CPUSchedulingPolicy=) keeps it: no slice is asked.
 *
 * node.rt_priority: SCHED_FIFO at that priority, asked before privileges
 * are dropped, with SCHED_RESET_ON_FORK so that libuv's worker threads and
 * anything spawned run as ordinary threads. A woken packet thread then
 * preempts every SCHED_OTHER thread at once (it does not wait behind
 * them), as a kernel VPN's softirq does. It needs CAP_SYS_NICE or an
 * RLIMIT_RTPRIO of at least the priority; without, the log says so once and
 * the thread stays as it was. The kernel's real-time throttling
 * (sched_rt_runtime_us, 95 % by default) leaves the other threads a share
 * even if the thread never sleeps. Other systems: a warning, nothing else.
 */
#include <errno.h>
#include <string.h>

#include "node.h"

#ifdef __linux__
#include <sched.h>
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

static int policy_now(void)
{
	int p = sched_getscheduler(0);

	return p < 0 ? -errno : (p & ~SCHED_RESET_ON_FORK);
}

static const char *policy_name(int p)
{
	switch (p) {
	case SCHED_FIFO: return "SCHED_FIFO";
	case SCHED_RR: return "SCHED_RR";
	case SCHED_BATCH: return "SCHED_BATCH";
	case SCHED_IDLE: return "SCHED_IDLE";
	case SCHED_DEADLINE: return "SCHED_DEADLINE";
	default: return "not SCHED_OTHER";
	}
}

static int set_fifo(uint32_t prio)
{
	struct sched_param sp;

	memset(&sp, 0, sizeof(sp));
	sp.sched_priority = (int)prio;
	return sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0 ? 0 : -errno;
}
#else
static int set_slice(uint32_t us)
{
	(void)us;
	return 0;
}

static int policy_now(void)
{
	return 0;
}

static const char *policy_name(int p)
{
	(void)p;
	return "not SCHED_OTHER";
}

static int set_fifo(uint32_t prio)
{
	(void)prio;
	return -ENOSYS;
}
#endif

void sn__sched_rt(struct sn_node *n)
{
	uint32_t prio = n->cfg->rt_priority;
	int rc;

	if (!prio)
		return;
	rc = set_fifo(prio);
	if (rc == -ENOSYS)
		sn_log(&n->host, SN_LOG_WARN, "node.rt_priority: this system has no SCHED_FIFO for the "
		       "packet thread; it keeps its scheduling");
	else if (rc < 0)
		sn_log(&n->host, SN_LOG_WARN, "node.rt_priority: %u not applied (sched_setscheduler: %s; "
		       "it needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least %u, and under systemd "
		       "RestrictRealtime=no); packets may wait for a CPU behind other work",
		       prio, strerror(-rc), prio);
	else
		sn_log(&n->host, SN_LOG_INFO, "node.rt_priority: the packet thread runs at SCHED_FIFO "
		       "priority %u", prio);
}

void sn__sched_slice(struct sn_node *n)
{
	int rc;

	if (!n->cfg->slice_us)
		return;
	rc = policy_now(); /* a failed query (< 0) leaves the slice to try */
	if (rc > 0) {
		/* a policy given from outside (node.rt_priority, chrt, systemd)
		 * is kept: sched_setattr with SCHED_OTHER would take it away */
		if (!n->cfg->rt_priority)
			sn_log(&n->host, SN_LOG_INFO, "node.slice_us: not asked; the packet thread "
			       "keeps the policy it was started with (%s)", policy_name(rc));
		return;
	}
	rc = set_slice(n->cfg->slice_us);
	if (rc < 0)
		sn_log(&n->host, SN_LOG_INFO, "node.slice_us: the kernel keeps its own time slice for "
		       "the packet thread (sched_setattr: %s); packets may wait longer for a CPU",
		       strerror(-rc));
}
