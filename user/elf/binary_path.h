/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A probe's BINARY to a file path, the way bpftrace and the loader find it. */
#ifndef SPANPROBE_BINARY_PATH_H
#define SPANPROBE_BINARY_PATH_H

#include <stddef.h>

/* Resolves a probe's BINARY as bpftrace does: a path (with '/') is used as is;
 * a bare name is looked up on PATH, then as a shared library in the loader's
 * directories (LD_LIBRARY_PATH, /etc/ld.so.conf and its includes, the
 * defaults): "libc" -> /lib/x86_64-linux-gnu/libc.so.6, "libssl.so.3".
 * Returns 0 and the absolute (realpath) path in out, or -ENOENT (also
 * -errno of realpath for a path, -ENAMETOOLONG when out is too small,
 * -EINVAL for an empty name). */
int resolve_binary_path(const char *name, char *out, size_t out_len);

#if defined(__x86_64__)
#define LOADER_MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define LOADER_MULTIARCH "aarch64-linux-gnu"
#else
#define LOADER_MULTIARCH "unknown-linux-gnu"
#endif

/* The directories the loader searches last, after the run path,
 * LD_LIBRARY_PATH and ld.so.conf (Debian's multiarch ones first). */
extern const char *const loader_default_dirs[];
extern const size_t loader_default_ndirs;

#endif /* SPANPROBE_BINARY_PATH_H */
