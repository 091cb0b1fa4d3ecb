/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* --arg 'FUNCS:ARG[=TYPE],...': which arguments of which functions are
 * captured at entry. ARG is argN (0-based, the x86-64 SysV registers rdi,
 * rsi, rdx, rcx, r8, r9) or a DWARF parameter name; TYPE is int, uint (with
 * an optional width: int8..int64, uint8..uint64), hex, string (char *) or
 * pstring (char **), and may be left out when DWARF knows the type. Parsing
 * is pure string work; resolving against a function's DWARF is
 * arg_rule__resolve. */
#ifndef SPANPROBE_ARG_SPEC_H
#define SPANPROBE_ARG_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "call_settings.h"
#include "span_record.h"

struct func_symbol;

struct arg_item {
	char *name;      /* as written: "arg1", "zSql" */
	char *attr_key;  /* "spanprobe.arg.<name>": the span attribute */
	int index;       /* argN: N; a parameter name: -1 */
	uint8_t type;    /* ARG_T_*, or 0: from DWARF */
	uint8_t size;    /* integers: 1, 2, 4, 8, or 0: from DWARF (else the type's default) */
};

struct arg_rule {
	char **funcs;    /* globs of the functions the rule applies to */
	size_t nfuncs;
	struct arg_item items[ARG_MAX];
	size_t nitems;
	char *text;      /* as written, for messages */
};

/* What a resolved function captures: the kernel's spec, and per argument
 * its name and attribute key (pointing into the rule). */
struct func_args {
	struct arg_spec spec;
	const char *names[ARG_MAX];
	const char *attr_keys[ARG_MAX];
};

/* 0, or -EINVAL with a one-line reason in err, or -ENOMEM. */
int arg_rule__parse(const char *text, struct arg_rule *out, char *err, size_t errlen);
void arg_rule__release(struct arg_rule *r);
/* Fills out for function sym (its DWARF parameters when known). 0, or
 * -EINVAL with a one-line reason naming the function in err. */
int arg_rule__resolve(const struct arg_rule *r, const struct func_symbol *sym,
		      struct func_args *out, char *err, size_t errlen);
/* "string", "int32", ... for messages and -v. */
const char *arg_type__name(uint8_t type, uint8_t size);

#endif
