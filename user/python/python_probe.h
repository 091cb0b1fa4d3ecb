/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* python:INTERPRETER:FILES:FUNCS probes: Python function calls as spans, a
 * probe source of the tracer's one BPF object. Each CPython file takes one
 * of two paths (python_target.h): its USDT probes (bpf/python_usdt.bpf.c),
 * or, without them, the evaluator probe (bpf/python_eval.bpf.c). Lifecycle:
 * resolve (before the object is opened) -> configure (rodata, before load)
 * -> store (maps, after load) -> attach -> [discover, on_unhooked while
 * running] -> detach (inlining restored first) -> free. */
#ifndef SPANPROBE_PYTHON_PROBE_H
#define SPANPROBE_PYTHON_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct attachment;
struct probe_spec;
struct python_probe;
struct spanprobe_bpf;

/* Resolves the python: specs among specs (others are skipped); pid > 0
 * looks for an absolute interpreter path in that process only; with wait,
 * an absolute path found nowhere yet is not an error. *out is NULL, and 0
 * returned, when there is none. With list (-l), python:INTERPRETER alone
 * is taken and the globs are not read. specs must outlive *out. Errors print one
 * line and return a negative errno. */
int python_probe__resolve(const struct probe_spec *specs, size_t nspecs, pid_t pid, bool wait,
			  bool verbose, bool list, struct python_probe **out);
/* Should execs be reported (an absolute interpreter path: new containers)? */
bool python_probe__watches_execs(const struct python_probe *p);
/* Sets the globs in the object's rodata, the evaluator programs' attach
 * type (multi: uprobe_multi links, as the tracer's other probes) and how
 * the evaluator path sees returns (python_eval_method.h); with p NULL,
 * turns the Python programs off. */
void python_probe__configure(struct python_probe *p, struct spanprobe_bpf *skel, bool multi,
			     bool session_refused);
/* Stores each file's layout in the loaded object. */
int python_probe__store(struct python_probe *p, struct spanprobe_bpf *skel);
/* Attaches to target (-1: every process running the interpreters, filtered
 * in the kernel when following a process tree) and, on 3.11+ without USDT,
 * turns inlining off in traced: that process (> 0; its descendants are
 * reported by the kernel when they run Python), or every process running
 * the interpreter (-1). */
int python_probe__attach(struct python_probe *p, struct spanprobe_bpf *skel, pid_t target,
			 pid_t traced);
/* Selection (instead of python_probe__attach): the probes go only into
 * the processes chosen, one by one, with python_probe__attach_process. */
void python_probe__select(struct python_probe *p, struct spanprobe_bpf *skel);
/* Attaches, for pid alone, the probes of each interpreter file pid runs or
 * maps (links added to into) and, on 3.11+ without USDT, turns inlining off
 * in pid only. Returns how many files, or a negative errno (one line
 * printed, except -ESRCH: pid gone). */
int python_probe__attach_process(struct python_probe *p, pid_t pid, struct attachment *into);
/* pid is no longer chosen: its inlining back on, before its links go; when
 * it exec'd (its memory is another program's), forgotten unwritten. */
void python_probe__release_process(struct python_probe *p, pid_t pid, bool exec);
/* pid is traced from now on (a descendant of -p's process found at the
 * start): inlining off in its interpreters now, where it needs it, rather
 * than at its evaluator's first report, after its first calls ran unseen. */
void python_probe__hook_process(struct python_probe *p, pid_t pid);
/* The BPF side saw pid's interpreter run with inlining on (REC_PY_UNHOOKED). */
void python_probe__on_unhooked(struct python_probe *p, pid_t pid);
/* pid exec'd (system-wide): probes the interpreters at the specs' absolute
 * paths in its root not probed yet. start_time (process_ref.h; 0: unknown)
 * is the exec'ing process's: a process that reused the PID is not looked
 * into. Returns how many files. */
int python_probe__discover(struct python_probe *p, struct spanprobe_bpf *skel, pid_t pid,
			   uint64_t start_time, FILE *log);
/* Turns inlining back on wherever it was turned off. */
void python_probe__restore(struct python_probe *p);
/* Restores, then stops new calls from being seen (queued records can still
 * be read). */
void python_probe__detach(struct python_probe *p);
/* One line per file probed: the path and return method it got and what a
 * Python call then pays (the start line's). */
void python_probe__say_paths(const struct python_probe *p, FILE *to);
/* Files, paths and globs, for -v and --dry-run. */
void python_probe__describe(const struct python_probe *p, FILE *to);
/* -l: one entry per file, its path and why. */
void python_probe__print_list(const struct python_probe *p, bool verbose, FILE *out);
/* Interpreters whose inlining was turned off, and turned back on. */
void python_probe__counts(const struct python_probe *p, unsigned long long *hooked,
			  unsigned long long *restored);
void python_probe__free(struct python_probe *p);

#endif /* SPANPROBE_PYTHON_PROBE_H */
