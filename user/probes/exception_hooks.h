/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Probes on the runtime functions that start and catch exceptions (C++),
 * panics (Rust, Go), so calls they leave are sent with status ERROR and
 * what was thrown (bpf/exception_hooks.bpf.c). Attached for every file
 * whose functions return by exit sites: where a uretprobe is kept, the
 * unwinder would not get through anyway. */
#ifndef SPANPROBE_EXCEPTION_HOOKS_H
#define SPANPROBE_EXCEPTION_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach.h"

struct bpf_program;
struct probe_table;
struct traced_binary;

struct exception_hooks {
	struct bpf_program *prog;
	int infos_fd;        /* the hook_infos map */
	struct attachment attached; /* the hooks' links */
	uint32_t ninfos;
	char **hooked;       /* files hooked already (libstdc++ once for all) */
	size_t nhooked;
	bool verbose;
};

/* Hooks for every file of t; a file whose runtime can't be found gets a
 * warning (its exceptions leave truncated spans). Errors: one line, a
 * negative errno. */
int exception_hooks__attach(struct exception_hooks *h, const struct probe_table *t,
			    struct bpf_program *prog, int infos_fd, pid_t pid, bool verbose);
/* Hooks for one file found later. */
int exception_hooks__attach_binary(struct exception_hooks *h, const struct probe_table *t,
				   const struct traced_binary *b, pid_t pid);
void exception_hooks__detach(struct exception_hooks *h);

#endif
