/* SPDX-License-Identifier: MIT */
/*
 * container/entry.h: what the container image's entrypoint does before it
 * execs subnetrad in the foreground (docs/container.md):
 *
 *   - sn_entry_prepare: find the config (a file, or the config text from
 *     SUBNETRA_CONFIG_TEXT) and, when a key file is readable by group or
 *     others (RouterOS disks cannot keep mode 0600) or the private key comes
 *     from SUBNETRA_PRIVATE_KEY, build a private view of the config's
 *     directory: symbolic links to everything in it, except 0600 copies of
 *     the key files, so the config, its relative paths and its state
 *     directory stay as they are;
 *   - sn_entry_link_socket: `subnetra status` without options finds the
 *     daemon whatever control.socket the config names;
 *   - sn_entry_forwarding, sn_entry_tun: IPv4 forwarding on and
 *     /dev/net/tun present inside the container.
 *
 * Each step says what it did on the log stream, one line each, and returns
 * 0 or a negative errno with the reason in err.
 */
#ifndef SN_CONTAINER_ENTRY_H
#define SN_CONTAINER_ENTRY_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#define SN_ENTRY_MAX_KEYS 64 /* key files one config may name */

struct sn_entry {
	/* in */
	const char *config;      /* the config file, absolute; ignored with config_text */
	const char *config_text; /* the config itself (YAML or JSON), or NULL */
	const char *private_key; /* the node's private key (base64), or NULL */
	const char *view_dir;    /* the private view, made afresh: /run/subnetra/etc */
	FILE *log;               /* what was done, one line each */
	/* out */
	char run_config[PATH_MAX]; /* the config file subnetrad is to read */
	char socket[PATH_MAX];     /* the control socket it will listen on */
	unsigned copies;           /* key files copied (or written) into the view */
};

/* Decide and, if needed, build the view; fills the out fields. */
int sn_entry_prepare(struct sn_entry *e, char *err, size_t err_len);

/* Make default (the socket `subnetra` uses without -s or -c) lead to the
 * daemon's socket: a symbolic link when they differ, nothing (and a stale
 * link removed) when they are the same. */
int sn_entry_link_socket(const char *default_path, const char *actual, FILE *log, char *err,
			 size_t err_len);

/* Write 1 to the forwarding switch at proc_path
 * (/proc/sys/net/ipv4/ip_forward); when that fails but it is on already,
 * that is success too. */
int sn_entry_forwarding(const char *proc_path, FILE *log, char *err, size_t err_len);

/* Create the TUN device node at path (/dev/net/tun, char 10:200) when it is
 * missing. */
int sn_entry_tun(const char *path, FILE *log, char *err, size_t err_len);

/* Split line in place into at most max - 1 words (NULL after the last):
 * blanks separate words, '...' and "..." group, a backslash escapes the
 * next character outside single quotes. The word count, or -EINVAL for an
 * unclosed quote, -E2BIG for too many words. */
int sn_entry_split(char *line, char **argv, int max);

/* Internal, shared by the files of container/: an error text into err
 * (returns rc), an info line on log (none when log is NULL). */
int sn__entry_fail(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void sn__entry_say(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
