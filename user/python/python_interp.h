/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What spanprobe needs to know about a CPython interpreter binary (or
 * libpython): its USDT probes, its version, and where it keeps the current
 * thread state. Read from the ELF file alone; no process needed. */
#ifndef SPANPROBE_PYTHON_INTERP_H
#define SPANPROBE_PYTHON_INTERP_H

#include <stdbool.h>
#include <stdint.h>

/* One python:NAME USDT probe: link-time address and file offsets. */
struct usdt_site {
	bool found;
	uint64_t addr;          /* link-time address of the probe's nop */
	uint64_t offset;        /* its file offset (what uprobes take) */
	uint64_t sema_offset;   /* file offset of its semaphore, 0 when none */
};

struct python_interp {
	char path[4096];          /* what is opened (/proc/self/fd/N: held open) */
	uint32_t version;         /* Py_Version (PY_VERSION_HEX), 0 when unknown */
	struct usdt_site entry, ret, line;
	/* A probe whose code only runs while its own semaphore is raised
	 * (audit): a uprobe there with the line semaphore as its reference
	 * counter raises the line semaphore and never fires. */
	struct usdt_site idle;
	uint64_t tstate_addr;     /* link-time address of the current PyThreadState*, 0: unknown */
	const char *tstate_how;   /* how tstate_addr was found, for -v */
};

/* Reads path (resolved already; name: the file for messages, NULL for path
 * itself). Returns 0, or -ENOENT / -ENOEXEC with one
 * line printed naming the cause (no USDT probes: "use a Python built with
 * --with-dtrace, e.g. Debian's /usr/bin/python3.X"). */
int python_interp__inspect(const char *path, const char *name, struct python_interp *out);

/* Does path have the python:function__entry/return USDT probes? Quiet: no
 * message for a missing or unreadable file (false). */
bool python_interp__has_usdt(const char *path);

/* true when function__entry misses calls made from Python code unless the
 * line semaphore is raised (CPython 3.11, gh-98894). */
bool python_interp__needs_line_semaphore(const struct python_interp *in);

/* The address a `mov rax, [rip+disp32]` (optionally after endbr64) at the
 * start of code loads from, given the code's link-time address; 0 when the
 * bytes are something else. Exposed for unit tests. */
uint64_t decode_rip_load(const uint8_t *code, size_t len, uint64_t addr);

#endif /* SPANPROBE_PYTHON_INTERP_H */
