/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one place the BPF side's ring-buffer records are read: every record
 * starts with a struct record_header (kind, size); span records of every
 * probe source become struct span, function announcements (Python code
 * objects seen for the first time) are kept to name later spans. */
#ifndef SPANPROBE_SPAN_DECODE_H
#define SPANPROBE_SPAN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "span_record.h"

struct span;
struct probe_table;
struct process_table;
struct span_decoder;

/* CLOCK_REALTIME minus CLOCK_MONOTONIC now, to put kernel times on the wall clock. */
int64_t monotonic_to_realtime_offset(void);

/* Uprobe function ids name entries of table (which may grow between calls;
 * it is read, never kept); procs (may be NULL) gives each span its process. */
struct span_decoder *span_decoder__new(const struct probe_table *table, int64_t mono_to_real_ns,
				       struct process_table *procs);
/* Returns 1 when *s holds a span (valid until the next call), 0 when the
 * record was taken in without a span (a function announcement), -ENOENT for
 * a span naming no known function (its announcement was lost), -EINVAL for
 * a malformed record, -ENOMEM. */
int span_decoder__decode(struct span_decoder *d, const void *data, size_t size, struct span *s);
/* A record of the control ring: a process exec'd, forked or ended. */
struct control_event {
	enum record_kind kind; /* REC_EXEC, REC_FORK, REC_EXIT, REC_PY_UNHOOKED */
	int pid;
	int ppid;              /* REC_FORK: the parent */
	/* REC_EXEC: the process's start (ns since boot): its root is read later,
	 * by PID, and a process that reused the PID must not be taken for it */
	uint64_t start_boottime;
	char comm[16];         /* REC_EXEC: the new program's name, NUL-terminated */
};

/* Reads a control record; 0, or -EINVAL for anything else. */
int span_decoder__control(const void *data, size_t size, struct control_event *out);
/* Run-time (Python) functions announced so far. */
size_t span_decoder__dyn_count(struct span_decoder *d);
/* The name and "file.py:line" of a run-time function id; false when it was
 * never announced. Safe from another thread. */
bool span_decoder__dyn_name(struct span_decoder *d, uint32_t func_id, char *name, size_t name_len,
			    char *where, size_t where_len);
void span_decoder__free(struct span_decoder *d);

#endif
