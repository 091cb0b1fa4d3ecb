/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* How each traced function's return is seen: a uretprobe, or probes on its
 * exit instructions (see return_rule.c for the rule and its evidence). */
#ifndef SPANPROBE_RETURN_RULE_H
#define SPANPROBE_RETURN_RULE_H

#include <stdbool.h>

#include "probe_table.h"

/* Sets f->ret_probe and f->ret_why; a function that needs exit sites whose
 * exits are not all known (or not all probeable) is skipped
 * (SKIP_EXITS_UNKNOWN), never given a uretprobe instead. Functions already
 * skipped are left alone. */
void return_rule__choose(enum return_choice choice, struct traced_func *f);
/* Does the function return twice, or return in a vfork child on the
 * parent's stack (setjmp, vfork, ...)? */
bool return_rule__returns_twice(const struct func_symbol *sym);
/* "go1.21.3" >= major.minor; false for NULL or unparsable. */
bool go_version_at_least(const char *version, int major, int minor);
/* "auto", "uretprobe", "exits" -> choice; -EINVAL for anything else. */
int return_choice__parse(const char *s, enum return_choice *out);

#endif
