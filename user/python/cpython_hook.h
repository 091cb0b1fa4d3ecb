/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CPython 3.11+ runs calls made from Python code inside the caller's
 * evaluator call (no _PyEval_EvalFrameDefault entry to probe) unless
 * interp->eval_frame is set. From outside the process (process_vm_writev,
 * needs CAP_SYS_PTRACE or the same user), this sets it to
 * _PyEval_EvalFrameDefault itself in every interpreter of the process: each
 * call then goes through _PyEval_EvalFrame and enters the evaluator, with
 * no other change of behaviour. Restore puts NULL back where the value is
 * still ours. */
#ifndef SPANPROBE_CPYTHON_HOOK_H
#define SPANPROBE_CPYTHON_HOOK_H

#include <stdint.h>
#include <sys/types.h>

#include "cpython_binary.h"
#include "maps_identity.h"

#define CPYTHON_HOOK_MAX_INTERPS 64

struct cpython_hook {
	pid_t pid;
	uint64_t bias;      /* load bias of the CPython file in the process */
	uint64_t eval_func; /* _PyEval_EvalFrameDefault in the process */
	uint64_t runtime;   /* _PyRuntime in the process */
	struct py_layout l;
	uint64_t set[CPYTHON_HOOK_MAX_INTERPS]; /* interpreters whose eval_frame we set */
	unsigned nset;
	unsigned foreign;   /* interpreters whose eval_frame someone else had set */
	unsigned adopted;   /* already ours: left by a spanprobe killed before restoring */
};

/* The load bias of file b in process pid, from /proc/PID/maps (matched by
 * device and inode as maps shows them, so it works across mount namespaces
 * and on overlayfs). -ENOENT when the process has not mapped it (yet),
 * -ESRCH when it is gone. */
int cpython_hook__find(struct cpython_hook *h, pid_t pid, const struct cpython_binary *b,
		       const struct maps_identity *file);

/* Walks the process's interpreters (_PyRuntime.interpreters.head, ->next)
 * and sets eval_frame where it is NULL; one already holding
 * _PyEval_EvalFrameDefault (left by a killed spanprobe) is taken as ours. Returns how many interpreters the
 * process has (0: not initialised yet), or -errno (-EPERM: no
 * CAP_SYS_PTRACE; -ESRCH: the process is gone). Call again to cover
 * interpreters created since. */
int cpython_hook__install(struct cpython_hook *h);

/* Reads interp->eval_frame of the main interpreter (for tests). */
int cpython_hook__read_main(const struct cpython_hook *h, uint64_t *eval_frame);

/* Puts NULL back in every interpreter whose eval_frame we set and that
 * still holds our value. Returns how many were restored, or -errno. */
int cpython_hook__restore(struct cpython_hook *h);

#endif /* SPANPROBE_CPYTHON_HOOK_H */
