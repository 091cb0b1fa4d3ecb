// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which path a CPython file takes; see python_target.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "in_root.h"
#include "libpython_path.h"
#include "python_eval.h"
#include "python_eval_method.h"
#include "python_interp.h"
#include "python_target.h"

const struct container_file *py_target__probed(const struct py_target *t)
{
	return t->probes_lib ? &t->lib : &t->exe;
}

static void probe_file(struct py_target *t, bool lib)
{
	const struct container_file *f;

	t->probes_lib = lib;
	f = py_target__probed(t);
	t->maps = f->maps;
	if (file_identity__of(f->open_path, &t->id) != 0) {
		memset(&t->id, 0, sizeof(t->id));
		t->id.dev = f->dev;
		t->id.ino = f->ino;
	}
	snprintf(t->path, sizeof(t->path), "%s", f->display);
}

static int use_usdt(struct py_target *t, bool lib)
{
	const struct container_file *f = lib ? &t->lib : &t->exe;
	int err;

	t->usdt = calloc(1, sizeof(*t->usdt));
	if (!t->usdt)
		return -ENOMEM;
	err = python_interp__inspect(f->open_path, f->display, t->usdt);
	if (err)
		return err;
	t->kind = PY_PATH_USDT;
	probe_file(t, lib);
	return 0;
}

static int use_evaluator(struct py_target *t, bool lib, const char *inside)
{
	const struct container_file *f = lib ? &t->lib : &t->exe;
	int err;

	t->eval = calloc(1, sizeof(*t->eval));
	if (!t->eval)
		return -ENOMEM;
	err = python_eval__inspect(f, inside, t->eval);
	if (err)
		return err;
	t->kind = PY_PATH_EVAL;
	probe_file(t, lib);
	return 0;
}

int py_target__resolve(struct py_target *t, const char *spec_name, struct container_file *exe,
		       const char *inside, pid_t ns_pid, pid_t run_pid)
{
	char needed[256] = "", lib_inside[PATH_MAX] = "";
	bool have_lib = false;

	memset(t, 0, sizeof(*t));
	/* taken: closed with t */
	t->exe = *exe;
	exe->fd = -1;
	exe->root_fd = IN_ROOT_HOST;
	t->lib.fd = -1;
	t->lib.root_fd = IN_ROOT_HOST;
	snprintf(t->spec_name, sizeof(t->spec_name), "%s", spec_name);
	snprintf(t->interp, sizeof(t->interp), "%s", t->exe.display);
	t->ns_pid = ns_pid;
	if (python_interp__has_usdt(t->exe.open_path)) {
		if (py_eval_method__prefer_evaluator() &&
		    python_eval__defines_evaluator(t->exe.open_path) &&
		    use_evaluator(t, false, inside) == 0) {
			snprintf(t->why, sizeof(t->why), "it has USDT probes, but the evaluator probe "
				 "costs less (with uprobe sessions one probe hit per untraced call, not "
				 "two; without, no 3.11 tracing dispatch) and sees a generator as one "
				 "call, not one per resume (SPANPROBE_PYTHON_PATH=usdt for the USDT "
				 "probes)");
			return 0;
		}
		if (t->eval)
			python_eval__release(t->eval);
		free(t->eval);
		t->eval = NULL;
		snprintf(t->why, sizeof(t->why), "it has CPython's function__entry/return USDT probes");
		return use_usdt(t, false);
	}
	/* the libpython it loads: the one a running process mapped, else the
	 * one its DT_NEEDED names, found as the loader would in its root */
	if (run_pid > 0 && libpython__find_mapped(run_pid, lib_inside, sizeof(lib_inside), &t->lib) == 0)
		have_lib = true;
	else if (libpython__find_needed(&t->exe, inside, needed, sizeof(needed), &t->lib) == 0) {
		have_lib = true;
		snprintf(lib_inside, sizeof(lib_inside), "%s", container_file__inside(&t->lib));
	}
	if (have_lib && python_interp__has_usdt(t->lib.open_path)) {
		snprintf(t->why, sizeof(t->why), "no USDT probes of its own; the %s it loads has them",
			 t->lib.display);
		return use_usdt(t, true);
	}
	if (python_eval__defines_evaluator(t->exe.open_path)) {
		snprintf(t->why, sizeof(t->why), "no USDT probes (CPython built without "
			 "--with-dtrace): its evaluator, _PyEval_EvalFrameDefault, is probed");
		return use_evaluator(t, false, inside);
	}
	if (have_lib && python_eval__defines_evaluator(t->lib.open_path)) {
		snprintf(t->why, sizeof(t->why), "no USDT probes in it nor in the %s it loads (CPython "
			 "built without --with-dtrace): the evaluator, _PyEval_EvalFrameDefault, is "
			 "probed in that library", t->lib.display);
		return use_evaluator(t, true, lib_inside);
	}
	if (needed[0] && !have_lib)
		fprintf(stderr, "spanprobe: %s loads %s, which was found in none of its run path "
			"and the usual library directories; trace a running process with -p (its "
			"mapped library is then used) or name the library as the interpreter\n",
			spec_name, needed);
	else
		fprintf(stderr, "spanprobe: %s is not a CPython 3 interpreter: it has no python USDT "
			"probes, does not define _PyEval_EvalFrameDefault, and loads no "
			"libpython3.X.so (give the python3.X binary, not a script or wrapper)\n",
			spec_name);
	return -ENOENT;
}

void py_target__version(const struct py_target *t, char *buf, size_t len)
{
	if (t->kind == PY_PATH_EVAL)
		snprintf(buf, len, "CPython %u.%u", t->eval->bin.major, t->eval->bin.minor);
	else if (t->usdt->version)
		snprintf(buf, len, "CPython %u.%u", t->usdt->version >> 24,
			 (t->usdt->version >> 16) & 0xff);
	else
		snprintf(buf, len, "CPython");
}

void py_target__release(struct py_target *t)
{
	if (t->eval)
		python_eval__release(t->eval);
	free(t->eval);
	free(t->usdt);
	t->eval = NULL;
	t->usdt = NULL;
	container_file__close(&t->exe);
	container_file__close(&t->lib);
}
