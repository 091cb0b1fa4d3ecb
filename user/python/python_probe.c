// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* python: probes: resolves the interpreters (each file found for the path,
 * in our mount namespace and in containers) and the globs, picks the path
 * each file takes (python_target.h: USDT, or the evaluator probe), and
 * configures and attaches the programs of bpf/python_usdt.bpf.c and
 * bpf/python_eval.bpf.c. The kernel side judges each code object once
 * against the globs and announces the traced ones (REC_PY_FUNC); their spans
 * reach the outputs through the shared ring buffer and decoder. On CPython
 * 3.11+ without USDT, inlining is turned off in each traced process while
 * probes are attached (python_hooks.h), and back on before they detach.
 *
 * On CPython 3.11, function__entry misses calls made from Python code unless
 * the frame runs through the tracing dispatch, which it does while the
 * `line` probe's semaphore is raised (gh-98894). A uprobe with a reference
 * counter raises a semaphore in every process it applies to; one is placed
 * on the `audit` probe's nop, which only runs while audit's own semaphore is
 * raised, with the line semaphore as its counter: the interpreter then takes
 * the tracing dispatch (function__entry fires for every frame; the line
 * probe's nop runs, trapping nothing), and nothing fires at the audit site. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/types.h>

#include <dirent.h>
#include <ctype.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container_files.h"
#include "attach.h"
#include "in_root.h"
#include "elf_symbols.h"
#include "probe_spec.h"
#include "python_eval.h"
#include "python_eval_method.h"
#include "python_hooks.h"
#include "python_interp.h"
#include "python_probe.h"
#include "python_probe_internal.h"
#include "python_target.h"
#include "spanprobe.skel.h"

struct python_probe {
	struct py_target *targets;
	size_t ntargets;
	uint32_t nusdt, neval;     /* cookies handed out per path */
	struct attachment attached;
	struct py_globs g;
	struct python_hooks hooks;
	const struct probe_spec *specs;
	size_t nspecs;
	pid_t target;              /* the traced process, or -1 */
	struct spanprobe_bpf *skel; /* attached to */
	struct py_eval_method method; /* how the evaluator path sees returns */
	bool configured;           /* method chosen (not with -l) */
	bool verbose;
	bool restoring;            /* detaching: reports of inlined interpreters are ignored */
	bool selecting;            /* probes per chosen process only (python_probe__select) */
};
/* Appends prefix + glob after the globs in use, unless it is among the
 * globs from index `from` on. Returns 1 when added, 0 when already there. */
static int add_glob(struct py_globs *p, size_t from, const char *prefix, const char *glob)
{
	size_t n = p->nfile_globs + p->nfunc_globs, plen = strlen(prefix);

	for (size_t i = from; i < n; i++)
		if (strncmp(p->globs[i], prefix, plen) == 0 && strcmp(p->globs[i] + plen, glob) == 0)
			return 0;
	if (strchr(glob, '[')) {
		fprintf(stderr, "spanprobe: python: glob '%s': only '*' and '?' are supported\n", glob);
		return -EINVAL;
	}
	if (n >= PY_MAX_GLOBS) {
		fprintf(stderr, "spanprobe: too many python: FILES and FUNCS globs (at most %d "
			"together, counting 2 for a FILES glob not starting with '/' or '*')\n",
			PY_MAX_GLOBS);
		return -E2BIG;
	}
	if (snprintf(p->globs[n], PY_GLOB_LEN, "%s%s", prefix, glob) >= PY_GLOB_LEN) {
		fprintf(stderr, "spanprobe: python: glob '%s' is too long (at most %d bytes)\n", glob,
			PY_GLOB_LEN - 3);
		return -ENAMETOOLONG;
	}
	return 1;
}

/* FILES is matched against the end of co_filename: a glob not starting with
 * '/' or '*' also goes in as "*" "/" GLOB, so "app.py" matches /srv/app.py
 * but not /srv/myapp.py. File globs come first, then function globs; several
 * python: specs are merged (any FILES with any FUNCS). */
int py_globs__collect(struct py_globs *p, const struct probe_spec *specs, size_t nspecs)
{
	int n;

	for (size_t i = 0; i < nspecs; i++) {
		const char *files = specs[i].files;

		if (specs[i].kind != PROBE_PYTHON)
			continue;
		if ((n = add_glob(p, 0, "", files)) < 0)
			return n;
		p->nfile_globs += n;
		if (files[0] != '/' && files[0] != '*') {
			if ((n = add_glob(p, 0, "*/", files)) < 0)
				return n;
			p->nfile_globs += n;
		}
	}
	for (size_t i = 0; i < nspecs; i++) {
		if (specs[i].kind != PROBE_PYTHON)
			continue;
		for (size_t f = 0; f < specs[i].nfuncs; f++) {
			if ((n = add_glob(p, p->nfile_globs, "", specs[i].funcs[f])) < 0)
				return n;
			p->nfunc_globs += n;
		}
	}
	return 0;
}

static struct py_target *find_target(struct python_probe *p, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].maps.dev == dev && p->targets[i].maps.ino == ino)
			return &p->targets[i];
	return NULL;
}

