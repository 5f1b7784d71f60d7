/* SPDX-License-Identifier: MIT */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileperm.h"

#define MAX_BUILTINS 16

static sn_plugin_entry_fn builtins[MAX_BUILTINS];
static uint32_t n_builtins;

int sn_loader_register_builtin(sn_plugin_entry_fn entry)
{
	if (n_builtins == MAX_BUILTINS)
		return -ENOSPC;
	builtins[n_builtins++] = entry;
	return 0;
}

const char *sn_kind_name(uint32_t kind)
{
	switch (kind) {
	case SN_KIND_EGRESS:
		return "egress";
	case SN_KIND_CRYPTO:
		return "crypto";
	case SN_KIND_OS:
		return "os";
	}
	return "unknown";
}

/* A required operation: its offset in the kind's table and its name. */
struct req_op {
	size_t off;
	const char *name;
};

#define OP(T, m) { offsetof(struct T, m), #m }
static const struct req_op egress_ops[] = {
	OP(sn_egress_ops, open), OP(sn_egress_ops, fd), OP(sn_egress_ops, local_addr),
	OP(sn_egress_ops, recv_batch), OP(sn_egress_ops, send_batch), {0, NULL}};
static const struct req_op crypto_ops[] = {
	OP(sn_crypto_ops, public_key), OP(sn_crypto_ops, pair_key), OP(sn_crypto_ops, dir_key),
	OP(sn_crypto_ops, seal), OP(sn_crypto_ops, open), OP(sn_crypto_ops, wipe), {0, NULL}};
static const struct req_op os_ops[] = {
	OP(sn_os_ops, tun_open), OP(sn_os_ops, tun_fd), OP(sn_os_ops, tun_name),
	OP(sn_os_ops, tun_read_batch), OP(sn_os_ops, tun_write_batch),
	OP(sn_os_ops, route_add), OP(sn_os_ops, route_del), {0, NULL}};
#undef OP

static const struct req_op *required_ops(uint32_t kind)
{
	return kind == SN_KIND_EGRESS ? egress_ops : kind == SN_KIND_CRYPTO ? crypto_ops : os_ops;
}

