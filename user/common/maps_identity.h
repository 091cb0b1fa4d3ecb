/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The device and inode /proc/PID/maps shows for a file, which is not
 * always what stat says. A file on overlayfs is mapped through the real file
 * beneath it, and older kernels show that one's device and inode in maps
 * (6.1: /usr/bin/python3.11 on an overlay is 00:15 in maps, the overlay's
 * 00:2a to stat; 6.18 shows the overlay's). Found by mapping the file here
 * and reading our own maps line: the kernel's answer, whatever its
 * version. */
#ifndef SPANPROBE_MAPS_IDENTITY_H
#define SPANPROBE_MAPS_IDENTITY_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

struct maps_identity {
	dev_t dev; /* stat's */
	ino_t ino;
	dev_t shown_dev; /* maps' (the same but on overlayfs) */
	ino_t shown_ino;
};

/* fd's identity (st its fstat); on overlayfs one page of it is mapped and
 * unmapped. Where that fails the shown pair stays stat's. */
void maps_identity__of(int fd, const struct stat *st, struct maps_identity *id);

/* Is a maps line's "MAJ:MIN INODE" this file? */
bool maps_identity__is(const struct maps_identity *id, unsigned maj, unsigned min,
		       unsigned long long ino);

#endif
