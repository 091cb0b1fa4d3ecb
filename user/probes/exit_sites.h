/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The probe points of one traced function: its entry and, when its return
 * is seen at its exits (return_rule.h), each exit instruction with the
 * cookie that tells the BPF side what kind of exit it is (probe_cookie.h). */
#ifndef SPANPROBE_EXIT_SITES_H
#define SPANPROBE_EXIT_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "probe_table.h"

struct probe_point {
	unsigned long offset; /* file offset */
	uint64_t cookie;
};

struct probe_points {
	struct probe_point *v;
	size_t n, cap;
};

/* Where the facts of indirect jmps go: the BPF map, and which slot each
 * site (function, file offset) has, so a site attached again (another
 * process, another try) keeps its slot. */
struct indirect_key {
	uint32_t func_id;
	uint64_t file_offset;
};
struct indirect_sink {
	int map_fd;    /* -1: count them only */
	uint32_t next; /* slots used */
	struct indirect_key *keys; /* keys[slot] */
};
void indirect_sink__release(struct indirect_sink *s);

/* The cookie of f's entry (and of its uretprobe). */
uint64_t exit_sites__entry_cookie(const struct traced_func *f);
/* Appends f's exit sites to out (f->ret_probe == RETURN_EXIT_SITES). A
 * direct tail jump to a traced function of the same file keeps the call
 * open for the callee; one to anything else ends it. An indirect jmp is
 * decided at run time from its target. Returns 0 or a negative errno
 * (-E2BIG: more indirect jmps than the map holds). */
int exit_sites__add(const struct probe_table *t, const struct traced_func *f,
		    struct probe_points *out, struct indirect_sink *ind);
/* Can every exit of f be probed as such (indirect operands readable,
 * jcc conditions known)? */
bool exit_sites__decodable(const struct traced_func *f);
/* How many exit probes f gets (for -l). */
size_t exit_sites__count(const struct traced_func *f);
int probe_points__push(struct probe_points *p, unsigned long offset, uint64_t cookie);
void probe_points__release(struct probe_points *p);

#endif
