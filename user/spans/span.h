/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A finished span as every output sees it: the kernel's span_record resolved
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

/* Arguments captured at entry (--arg); at most SPAN_ARG_MAX, at most
 * SPAN_ARG_STRINGS of them strings (span_record.h's ARG_MAX, ARG_MAX_STRINGS
 * and ARG_STR_LEN). */
#define SPAN_ARG_MAX 6
#define SPAN_ARG_STRINGS 2
#define SPAN_ARG_STR_LEN 260 /* a captured string (255 bytes at most) and "..." */

struct span_arg {
	const char *name;      /* "arg1", "zSql": as the option named it */
	const char *attr_key;  /* "spanprobe.arg.zSql" */
	uint8_t type;          /* ARG_T_* (call_settings.h) */
	uint8_t flags;         /* ARG_F_* (span_record.h): NULL, fault, truncated */
	int8_t str;            /* strings: index in span.arg_str; else -1 */
	int64_t value;         /* integers: extended per their type; strings: the pointer */
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
	/* What the probes themselves add to this call's duration (an estimate
	 * for the function's probe cost class), and that class; 0/NULL unknown. */
	uint32_t probe_overhead_ns;
	const char *probe_class;
	uint8_t nargs;
	struct span_arg args[SPAN_ARG_MAX];
	/* A string argument's text as the attribute shows it: the string (cut
	 * ones end in "..."), or "<unreadable at 0x...>" when the read faulted. */
	char arg_str[SPAN_ARG_STRINGS][SPAN_ARG_STR_LEN];
};

/* An argument as the tree and lines outputs show it: 42, 0x7f.., "text",
 * NULL, <unreadable at 0x..>. Returns buf. */
const char *span_arg__text(const struct span *s, size_t i, char *buf, size_t len);
/* "name=value, name=value" of every argument (empty when none). */
void span__args_text(const struct span *s, char *buf, size_t len);

/* Lower-case hex of the ids, as OTLP/JSON and Jaeger show them. */
void span__trace_id_hex(const struct span *s, char out[33]);
void span__span_id_hex(uint64_t id, char out[17]);

#endif /* SPANPROBE_SPAN_H */
