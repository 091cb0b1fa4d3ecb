/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A probe's BINARY may be a path inside containers: the same path names a
 * different file in each container. This finds each distinct file
 * (device + inode) an absolute path names, in spanprobe's own root and in
 * every other root a live process has (a container's, or a chroot inside
 * one), and opens it there, resolved inside that root (container_root.h):
 * whatever its symlinks say, a container's path never reaches a host file.
 *
 * Each file found is held open: attach and read it through open_path
 * (/proc/self/fd/N, our own descriptor of the very file checked), never
 * through a path string resolved again later. The descriptors stay valid
 * until container_file__close, so close only once nothing will open or
 * attach open_path again (a closed fd's number is reused). */
#ifndef SPANPROBE_CONTAINER_FILES_H
#define SPANPROBE_CONTAINER_FILES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "maps_identity.h"

struct container_file {
	char open_path[64];       /* "/proc/self/fd/N": what to open, read and attach */
	char display[PATH_MAX];   /* for messages: the path itself, or /proc/PID/root/PATH */
	int fd;                   /* the file, read-only; owned */
	int root_fd;              /* the root it was found in (O_PATH), for further lookups
				   * (debug files) in the same root; in_root.h's
				   * IN_ROOT_HOST for spanprobe's own; owned */
	dev_t dev;
	ino_t ino;
	struct maps_identity maps; /* how /proc/PID/maps shows it */
	pid_t pid;                /* a process that sees it (0: our own root) */
	uint64_t start_time;      /* that process's start (process_ref.h); 0 for ours */
};

/* Every distinct file `path` (absolute) names: in our root, and in each
 * other root of a live process; only in pid's when pid > 0. Returns the
 * count (0 = found nowhere) or a negative errno; *out is malloc'd: free it
 * with container_files__free. A root where the path exists but can't be
 * used (a symlink loop, a link into /proc, a FIFO...) gets one warning line
 * on stderr and is left out; with pid > 0 its error is returned instead
 * (-ELOOP, -EINVAL, -EISDIR, -EREMOTE, -EACCES, -EPERM: not allowed to look
 * into that root, -ESRCH). */
int container_files__find(const char *path, pid_t pid, struct container_file **out);
void container_files__free(struct container_file *files, int n);

/* The file `path` names in pid's root: 0, -ENOENT, -ESRCH (gone), or
 * another error of in_root__open. */
int container_files__in_process(const char *path, pid_t pid, struct container_file *out);
/* The same, only when pid still is the process that started at start_time
 * (a PID seen earlier, e.g. in an exec record; 0: any). */
int container_files__in_process_at(const char *path, pid_t pid, uint64_t start_time,
				   struct container_file *out);
void container_file__close(struct container_file *f);
/* f's path inside its root (display without "/proc/PID/root"). */
const char *container_file__inside(const struct container_file *f);

/* The file at path in spanprobe's own root, as its user means it (a path
 * given on the command line, or found on this host): symlinks followed,
 * the same file checks (in_root.h). 0 or in_root__open's error. */
int container_files__here(const char *path, struct container_file *out);
/* The file at path (absolute) in the root `base` was found in: a library
 * the file loads, looked up where it lives (in_root.h). 0 or
 * in_root__open's error; -ENOMEM. */
int container_files__in_root_of(const struct container_file *base, const char *path,
				struct container_file *out);

/* A file process pid maps (a library, its executable), found through
 * /proc/PID/maps: the first mapping whose path, as the process sees it,
 * satisfies match(path, ctx), opened inside pid's root and kept only when
 * its device and inode are the mapping's (the path may name another file by
 * now). start_time as for container_files__in_process_at. 0, -ENOENT,
 * -ESRCH, -EPERM. */
int container_files__mapped(pid_t pid, uint64_t start_time,
			    bool (*match)(const char *path, void *ctx), void *ctx,
			    struct container_file *out);
/* Whether pid's root is spanprobe's own (a host process, for a host run):
 * its paths mean what they mean here. */
bool container_files__shares_our_root(pid_t pid);

#endif
