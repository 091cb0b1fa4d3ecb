// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Python calls from the interpreter's USDT probes. The kernel side judges
 * each code object once against the globs and announces the traced ones
 * (py_code_event, with an id from PY_FUNC_ID_BASE); their spans name them by
 * that id. This file keeps the id -> (function, file, line) table and builds
 * struct span from the records.
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

#include "elf_symbols.h"
#include "probe_spec.h"
#include "process_info.h"
#include "span_event.h"
#include "python_event.h"
#include "python_interp.h"
#include "python_probe.h"
#include "python.skel.h"
#include "span.h"
#include "unittest.h"

struct py_func {
	char *name;
	char *file;
	uint32_t line;
};

struct python_probe {
	struct python_bpf *skel;
	struct python_interp *interps;
	size_t ninterps;
	struct bpf_link **links;
	size_t nlinks;
	struct py_globs g;
	/* announced functions, indexed by func_id - PY_FUNC_ID_BASE */
	struct py_func *funcs;
	size_t nfuncs;
	python_span_fn emit;
	void *emit_ctx;
	int64_t mono_to_real;
	struct process_table *procs;
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
UNITTEST int py_globs__collect(struct py_globs *p, const struct probe_spec *specs, size_t nspecs)
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

static int add_interp(struct python_probe *p, const char *spec_name)
{
	char path[4096];
	struct python_interp *grown;
	int err;

	err = resolve_binary_path(spec_name, path, sizeof(path));
	if (err) {
		fprintf(stderr, "spanprobe: python interpreter '%s' not found: %s\n", spec_name,
			strerror(-err));
		return err;
	}
	for (size_t i = 0; i < p->ninterps; i++)
		if (strcmp(p->interps[i].path, path) == 0)
			return 0;
	if (p->ninterps >= PY_MAX_INTERPS) {
		fprintf(stderr, "spanprobe: at most %d python interpreters\n", PY_MAX_INTERPS);
		return -E2BIG;
	}
	grown = realloc(p->interps, (p->ninterps + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	p->interps = grown;
	err = python_interp__inspect(path, &p->interps[p->ninterps]);
	if (err)
		return err;
	if (!p->interps[p->ninterps].tstate_addr)
		fprintf(stderr, "spanprobe: warning: %s: Python %u.%u: calls left by an exception "
			"can't be told from returns (known for 3.11 only); no span is marked ERROR\n",
			path, p->interps[p->ninterps].version >> 24,
			(p->interps[p->ninterps].version >> 16) & 0xff);
	p->ninterps++;
	return 0;
}

static int store_interp_info(struct python_probe *p)
{
	for (uint32_t i = 0; i < p->ninterps; i++) {
		const struct python_interp *in = &p->interps[i];
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
		int err = bpf_map__update_elem(p->skel->maps.py_interps, &i, sizeof(i), &info,
					       sizeof(info), 0);
		if (err) {
			fprintf(stderr, "spanprobe: can't store the layout of %s: %s\n", in->path,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

int python_probe__load(const struct probe_spec *specs, size_t nspecs, pid_t target,
		       struct python_probe **out)
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
	for (size_t i = 0; i < nspecs; i++) {
		if (specs[i].kind != PROBE_PYTHON)
			continue;
		err = add_interp(p, specs[i].binary);
		if (err)
			goto cleanup;
	}
	err = py_globs__collect(&p->g, specs, nspecs);
	if (err)
		goto cleanup;

	p->skel = python_bpf__open();
	if (!p->skel) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't open the Python BPF object: %s\n", strerror(errno));
		goto cleanup;
	}
	p->skel->rodata->target_tgid = target > 0 ? (uint32_t)target : 0;
	p->skel->rodata->nfile_globs = p->g.nfile_globs;
	p->skel->rodata->nfunc_globs = p->g.nfunc_globs;
	for (size_t i = 0; i < p->g.nfile_globs + p->g.nfunc_globs; i++) {
		memcpy((char *)p->skel->rodata->globs[i], p->g.globs[i], PY_GLOB_LEN);
		p->skel->rodata->glob_len[i] = strlen(p->g.globs[i]);
	}
	err = python_bpf__load(p->skel);
	if (err) {
		fprintf(stderr, "spanprobe: can't load the Python BPF programs: %s (run with -v for "
			"the verifier's log)\n", strerror(-err));
		goto cleanup;
	}
	err = store_interp_info(p);
	if (err)
		goto cleanup;
	*out = p;
	return 0;
cleanup:
	python_probe__free(p);
	return err;
}

static int keep_link(struct python_probe *p, struct bpf_link *link, const char *what,
		     const char *path)
{
	struct bpf_link **grown;
	int err;

	if (!link) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't attach to %s in %s: %s\n", what, path, strerror(errno));
		return err;
	}
	grown = realloc(p->links, (p->nlinks + 1) * sizeof(*grown));
	if (!grown) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	p->links = grown;
	p->links[p->nlinks++] = link;
	return 0;
}

int python_probe__attach(struct python_probe *p, pid_t target)
{
	pid_t pid = target > 0 ? target : -1;
	int err;

	for (size_t i = 0; i < p->ninterps; i++) {
		const struct python_interp *in = &p->interps[i];
		LIBBPF_OPTS(bpf_usdt_opts, uopts, .usdt_cookie = i);
		LIBBPF_OPTS(bpf_uprobe_opts, sema_opts, .ref_ctr_offset = in->line.sema_offset);

		/* Entry first, then return: a return is never without its entry
		 * once both are in place... except for calls already running. */
		err = keep_link(p, bpf_program__attach_usdt(p->skel->progs.py_entry, pid, in->path,
							    "python", "function__entry", &uopts),
				"python:function__entry", in->path);
		if (err)
			return err;
		err = keep_link(p, bpf_program__attach_usdt(p->skel->progs.py_return, pid, in->path,
							    "python", "function__return", &uopts),
				"python:function__return", in->path);
		if (err)
			return err;
		if (!python_interp__needs_line_semaphore(in))
			continue;
		err = keep_link(p, bpf_program__attach_uprobe_opts(p->skel->progs.py_line_semaphore,
								   pid, in->path, in->idle.offset,
								   &sema_opts),
				"the line semaphore (through python:audit's site)", in->path);
		if (err)
			return err;
	}
	err = python_bpf__attach(p->skel); /* the thread-exit tracepoint */
	if (err) {
		fprintf(stderr, "spanprobe: can't attach the Python thread-exit tracepoint: %s\n",
			strerror(-err));
		return err;
	}
	return 0;
}

static int add_func(struct python_probe *p, const struct py_code_event *c)
{
	size_t idx = c->func_id - PY_FUNC_ID_BASE;
	struct py_func *f;

	if (c->func_id < PY_FUNC_ID_BASE || idx > (1u << 24))
		return -EINVAL;
	if (idx >= p->nfuncs) {
		size_t n = idx + 64;
		struct py_func *grown = realloc(p->funcs, n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		memset(grown + p->nfuncs, 0, (n - p->nfuncs) * sizeof(*grown));
		p->funcs = grown;
		p->nfuncs = n;
	}
	f = &p->funcs[idx];
	free(f->name);
	free(f->file);
	f->name = strndup(c->name, sizeof(c->name));
	f->file = strndup(c->file, sizeof(c->file));
	f->line = c->line;
	if (!f->name || !f->file)
		return -ENOMEM;
	return 0;
}

static const struct py_func *func_by_id(const struct python_probe *p, uint32_t id)
{
	size_t idx = id - PY_FUNC_ID_BASE;

	if (id < PY_FUNC_ID_BASE || idx >= p->nfuncs || !p->funcs[idx].name)
		return NULL;
	return &p->funcs[idx];
}

/* A span record (bare, or followed by the exception) as a struct span.
 * Returns -ENOENT for a function never announced (its record was lost). */
UNITTEST int python_probe__span(const struct python_probe *p, struct span *s, const void *data,
				size_t size)
{
	const struct span_event *e = data;
	const struct py_func *f = func_by_id(p, e->func_id);

	if (!f)
		return -ENOENT;
	memset(s, 0, sizeof(*s));
	memcpy(s->trace_id, e->trace_id, sizeof(s->trace_id));
	s->span_id = e->span_id;
	s->parent_span_id = e->parent_span_id;
	s->start_unix_ns = e->start_ns + p->mono_to_real;
	s->end_unix_ns = e->end_ns + p->mono_to_real;
	s->pid = e->pid;
	s->tid = e->tid;
	s->depth = e->depth;
	s->name = f->name;
	s->code_file = f->file;
	s->code_line = f->line;
	s->truncated = e->flags & SPAN_F_TRUNCATED;
	s->error = e->flags & SPAN_F_ERROR;
	if (s->truncated)
		s->lost_reason = e->lost_reason == SPAN_LOST_THREAD_EXIT
					 ? "thread exited inside the call" : "return not seen";
	if (s->error) {
		const struct py_error_span *x = data;

		if (size >= sizeof(*x)) {
			snprintf(s->exception_type, sizeof(s->exception_type), "%.*s",
				 (int)sizeof(x->exc_type), x->exc_type);
			snprintf(s->exception_message, sizeof(s->exception_message), "%.*s",
				 (int)sizeof(x->exc_message), x->exc_message);
		}
		if (size >= sizeof(*x) && x->exc_type[0] && x->exc_message[0])
			snprintf(s->status_message, sizeof(s->status_message), "%.*s: %.*s",
				 (int)sizeof(x->exc_type), x->exc_type,
				 (int)sizeof(x->exc_message), x->exc_message);
		else if (size >= sizeof(*x) && x->exc_type[0])
			snprintf(s->status_message, sizeof(s->status_message), "%.*s",
				 (int)sizeof(x->exc_type), x->exc_type);
		else
			snprintf(s->status_message, sizeof(s->status_message),
				 "%s left by an exception", f->name);
	}
	s->proc = p->procs ? process_table__get(p->procs, e->pid) : NULL;
	return 0;
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct python_probe *p = ctx;
	struct span s;

	if (size == sizeof(struct span_event) || size == sizeof(struct py_error_span)) {
		if (python_probe__span(p, &s, data, size))
			return 0;
		return p->emit(p->emit_ctx, &s);
	}
	if (size == sizeof(struct py_code_event) && ((struct py_code_event *)data)->kind == PY_REC_CODE)
		return add_func(p, data) == -ENOMEM ? -ENOMEM : 0;
	return 0;
}

int python_probe__add_ring(struct python_probe *p, struct ring_buffer **rb, python_span_fn fn,
			   void *ctx, int64_t mono_to_real_ns, struct process_table *procs)
{
	int fd = bpf_map__fd(p->skel->maps.py_events);
	int err;

	p->emit = fn;
	p->emit_ctx = ctx;
	p->mono_to_real = mono_to_real_ns;
	p->procs = procs;
	if (!*rb) {
		*rb = ring_buffer__new(fd, handle_record, p, NULL);
		err = *rb ? 0 : -errno;
	} else {
		err = ring_buffer__add(*rb, fd, handle_record, p);
	}
	if (err)
		fprintf(stderr, "spanprobe: can't open the Python ring buffer: %s\n", strerror(-err));
	return err;
}

void python_probe__detach(struct python_probe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	p->links = NULL;
	p->nlinks = 0;
	if (p->skel)
		python_bpf__detach(p->skel);
}

void python_probe__add_stats(const struct python_probe *p, uint64_t out[STAT_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *values;

	if (!p || !p->skel || ncpus <= 0)
		return;
	values = calloc(ncpus, sizeof(*values));
	if (!values)
		return;
	for (uint32_t k = 0; k < STAT_MAX; k++) {
		if (bpf_map__lookup_elem(p->skel->maps.py_stats, &k, sizeof(k), values,
					 sizeof(*values) * ncpus, 0))
			continue;
		for (int c = 0; c < ncpus; c++)
			out[k] += values[c];
	}
	free(values);
}

void python_probe__describe(const struct python_probe *p, FILE *to)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ninterps; i++) {
		const struct python_interp *in = &p->interps[i];

		fprintf(to, "spanprobe: python %s (%u.%u): function__entry/return USDT%s; exceptions %s\n",
			in->path, in->version >> 24, (in->version >> 16) & 0xff,
			python_interp__needs_line_semaphore(in) ? " + line semaphore (3.11)" : "",
			in->tstate_addr ? in->tstate_how : "not detected");
	}
	fprintf(to, "spanprobe: python files:");
	for (size_t i = 0; i < p->g.nfile_globs; i++)
		fprintf(to, " '%s'", p->g.globs[i]);
	fprintf(to, "; functions:");
	for (size_t i = p->g.nfile_globs; i < p->g.nfile_globs + p->g.nfunc_globs; i++)
		fprintf(to, " '%s'", p->g.globs[i]);
	fputc('\n', to);
}

void python_probe__free(struct python_probe *p)
{
	if (!p)
		return;
	python_probe__detach(p);
	python_bpf__destroy(p->skel);
	for (size_t i = 0; i < p->nfuncs; i++) {
		free(p->funcs[i].name);
		free(p->funcs[i].file);
	}
	free(p->funcs);
	free(p->interps);
	free(p);
}
