// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uprobe_multi links put every function of one binary behind three links
 * (entries, uretprobes, exit sites), which attaches thousands of functions
 * in milliseconds; older kernels get one perf-event link per probe point. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <limits.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "exit_sites.h"
#include "in_root.h"
#include "elf_symbols.h"
#include "entry_site.h"
#include "probe_list.h"
#include "probe_cookie.h"
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

int attachment__keep(struct attachment *a, struct bpf_link *link, const char *what,
		     const char *path, bool quiet_gone)
{
	int err;

	if (!link) {
		err = -errno;
		if (!(quiet_gone && err == -ESRCH))
			fprintf(stderr, "spanprobe: can't attach to %s in %s: %s\n", what, path,
				strerror(-err));
		return err;
	}
	return attachment__add(a, link);
}

int attachment__add_fd(struct attachment *a, int link_fd)
{
	int *grown = realloc(a->link_fds, (a->nfds + 1) * sizeof(*a->link_fds));

	if (!grown) {
		close(link_fd);
		return -ENOMEM;
	}
	a->link_fds = grown;
	a->link_fds[a->nfds++] = link_fd;
	return 0;
}

/* Set while attaching to one chosen process (attach_process): that it
 * exited meanwhile is ordinary there, not worth a line. */
static bool quiet_when_gone;

static void print_attach_error(const char *what, const struct traced_binary *b, int err)
{
	if (quiet_when_gone && err == -ESRCH)
		return;
	if (err == -EPERM || err == -EACCES)
		fprintf(stderr, "spanprobe: not allowed to attach uprobes to %s (run as root, or with "
			"CAP_BPF and CAP_PERFMON)\n", b->path);
	else if (err == -ESRCH)
		fprintf(stderr, "spanprobe: the traced process is gone; nothing to attach %s to\n", what);
	else if (err == -ESTALE)
		fprintf(stderr, "spanprobe: %s: the kernel probes another file than the one opened "
			"(a file swapped during the attach?); not traced\n", b->path);
	else if (err == -EMFILE)
		fprintf(stderr, "spanprobe: can't attach to %s in %s: too many open files (this kernel "
			"has no uprobe_multi links, Linux 6.6+, so each function takes 2 descriptors): "
			"raise the limit (ulimit -n) or trace fewer functions\n", what, b->path);
	else
		fprintf(stderr, "spanprobe: can't attach to %s in %s: %s\n", what, b->path, strerror(-err));
}

/* The links were made from b->attach_path, our own descriptor of the file
 * checked: the kernel resolved it then. Proven here: an uprobe_multi link
 * names its file (the kernel's d_path of what it probes), which must be
 * what that descriptor names; and the descriptor still is the file of that
 * device and inode. */
static int check_link_file(struct bpf_link *link, const struct traced_binary *b)
{
	char linked[PATH_MAX], held[PATH_MAX];
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	ssize_t n;

	memset(&info, 0, sizeof(info));
	linked[0] = '\0';
	info.uprobe_multi.path = (__u64)(unsigned long)linked;
	info.uprobe_multi.path_size = sizeof(linked);
	/* kernels before 6.8 tell no uprobe_multi link's file: the descriptor
	 * check below is then what is left */
	if (bpf_link_get_info_by_fd(bpf_link__fd(link), &info, &len) == 0 &&
	    info.type == BPF_LINK_TYPE_UPROBE_MULTI && linked[0]) {
		n = readlink(b->attach_path, held, sizeof(held) - 1);
		if (n < 0)
			return -ESTALE;
		held[n] = '\0';
		linked[sizeof(linked) - 1] = '\0';
		if (strcmp(linked, held) != 0)
			return -ESTALE;
	}
	return probe_table__check_binary(b);
}

/* Attaches the probes of funcs idx[0..n) of one binary: one uprobe_multi
 * link for the entries, one for the uretprobes, one for the exit sites.
 * When the kernel refuses an instruction the whole link fails: halve the
 * set until the refused functions are found, mark them skipped, attach the
 * rest. */
