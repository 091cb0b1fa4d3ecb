/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The libpython3.X.so a CPython interpreter loads: the running process's
 * own mapping when there is one, else the interpreter's DT_NEEDED entry
 * looked up as the loader would (DT_RUNPATH/DT_RPATH with $ORIGIN, then the
 * usual directories), inside the mount namespace that holds the
 * interpreter. Paths inside a container are opened through
 * container_files.h, so its path rules apply. */
#ifndef SPANPROBE_LIBPYTHON_PATH_H
#define SPANPROBE_LIBPYTHON_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "container_files.h"

/* The libpython3.X.so... that exe (open_path: what to read; inside_path:
 * its path where it lives, for $ORIGIN; pid: a process of its mount
 * namespace, 0 for ours) names in DT_NEEDED. Returns 0 and the file in
 * *out; -ENOENT when exe needs no libpython (a static interpreter) or it
 * is nowhere to be found (*needed then holds the name, "" when none). */
int libpython__find_needed(const char *open_path, const char *inside_path, pid_t pid,
			   char *needed, size_t needed_len, struct container_file *out);

/* The libpython3.X.so process pid has mapped (its path in pid's mount
 * namespace goes to *inside_path). 0, -ENOENT (none), -ESRCH (gone). */
int libpython__find_mapped(pid_t pid, char *inside_path, size_t len, struct container_file *out);

/* true for "libpython3.10.so.1.0", "libpython3.12.so" (not libpython3.so,
 * the stable-ABI stub). */
bool libpython__is_name(const char *base);

#endif
