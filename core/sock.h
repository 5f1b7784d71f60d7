/* SPDX-License-Identifier: MIT */
/*
 * core/sock.h: creating sockets the same way on every platform.
 */
#ifndef SN_SOCK_H
#define SN_SOCK_H

#include <stdbool.h>

/*
 * socket(domain, type, protocol), close-on-exec, and non-blocking when
 * nonblock is true. Where the kernel takes SOCK_CLOEXEC and SOCK_NONBLOCK
 * in the type (Linux) that is one call; where it does not (macOS) the
 * flags are set with fcntl() right after. Returns the descriptor or a
 * negative errno.
 */
int sn_socket(int domain, int type, int protocol, bool nonblock);

/* socketpair(domain, type, protocol, sv), both ends close-on-exec, the
 * same way. 0 or a negative errno. */
int sn_socketpair(int domain, int type, int protocol, int sv[2]);

#endif
