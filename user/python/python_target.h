/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One CPython file a python: probe goes to, and which path it takes:
 * USDT, where the interpreter or the libpython it loads has CPython's
 * function__entry/return probes (built --with-dtrace: Debian, Fedora);
 * else the evaluator probe (python_eval.h) on the file that holds
 * _PyEval_EvalFrameDefault (the official images, pyenv, uv). An
 * interpreter with USDT probes and the evaluator inside takes the evaluator
 * path too (python_eval_method.h says why); SPANPROBE_PYTHON_PATH=usdt
 * keeps the USDT probes. */
#ifndef SPANPROBE_PYTHON_TARGET_H
#define SPANPROBE_PYTHON_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "container_files.h"
#include "file_identity.h"

enum py_path { PY_PATH_USDT, PY_PATH_EVAL };

struct python_interp;
struct py_eval_target;

struct py_target {
	char spec_name[PATH_MAX]; /* the interpreter as the probe names it */
	char interp[PATH_MAX];    /* the interpreter, for messages (/proc/PID/root/... in a container) */
	char path[PATH_MAX];      /* the file probed, for messages: the interpreter or its libpython */
	/* The interpreter and the libpython it loads (lib.fd -1: none), held
	 * open while the target lives: read and attached through their
	 * descriptors (open_path), never through a path resolved again */
	struct container_file exe, lib;
	bool probes_lib;          /* the file probed is lib, not exe */
	struct maps_identity maps; /* the file probed: stat's dev/ino, and maps' */
	/* ...as the kernel's uprobes see it: one file for every container of
	 * an image (file_identity.h), probed once */
	struct file_identity id;
	pid_t ns_pid;             /* a process of the container it is in (0: ours) */
	enum py_path kind;
	char why[512];            /* for -v and -l */
	struct python_interp *usdt;
	struct py_eval_target *eval;
	uint32_t idx;             /* its cookie: index in py_interps or py_eval_interps */
	bool stored, attached;
	bool refused;             /* a container's copy the kernel would not probe: left out */
};

/* Decides the path for the interpreter exe (a file found; taken: t closes
 * it; inside: its path in its own root, for $ORIGIN; ns_pid: a process of
 * that root, 0 for ours; run_pid: a process running it whose mapped
 * libpython is then used, or 0) and reads the probed file. Errors print
 * one line naming cause and fix, and return a negative errno; release t
 * either way. */
int py_target__resolve(struct py_target *t, const char *spec_name, struct container_file *exe,
		       const char *inside, pid_t ns_pid, pid_t run_pid);
/* The file probed (exe or lib): attach through its open_path. */
const struct container_file *py_target__probed(const struct py_target *t);
/* "CPython 3.10" (or "CPython" when the version is unknown) */
void py_target__version(const struct py_target *t, char *buf, size_t len);
void py_target__release(struct py_target *t);

#endif
