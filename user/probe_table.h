/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The functions one run traces: probe specs resolved to binaries and symbols,
 * each given an id (the BPF attach cookie) and its error rule. */
#ifndef SPANPROBE_PROBE_TABLE_H
#define SPANPROBE_PROBE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "span_event.h"

struct probe_spec;
struct error_rule;
struct func_symbol;
struct elf_binary;

struct traced_binary {
	char *path;              /* absolute, resolved */
	char *spec_name;         /* as written in the probe */
	struct elf_binary *elf;
};

struct traced_func {
	uint32_t id;                    /* index in funcs; the attach cookie */
	const struct traced_binary *bin;
	const struct func_symbol *sym;
	struct func_rule rule;          /* handed to the BPF side */
	const char *rule_text;          /* "ret<0", or NULL: no error rule */
};

struct probe_table {
	struct traced_binary *bins;
	size_t nbins;
	struct traced_func *funcs;
	size_t nfuncs;
};

/* Resolves every spec; prints one line naming the cause and the fix and
 * returns a negative errno on the first failure. */
int probe_table__resolve(struct probe_table *t, const struct probe_spec *specs, size_t nspecs);
/* Applies --error rules; a rule that names no traced function is an error. */
int probe_table__apply_rules(struct probe_table *t, const struct error_rule *rules, size_t nrules);
void probe_table__release(struct probe_table *t);

#endif