static int attach_multi_set(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
			    const size_t *idx, size_t n, pid_t pid)
{
	struct probe_points sets[3] = { 0 }; /* entries, uretprobes, exit sites */
	struct bpf_program *progs[3] = { a->progs.enter, a->progs.exit, a->progs.exit_site };
	static const char *const what[3] = { "function entries", "function returns",
					     "function exits" };
	struct bpf_link *links[3] = { NULL, NULL, NULL };
	unsigned long *offsets = NULL;
	__u64 *cookies = NULL;
	int err = 0, failed = -1;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n && !err; i++) {
		const struct traced_func *f = &t->funcs[idx[i]];
		struct entry_site entry;

		entry_site__of(f, &entry);
		err = probe_points__push(&sets[0], entry.offset, entry_site__cookie(f));
		/* (a uretprobe's site never has sp moved: entry_site.c) */
		if (!err && f->ret_probe == RETURN_URETPROBE)
			err = probe_points__push(&sets[1], entry.offset, exit_sites__entry_cookie(f));
		else if (!err)
			err = exit_sites__add(t, f, &sets[2], a->progs.indirect);
	}
	if (err) {
		if (err == -E2BIG)
			fprintf(stderr, "spanprobe: more than %d indirect jumps in the exits of the traced "
				"functions (narrow the globs)\n", MAX_INDIRECT_SITES);
		goto cleanup;
	}
	/* Returns and exit sites before entries: a call whose entry is seen then
	 * always has its return seen too (one seen between the links would stay
	 * open, and the calls after it would nest under it). */
	for (int o = 0, k = 1; o < 3 && !err; o++, k = (k + 1) % 3) {
		LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);

		if (sets[k].n == 0)
			continue;
		free(offsets);
		free(cookies);
		offsets = calloc(sets[k].n, sizeof(*offsets));
		cookies = calloc(sets[k].n, sizeof(*cookies));
		if (!offsets || !cookies) {
			err = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < sets[k].n; i++) {
			offsets[i] = sets[k].v[i].offset;
			cookies[i] = sets[k].v[i].cookie;
		}
		opts.offsets = offsets;
		opts.cookies = cookies;
		opts.cnt = sets[k].n;
		opts.retprobe = k == 1;
		links[k] = bpf_program__attach_uprobe_multi(progs[k], pid, b->attach_path, NULL,
							     &opts);
		if (!links[k])
			err = -errno;
		else if ((err = check_link_file(links[k], b)) != 0) {
			bpf_link__destroy(links[k]);
			links[k] = NULL;
		}
		if (err)
			failed = k;
	}
	if (!err) {
		for (int k = 0; k < 3 && !err; k++) {
			if (links[k])
				err = attachment__add(a, links[k]);
			links[k] = NULL;
		}
		goto cleanup;
	}
	for (int k = 0; k < 3; k++) {
		bpf_link__destroy(links[k]);
		links[k] = NULL;
	}
	if (failed < 0 || !refused_instruction(err)) {
		if (failed >= 0)
			print_attach_error(what[failed], b, err);
		goto cleanup;
	}
	if (n == 1) {
		t->funcs[idx[0]].skip = SKIP_KERNEL_REFUSED;
		err = 0;
		goto cleanup;
	}
	err = attach_multi_set(a, t, b, idx, n / 2, pid);
	if (!err)
		err = attach_multi_set(a, t, b, idx + n / 2, n - n / 2, pid);
cleanup:
	for (int k = 0; k < 3; k++) {
		bpf_link__destroy(links[k]);
		probe_points__release(&sets[k]);
	}
	free(offsets);
	free(cookies);
	return err;
}

static int attach_binary_multi(struct attachment *a, struct probe_table *t,
			       const struct traced_binary *b, pid_t pid)
{
	size_t *idx = calloc(t->nfuncs ? t->nfuncs : 1, sizeof(*idx)), n = 0;
	int err;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < t->nfuncs; i++)
		if (t->funcs[i].bin == b && t->funcs[i].skip == SKIP_NONE)
			idx[n++] = i;
	err = attach_multi_set(a, t, b, idx, n, pid);
	free(idx);
	return err;
}

/* One perf-event link per probe point: entry, then the uretprobe or each
 * exit site. */
static int attach_func_single(struct attachment *a, struct probe_table *t, struct traced_func *f,
			      pid_t pid)
{
	struct probe_points exits = { 0 };
	size_t first = a->nlinks;
	struct entry_site entry;
	int err = 0;

	entry_site__of(f, &entry);
	/* exit sites or the uretprobe first, the entry last (see attach_multi_set) */
	if (f->ret_probe == RETURN_EXIT_SITES)
		err = exit_sites__add(t, f, &exits, a->progs.indirect);
	for (size_t i = 0; i < exits.n && !err; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts);
		struct bpf_link *link;

		opts.bpf_cookie = exits.v[i].cookie;
		link = bpf_program__attach_uprobe_opts(a->progs.exit_site, pid, f->bin->attach_path,
						       exits.v[i].offset, &opts);
		err = link ? check_link_file(link, f->bin) : -errno;
		if (err)
			bpf_link__destroy(link);
		else
			err = attachment__add(a, link);
	}
	for (int k = 1; k >= 0 && !err; k--) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts);
		struct bpf_link *link;

		if (k == 1 && f->ret_probe != RETURN_URETPROBE)
			continue;
		opts.bpf_cookie = k ? exit_sites__entry_cookie(f) : entry_site__cookie(f);
		opts.retprobe = k == 1;
		link = bpf_program__attach_uprobe_opts(k ? a->progs.exit : a->progs.enter, pid,
						       f->bin->attach_path, entry.offset, &opts);
		err = link ? check_link_file(link, f->bin) : -errno;
		if (err)
			bpf_link__destroy(link);
		else
			err = attachment__add(a, link);
	}
	probe_points__release(&exits);
	if (!err)
		return 0;
	while (a->nlinks > first)
		bpf_link__destroy(a->links[--a->nlinks]);
	if (refused_instruction(err)) {
		f->skip = SKIP_KERNEL_REFUSED;
		return 0;
	}
	print_attach_error(f->sym->name, f->bin, err);
	return err;
}

