// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include "in_root.h"

#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif
#ifndef FUSECTL_SUPER_MAGIC
#define FUSECTL_SUPER_MAGIC 0x65735543
#endif

/* The kernel reports EAGAIN when a rename raced a RESOLVE_IN_ROOT lookup's
 * ".." (it can't then prove the walk stayed inside): retry a few times, a
 * tree renamed forever in a loop gets -EAGAIN. */
#define LOOKUP_TRIES 16

/* Files of these are the kernel's own: their contents say nothing of a
 * container, and some (kcore, a process's mem) must never be read because
 * a container pointed at them. */
static bool pseudo_fs(long type)
{
	switch ((unsigned long)type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case BPF_FS_MAGIC:
	case CONFIGFS_MAGIC:
	case EFIVARFS_MAGIC:
	case PSTOREFS_MAGIC:
	case SELINUX_MAGIC:
	case SMACK_MAGIC:
	case FUSECTL_SUPER_MAGIC:
	case DEVPTS_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}

static int open_path_only(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = root_fd == IN_ROOT_HOST ? 0 : RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;

	if (root_fd == IN_ROOT_HOST) {
		fd = open(path, O_PATH | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	for (int i = 0; i < LOOKUP_TRIES; i++) {
		fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd < 0 ? -errno : fd;
}

int in_root__open(int root_fd, const char *path, struct stat *st)
{
	char self[64];
	struct statfs sfs;
	struct stat local;
	int pfd, fd = -1, err;

	if (!path || !*path)
		return -ENOENT;
	if (!st)
		st = &local;
	pfd = open_path_only(root_fd, path);
	if (pfd < 0)
		return pfd;
	if (fstat(pfd, st) != 0 || fstatfs(pfd, &sfs) != 0) {
		err = -errno;
		goto out;
	}
	if (S_ISDIR(st->st_mode)) {
		err = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if (pseudo_fs(sfs.f_type)) {
		err = -EREMOTE;
		goto out;
	}
	/* Reopened through our own fd: the very inode just checked. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	err = fd < 0 ? -errno : 0;
out:
	close(pfd);
	return err ? err : fd;
}

const char *in_root__strerror(int err)
{
	switch (err) {
	case -ELOOP:
		return "too many levels of symbolic links, or a link into /proc";
	case -EINVAL:
		return "not a regular file";
	case -EREMOTE:
		return "a file of a kernel pseudo-filesystem (procfs, sysfs...)";
	case -EAGAIN:
		return "the directory tree kept changing while it was looked up";
	default:
		return strerror(-err);
	}
}
