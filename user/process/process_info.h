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
	/* Identity from trusted sources only, never from a file inside the
	 * process's container (which the container writes). The kernel's
	 * cgroup path gives the pod uid and container id (for a process in no
	 * pod, a Docker/podman container id); the API server gives the pod's
	 * name, namespace and container name, looked up by that uid. NULL
	 * when unknown: without API access, no name and no namespace. */
	char *container_id;
	char *k8s_pod_uid;
	char *k8s_pod_name;
	char *k8s_namespace;
	char *k8s_container_name;
};

struct process_table;

/* The API server's facts of a pod, by uid (what a pod watch knows); 0 and
 * the strings (malloc'd, the caller frees them) or -ENOENT. container_id
 * may be "" (container_name then stays NULL). */
typedef int (*pod_lookup_fn)(void *ctx, const char *pod_uid, const char *container_id,
			     char **name, char **namespace_, char **container_name);

struct process_table *process_table__new(void);
/* Names pods through lookup (called on the span reader's thread: it must
 * not block). Entries of processes whose pod is not known yet are looked
 * up again, at most every 250 ms, until it is. */
void process_table__set_pod_lookup(struct process_table *t, pod_lookup_fn lookup, void *ctx);
/* The entry for pid, read from /proc on first use; never NULL for a valid
 * table (a process already gone gets an entry named "pid-N"). The entry
 * lives as long as the table and never changes: once its pod is named, or
 * the process exec'd, a new entry replaces it for later calls. Thread-safe. */
const struct process_info *process_table__get(struct process_table *t, uint32_t pid);
/* pid exec'd: its next spans read it again (entries given out stay valid).
 * Without exec reports, an entry whose /proc/PID/exe changed is read again
 * too, checked at most once a second. */
void process_table__forget(struct process_table *t, uint32_t pid);
/* pid exec'd name (the kernel's comm) and is traced: read who it is now,
 * while it most likely runs; if it has already ended (a short-lived
 * process on a busy machine), its spans are still named after name. */
void process_table__note_exec(struct process_table *t, uint32_t pid, const char *name);
void process_table__free(struct process_table *t);

#endif /* SPANPROBE_PROCESS_INFO_H */