/* The kernel refused the exit-site program (said at load): a function whose
 * return only its exits show is not traced, never given a uretprobe. */
static void skip_exit_site_funcs(const struct attachment *a, struct probe_table *t,
				 const struct traced_binary *b)
{
	if (bpf_program__fd(a->progs.exit_site) >= 0)
		return;
	for (size_t i = 0; i < t->nfuncs; i++)
		if (t->funcs[i].bin == b && t->funcs[i].skip == SKIP_NONE &&
		    t->funcs[i].ret_probe == RETURN_EXIT_SITES)
			t->funcs[i].skip = SKIP_NO_EXIT_PROGRAM;
}

static int attach_one_binary(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
			     pid_t pid)
{
	int err = 0;

	skip_exit_site_funcs(a, t, b);
	if (a->multi)
		return attach_binary_multi(a, t, b, pid);
	for (size_t i = 0; i < t->nfuncs && !err; i++)
		if (t->funcs[i].bin == b && t->funcs[i].skip == SKIP_NONE)
			err = attach_func_single(a, t, &t->funcs[i], pid);
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

int attach_binary(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
		  pid_t pid)
{
	int err = attach_one_binary(a, t, b, pid);

	if (!err)
		probe_list__print_skipped(stderr, t, b);
	return err;
}

int attach_probes(struct attachment *a, struct probe_table *t, const struct attach_progs *progs,
		  pid_t pid, bool multi)
{
	int err = 0;

	memset(a, 0, sizeof(*a));
	a->multi = multi;
	a->progs = *progs;
	if (!multi)
		raise_open_files_limit();
	for (size_t i = 0; i < t->nbins && !err; i++) {
		const struct traced_binary *b = t->bins[i];

		err = attach_one_binary(a, t, b, pid);
		if (err && traced_binary__in_container(b)) {
			/* its error said above; returns go in before entries, so
			 * what did attach opens no call */
			fprintf(stderr, "spanprobe: %s is left untraced; the other files are traced\n",
				b->path);
			err = 0;
		}
	}
	if (err)
		attachment__destroy(a);
	else
		probe_list__print_skipped(stderr, t, NULL);
	return err;
}

int attach_process(struct attachment *a, struct probe_table *t, const struct attach_progs *progs,
		   pid_t pid, bool multi)
{
	int err = 0;

	memset(a, 0, sizeof(*a));
	a->multi = multi;
	a->progs = *progs;
	quiet_when_gone = true;
	for (size_t i = 0; i < t->nbins && !err; i++)
		err = attach_one_binary(a, t, t->bins[i], pid);
	quiet_when_gone = false;
	if (err)
		attachment__destroy(a);
	return err;
}

int attach_process_binary(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
			  pid_t pid)
{
	int err;

	quiet_when_gone = true;
	err = attach_one_binary(a, t, b, pid);
	quiet_when_gone = false;
	return err;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

static void *close_link_fd(void *fd)
{
	close((int)(intptr_t)fd);
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
	size_t n, i;
	pthread_t *threads;
	bool *started;

	if (!a)
		return;
	n = a->nlinks + a->nfds;
	threads = calloc(n, sizeof(*threads));
	started = calloc(n, sizeof(*started));
	for (i = 0; i < n; i++) {
		bool is_fd = i >= a->nlinks;
		void *arg = is_fd ? (void *)(intptr_t)a->link_fds[i - a->nlinks] : a->links[i];

		if (threads && started &&
		    pthread_create(&threads[i], NULL, is_fd ? close_link_fd : destroy_link, arg) == 0)
			started[i] = true;
		else if (is_fd)
			close_link_fd(arg);
		else
			destroy_link(arg);
	}
	for (i = 0; i < n; i++)
		if (started && started[i])
			pthread_join(threads[i], NULL);
	free(threads);
	free(started);
	free(a->links);
	free(a->link_fds);
	a->links = NULL;
	a->link_fds = NULL;
	a->nlinks = a->nfds = 0;
}
