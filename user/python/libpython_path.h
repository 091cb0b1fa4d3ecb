/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The libpython3.X.so a CPython interpreter loads: the running process's
 * own mapping when there is one, else the interpreter's DT_NEEDED entry
 * looked up as the loader would (DT_RUNPATH/DT_RPATH with $ORIGIN, then the
 * usual directories), inside the root that holds the interpreter. Every
 * path is opened inside that root (container_files.h, in_root.h): a
 * container's links never lead to a host file. */
#ifndef SPANPROBE_LIBPYTHON_PATH_H
#define SPANPROBE_LIBPYTHON_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "container_files.h"

/* The libpython3.X.so... that the interpreter exe (a file found: read
 * through its descriptor; inside_path: its path in its root, for $ORIGIN)
 * names in DT_NEEDED, looked up in the root exe was found in, as the
 * loader would there. Returns 0 and the file in *out, held open (close it
 * with container_file__close); -ENOENT when exe needs no libpython (a
 * static interpreter) or it is nowhere to be found (*needed then holds the
 * name, "" when none). */
int libpython__find_needed(const struct container_file *exe, const char *inside_path,
			   char *needed, size_t needed_len, struct container_file *out);

/* The libpython3.X.so process pid has mapped, opened inside pid's root and
 * kept only when it still is the file mapped (its path in pid's root goes
 * to *inside_path); held open as for libpython__find_needed. 0, -ENOENT
 * (none), -ESRCH (gone), -EACCES (not allowed to look into its root). */
int libpython__find_mapped(pid_t pid, char *inside_path, size_t len, struct container_file *out);

/* true for "libpython3.10.so.1.0", "libpython3.12.so" (not libpython3.so,
 * the stable-ABI stub). */
bool libpython__is_name(const char *base);

#endif
