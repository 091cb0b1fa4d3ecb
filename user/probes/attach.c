// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uprobe_multi links put every function of one binary behind two links (one
 * entry, one return), which attaches thousands of functions in milliseconds;
 * older kernels get one perf-event link per function and direction. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "elf_symbols.h"
#include "probe_list.h"
#include "probe_table.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's "not supported": what uprobe_register says of an instruction */
#endif

/* The kernel analyses a probed instruction when it installs the probe in a
 * process that maps the file: -ENOTSUPP for one it refuses, -ENOEXEC for one
 * it can't decode. */
static bool refused_instruction(int err)
{
	return err == -ENOTSUPP || err == -ENOEXEC;
}

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

int attachment__add(struct attachment *a, struct bpf_link *link)
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

/* Set while attaching to one chosen process (attach_process): that it
 * exited meanwhile is ordinary there, not worth a line. */
static bool quiet_when_gone;

static void print_attach_error(const char *what, const char *path, int err)
{
	if (quiet_when_gone && err == -ESRCH)
		return;
	if (err == -EPERM || err == -EACCES)
		fprintf(stderr, "spanprobe: not allowed to attach uprobes to %s (run as root, or with "
			"CAP_BPF and CAP_PERFMON)\n", path);
	else if (err == -ESRCH)
		fprintf(stderr, "spanprobe: the traced process is gone; nothing to attach %s to\n", what);
	else if (err == -ENOENT && access(path, F_OK) != 0)
		fprintf(stderr, "spanprobe: %s disappeared before attaching\n", path);
	else
		fprintf(stderr, "spanprobe: can't attach to %s in %s: %s\n", what, path, strerror(-err));
}

/* Attaches entry and return links over funcs idx[0..n) of one binary. When
 * the kernel refuses an instruction the whole link fails: halve the set
 * until the refused functions are found, mark them skipped, attach the rest. */
static int attach_multi_set(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
			    const size_t *idx, size_t n, struct bpf_program *enter,
			    struct bpf_program *exit, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	struct bpf_link *links[2] = { NULL, NULL };
	unsigned long *offsets = NULL;
	__u64 *cookies = NULL;
	int err = 0;

	if (n == 0)
		return 0;
	offsets = calloc(n, sizeof(*offsets));
	cookies = calloc(n, sizeof(*cookies));
	if (!offsets || !cookies) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		offsets[i] = t->funcs[idx[i]].sym->attach_offset;
		cookies[i] = t->funcs[idx[i]].id;
	}
	opts.offsets = offsets;
	opts.cookies = cookies;
	opts.cnt = n;
	for (int ret = 0; ret <= 1; ret++) {
		opts.retprobe = ret;
		links[ret] = bpf_program__attach_uprobe_multi(ret ? exit : enter, pid, b->path, NULL, &opts);
		if (!links[ret]) {
			err = -errno;
			break;
		}
	}
	if (!err) {
		err = attachment__add(a, links[0]);
		links[0] = NULL;
		if (!err)
			err = attachment__add(a, links[1]);
		links[1] = NULL;
		goto cleanup;
	}
	bpf_link__destroy(links[0]);
	links[0] = NULL;
	if (!refused_instruction(err)) {
		print_attach_error(opts.retprobe ? "function returns" : "function entries", b->path, err);
		goto cleanup;
	}
	if (n == 1) {
		t->funcs[idx[0]].skip = SKIP_KERNEL_REFUSED;
		err = 0;
		goto cleanup;
	}
	err = attach_multi_set(a, t, b, idx, n / 2, enter, exit, pid);
	if (!err)
		err = attach_multi_set(a, t, b, idx + n / 2, n - n / 2, enter, exit, pid);
cleanup:
	free(offsets);
	free(cookies);
	return err;
}

static int attach_binary_multi(struct attachment *a, struct probe_table *t,
			       const struct traced_binary *b, struct bpf_program *enter,
			       struct bpf_program *exit, pid_t pid)
{
	size_t *idx = calloc(t->nfuncs ? t->nfuncs : 1, sizeof(*idx)), n = 0;
	int err;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < t->nfuncs; i++)
		if (t->funcs[i].bin == b && t->funcs[i].skip == SKIP_NONE)
			idx[n++] = i;
	err = attach_multi_set(a, t, b, idx, n, enter, exit, pid);
	free(idx);
	return err;
}

