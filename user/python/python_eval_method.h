/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* How the evaluator path (python_eval.h) sees returns, chosen once per run
 * before the BPF object loads. With uprobe sessions (Linux 6.13+), one
 * program on a session link runs at the evaluator's entry and, for the calls
 * it traces only, at their return: an untraced Python call pays the entry
 * probe alone. Without them (6.1, 6.12, or without uprobe_multi links) the
 * return of every Python call is probed too: at the evaluator's return
 * instructions, or by a uretprobe (python_eval.h says which and why).
 * SPANPROBE_PYTHON_RETURN=instructions or =uretprobe asks for the older
 * ways (to compare them in bench/). */
#ifndef SPANPROBE_PYTHON_EVAL_METHOD_H
#define SPANPROBE_PYTHON_EVAL_METHOD_H

#include <stdbool.h>

struct spanprobe_bpf;

struct py_eval_method {
	bool session;
	char why_not[160]; /* without sessions: why, for the start line */
};

/* Can this kernel run a uprobe session program as bpf/python_eval.bpf.c
 * calls it (the link type, and bpf_session_is_return taking no argument)?
 * Asked once; quiet. */
bool py_eval_method__sessions_available(void);

/* Should an interpreter with USDT probes take the evaluator path instead?
 * Yes unless SPANPROBE_PYTHON_PATH=usdt: with sessions an untraced call
 * pays one probe hit rather than function__entry's and function__return's
 * two; without them it pays two either way, but not 3.11's tracing dispatch
 * (Debian's 3.11: 1.3 us a call over untraced with a uretprobe, 1.9 us
 * through USDT, bench/python_eval_results.md), and the evaluator path sees
 * a generator or coroutine as one call where function__entry/return see
 * each resume. */
bool py_eval_method__prefer_evaluator(void);

/* Chooses the way for this run (multi: the other probes use uprobe_multi
 * links) and sets the evaluator programs' attach types and autoload: the
 * object is open, not loaded. */
void py_eval_method__choose(struct py_eval_method *m, struct spanprobe_bpf *skel, bool multi,
			    bool session_refused);

/* The attach type of a uprobe session link (enum bpf_attach_type's
 * BPF_TRACE_UPROBE_SESSION, 6.13: newer than the installed headers). */
#define PY_ATTACH_UPROBE_SESSION 57

#endif
