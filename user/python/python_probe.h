/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* python:INTERPRETER:FILES:FUNCS probes: Python function calls as spans,
 * from the interpreter's USDT probes (bpf/python_usdt.bpf.c), a probe source
 * of the tracer's one BPF object. Lifecycle: resolve (before the object is
 * opened) -> configure (rodata, before load) -> store (maps, after load) ->
 * attach -> detach -> free. */
#ifndef SPANPROBE_PYTHON_PROBE_H
#define SPANPROBE_PYTHON_PROBE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct probe_spec;
struct python_probe;
struct spanprobe_bpf;

/* Resolves the python: specs among specs (others are skipped). *out is
 * NULL, and 0 returned, when there is none. Errors print one line and
 * return a negative errno. */
int python_probe__resolve(const struct probe_spec *specs, size_t nspecs,
			  struct python_probe **out);
/* Sets the globs in the object's rodata; with p NULL, turns the Python
 * programs off. */
void python_probe__configure(const struct python_probe *p, struct spanprobe_bpf *skel);
/* Stores each interpreter's layout in the loaded object. */
int python_probe__store(const struct python_probe *p, struct spanprobe_bpf *skel);
/* Attaches to target (-1: every process running the interpreters). */
int python_probe__attach(struct python_probe *p, struct spanprobe_bpf *skel, pid_t target);
/* Stops new calls from being seen (queued records can still be read). */
void python_probe__detach(struct python_probe *p);
/* Interpreters and globs, for -v and --dry-run. */
void python_probe__describe(const struct python_probe *p, FILE *to);
void python_probe__free(struct python_probe *p);

#endif /* SPANPROBE_PYTHON_PROBE_H */
