/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Checks before loading anything, so a missing privilege or kernel feature
 * gets one line naming it instead of a libbpf error. */
#ifndef SPANPROBE_PREFLIGHT_H
#define SPANPROBE_PREFLIGHT_H

#include <sys/types.h>

/* Privilege (root, or CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN), BTF, uprobes.
 * SPANPROBE_SYSFS replaces /sys (for tests). */
int preflight_check(void);
int check_process_exists(pid_t pid);
/* 0 while pid runs (zombies count as gone), else -ESRCH. */
int check_process_alive(pid_t pid);

#endif
