/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The functions one run traces: probe specs resolved to files and symbols,
 * each function given an id (the BPF attach cookie) and its error rule.
 * Files appear at start and, for container paths, later: when a process
 * whose mount namespace holds another file at the probe's path execs. */
#ifndef SPANPROBE_PROBE_TABLE_H
#define SPANPROBE_PROBE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "arg_spec.h"
#include "elf_symbols.h"
#include "file_identity.h"
#include "in_root.h"
#include "span_record.h"

struct probe_spec;
struct error_rule;
struct func_symbol;
struct elf_binary;

struct traced_binary {
	char *path;              /* for messages and -l: a host path or /proc/PID/root/PATH */
	char *spec_name;         /* as written in the probe (inside the container) */
	/* "/proc/self/fd/N": the file found (resolved inside its container),
	 * held open while the table lives; what is read and attached, so the
	 * kernel probes the very file that was checked */
	char attach_path[32];
	int fd;
	/* the root it was found in (in_root.h; IN_ROOT_HOST: spanprobe's own),
	 * where the libraries it loads are looked up (exception_hooks.c); owned */
	int root_fd;
	/* the file the kernel probes: one binary per file (see file_identity.h);
	 * id.dev and id.ino are fd's */
	struct file_identity id;
	struct elf_binary *elf;
	enum binary_lang lang;   /* whose unwinding its frames must survive */
	bool go_regabi;          /* Go >= 1.17: g in r14, calls nest per goroutine */
};

/* The rule for every failure to probe or hook a file (attach.c,
 * exception_hooks.c; python_probe.c for interpreters): a container's copy
 * that fails is left untraced, said in one line, and the other files are
 * traced on; what a container holds must not stop spanprobe (a DaemonSet
 * would crash-loop on one odd image). A failure on one of the host's
 * files is the user's to fix: it stops. */
static inline bool traced_binary__in_container(const struct traced_binary *b)
{
	return b->root_fd != IN_ROOT_HOST;
}

/* How a traced function's return is seen (user/probes/return_rule.c). */
enum return_probe {
	RETURN_URETPROBE,   /* the kernel's return probe: cheap, but swaps the return address */
	RETURN_EXIT_SITES,  /* uprobes on its ret and tail-jump instructions: address untouched */
};

/* --return-probes */
enum return_choice {
	RETURNS_AUTO,       /* per function, from the file's language and the function */
	RETURNS_URETPROBE,
	RETURNS_EXITS,
};

struct traced_func {
	uint32_t id;                    /* index in funcs; the attach cookie */
	const struct traced_binary *bin;
	const struct func_symbol *sym;
	/* SKIP_NONE: probes attached; else why not (from sym->skip, or set at
	 * attach when the kernel refuses what looked probeable) */
	enum skip_reason skip;
	uint32_t same_as;               /* SKIP_SAME_CODE: id of the function traced instead */
	struct func_rule rule;          /* handed to the BPF side */
	const char *rule_text;          /* "ret<0", or NULL: no error rule */
	enum return_probe ret_probe;
	const char *ret_why;            /* static text: why that way (-l -v) */
	struct func_args args;          /* --arg: captured at entry (args.spec.nargs 0: none) */
};

struct probe_table {
	struct traced_binary **bins;    /* each allocated once: functions point at them */
	size_t nbins;
	struct traced_func *funcs;
	size_t nfuncs;
	/* kept for files found later */
	const struct probe_spec *specs;
	size_t nspecs;
	const struct error_rule *rules;
	size_t nrules;
	const struct arg_rule *arg_rules;
	size_t narg_rules;
	size_t pending;                 /* absolute-path specs found nowhere yet */
	pid_t pid;                      /* the traced process (-p), or -1 */
	uint64_t pid_start;             /* its start time (process_ref.h), or 0 */
	enum return_choice returns;     /* set before resolving */
	/* roots (mount namespace inodes) already warned about: a hostile
	 * container's refused path is said once, not at every exec */
	ino_t *warned;
	size_t nwarned;
	bool cap_warned;                /* the most files were traced: said once */
};

/* Resolves every uprobe spec; pid > 0 looks for container paths in that
 * process only. With wait, an absolute path found nowhere is pending, not an
 * error. Prints one line naming the cause and the fix and returns a negative
 * errno on the first failure. */
int probe_table__resolve(struct probe_table *t, const struct probe_spec *specs, size_t nspecs,
			 pid_t pid, bool wait);
/* Applies --error rules; a rule that names no traced function is an error
 * unless specs are still pending. */
int probe_table__apply_rules(struct probe_table *t, const struct error_rule *rules, size_t nrules);
/* Applies --arg rules: each function a rule names gets its arguments
 * resolved (DWARF names and types); a rule naming no traced function, or
 * an argument a function can't give, is an error (one line). */
int probe_table__apply_args(struct probe_table *t, const struct arg_rule *rules, size_t nrules);
/* Functions that capture arguments. */
size_t probe_table__with_args(const struct probe_table *t);
/* pid just exec'd: adds the files at the probes' absolute paths in its root
 * that are not traced yet. start_time (process_ref.h; 0: unknown) is the
 * exec'ing process's: when pid is another process by now (reused), nothing
 * is looked up. New files are bins[*first_bin..nbins), their functions
 * funcs[*first_func..nfuncs). Returns how many files. */
int probe_table__discover(struct probe_table *t, pid_t pid, uint64_t start_time, size_t *first_bin,
			  size_t *first_func);
/* After attaching b: the kernel's links name the file opened (checked by
 * the caller) and b's descriptor still is that file: 0, or -ESTALE. */
int probe_table__check_binary(const struct traced_binary *b);
void probe_table__release(struct probe_table *t);

/* Functions that get probes (not skipped). */
size_t probe_table__attachable(const struct probe_table *t);
/* How many were skipped, per reason (counts may be NULL); the total. */
size_t probe_table__count_skipped(const struct probe_table *t, size_t counts[SKIP_REASON_MAX]);

#endif
