/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A process's pod uid and container id from its cgroup path, which the
 * kernel reports (/proc/PID/cgroup) and the kubelet and the container
 * runtime chose: the only identity of a process in a pod that nothing inside
 * the container can forge. Names, namespaces and labels come from the API
 * server (pod_watch.h), looked up by this uid. */
#ifndef SPANPROBE_POD_CGROUP_H
#define SPANPROBE_POD_CGROUP_H

#include <sys/types.h>

struct pod_cgroup_ids {
	char pod_uid[37];      /* canonical "8-4-4-4-12" lowercase uuid, or "" */
	char container_id[65]; /* 64 lowercase hex digits, or "" */
};

/* Parses the text of a /proc/PID/cgroup file (one "ID:CONTROLLERS:PATH"
 * line per hierarchy). 0 and both ids when the process is in a container of
 * a pod; 0 with an empty container_id when it is in the pod's cgroup but in
 * no container (the runtime's monitor, e.g. CRI-O's conmon); -ENOENT when it
 * is in no pod; -EINVAL when the hierarchies disagree (a process that root
 * placed in two pods' cgroups belongs to neither). */
int pod_cgroup__parse(const char *cgroup_text, struct pod_cgroup_ids *out);

/* pod_cgroup__parse on /proc/PID/cgroup; -ESRCH when the process is gone. */
int pod_cgroup__read(pid_t pid, struct pod_cgroup_ids *out);

#endif /* SPANPROBE_POD_CGROUP_H */
