/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The evaluator path of python: probes, for CPython files without USDT
 * probes (and, with uprobe sessions, those with them: python_target.h): what bpf/python_eval.bpf.c needs to know about one CPython file
 * (a libpython3.X.so, or an interpreter with the evaluator inside), and
 * where its probes go: the entry of _PyEval_EvalFrameDefault and each of
 * its return instructions.
 *
 * With uprobe sessions (6.13+, python_eval_method.h) one session link does
 * entry and return, and only traced calls have a return pending. Without
 * them, every call's return is probed, at its return instructions rather
 * than by a uretprobe: detaching a uretprobe waits
 * (in the kernel, uninterruptibly) until every thread's pending returns of
 * that probe are gone, and a thread that keeps entering the evaluator
 * (3.8-3.10: every Python call) postpones that for as long as it runs its
 * outer frames: spanprobe hung at exit. A uretprobe is also limited to 64
 * pending returns per thread, so deep recursion loses returns. A probe on
 * each return instruction has no pending state: it detaches at once and
 * sees every depth; its cost is a single-stepped instruction
 * (bench/python_eval_results.md). The uretprobe is kept for a file whose
 * return instructions can't all be found (a tail call out of the
 * evaluator, or an unnamed .cold part in a stripped LTO build). */
#ifndef SPANPROBE_PYTHON_EVAL_H
#define SPANPROBE_PYTHON_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container_files.h"
#include "cpython_binary.h"

struct bpf_link;
struct spanprobe_bpf;
struct attachment;

struct py_eval_target {
	struct cpython_binary bin;  /* bin.path: the file as opened and attached (our
				     * descriptor's /proc/self/fd/N); bin.name: for messages */
	struct maps_identity file;  /* the file, as stat and /proc/PID/maps show it */
	uint64_t entry_offset;      /* file offset of the entry probe */
	uint64_t entry_addr;        /* its link-time address */
	const char *entry_cost;     /* the entry probe's instruction, as the kernel takes it:
				     * "push %r15, emulated" (static text) */
	uint64_t *ret_offsets;      /* return instructions (file offsets) */
	size_t nrets;
	bool uretprobe;             /* returns by uretprobe instead */
	char return_how[160];       /* for -v: which, and why */
};

/* Does path define _PyEval_EvalFrameDefault (a libpython, or an interpreter
 * linked with it statically)? Quiet. */
bool python_eval__defines_evaluator(const char *path);

/* Reads the file found (the version, layout and probe sites; inside: its
 * path in its root, where its debug file is looked for). The file must
 * stay open while t is used: its probes are attached through file's
 * open_path. Errors print one line naming the cause and return a negative
 * errno. */
int python_eval__inspect(const struct container_file *file, const char *inside,
			 struct py_eval_target *t);
/* Hands the file's layout to the BPF side, under idx (the probes' cookie). */
int python_eval__store(const struct py_eval_target *t, uint32_t idx, struct spanprobe_bpf *skel);
/* Is code_dealloc probed for this file (found, and its program loaded)? A
 * code object's verdict then stands by its address alone. */
bool python_eval__watches_frees(const struct py_eval_target *t, const struct spanprobe_bpf *skel);
/* Attaches code_dealloc's probe, then the entry and return probes for pid (-1: every process); links
 * are appended to *links. Errors print one line (none for -ESRCH with
 * quiet_gone: a chosen process that exited meanwhile). */
int python_eval__attach(const struct py_eval_target *t, uint32_t idx, struct spanprobe_bpf *skel,
			pid_t pid, bool quiet_gone, struct attachment *attached);
void python_eval__release(struct py_eval_target *t);

#endif
