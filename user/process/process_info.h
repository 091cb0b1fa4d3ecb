/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What is known about a traced process, read once from /proc while it is
 * alive, for OTLP resource attributes. */
#ifndef SPANPROBE_PROCESS_INFO_H
#define SPANPROBE_PROCESS_INFO_H

#include <stdint.h>

struct process_info {
	uint32_t pid;
	uint32_t parent_pid; /* from /proc/PID/stat when first seen, 0 unknown */
	char *exe_name;     /* basename of exe_path, or comm */
	char *exe_path;     /* readlink /proc/PID/exe, or NULL */
	char *command_line; /* /proc/PID/cmdline, NULs as spaces, or NULL */
	char *container_id; /* from /proc/PID/cgroup, or NULL */
	/* Known without the API server: the pod uid from the cgroup path, and,
	 * for a process in a pod, the pod's hostname (its name unless the pod
	 * sets spec.hostname) and its service account's namespace file. */
	char *k8s_pod_uid;
	char *k8s_pod_name;
	char *k8s_namespace;
};

struct process_table;

struct process_table *process_table__new(void);
/* The entry for pid, read from /proc on first use; never NULL for a valid
 * table (a process already gone gets an entry named "pid-N"). The entry
 * lives as long as the table. Thread-safe. */
const struct process_info *process_table__get(struct process_table *t, uint32_t pid);
void process_table__free(struct process_table *t);

#endif /* SPANPROBE_PROCESS_INFO_H */
