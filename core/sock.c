/* SPDX-License-Identifier: MIT */
/*
 * core/sock.c: sn_socket(), see sock.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
int sn_socket(int domain, int type, int protocol, bool nonblock)
{
	int fd = socket(domain, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), protocol);

	return fd >= 0 ? fd : -errno;
}

int sn_socketpair(int domain, int type, int protocol, int sv[2])
{
	return socketpair(domain, type | SOCK_CLOEXEC, protocol, sv) == 0 ? 0 : -errno;
}
#else
/* A fork()+exec() in another thread between socket() and fcntl() would
 * leak the descriptor; no thread of the daemon or the tool forks. */
int sn_socket(int domain, int type, int protocol, bool nonblock)
{
	int fd = socket(domain, type, protocol), fl, e;

	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		goto fail;
	if (nonblock && ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0))
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}

int sn_socketpair(int domain, int type, int protocol, int sv[2])
{
	int e;

	if (socketpair(domain, type, protocol, sv) != 0)
		return -errno;
	if (fcntl(sv[0], F_SETFD, FD_CLOEXEC) == 0 && fcntl(sv[1], F_SETFD, FD_CLOEXEC) == 0)
		return 0;
	e = errno;
	close(sv[0]);
	close(sv[1]);
	return -e;
}
#endif
