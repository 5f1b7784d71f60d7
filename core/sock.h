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

#endif
