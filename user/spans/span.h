/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A finished span as every output sees it: the kernel's span_event resolved
 * against the probe table (name, source location) and the wall clock. */
#ifndef SPANPROBE_SPAN_H
#define SPANPROBE_SPAN_H

#include <stdbool.h>
#include <stdint.h>

struct process_info;

/* How a span's return value reads, from the function's DWARF type. */
enum span_ret_kind {
	SPAN_RET_NONE,     /* void, or no return seen (truncated, or a tail call) */
	SPAN_RET_SIGNED,
	SPAN_RET_UNSIGNED,
	SPAN_RET_POINTER,
	SPAN_RET_UNKNOWN,  /* no DWARF: read as C's int */
};

struct span {
	uint8_t trace_id[16];
	uint64_t span_id;
	uint64_t parent_span_id;        /* 0 for a root */
	uint64_t start_unix_ns;
	uint64_t end_unix_ns;
	uint32_t pid;
	uint32_t tid;
	uint32_t depth;
	const char *name;               /* function name; owned by the probe table */
	const char *code_file;          /* source file from DWARF, or NULL */
	uint32_t code_line;             /* 0 when unknown */
	int64_t ret;                    /* return value, sign-extended per its type */
	enum span_ret_kind ret_kind;
	bool ret_signed;                /* SIGNED, or UNKNOWN (read as int) */
	bool has_ret;                   /* ret_kind != SPAN_RET_NONE */
	bool error;                     /* the return value matched the error rule */
	bool truncated;                 /* the return was never seen */
	const char *lost_reason;        /* why truncated ("thread exit", ...), or NULL */
	char status_message[96];        /* "goo returned -1" when error */
	/* A call left by an exception (Python): the OTel "exception" event at
	 * the span's end. Empty strings when none. */
	char exception_type[48];
	char exception_message[96];
	const struct process_info *proc; /* resource of the traced process, or NULL */
};

/* Lower-case hex of the ids, as OTLP/JSON and Jaeger show them. */
void span__trace_id_hex(const struct span *s, char out[33]);
void span__span_id_hex(uint64_t id, char out[17]);

#endif /* SPANPROBE_SPAN_H */
