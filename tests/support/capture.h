/* SPDX-License-Identifier: MIT */
/*
 * tests/support/capture.h: what a test writes to stderr, caught in a
 * temporary file (log lines are write(2)s to fd 2, core/log.c).
 */
#ifndef SN_CAPTURE_H
#define SN_CAPTURE_H

struct capture {
	int saved, fd;
	char path[64];
};

/* From now on fd 2 goes to a temporary file (fails the test on error). */
void capture_start(struct capture *c);
/* fd 2 back as it was; what was written (a static buffer, up to 64 KiB). */
char *capture_end(struct capture *c);

#endif
