// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uprobe_multi links put every function of one binary behind two links (one
 * entry, one return), which attaches thousands of functions in milliseconds;
 * older kernels get one perf-event link per function and direction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "elf_symbols.h"
#include "probe_table.h"

bool uprobe_multi_supported(void)
{
	const char *off = getenv("SPANPROBE_NO_UPROBE_MULTI");
	struct utsname u;
	int major = 0, minor = 0;

	if (off && *off && strcmp(off, "0") != 0)
		return false;
	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 6);
}

static int add_link(struct attachment *a, struct bpf_link *link)
{
	struct bpf_link **grown = realloc(a->links, (a->nlinks + 1) * sizeof(*a->links));

	if (!grown) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	a->links = grown;
	a->links[a->nlinks++] = link;
	return 0;
}

static void print_attach_error(const char *what, const char *path, int err)
{
	if (err == -EPERM || err == -EACCES)
		fprintf(stderr, "spanprobe: not allowed to attach uprobes to %s (run as root, or with "
			"CAP_BPF and CAP_PERFMON)\n", path);
	else if (err == -ESRCH)
		fprintf(stderr, "spanprobe: the traced process is gone; nothing to attach %s to\n", what);
	else if (err == -EMFILE)
		fprintf(stderr, "spanprobe: can't attach to %s in %s: too many open files (this kernel "
			"has no uprobe_multi links, Linux 6.6+, so each function takes 2 descriptors): "
			"raise the limit (ulimit -n) or trace fewer functions\n", what, path);
	else if (err == -ENOENT && access(path, F_OK) != 0)
		fprintf(stderr, "spanprobe: %s disappeared before attaching\n", path);
	else
		fprintf(stderr, "spanprobe: can't attach to %s in %s: %s\n", what, path, strerror(-err));
}

static int attach_binary_multi(struct attachment *a, const struct probe_table *t,
			       const struct traced_binary *b, struct bpf_program *enter,
			       struct bpf_program *exit, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	unsigned long *offsets = NULL;
	__u64 *cookies = NULL;
	struct bpf_link *link;
	size_t n = 0;
	int err = 0;

	offsets = calloc(t->nfuncs, sizeof(*offsets));
	cookies = calloc(t->nfuncs, sizeof(*cookies));
	if (!offsets || !cookies) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < t->nfuncs; i++) {
		if (t->funcs[i].bin != b || t->funcs[i].sym->cost == ATTACH_UNPROBEABLE)
			continue;
		offsets[n] = t->funcs[i].sym->attach_offset;
		cookies[n] = t->funcs[i].id;
		n++;
	}
	if (n == 0)
		goto cleanup;
	opts.offsets = offsets;
	opts.cookies = cookies;
	opts.cnt = n;
	for (int ret = 0; ret <= 1; ret++) {
		opts.retprobe = ret;
		link = bpf_program__attach_uprobe_multi(ret ? exit : enter, pid, b->path, NULL, &opts);
		if (!link) {
			err = -errno;
			print_attach_error(ret ? "function returns" : "function entries", b->path, err);
			goto cleanup;
		}
		err = add_link(a, link);
		if (err)
			goto cleanup;
	}
cleanup:
	free(offsets);
	free(cookies);
	return err;
}

static int attach_func_single(struct attachment *a, const struct traced_func *f,
			      struct bpf_program *enter, struct bpf_program *exit, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts);
	struct bpf_link *link;
	int err;

	opts.bpf_cookie = f->id;
	for (int ret = 0; ret <= 1; ret++) {
		opts.retprobe = ret;
		link = bpf_program__attach_uprobe_opts(ret ? exit : enter, pid, f->bin->path,
						       f->sym->attach_offset, &opts);
		if (!link) {
			err = -errno;
			print_attach_error(f->sym->name, f->bin->path, err);
			return err;
		}
		err = add_link(a, link);
		if (err)
			return err;
	}
	return 0;
}

int attach_binary(struct attachment *a, const struct probe_table *t, const struct traced_binary *b,
		  struct bpf_program *enter, struct bpf_program *exit, pid_t pid)
{
	int err = 0;

	if (a->multi)
		return attach_binary_multi(a, t, b, enter, exit, pid);
	for (size_t i = 0; i < t->nfuncs && !err; i++)
		if (t->funcs[i].bin == b && t->funcs[i].sym->cost != ATTACH_UNPROBEABLE)
			err = attach_func_single(a, &t->funcs[i], enter, exit, pid);
	return err;
}

/* Per-function links hold two descriptors per function (a perf event each):
 * 1,000 functions pass the usual soft limit of 1024. The hard limit may be
 * taken without privilege. */
static void raise_open_files_limit(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int attach_probes(struct attachment *a, const struct probe_table *t, struct bpf_program *enter,
		  struct bpf_program *exit, pid_t pid, bool multi)
{
	int err = 0;

	memset(a, 0, sizeof(*a));
	a->multi = multi;
	if (!multi)
		raise_open_files_limit();
	for (size_t i = 0; i < t->nbins && !err; i++)
		err = attach_binary(a, t, t->bins[i], enter, exit, pid);
	if (err)
		attachment__destroy(a);
	return err;
}

void attachment__destroy(struct attachment *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nlinks; i++)
		bpf_link__destroy(a->links[i]);
	free(a->links);
	a->links = NULL;
	a->nlinks = 0;
}
