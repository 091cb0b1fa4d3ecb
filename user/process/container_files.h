/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A probe's BINARY may be a path inside containers: the same path names a
 * different file in each mount namespace. This finds each distinct file
 * (device + inode) an absolute path names, in spanprobe's own namespace and,
 * through /proc/PID/root, in every process's. */
#ifndef SPANPROBE_CONTAINER_FILES_H
#define SPANPROBE_CONTAINER_FILES_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct container_file {
	char open_path[PATH_MAX]; /* the path itself, or /proc/PID/root/PATH */
	dev_t dev;
	ino_t ino;
	pid_t pid;                /* a process that sees it (0: our own namespace) */
};

/* Every distinct file `path` (absolute) names: in our mount namespace, and in
 * each other mount namespace of a live process; only in pid's when pid > 0.
 * Returns the count (0 = found nowhere) or a negative errno; *out is
 * malloc'd. */
int container_files__find(const char *path, pid_t pid, struct container_file **out);

/* The file `path` names in pid's mount namespace: 0, or -ENOENT. */
int container_files__in_process(const char *path, pid_t pid, struct container_file *out);

#endif
