// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "file_identity.h"

#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID 0x200 /* Linux 6.5: a handle to identify, not to open */
#endif

/* The overlay's handle of the file open at fd, when the kernel (>= 6.6) and
 * the seccomp profile give one. */
static void overlay_handle(int fd, struct file_identity *id)
{
	union {
		struct file_handle fh;
		unsigned char bytes[sizeof(struct file_handle) + FILE_IDENTITY_HANDLE_MAX];
	} h;
	int mount_id;

	h.fh.handle_bytes = FILE_IDENTITY_HANDLE_MAX;
	if (name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH | AT_HANDLE_FID) != 0)
		return;
	if (h.fh.handle_bytes == 0 || h.fh.handle_bytes > FILE_IDENTITY_HANDLE_MAX)
		return;
	id->handle_type = h.fh.handle_type;
	id->handle_len = h.fh.handle_bytes;
	memcpy(id->handle, h.fh.f_handle, h.fh.handle_bytes);
}

int file_identity__of(const char *path, struct file_identity *id)
{
	struct statfs sfs;
	struct stat st;
	int fd, err = 0;

	memset(id, 0, sizeof(*id));
	/* one open file for every question, so all answers are of one file */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		goto cleanup;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->ctime = st.st_ctim;
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == OVERLAYFS_SUPER_MAGIC) {
		id->overlay = true;
		overlay_handle(fd, id);
	}
cleanup:
	close(fd);
	return err;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool file_identity__same(const struct file_identity *a, const struct file_identity *b)
{
	if (a->overlay != b->overlay)
		return false;
	if (!a->overlay)
		return a->dev == b->dev && a->ino == b->ino;
	if (!same_time(&a->ctime, &b->ctime))
		return false; /* a copy-up, or another file */
	if (a->handle_len && b->handle_len)
		return a->handle_len == b->handle_len && a->handle_type == b->handle_type &&
		       memcmp(a->handle, b->handle, a->handle_len) == 0;
	return a->ino == b->ino && a->size == b->size;
}
