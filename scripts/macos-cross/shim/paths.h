/* SPDX-License-Identifier: MIT */
/*
 * scripts/macos-cross/shim/paths.h: Apple's <paths.h> (Libc), which the
 * headers zig carries for macOS lack and libuv includes (src/unix/process.c
 * uses _PATH_DEFPATH). The values are macOS's own. Found after zig's
 * headers (-idirafter), so a real one would win.
 */
#ifndef _PATHS_H_
#define _PATHS_H_

#define _PATH_DEFPATH "/usr/bin:/bin"
#define _PATH_STDPATH "/usr/bin:/bin:/usr/sbin:/sbin"
#define _PATH_BSHELL "/bin/sh"
#define _PATH_CONSOLE "/dev/console"
#define _PATH_CSHELL "/bin/csh"
#define _PATH_DEVNULL "/dev/null"
#define _PATH_TTY "/dev/tty"
#define _PATH_TMP "/tmp/"
#define _PATH_VARRUN "/var/run/"
#define _PATH_VARTMP "/var/tmp/"

#endif