/* Every ops table starts with uint32_t struct_size. */
static int check_ops(const struct sn_plugin *p, char *err, size_t err_len)
{
	const unsigned char *ops = p->desc->ops;
	const struct req_op *r;
	uint32_t size;
	void *fn;

	if (!ops) {
		snprintf(err, err_len, "%s: descriptor has no %s operations table", p->path,
			 sn_kind_name(p->kind));
		return -EINVAL;
	}
	memcpy(&size, ops, sizeof(size));
	for (r = required_ops(p->kind); r->name; r++) {
		if (size >= r->off + sizeof(void *))
			memcpy(&fn, ops + r->off, sizeof(fn));
		else
			fn = NULL;
		if (!fn) {
			snprintf(err, err_len, "%s: required operation %s.%s is missing", p->path,
				 sn_kind_name(p->kind), r->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_version(const struct sn_plugin *p, char *err, size_t err_len)
{
	const struct sn_plugin_desc *d = p->desc;

	if (d->abi_major != SN_ABI_MAJOR) {
		snprintf(err, err_len,
			 "%s: plugin ABI %u.%u is not supported by this subnetrad (ABI %u.%u): "
			 "major versions differ; rebuild the plugin against SDK %u.x",
			 p->path, d->abi_major, d->abi_minor, SN_ABI_MAJOR, SN_ABI_MINOR,
			 SN_ABI_MAJOR);
		return -EPROTO;
	}
	if (d->abi_minor > SN_ABI_MINOR) {
		snprintf(err, err_len,
			 "%s: plugin needs ABI %u.%u but this subnetrad provides %u.%u; "
			 "upgrade subnetrad or rebuild the plugin against SDK %u.%u",
			 p->path, d->abi_major, d->abi_minor, SN_ABI_MAJOR, SN_ABI_MINOR,
			 SN_ABI_MAJOR, SN_ABI_MINOR);
		return -EPROTO;
	}
	if (d->struct_size < offsetof(struct sn_plugin_desc, ops) + sizeof(d->ops)) {
		snprintf(err, err_len, "%s: descriptor struct_size %u is too small (at least %zu)",
			 p->path, d->struct_size,
			 offsetof(struct sn_plugin_desc, ops) + sizeof(d->ops));
		return -EPROTO;
	}
	return 0;
}

/* One of the room sizes above SN_ROOM_MAX: its name, else NULL. */
static const char *room_over(const struct sn_host_decl *d, uint32_t *v)
{
	const char *what = d->headroom > SN_ROOM_MAX ? "headroom" :
			   d->tailroom > SN_ROOM_MAX ? "tailroom" :
			   d->overhead > SN_ROOM_MAX ? "overhead" : NULL;

	*v = d->headroom > SN_ROOM_MAX ? d->headroom :
	     d->tailroom > SN_ROOM_MAX ? d->tailroom : d->overhead;
	return what;
}

static int check_room(const struct sn_plugin *p, const char *how, char *err, size_t err_len)
{
	uint32_t v;
	const char *what = room_over(&p->decl, &v);

	if (!what)
		return 0;
	snprintf(err, err_len, "%s: %s plugin '%s' %s %u bytes of %s; a plugin may have at most "
		 "%u (SN_ROOM_MAX, subnetra/packet.h)", p->path, sn_kind_name(p->kind),
		 p->desc->name, how, v, what, SN_ROOM_MAX);
	return -E2BIG;
}

static void decl_init(struct sn_plugin *p)
{
	const struct sn_plugin_desc *d = p->desc;

	memset(&p->decl, 0, sizeof(p->decl));
	p->decl.name = d->name;
	p->decl.headroom = d->headroom;
	p->decl.tailroom = d->tailroom;
	p->decl.overhead = d->overhead;
}

static int check_desc(struct sn_plugin *p, const char *name, char *err, size_t err_len)
{
	const struct sn_plugin_desc *d = p->desc;
	char why[256] = "";
	int r;

	if ((r = check_version(p, err, err_len)) < 0)
		return r;
	if (d->kind != p->kind) {
		snprintf(err, err_len, "%s: is a%s %s plugin, but plugins.%s names it", p->path,
			 d->kind == SN_KIND_EGRESS || d->kind == SN_KIND_OS ? "n" : "",
			 sn_kind_name(d->kind), sn_kind_name(p->kind));
		return -EINVAL;
	}
	if (!d->name || (name && !strchr(name, '/') && strcmp(d->name, name) != 0)) {
		snprintf(err, err_len, "%s: declares the name '%s', expected '%s'", p->path,
			 d->name ? d->name : "(none)", name);
		return -EINVAL;
	}
	if (d->instance_align & (d->instance_align - 1)) {
		snprintf(err, err_len, "%s: instance_align %u is not a power of two", p->path,
			 d->instance_align);
		return -EINVAL;
	}
	if (!d->create || !d->destroy) {
		snprintf(err, err_len, "%s: required operation %s is missing", p->path,
			 d->create ? "destroy" : "create");
		return -EINVAL;
	}
	if ((r = check_ops(p, err, err_len)) < 0)
		return r;
	decl_init(p);
	if ((r = check_room(p, "declares", err, err_len)) < 0)
		return r;
	if (d->probe && (r = d->probe(why, sizeof(why))) != 0) {
		snprintf(err, err_len, "%s: not available on this machine: %s", p->path,
			 why[0] ? why : strerror(r < 0 ? -r : r));
		return r < 0 ? r : -ENOTSUP;
	}
	return 0;
}

static int find_builtin(struct sn_plugin *p, const char *name)
{
	for (uint32_t i = 0; i < n_builtins; i++) {
		const struct sn_plugin_desc *d = builtins[i]();

		if (d && d->kind == p->kind && d->name && strcmp(d->name, name) == 0) {
			p->desc = d;
			snprintf(p->path, sizeof(p->path), "built-in:%s", name);
			return 1;
		}
	}
	return 0;
}

/* A plugin runs as root: its file, and the directory it is in, must be
 * changeable by root or the daemon's user only (core/fileperm.h). dlopen()
 * opens the path again; nobody else can swap the file in between, because
 * nobody else can write the directory holding it. */
static int check_file(struct sn_plugin *p, char *err, size_t err_len)
{
	struct sn_owners o;
	struct stat st;
	int fd, r;

	fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, err_len, "%s: %s plugin file not found (%s)", p->path,
			 sn_kind_name(p->kind), strerror(errno));
		return -ENOENT;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: not a regular file", p->path);
		close(fd);
		return -EINVAL;
	}
	sn_owners_init(&o);
	r = sn_file_trusted(fd, p->path, &o, err, err_len);
	close(fd);
	return r;
}

static int open_file(struct sn_plugin *p, char *err, size_t err_len)
{
	sn_plugin_entry_fn entry;
	int r;

	if ((r = check_file(p, err, err_len)) < 0)
		return r;
	p->handle = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->handle) {
		snprintf(err, err_len, "%s: cannot load as a shared object: %s", p->path, dlerror());
		return -ENOEXEC;
	}
	*(void **)&entry = dlsym(p->handle, SN_PLUGIN_ENTRY_V1);
	if (!entry) {
		snprintf(err, err_len,
			 "%s: no %s symbol: not a Subnetra plugin, or built for another ABI major",
			 p->path, SN_PLUGIN_ENTRY_V1);
		return -ENOEXEC;
	}
	p->desc = entry();
	if (!p->desc) {
		snprintf(err, err_len, "%s: %s() returned no descriptor", p->path,
			 SN_PLUGIN_ENTRY_V1);
		return -EINVAL;
	}
	return 0;
}

/* The names of the kind's plugins in dir (<kind>_<name>.so), up to max,
 * sorted; their text in buf. Returns how many. */
static uint32_t installed(uint32_t kind, const char *dir, const char **names, uint32_t max,
			  char *buf, size_t len)
{
	const char *pre = sn_kind_name(kind);
	size_t pl = strlen(pre), used = 0, k;
	struct dirent *e;
	uint32_t n = 0;
	DIR *d = opendir(dir);

	while (d && n < max && (e = readdir(d))) {
		k = strlen(e->d_name);
		if (k <= pl + 4 || strncmp(e->d_name, pre, pl) || e->d_name[pl] != '_' ||
		    strcmp(e->d_name + k - 3, ".so") || used + k - pl - 3 > len)
			continue;
		memcpy(buf + used, e->d_name + pl + 1, k - pl - 4);
		buf[used + k - pl - 4] = 0;
		names[n++] = buf + used;
		used += k - pl - 3;
	}
	if (d)
		closedir(d);
	for (uint32_t i = 1; i < n; i++) /* few names: insertion sort */
		for (uint32_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	return n;
}

/* After "file not found" for a name: the closest installed name and
 * everything installed of that kind. */
static void suggest(uint32_t kind, const char *name, const char *dir, char *err, size_t err_len)
{
	const char *names[64], *hint;
	char buf[2048];
	size_t used = strlen(err);
	uint32_t n = installed(kind, dir, names, 64, buf, sizeof(buf));

	hint = sn_opt_closest(name, names, n);
	if (hint && used < err_len)
		used += (size_t)snprintf(err + used, err_len - used, "; did you mean '%s'?", hint);
	if (!n && used < err_len)
		used += (size_t)snprintf(err + used, err_len - used, "; no %s plugin is installed in %s",
					 sn_kind_name(kind), dir);
	else if (used < err_len)
		used += (size_t)snprintf(err + used, err_len - used, "; installed in %s:", dir);
	for (uint32_t i = 0; i < n && used < err_len; i++)
		used += (size_t)snprintf(err + used, err_len - used, "%s %s", i ? "," : "", names[i]);
}

/* Plugins are found there by name: nobody but root or the daemon's user
 * may add one, sticky bit or not. */
static int dir_trusted(const char *dir, char *err, size_t err_len)
{
	struct sn_owners o;

	sn_owners_init(&o);
	return sn_dir_trusted(dir, "plugin directory", &o, err, err_len);
}

int sn_loader_load(uint32_t kind, const char *name, const char *dir, struct sn_plugin *out,
		   char *err, size_t err_len)
{
	struct sn_plugin p;
	int r;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	if (!name || !*name) {
		snprintf(err, err_len, "no %s plugin named", sn_kind_name(kind));
		return -EINVAL;
	}
	if (strchr(name, '/')) {
		snprintf(p.path, sizeof(p.path), "%s", name);
	} else if (!find_builtin(&p, name)) {
		dir = dir ? dir : ".";
		if ((r = dir_trusted(dir, err, err_len)) < 0)
			return r;
		snprintf(p.path, sizeof(p.path), "%s/%s_%s.so", dir, sn_kind_name(kind), name);
	}
	if (!p.desc && (r = open_file(&p, err, err_len)) < 0) {
		if (r == -ENOENT && !strchr(name, '/'))
			suggest(kind, name, dir, err, err_len);
		goto fail;
	}
	if ((r = check_desc(&p, name, err, err_len)) < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	if (p.handle)
		dlclose(p.handle);
	return r;
}

int sn_plugin_create(struct sn_plugin *p, struct sn_host *host, const struct sn_options *opts,
		     char *err, size_t err_len)
{
	const struct sn_plugin_desc *d = p->desc;
	size_t align = d->instance_align ? d->instance_align : 16;
	size_t size = d->instance_size ? d->instance_size : 1;
	char why[256] = "";
	struct sn_create_args a;
	int r;

	if (align < sizeof(void *))
		align = sizeof(void *);
	size = (size + align - 1) & ~(align - 1);
	if (posix_memalign(&p->inst, align, size) != 0) {
		p->inst = NULL;
		snprintf(err, err_len, "%s: out of memory for the instance (%zu bytes)", p->path,
			 size);
		return -ENOMEM;
	}
	memset(p->inst, 0, size);
	memset(&a, 0, sizeof(a));
	a.struct_size = sizeof(a);
	a.host = host;
	a.api = sn_host_api_table();
	if (opts)
		a.options = *opts;
	a.err = why;
	a.err_len = sizeof(why);
	p->host = host;
	decl_init(p);
	host->creating = &p->decl;
	r = d->create(p->inst, &a);
	host->creating = NULL;
	if (r != 0)
		snprintf(err, err_len, "%s: %s", p->path, why[0] ? why : strerror(r < 0 ? -r : r));
	if (check_room(p, "asks at create for", err, err_len) < 0) {
		if (r == 0)
			d->destroy(p->inst);
		r = -E2BIG;
	}
	if (r != 0) {
		sn_host_drop_counters(host, &p->decl);
		free(p->inst);
		p->inst = NULL;
		return r < 0 ? r : -EINVAL;
	}
	return 0;
}

void sn_plugin_unload(struct sn_plugin *p)
{
	if (p->inst) {
		p->desc->destroy(p->inst);
		sn_host_drop_counters(p->host, &p->decl);
		free(p->inst);
		p->inst = NULL;
	}
	if (p->handle)
		dlclose(p->handle);
	p->handle = NULL;
	p->desc = NULL;
}
