/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The SPANPROBE_* environment switches, each read here only. They exist for
 * the tests and benchmarks (to force a path the machine would not take, to
 * compare two ways); users get options instead. README.md lists them. */
#ifndef SPANPROBE_ENV_SWITCHES_H
#define SPANPROBE_ENV_SWITCHES_H

#include <stdbool.h>

/* SPANPROBE_NO_UPROBE_MULTI=1: one link per function, as on a kernel
 * without uprobe_multi. */
bool env_switch__no_uprobe_multi(void);
/* SPANPROBE_PYTHON_PATH=usdt: an interpreter with USDT probes is traced
 * through them, not through its evaluator. */
bool env_switch__python_usdt(void);
/* SPANPROBE_PYTHON_RETURN=instructions|uretprobe: how the evaluator's
 * returns are seen instead of a uprobe session; NULL for the default. */
const char *env_switch__python_return(void);
/* SPANPROBE_SYSFS=DIR: where /sys is, for the preflight checks' tests. */
const char *env_switch__sysfs(void);
/* SPANPROBE_TEST_REFUSE=PROG,...: programs the kernel is made to refuse;
 * NULL when none. */
const char *env_switch__test_refuse(void);

#endif
