/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Opening a file the way a process whose root is root_fd would see it: a
 * container's files are resolved inside the container, whatever its
 * symlinks say. openat2 with RESOLVE_IN_ROOT makes absolute symlinks and
 * ".." stop at root_fd (they never climb into the host's tree), and
 * RESOLVE_NO_MAGICLINKS refuses /proc/PID/{root,exe,fd/N}-style links,
 * which would jump anywhere. The file is opened O_PATH first and only
 * reopened for reading once it is known to be a regular file on a real
 * filesystem: a FIFO would block the open, a device's open has effects,
 * and procfs/sysfs files are the kernel's, not the container's. */
#ifndef SPANPROBE_IN_ROOT_H
#define SPANPROBE_IN_ROOT_H

#include <sys/stat.h>

/* root_fd for a path on spanprobe's own filesystem (given by its user):
 * resolved as usual, symlinks included, with the same file checks. */
#define IN_ROOT_HOST (-100) /* AT_FDCWD */

/* Opens path (absolute or relative to the root) inside root_fd, read-only
 * and close-on-exec; fills st when not NULL. Returns the fd or a negative
 * errno: -ENOENT, -ENOTDIR, -ELOOP (a symlink loop, or a magic link),
 * -EISDIR, -EINVAL (not a regular file: FIFO, socket, device),
 * -EREMOTE (a file of a kernel pseudo-filesystem: procfs, sysfs...),
 * -EAGAIN (the tree kept changing under the lookup), -EACCES. */
int in_root__open(int root_fd, const char *path, struct stat *st);

/* The text of a negative errno from in_root__open, for "PATH: WHY" lines. */
const char *in_root__strerror(int err);

#endif /* SPANPROBE_IN_ROOT_H */
