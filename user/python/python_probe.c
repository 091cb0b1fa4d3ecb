// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* python: probes from the interpreter's USDT probes: resolves the
 * interpreters and globs, configures and attaches the programs of
 * bpf/python_usdt.bpf.c. The kernel side judges each code object once
 * against the globs and announces the traced ones (REC_PY_FUNC); their spans
 * reach the outputs through the shared ring buffer and decoder.
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
#include "python_interp.h"
#include "python_probe.h"
#include "python_probe_internal.h"
#include "spanprobe.skel.h"

struct python_probe {
	struct python_interp *interps;
	size_t ninterps;
	struct bpf_link **links;
	size_t nlinks;
	struct py_globs g;
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

int python_probe__store(const struct python_probe *p, struct spanprobe_bpf *skel)
{
	for (uint32_t i = 0; p && i < p->ninterps; i++) {
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
		int err = bpf_map__update_elem(skel->maps.py_interps, &i, sizeof(i), &info,
					       sizeof(info), 0);
		if (err) {
			fprintf(stderr, "spanprobe: can't store the layout of %s: %s\n", in->path,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

int python_probe__resolve(const struct probe_spec *specs, size_t nspecs,
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
	*out = p;
	return 0;
cleanup:
	python_probe__free(p);
	return err;
}

void python_probe__configure(const struct python_probe *p, struct spanprobe_bpf *skel)
{
	if (!p) {
		/* nothing to trace in Python: keep its programs out of the kernel */
		bpf_program__set_autoload(skel->progs.py_entry, false);
		bpf_program__set_autoload(skel->progs.py_return, false);
		bpf_program__set_autoload(skel->progs.py_line_semaphore, false);
		return;
	}
	skel->rodata->nfile_globs = p->g.nfile_globs;
	skel->rodata->nfunc_globs = p->g.nfunc_globs;
	for (size_t i = 0; i < p->g.nfile_globs + p->g.nfunc_globs; i++) {
		memcpy((char *)skel->rodata->globs[i], p->g.globs[i], PY_GLOB_LEN);
		skel->rodata->glob_len[i] = strlen(p->g.globs[i]);
	}
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

int python_probe__attach(struct python_probe *p, struct spanprobe_bpf *skel, pid_t target)
{
	pid_t pid = target > 0 ? target : -1;
	int err;

	for (size_t i = 0; i < p->ninterps; i++) {
		const struct python_interp *in = &p->interps[i];
		LIBBPF_OPTS(bpf_usdt_opts, uopts, .usdt_cookie = i);
		LIBBPF_OPTS(bpf_uprobe_opts, sema_opts, .ref_ctr_offset = in->line.sema_offset);

		/* Entry first, then return: a return is never without its entry
		 * once both are in place... except for calls already running. */
		err = keep_link(p, bpf_program__attach_usdt(skel->progs.py_entry, pid, in->path,
							    "python", "function__entry", &uopts),
				"python:function__entry", in->path);
		if (err)
			return err;
		err = keep_link(p, bpf_program__attach_usdt(skel->progs.py_return, pid, in->path,
							    "python", "function__return", &uopts),
				"python:function__return", in->path);
		if (err)
			return err;
		if (!python_interp__needs_line_semaphore(in))
			continue;
		err = keep_link(p, bpf_program__attach_uprobe_opts(skel->progs.py_line_semaphore,
								   pid, in->path, in->idle.offset,
								   &sema_opts),
				"the line semaphore (through python:audit's site)", in->path);
		if (err)
			return err;
	}
	return 0;
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
	free(p->interps);
	free(p);
}