/* A target probing the same underlying file as t: a second container of one
 * image shows it with its own overlay's st_dev, and a second set of probes on
 * it would fire twice per call (each entry then cut the one before short). */
static struct py_target *find_same_file(struct python_probe *p, const struct py_target *t)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (file_identity__same(&p->targets[i].id, &t->id))
			return &p->targets[i];
	return NULL;
}

/* A target for the interpreter (dev, ino), whichever file it probes. */
static struct py_target *find_interp(struct python_probe *p, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].exe.dev == dev && p->targets[i].exe.ino == ino)
			return &p->targets[i];
	return NULL;
}

/* Adds the interpreter exe found (taken: kept open with its target, or
 * closed; inside: its path in its root). Returns 1 when a new file is to be
 * probed, 0 when it already is. */
static int add_target(struct python_probe *p, const char *spec_name, struct container_file *exe,
		      const char *inside, pid_t ns_pid, pid_t run_pid)
{
	struct py_target t, *grown;
	int err;

	err = py_target__resolve(&t, spec_name, exe, inside, ns_pid, run_pid);
	if (err) {
		py_target__release(&t);
		return err;
	}
	if (find_target(p, t.maps.dev, t.maps.ino) || find_same_file(p, &t)) {
		py_target__release(&t);
		return 0;
	}
	if (t.kind == PY_PATH_USDT && p->nusdt >= PY_MAX_INTERPS) {
		fprintf(stderr, "spanprobe: at most %d python interpreters with USDT probes\n",
			PY_MAX_INTERPS);
		py_target__release(&t);
		return -E2BIG;
	}
	if (t.kind == PY_PATH_EVAL && p->neval >= PY_MAX_EVAL_INTERPS) {
		fprintf(stderr, "spanprobe: at most %d CPython files without USDT probes\n",
			PY_MAX_EVAL_INTERPS);
		py_target__release(&t);
		return -E2BIG;
	}
	if (t.kind == PY_PATH_USDT && !t.usdt->tstate_addr)
		fprintf(stderr, "spanprobe: warning: %s: Python %u.%u: calls left by an exception "
			"can't be told from returns (known for 3.11 only); no span is marked ERROR\n",
			t.path, t.usdt->version >> 24, (t.usdt->version >> 16) & 0xff);
	t.idx = t.kind == PY_PATH_USDT ? p->nusdt++ : p->neval++;
	grown = realloc(p->targets, (p->ntargets + 1) * sizeof(*grown));
	if (!grown) {
		py_target__release(&t);
		return -ENOMEM;
	}
	p->targets = grown;
	p->targets[p->ntargets++] = t;
	return 1;
}

/* An interpreter named by an absolute path: the file here and the files at
 * that path in containers (only in pid's when pid > 0). */