static int attach_func_single(struct attachment *a, struct traced_func *f,
			      struct bpf_program *enter, struct bpf_program *exit, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts);
	struct bpf_link *links[2] = { NULL, NULL };
	int err = 0;

	opts.bpf_cookie = f->id;
	for (int ret = 0; ret <= 1 && !err; ret++) {
		opts.retprobe = ret;
		links[ret] = bpf_program__attach_uprobe_opts(ret ? exit : enter, pid, f->bin->path,
							     f->sym->attach_offset, &opts);
		if (!links[ret])
			err = -errno;
	}
	if (err) {
		bpf_link__destroy(links[0]);
		if (refused_instruction(err)) {
			f->skip = SKIP_KERNEL_REFUSED;
			return 0;
		}
		print_attach_error(f->sym->name, f->bin->path, err);
		return err;
	}
	err = attachment__add(a, links[0]);
	if (!err)
		err = attachment__add(a, links[1]);
	else
		bpf_link__destroy(links[1]);
	return err;
}

static int attach_one_binary(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
			     struct bpf_program *enter, struct bpf_program *exit, pid_t pid)
{
	int err = 0;

	if (a->multi)
		return attach_binary_multi(a, t, b, enter, exit, pid);
	for (size_t i = 0; i < t->nfuncs && !err; i++)
		if (t->funcs[i].bin == b && t->funcs[i].skip == SKIP_NONE)
			err = attach_func_single(a, &t->funcs[i], enter, exit, pid);
	return err;
}

int attach_binary(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
		  struct bpf_program *enter, struct bpf_program *exit, pid_t pid)
{
	int err = attach_one_binary(a, t, b, enter, exit, pid);

	if (!err)
		probe_list__print_skipped(stderr, t, b);
	return err;
}

int attach_probes(struct attachment *a, struct probe_table *t, struct bpf_program *enter,
		  struct bpf_program *exit, pid_t pid, bool multi)
{
	int err = 0;

	memset(a, 0, sizeof(*a));
	a->multi = multi;
	for (size_t i = 0; i < t->nbins && !err; i++)
		err = attach_one_binary(a, t, t->bins[i], enter, exit, pid);
	if (err)
		attachment__destroy(a);
	else
		probe_list__print_skipped(stderr, t, NULL);
	return err;
}

int attach_process(struct attachment *a, struct probe_table *t, struct bpf_program *enter,
		   struct bpf_program *exit, pid_t pid, bool multi)
{
	int err = 0;

	memset(a, 0, sizeof(*a));
	a->multi = multi;
	quiet_when_gone = true;
	for (size_t i = 0; i < t->nbins && !err; i++)
		err = attach_one_binary(a, t, t->bins[i], enter, exit, pid);
	quiet_when_gone = false;
	if (err)
		attachment__destroy(a);
	return err;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* Since 6.12 a return probe pending in a thread holds an SRCU read lock
 * until it fires or a per-thread timer expires it, and every new return
 * probe in that thread pushes the timer back. A call that stays open (a
 * server's loop) while traced calls go on beneath it therefore blocks any
 * unregistering for as long as it runs, in uninterruptible sleep, as long as
 * one return probe is still registered. So every link is closed at once, each
 * on a thread of its own: all the probes are gone at nearly the same moment,
 * no new return probe pushes the timer back, and the waits end within it. */
void attachment__destroy(struct attachment *a)
{
	pthread_t *threads;
	bool *started;

	if (!a)
		return;
	threads = calloc(a->nlinks, sizeof(*threads));
	started = calloc(a->nlinks, sizeof(*started));
	for (size_t i = 0; i < a->nlinks; i++) {
		if (threads && started &&
		    pthread_create(&threads[i], NULL, destroy_link, a->links[i]) == 0)
			started[i] = true;
		else
			bpf_link__destroy(a->links[i]);
	}
	for (size_t i = 0; i < a->nlinks; i++)
		if (started && started[i])
			pthread_join(threads[i], NULL);
	free(threads);
	free(started);
	free(a->links);
	a->links = NULL;
	a->nlinks = 0;
}
