/* SPDX-License-Identifier: MIT */
/*
 * core/epoch.h: the state directory and the session epoch in it
 * (docs/protocol.md, epochs; docs/configuration.md, node.state_dir).
 *
 * The state directory is the node's nonce memory, so nobody but the user
 * the daemon runs as may change it: it is refused when it is a symbolic
 * link, owned by another user, or writable by group or others, and the
 * epoch file likewise; nothing in it is read or written through a symbolic
 * link (every access is relative to the directory's fd, with O_NOFOLLOW).
 * An exclusive lock on DIR/lock, held while the state is open, keeps a
 * second daemon off the same directory.
 */
#ifndef SN_EPOCH_H
#define SN_EPOCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SN_EPOCH_MAX 0xFFFFFFFEu /* usable epochs are 1..SN_EPOCH_MAX */

struct sn_state {
	bool open;
	int dirfd;             /* the directory (O_DIRECTORY | O_NOFOLLOW) */
	int lockfd;            /* DIR/lock, flock()ed exclusively */
	uid_t uid;             /* the user the daemon runs as after setup: owns all of it */
	gid_t gid;
	pthread_mutex_t lock;  /* one sn_epoch_next at a time */
	char dir[1024];        /* the path, for messages */
};

/*
 * Open (creating it when missing: mkdir -p, mode 0700, the last component
 * given to run_uid:run_gid) and check the state directory, and take its
 * lock. run_uid is the uid the daemon runs as once setup is done (node.user,
 * else the euid). 0, or a negative errno with the reason and the fix in err
 * ("state directory X is in use by another subnetrad (pid N)"). Keep it open
 * for the life of the node; sn_state_close releases it.
 */
int sn_state_open(struct sn_state *st, const char *dir, uid_t run_uid, gid_t run_gid, char *err,
		  size_t err_len);

/*
 * Pick the next epoch = max(now, last + 1, min_epoch), where last is the
 * epoch file's value (0 without one), and persist it durably (a new
 * epoch.tmp created with O_EXCL, fsync, rename over epoch, fsync the
 * directory) before returning it in *out. A node that cannot persist its
 * epoch must not send in it. Errors (negative errno, reason in err): an
 * epoch file that is not a regular file owned by the daemon's user, is
 * writable by group or others, holds no number or one above SN_EPOCH_MAX,
 * or leaves no usable epoch; each message says how to recover.
 *
 * Thread-safe and reentrant (a uv_work thread may call it while the loop
 * runs); works after the daemon dropped root, since it only touches files
 * in the directory the daemon's user owns.
 */
int sn_epoch_next(struct sn_state *st, uint64_t now, uint32_t min_epoch, uint32_t *out,
		  char *err, size_t err_len);

/* Durably replace DIR/name (a plain file name) with text, the way the epoch
 * is written. 0 or -errno with the reason in err. Thread-safe. */
int sn_state_write(struct sn_state *st, const char *name, const char *text, char *err,
		   size_t err_len);
/* Read DIR/name (at most cap - 1 bytes, NUL-terminated), refusing a link or
 * a file another user owns or can write, as for the epoch. -ENOENT (err
 * untouched) when there is none. */
int sn_state_read(struct sn_state *st, const char *name, char *buf, size_t cap, size_t *len,
		  char *err, size_t err_len);

/* Release the lock and close the directory. Safe on a zeroed struct and twice. */
void sn_state_close(struct sn_state *st);

#endif
