/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A process's root directory (its container's, or a chroot's), held open,
 * so every file of the container is looked up from it (in_root.h) and never
 * through the /proc/PID/root/PATH string, which resolves the container's
 * absolute symlinks against spanprobe's own root: a container could then
 * point spanprobe at any host file. The root is checked to be that
 * process's: it is opened while a pidfd shows the process alive. */
#ifndef SPANPROBE_CONTAINER_ROOT_H
#define SPANPROBE_CONTAINER_ROOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "process_ref.h"

/* What one root shows: processes with the same mount namespace and the
 * same root directory see the same files. */
struct root_key {
	ino_t mnt_ns;
	dev_t dev;
	ino_t ino;
	uint64_t mnt_id;
};

struct container_root {
	struct process_ref proc;
	int dir_fd;          /* O_PATH of the process's root directory */
	struct root_key key;
};

/* Opens pid's root; want_start != 0: only if the process started then.
 * 0, -ESRCH (gone or reused), -EPERM (not allowed to look: run as root or
 * with CAP_SYS_PTRACE). */
int container_root__open(pid_t pid, uint64_t want_start, struct container_root *r);
/* Opens path inside the root (in_root__open); fd or a negative errno. */
int container_root__open_file(const struct container_root *r, const char *path, struct stat *st);
/* 0 while the process whose root this is lives (files opened meanwhile are
 * then that process's), -ESRCH. */
int container_root__check(const struct container_root *r);
void container_root__close(struct container_root *r);

/* The key of pid's root without opening it (a stat of /proc/PID/root and
 * /proc/PID/ns/mnt); 0 or -ESRCH. To tell which processes share a root. */
int root_key__of(pid_t pid, struct root_key *k);
bool root_key__same(const struct root_key *a, const struct root_key *b);

#endif /* SPANPROBE_CONTAINER_ROOT_H */
