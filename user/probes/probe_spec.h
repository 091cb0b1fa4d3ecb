/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parsing of the command line's probe specs (uprobe:BINARY:FUNCS) and error
 * rules (FUNCS:ret<0). Pure string work, no I/O. */
#ifndef SPANPROBE_PROBE_SPEC_H
#define SPANPROBE_PROBE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum probe_kind { PROBE_UPROBE, PROBE_PYTHON };

struct probe_spec {
	enum probe_kind kind;
	char *binary;  /* path or library name, as written */
	char *files;   /* python: glob matched against the end of the code's path; NULL for
			* python:INTERPRETER alone (only -l takes it) */
	char **funcs;  /* names or shell globs */
	size_t nfuncs;
};

struct error_rule {
	char **funcs;  /* globs of the functions the rule applies to */
	size_t nfuncs;
	uint8_t op;    /* ERR_OP_* */
	int64_t value;
	bool null;     /* "NULL": ret == 0, judged as a pointer */
	char *text;    /* the condition as written, "ret<0", for messages */
};

/* Both return 0, or -EINVAL with a one-line reason in err. */
int probe_spec__parse(const char *text, struct probe_spec *out, char *err, size_t errlen);
void probe_spec__release(struct probe_spec *p);

int error_rule__parse(const char *text, struct error_rule *out, char *err, size_t errlen);
void error_rule__release(struct error_rule *r);

/* Splits "a,b,c" into a NULL-terminated array; empty items are an error. */
int split_list(const char *text, char ***out, size_t *count);
void free_list(char **list);

#endif
