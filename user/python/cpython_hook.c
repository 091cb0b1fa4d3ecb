// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Turning CPython 3.11+'s call inlining off from outside; see cpython_hook.h.
 *
 * The official setter (_PyInterpreterState_SetEvalFrameFunc) stores NULL
 * for the default function and on 3.13 also stops the world around the
 * store; this store skips both. The interpreter loads the field at every
 * call while the process runs: the kernel copies the 8 aligned bytes with
 * its user-copy routine, which the architecture does not promise to be one
 * store, so a call in the same instant could in theory see half a pointer.
 * Stopping the threads (PTRACE_SEIZE + PTRACE_INTERRUPT) around the store
 * would close that window. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#include "cpython_hook.h"

static int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

static int mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

int cpython_hook__find(struct cpython_hook *h, pid_t pid, const struct cpython_binary *b,
		       const struct maps_identity *file)
{
	char maps[64], line[4096];
	FILE *f;
	int err = -ENOENT;

	memset(h, 0, sizeof(*h));
	h->pid = pid;
	h->l = b->layout;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, ino_;
		unsigned maj, min;

		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &start, &end, &off, &maj, &min,
			   &ino_) != 6)
			continue;
		if (!maps_identity__is(file, maj, min, ino_) || off)
			continue;
		h->bias = start - b->load_vaddr;
		h->eval_func = h->bias + b->eval_addr;
		h->runtime = h->bias + b->runtime_addr;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int cpython_hook__read_main(const struct cpython_hook *h, uint64_t *eval_frame)
{
	uint64_t interp = 0;
	int err = mem_read(h->pid, h->runtime + h->l.runtime_interpreters_main, &interp,
			   sizeof(interp));

	if (err)
		return err;
	if (!interp)
		return -ENOENT;
	return mem_read(h->pid, interp + h->l.interp_eval_frame, eval_frame, sizeof(*eval_frame));
}

static bool already_set(const struct cpython_hook *h, uint64_t interp)
{
	for (unsigned i = 0; i < h->nset; i++)
		if (h->set[i] == interp)
			return true;
	return false;
}

int cpython_hook__install(struct cpython_hook *h)
{
	uint64_t interp = 0, cur;
	int n = 0, err;

	err = mem_read(h->pid, h->runtime + h->l.runtime_interpreters_head, &interp, sizeof(interp));
	if (err)
		return err;
	h->foreign = 0;
	/* a list a few interpreters long; the bound guards against a cycle */
	for (; interp && n < CPYTHON_HOOK_MAX_INTERPS; n++) {
		uint64_t next = 0;

		err = mem_read(h->pid, interp + h->l.interp_eval_frame, &cur, sizeof(cur));
		if (err)
			return err;
		if (cur == 0 && h->nset < CPYTHON_HOOK_MAX_INTERPS) {
			err = mem_write(h->pid, interp + h->l.interp_eval_frame, &h->eval_func,
					sizeof(h->eval_func));
			if (err)
				return err;
			h->set[h->nset++] = interp;
		} else if (cur != h->eval_func) {
			h->foreign++; /* someone else's evaluator (a debugger, perf trampoline) */
		} else if (!already_set(h, interp) && h->nset < CPYTHON_HOOK_MAX_INTERPS) {
			/* The official setter stores NULL for the default evaluator,
			 * so only a raw write like ours leaves it here: a spanprobe
			 * that was killed before it could restore. Ours to restore. */
			h->set[h->nset++] = interp;
			h->adopted++;
		}
		err = mem_read(h->pid, interp + h->l.interp_next, &next, sizeof(next));
		if (err)
			return err;
		interp = next;
	}
	return n;
}

int cpython_hook__restore(struct cpython_hook *h)
{
	static const uint64_t null;
	int restored = 0, err = 0;

	for (unsigned i = 0; i < h->nset; i++) {
		uint64_t cur = 0;

		/* an interpreter finalised since: its memory may be reused */
		err = mem_read(h->pid, h->set[i] + h->l.interp_eval_frame, &cur, sizeof(cur));
		if (err || cur != h->eval_func)
			continue;
		err = mem_write(h->pid, h->set[i] + h->l.interp_eval_frame, &null, sizeof(null));
		if (!err)
			restored++;
	}
	h->nset = 0;
	return err && !restored ? err : restored;
}