static int add_abs_spec(struct python_probe *p, const char *spec, pid_t pid, bool wait)
{
	struct container_file *files = NULL;
	int n, err = 0;

	n = container_files__find(spec, pid, &files);
	if (n < 0) {
		fprintf(stderr, "spanprobe: python interpreter '%s': %s\n", spec, strerror(-n));
		return n;
	}
	if (n == 0 && !wait) {
		fprintf(stderr, "spanprobe: python interpreter %s: no such file here nor in any "
			"container (check the path; --wait traces it when a container starts with it)\n",
			spec);
		container_files__free(files, n);
		return -ENOENT;
	}
	/* each file found stays open with its target (closed with it) */
	for (int i = 0; i < n && err >= 0; i++)
		err = add_target(p, spec, &files[i], spec, files[i].pid, pid > 0 ? pid : 0);
	container_files__free(files, n);
	return err < 0 ? err : 0;
}

static int add_spec(struct python_probe *p, const char *spec, pid_t pid, bool wait)
{
	struct container_file f;
	char path[PATH_MAX];
	int err;

	if (spec[0] == '/')
		return add_abs_spec(p, spec, pid, wait);
	err = resolve_binary_path(spec, path, sizeof(path));
	if (err) {
		fprintf(stderr, "spanprobe: python interpreter '%s' not found: %s\n", spec,
			strerror(-err));
		return err;
	}
	err = container_files__here(path, &f);
	if (err) {
		fprintf(stderr, "spanprobe: python interpreter %s: %s\n", path, in_root__strerror(err));
		return err;
	}
	err = add_target(p, spec, &f, path, 0, pid > 0 ? pid : 0);
	return err < 0 ? err : 0;
}

int python_probe__resolve(const struct probe_spec *specs, size_t nspecs, pid_t pid, bool wait,
			  bool verbose, bool list, struct python_probe **out)
{
	struct python_probe *p;
	size_t n = 0;
	int err;

	*out = NULL;
	for (size_t i = 0; i < nspecs; i++)
		n += specs[i].kind == PROBE_PYTHON;
	if (!n)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->specs = specs;
	p->nspecs = nspecs;
	p->target = pid > 0 ? pid : -1;
	p->verbose = verbose;
	for (size_t i = 0; i < nspecs; i++) {
		if (specs[i].kind != PROBE_PYTHON)
			continue;
		if (!specs[i].files && !list) {
			fprintf(stderr, "spanprobe: python:%s names no FILES:FUNCS to trace (e.g. "
				"python:%s:app.py:foo); alone it is for -l\n", specs[i].binary,
				specs[i].binary);
			err = -EINVAL;
			goto cleanup;
		}
		err = add_spec(p, specs[i].binary, pid, wait);
		if (err)
			goto cleanup;
	}
	if (list) {
		*out = p;
		return 0;
	}
	err = py_globs__collect(&p->g, specs, nspecs);
	if (err)
		goto cleanup;
	*out = p;
	return 0;
cleanup:
	python_probe__free(p);
	return err;
}

bool python_probe__watches_execs(const struct python_probe *p)
{
	for (size_t i = 0; p && i < p->nspecs; i++)
		if (p->specs[i].kind == PROBE_PYTHON && p->specs[i].binary[0] == '/')
			return true;
	return false;
}

void python_probe__configure(struct python_probe *p, struct spanprobe_bpf *skel, bool multi,
			     bool session_refused)
{
	if (!p) {
		/* nothing to trace in Python: keep its programs out of the kernel */
		bpf_program__set_autoload(skel->progs.py_entry, false);
		bpf_program__set_autoload(skel->progs.py_return, false);
		bpf_program__set_autoload(skel->progs.py_line_semaphore, false);
		bpf_program__set_autoload(skel->progs.py_eval_entry, false);
		bpf_program__set_autoload(skel->progs.py_eval_ret_insn, false);
		bpf_program__set_autoload(skel->progs.py_eval_return, false);
		bpf_program__set_autoload(skel->progs.py_eval_session, false);
		bpf_program__set_autoload(skel->progs.py_code_dealloc, false);
		return;
	}
	if (multi) { /* as the other probes (python_eval.c: no CAP_SYS_ADMIN needed) */
		bpf_program__set_expected_attach_type(skel->progs.py_eval_entry,
						      BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.py_eval_ret_insn,
						      BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.py_eval_return,
						      BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.py_code_dealloc,
						      BPF_TRACE_UPROBE_MULTI);
	}
	py_eval_method__choose(&p->method, skel, multi, session_refused);
	p->configured = true;
	skel->rodata->nfile_globs = p->g.nfile_globs;
	skel->rodata->nfunc_globs = p->g.nfunc_globs;
	for (size_t i = 0; i < p->g.nfile_globs + p->g.nfunc_globs; i++) {
		memcpy((char *)skel->rodata->globs[i], p->g.globs[i], PY_GLOB_LEN);
		skel->rodata->glob_len[i] = strlen(p->g.globs[i]);
	}
}

