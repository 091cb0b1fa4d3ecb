// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "container_root.h"
#include "in_root.h"

static int key_of_fd(int dir_fd, pid_t pid, struct root_key *k)
{
	char ns[64];
	struct statx sx;
	struct stat st;

	memset(k, 0, sizeof(*k));
	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
	if (stat(ns, &st) != 0)
		return -ESRCH;
	k->mnt_ns = st.st_ino;
	if (statx(dir_fd, dir_fd == AT_FDCWD ? "." : "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
		  STATX_INO | STATX_MNT_ID, &sx) != 0)
		return -ESRCH;
	k->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	k->ino = sx.stx_ino;
	k->mnt_id = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
	return 0;
}

int root_key__of(pid_t pid, struct root_key *k)
{
	char root[64];
	int fd, err;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? -EPERM : -ESRCH;
	err = key_of_fd(fd, pid, k);
	close(fd);
	return err;
}

bool root_key__same(const struct root_key *a, const struct root_key *b)
{
	return a->mnt_ns == b->mnt_ns && a->dev == b->dev && a->ino == b->ino &&
	       a->mnt_id == b->mnt_id;
}

int container_root__open(pid_t pid, uint64_t want_start, struct container_root *r)
{
	char root[64];
	int err;

	memset(r, 0, sizeof(*r));
	r->dir_fd = -1;
	err = process_ref__open(pid, want_start, &r->proc);
	if (err)
		return err;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	/* the magic link of our own /proc: the process's root directory */
	r->dir_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->dir_fd < 0) {
		err = errno == EACCES || errno == EPERM ? -EPERM : -ESRCH;
		goto fail;
	}
	err = key_of_fd(r->dir_fd, pid, &r->key);
	if (err)
		goto fail;
	/* alive after the open: /proc/PID was this process all along */
	err = process_ref__alive(&r->proc);
	if (err)
		goto fail;
	return 0;
fail:
	container_root__close(r);
	return err;
}

int container_root__open_file(const struct container_root *r, const char *path, struct stat *st)
{
	return in_root__open(r->dir_fd, path, st);
}

int container_root__check(const struct container_root *r)
{
	return process_ref__alive(&r->proc);
}

void container_root__close(struct container_root *r)
{
	if (r->dir_fd >= 0)
		close(r->dir_fd);
	r->dir_fd = -1;
	process_ref__close(&r->proc);
}
