/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which file a uprobe really lands on. The kernel attaches a uprobe to the
 * real inode beneath a stacking filesystem (d_real_inode()), but each
 * overlayfs mount — one per container — shows its files with its own st_dev:
 * containers of one image show one lower-layer file under as many (st_dev,
 * st_ino) pairs as there are containers.
 * For an overlay file the identity is its file handle (name_to_handle_at
 * with AT_HANDLE_FID, Linux >= 6.6), which overlayfs builds from the real
 * inode's own handle: equal through every mount of the same layer. A file
 * copied up into one container's upper layer keeps its origin's handle while
 * the kernel then probes the upper copy; its change time (the copy-up's,
 * shown through the overlay) tells them apart. Where the handle is refused
 * (seccomp profiles that allow name_to_handle_at only with CAP_SYS_ADMIN),
 * st_ino (the real inode's number unless layers span filesystems), ctime and
 * size stand in.
 * Any other file: st_dev and st_ino. */
#ifndef SPANPROBE_FILE_IDENTITY_H
#define SPANPROBE_FILE_IDENTITY_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#define FILE_IDENTITY_HANDLE_MAX 128 /* the kernel's MAX_HANDLE_SZ */

struct file_identity {
	dev_t dev;                /* stat's, always set */
	ino_t ino;
	off_t size;
	struct timespec ctime;
	bool overlay;             /* on overlayfs: st_dev is the mount's, not the file's */
	int handle_type;          /* handle_len > 0: the overlay's handle of the file */
	unsigned int handle_len;
	unsigned char handle[FILE_IDENTITY_HANDLE_MAX];
};

/* The identity of the file at path: 0 or a negative errno (open's or stat's). */
int file_identity__of(const char *path, struct file_identity *id);
bool file_identity__same(const struct file_identity *a, const struct file_identity *b);

#endif