static int store_usdt(const struct py_target *t, struct spanprobe_bpf *skel)
{
	const struct python_interp *in = t->usdt;
	/* CPython 3.11's layouts (PyThreadState, PyBaseExceptionObject, PyASCIIObject) */
	struct py_interp_info info = {
		.return_probe_addr = in->ret.addr,
		.tstate_addr = in->tstate_addr,
		.curexc_type_off = 96,
		.curexc_value_off = 104,
		.exc_args_off = 24,
		.str_data_off = 48,
		.str_state_off = 32,
	};
	int err = bpf_map__update_elem(skel->maps.py_interps, &t->idx, sizeof(t->idx), &info,
				       sizeof(info), 0);

	if (err)
		fprintf(stderr, "spanprobe: can't store the layout of %s: %s\n", t->path,
			strerror(-err));
	return err;
}

int python_probe__store(struct python_probe *p, struct spanprobe_bpf *skel)
{
	for (size_t i = 0; p && i < p->ntargets; i++) {
		struct py_target *t = &p->targets[i];
		int err;

		if (t->stored)
			continue;
		err = t->kind == PY_PATH_USDT ? store_usdt(t, skel)
					      : python_eval__store(t->eval, t->idx, skel);
		if (err)
			return err;
		t->stored = true;
	}
	return 0;
}

static int attach_usdt(struct python_probe *p, const struct py_target *t,
		       struct spanprobe_bpf *skel, pid_t pid, struct attachment *into)
{
	const struct python_interp *in = t->usdt;
	LIBBPF_OPTS(bpf_usdt_opts, uopts, .usdt_cookie = t->idx);
	LIBBPF_OPTS(bpf_uprobe_opts, sema_opts, .ref_ctr_offset = in->line.sema_offset);
	/* through our descriptor of the file read (see python_target.h) */
	const char *file = py_target__probed(t)->open_path;
	int err;

	/* a program of this path refused by the kernel (object_load.c said so) */
	if (bpf_program__fd(skel->progs.py_entry) < 0 || bpf_program__fd(skel->progs.py_return) < 0 ||
	    bpf_program__fd(skel->progs.py_line_semaphore) < 0)
		return 0;
	/* Return first, then entry: an entry seen is never without its return
	 * (py_return ignores a return whose entry was not seen), even when
	 * the entry's attach fails. */
	err = attachment__keep(into,
			       bpf_program__attach_usdt(skel->progs.py_return, pid, file, "python",
							"function__return", &uopts),
			       "python:function__return", t->path, p->selecting);
	if (err)
		return err;
	err = attachment__keep(into,
			       bpf_program__attach_usdt(skel->progs.py_entry, pid, file, "python",
							"function__entry", &uopts),
			       "python:function__entry", t->path, p->selecting);
	if (err || !python_interp__needs_line_semaphore(in))
		return err;
	return attachment__keep(into,
				bpf_program__attach_uprobe_opts(skel->progs.py_line_semaphore, pid,
								file, in->idle.offset, &sema_opts),
				"the line semaphore (through python:audit's site)", t->path,
				p->selecting);
}

/* Does pid map the file? */
static bool maps_file(pid_t pid, const struct maps_identity *file)
{
	char maps[64], line[PATH_MAX + 128];
	bool found = false;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long i;
		unsigned maj, mn;

		if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &mn, &i) == 3)
			found = maps_identity__is(file, maj, mn, i);
	}
	fclose(f);
	return found;
}

static FILE *log_to(const struct python_probe *p)
{
	return p->verbose ? stderr : NULL;
}

