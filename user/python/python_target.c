// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which path a CPython file takes; see python_target.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libpython_path.h"
#include "python_eval.h"
#include "python_interp.h"
#include "python_target.h"

static int use_usdt(struct py_target *t, const char *path)
{
	struct stat st;
	int err;

	t->usdt = calloc(1, sizeof(*t->usdt));
	if (!t->usdt)
		return -ENOMEM;
	err = python_interp__inspect(path, t->usdt);
	if (err)
		return err;
	if (stat(path, &st) != 0)
		return -errno;
	t->kind = PY_PATH_USDT;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	snprintf(t->path, sizeof(t->path), "%s", path);
	return 0;
}

static int use_evaluator(struct py_target *t, const char *path)
{
	int err;

	t->eval = calloc(1, sizeof(*t->eval));
	if (!t->eval)
		return -ENOMEM;
	err = python_eval__inspect(path, t->eval);
	if (err)
		return err;
	t->kind = PY_PATH_EVAL;
	t->dev = t->eval->dev;
	t->ino = t->eval->ino;
	snprintf(t->path, sizeof(t->path), "%s", path);
	return 0;
}

int py_target__resolve(struct py_target *t, const char *spec_name, const char *interp,
		       const char *inside, pid_t ns_pid, pid_t run_pid)
{
	struct container_file lib = { .open_path = "" };
	char needed[256] = "", lib_inside[PATH_MAX] = "";
	bool have_lib = false;

	memset(t, 0, sizeof(*t));
	snprintf(t->spec_name, sizeof(t->spec_name), "%s", spec_name);
	snprintf(t->interp, sizeof(t->interp), "%s", interp);
	t->ns_pid = ns_pid;
	if (python_interp__has_usdt(interp)) {
		snprintf(t->why, sizeof(t->why), "it has CPython's function__entry/return USDT probes");
		return use_usdt(t, interp);
	}
	/* the libpython it loads: the one a running process mapped, else the
	 * one its DT_NEEDED names, found as the loader would */
	if (run_pid > 0 && libpython__find_mapped(run_pid, lib_inside, sizeof(lib_inside), &lib) == 0)
		have_lib = true;
	else if (libpython__find_needed(interp, inside, ns_pid, needed, sizeof(needed), &lib) == 0)
		have_lib = true;
	if (have_lib && python_interp__has_usdt(lib.open_path)) {
		snprintf(t->why, sizeof(t->why), "no USDT probes of its own; the %s it loads has them",
			 lib.open_path);
		return use_usdt(t, lib.open_path);
	}
	if (python_eval__defines_evaluator(interp)) {
		snprintf(t->why, sizeof(t->why), "no USDT probes (CPython built without "
			 "--with-dtrace): its evaluator, _PyEval_EvalFrameDefault, is probed");
		return use_evaluator(t, interp);
	}
	if (have_lib && python_eval__defines_evaluator(lib.open_path)) {
		snprintf(t->why, sizeof(t->why), "no USDT probes in it nor in the %s it loads (CPython "
			 "built without --with-dtrace): the evaluator, _PyEval_EvalFrameDefault, is "
			 "probed in that library", lib.open_path);
		return use_evaluator(t, lib.open_path);
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

const char *py_target__path_name(const struct py_target *t)
{
	return t->kind == PY_PATH_USDT ? "USDT" : "evaluator";
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
}
