// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "maps_identity.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

/* The maps line of our own mapping at addr. */
static void shown_at(uintptr_t addr, struct maps_identity *id)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "re");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long start, ino;
		unsigned maj, min;

		if (sscanf(line, "%llx-%*llx %*s %*llx %x:%x %llu", &start, &maj, &min, &ino) != 4 ||
		    start != addr)
			continue;
		id->shown_dev = makedev(maj, min);
		id->shown_ino = (ino_t)ino;
		break;
	}
	if (f)
		fclose(f);
}

void maps_identity__of(int fd, const struct stat *st, struct maps_identity *id)
{
	struct statfs sfs;
	void *p;

	id->dev = id->shown_dev = st->st_dev;
	id->ino = id->shown_ino = st->st_ino;
	if (st->st_size <= 0 || fstatfs(fd, &sfs) != 0 || sfs.f_type != OVERLAYFS_SUPER_MAGIC)
		return;
	p = mmap(NULL, 1, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return;
	shown_at((uintptr_t)p, id);
	munmap(p, 1);
}

bool maps_identity__is(const struct maps_identity *id, unsigned maj, unsigned min,
		       unsigned long long ino)
{
	dev_t dev = makedev(maj, min);

	return (dev == id->dev && (ino_t)ino == id->ino) ||
	       (dev == id->shown_dev && (ino_t)ino == id->shown_ino);
}