static void hook_process(struct python_probe *p, pid_t pid)
{
	for (size_t i = 0; i < p->ntargets; i++) {
		const struct py_target *t = &p->targets[i];
		int n;

		if (t->kind != PY_PATH_EVAL || !(t->attached || p->selecting) ||
		    !t->eval->bin.needs_eval_frame_hook)
			continue;
		n = python_hooks__hook(&p->hooks, pid, t->eval, log_to(p));
		if (n == -EPERM || n == -EACCES)
			fprintf(stderr, "spanprobe: warning: process %d: can't turn CPython %u.%u's "
				"call inlining off (%s): only calls entered from C are traced; run as "
				"root or grant CAP_SYS_PTRACE\n", (int)pid, t->eval->bin.major,
				t->eval->bin.minor, strerror(-n));
	}
}

/* System-wide: every running process that maps a file needing the hook. */
static void hook_running(struct python_probe *p)
{
	struct dirent *de;
	DIR *proc = opendir("/proc");

	if (!proc)
		return;
	while ((de = readdir(proc)) != NULL) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid == getpid())
			continue;
		for (size_t i = 0; i < p->ntargets; i++) {
			const struct py_target *t = &p->targets[i];

			if (t->kind == PY_PATH_EVAL && t->attached &&
			    t->eval->bin.needs_eval_frame_hook && maps_file(pid, &t->maps)) {
				hook_process(p, pid);
				break;
			}
		}
	}
	closedir(proc);
}

static bool needs_hooks(const struct python_probe *p)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].kind == PY_PATH_EVAL && p->targets[i].eval->bin.needs_eval_frame_hook)
			return true;
	return false;
}

int python_probe__attach(struct python_probe *p, struct spanprobe_bpf *skel, pid_t target,
			 pid_t traced)
{
	pid_t pid = target > 0 ? target : -1;
	int err;

	p->target = pid;
	p->skel = skel;
	for (size_t i = 0; i < p->ntargets; i++) {
		struct py_target *t = &p->targets[i];

		if (t->attached || t->refused)
			continue;
		err = t->kind == PY_PATH_USDT
			      ? attach_usdt(p, t, skel, pid, &p->attached)
			      : python_eval__attach(t->eval, t->idx, skel, pid, false, &p->attached);
		if (err && t->ns_pid > 0) {
			/* A container's copy: left untraced, as any file's
			 * (traced_binary__in_container). Returns are attached
			 * before entries, so what did attach never opens a call. */
			fprintf(stderr, "spanprobe: python: %s (in the container of process %d) is "
				"left untraced; the other interpreters are traced\n", t->path,
				(int)t->ns_pid);
			t->refused = true;
			continue;
		}
		if (err)
			return err;
		t->attached = true;
	}
	/* A -c command has not exec'd yet: its first evaluator entry reports
	 * it. Only in traced processes: with -p/-c the probes are in every process
	 * of the file (the kernel filters by the traced tree), the hook must
	 * not be. */
	if (needs_hooks(p)) {
		if (traced > 0)
			hook_process(p, traced);
		else
			hook_running(p);
	}
	return 0;
}

/* pid's interpreter may be hooked now: spanprobe is not stopping, and pid
 * is the one traced process or, with none named (p->target <= 0), one the
 * kernel's process filter lets through. */
static bool may_hook(const struct python_probe *p, pid_t pid)
{
	return p && !p->restoring && (p->target <= 0 || p->target == pid);
}

void python_probe__hook_process(struct python_probe *p, pid_t pid)
{
	if (may_hook(p, pid) && needs_hooks(p))
		hook_process(p, pid);
}

void python_probe__on_unhooked(struct python_probe *p, pid_t pid)
{
	if (may_hook(p, pid))
		hook_process(p, pid);
}

