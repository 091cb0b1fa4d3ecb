/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Attaching the entry and return programs to every traced function: its
 * entry, and its return by a uretprobe or by uprobes on its exits. */
#ifndef SPANPROBE_ATTACH_H
#define SPANPROBE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "exit_sites.h"

struct bpf_program;
struct bpf_link;
struct probe_table;
struct traced_binary;

/* The programs a traced function's probes run. */
struct attach_progs {
	struct bpf_program *enter;     /* entries */
	struct bpf_program *exit;      /* uretprobes */
	struct bpf_program *exit_site; /* exit instructions (return_rule.h) */
	/* the indirect_sites map's slots, shared by every attachment (one per
	 * chosen process): a site keeps its slot */
	struct indirect_sink *indirect;
};

struct attachment {
	struct bpf_link **links;
	size_t nlinks;
	int *link_fds;  /* links libbpf can't make (python_eval_method.h) */
	size_t nfds;
	bool multi; /* uprobe_multi links were used */
	struct attach_progs progs;
};

/* pid -1 traces every process mapping the files, now and later. Functions
 * skipped (t->funcs[i].skip) get no probe; one the kernel refuses although
 * it looked probeable is marked SKIP_KERNEL_REFUSED and the rest attach.
 * Then one warning line names the skipped ones and why (nothing when none
 * is). On another failure prints one line naming it and returns a
 * negative errno. */
int attach_probes(struct attachment *a, struct probe_table *t, const struct attach_progs *progs,
		  pid_t pid, bool multi);
/* Attaches the functions of one file (found after start: a new container)
 * with the programs attach_probes was given; the warning line covers that
 * file. */
int attach_binary(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
		  pid_t pid);
/* Every traced file's functions in one process (pid > 0) only, for a process
 * chosen by selection; nothing printed when it is gone (-ESRCH), and the
 * skipped-functions line is left to the caller. */
int attach_process(struct attachment *a, struct probe_table *t, const struct attach_progs *progs,
		   pid_t pid, bool multi);
/* One file's functions (found after the process was chosen) into a
 * process chosen by selection (a, as attach_process made it); nothing
 * printed when it is gone (-ESRCH). */
int attach_process_binary(struct attachment *a, struct probe_table *t, const struct traced_binary *b,
			  pid_t pid);
/* Keeps link (destroyed with the attachment; destroyed now on -ENOMEM). */
int attachment__add(struct attachment *a, struct bpf_link *link);
/* Keeps a link libbpf just made for what (in path, for the message); when
 * it could not be made (NULL), one line saying why, unless the process
 * (one chosen by selection) is gone and quiet_gone; a negative errno then. */
int attachment__keep(struct attachment *a, struct bpf_link *link, const char *what,
		     const char *path, bool quiet_gone);
/* Keeps a link's descriptor (closed with the attachment; closed now on
 * -ENOMEM). */
int attachment__add_fd(struct attachment *a, int link_fd);
/* Closes every link at once (see attach.c: a pending return probe can
 * otherwise hold up detaching for as long as a traced call stays open). */
void attachment__destroy(struct attachment *a);

#endif