/* Is pid running the file (dev, ino)? */
static bool exe_is(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void python_probe__select(struct python_probe *p, struct spanprobe_bpf *skel)
{
	if (!p)
		return;
	p->selecting = true;
	p->target = -1;
	p->skel = skel;
}

/* Does t's interpreter run in pid, or its probed file map there? At exec
 * the interpreter is mapped but its libpython not yet: the interpreter
 * tells. */
static bool runs_target(pid_t pid, const struct py_target *t)
{
	return exe_is(pid, t->exe.dev, t->exe.ino) || maps_file(pid, &t->maps);
}

int python_probe__attach_process(struct python_probe *p, pid_t pid, struct attachment *into)
{
	int err, n = 0;

	if (!p || !p->selecting || p->restoring)
		return 0;
	for (size_t i = 0; i < p->ntargets; i++) {
		const struct py_target *t = &p->targets[i];

		if (!t->stored || !runs_target(pid, t))
			continue;
		err = t->kind == PY_PATH_USDT
			      ? attach_usdt(p, t, p->skel, pid, into)
			      : python_eval__attach(t->eval, t->idx, p->skel, pid, true, into);
		if (err)
			return err;
		n++;
	}
	if (n && needs_hooks(p))
		hook_process(p, pid);
	return n;
}

void python_probe__release_process(struct python_probe *p, pid_t pid, bool exec)
{
	if (!p || !p->selecting)
		return;
	if (exec)
		python_hooks__forget_pid(&p->hooks, pid);
	else
		python_hooks__restore_pid(&p->hooks, pid, log_to(p));
}

static void path_summary(const struct python_probe *p, const struct py_target *t, char *buf,
			 size_t len);

int python_probe__discover(struct python_probe *p, struct spanprobe_bpf *skel, pid_t pid,
			   uint64_t start_time, FILE *log)
{
	size_t first = p ? p->ntargets : 0;
	int added = 0;

	if (!p || p->restoring || p->target > 0)
		return 0;
	for (size_t i = 0; i < p->nspecs; i++) {
		const struct probe_spec *s = &p->specs[i];
		struct container_file f;

		if (s->kind != PROBE_PYTHON || s->binary[0] != '/')
			continue;
		if (container_files__in_process_at(s->binary, pid, start_time, &f) != 0)
			continue;
		/* only the interpreter's own exec: by then the container's files
		 * are in place (not so while its entrypoint still sets it up);
		 * and not a file probed already, nor an interpreter seen before */
		if (!exe_is(pid, f.dev, f.ino) || find_target(p, f.dev, f.ino) ||
		    find_interp(p, f.dev, f.ino)) {
			container_file__close(&f);
			continue;
		}
		if (add_target(p, s->binary, &f, s->binary, pid, 0) == 1)
			added++;
	}
	if (!added)
		return 0;
	/* with selection, the processes chosen get the new file's probes */
	if (python_probe__store(p, skel) ||
	    (!p->selecting && python_probe__attach(p, skel, -1, -1)))
		return -EIO;
	for (size_t i = first; log && i < p->ntargets; i++) {
		char summary[512];

		path_summary(p, &p->targets[i], summary, sizeof(summary));
		fprintf(log, "spanprobe: tracing python %s (%s, seen by process %d): %s\n",
			p->targets[i].spec_name, p->targets[i].path, (int)pid, summary);
	}
	return added;
}

void python_probe__restore(struct python_probe *p)
{
	if (!p)
		return;
	p->restoring = true;
	python_hooks__restore_all(&p->hooks, log_to(p));
}

void python_probe__detach(struct python_probe *p)
{
	if (!p)
		return;
	/* inlining back on first: no call is then left waiting for a probe */
	python_probe__restore(p);
	/* No new call opens from here on; then every link goes at once (see
	 * attachment__destroy: a pending uretprobe return can otherwise hold up
	 * detaching while a thread keeps entering uretprobed functions). */
	if (p->skel && p->skel->bss)
		p->skel->bss->py_eval_detaching = 1;
	attachment__destroy(&p->attached);
}

/* How an evaluator-path file's returns are seen, for messages. */
static void return_how(const struct python_probe *p, const struct py_eval_target *e, char *buf,
		       size_t len)
{
	if (!p->configured) /* -l: what a run would choose */
		snprintf(buf, len, "%s", py_eval_method__sessions_available()
			 ? "uprobe session (the returns of traced calls only)" : e->return_how);
	else if (p->method.session)
		snprintf(buf, len, "uprobe session (the returns of traced calls only)");
	else
		snprintf(buf, len, "%s; no uprobe session: %s", e->return_how, p->method.why_not);
}

/* The path and return method a file got, and what every Python call of a
 * traced process then pays (bench/python_flask_results.md). */
static void path_summary(const struct python_probe *p, const struct py_target *t, char *buf,
			 size_t len)
{
	char how[256];

	if (t->kind == PY_PATH_USDT) {
		snprintf(buf, len, "USDT function__entry/return%s: every Python call pays 2 probe "
			 "hits", python_interp__needs_line_semaphore(t->usdt) ? " + line semaphore" : "");
		return;
	}
	return_how(p, t->eval, how, sizeof(how));
	snprintf(buf, len, "evaluator probe (entry: %s), returns by %s: every Python call of a "
		 "traced process pays %s%s", t->eval->entry_cost, how,
		 p->configured && p->method.session ? "1 probe hit, a traced call 2"
						     : "2 probe hits",
		 t->eval->bin.needs_eval_frame_hook ? "; inlining off while traced (3.11+)" : "");
}

static void describe_target(const struct python_probe *p, const struct py_target *t, bool verbose,
			    FILE *to)
{
	char version[32], how[256];

	py_target__version(t, version, sizeof(version));
	if (t->kind == PY_PATH_USDT) {
		fprintf(to, "python:%s  [USDT]  %s (%s): function__entry/return%s; exceptions %s\n",
			t->spec_name, t->path, version,
			python_interp__needs_line_semaphore(t->usdt) ? " + line semaphore (3.11)" : "",
			t->usdt->tstate_addr ? t->usdt->tstate_how : "not detected");
	} else {
		const struct py_eval_target *e = t->eval;

		return_how(p, e, how, sizeof(how));
		fprintf(to, "python:%s  [evaluator]  %s (%s): entry of _PyEval_EvalFrameDefault + %s%s\n",
			t->spec_name, t->path, version, how,
			e->bin.needs_eval_frame_hook ? "; inlining turned off in each traced process "
						       "while tracing (3.11+)" : "");
		if (verbose)
			fprintf(to, "    version from %s; layout: %s; eval_frame offset %d (%s); "
				"code objects' frees: %s\n",
				e->bin.version_how, e->bin.layout_how, e->bin.layout.interp_eval_frame,
				e->bin.eval_frame_how, e->bin.code_dealloc_how);
	}
	fprintf(to, "    why: %s\n", t->why);
}

void python_probe__say_paths(const struct python_probe *p, FILE *to)
{
	char version[32], summary[512];

	for (size_t i = 0; p && i < p->ntargets; i++) {
		const struct py_target *t = &p->targets[i];

		if (!t->attached && !p->selecting)
			continue;
		py_target__version(t, version, sizeof(version));
		path_summary(p, t, summary, sizeof(summary));
		fprintf(to, "spanprobe: python: %s (%s): %s\n", t->path, version, summary);
	}
}

void python_probe__describe(const struct python_probe *p, FILE *to)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ntargets; i++) {
		fputs("spanprobe: ", to);
		describe_target(p, &p->targets[i], true, to);
	}
	fprintf(to, "spanprobe: python files:");
	for (size_t i = 0; i < p->g.nfile_globs; i++)
		fprintf(to, " '%s'", p->g.globs[i]);
	fprintf(to, "; functions:");
	for (size_t i = p->g.nfile_globs; i < p->g.nfile_globs + p->g.nfunc_globs; i++)
		fprintf(to, " '%s'", p->g.globs[i]);
	fputc('\n', to);
}

void python_probe__print_list(const struct python_probe *p, bool verbose, FILE *out)
{
	for (size_t i = 0; p && i < p->ntargets; i++)
		describe_target(p, &p->targets[i], verbose, out);
}

void python_probe__counts(const struct python_probe *p, unsigned long long *hooked,
			  unsigned long long *restored)
{
	*hooked = p ? p->hooks.writes : 0;
	*restored = p ? p->hooks.restored : 0;
}

void python_probe__free(struct python_probe *p)
{
	if (!p)
		return;
	python_probe__detach(p);
	python_hooks__free(&p->hooks);
	for (size_t i = 0; i < p->ntargets; i++)
		py_target__release(&p->targets[i]);
	free(p->targets);
	free(p);
}
