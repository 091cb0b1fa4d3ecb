/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Loading the BPF object so that the kernel's refusal of a program that
 * serves an optional feature turns that feature off alone, with one line,
 * and the refusal of a core program names the program, the feature and the
 * verifier's last line. Also what each program cost the verifier (-v). */
#ifndef SPANPROBE_OBJECT_LOAD_H
#define SPANPROBE_OBJECT_LOAD_H

#include <stdbool.h>
#include <stdio.h>

struct bpf_object;
struct bpf_program;

#define OBJECT_LOAD_MAX_REFUSED 32

struct object_load {
	/* programs the kernel refused in an earlier try: left out of the next */
	char refused[OBJECT_LOAD_MAX_REFUSED][64];
	size_t nrefused;
	/* programs the test switch makes the kernel refuse (SPANPROBE_TEST_REFUSE) */
	const char *test_refuse;
	/* the program whose load failed in the last try, if libbpf named one */
	char failed[64];
	struct prog_log *logs;
	size_t nlogs;
	bool verbose;
};

/* Before a try: leaves out the programs refused before, makes the test
 * switch's programs invalid (the kernel then refuses them for real), and
 * gives every program a log for the verifier's statistics. */
int object_load__prepare(struct object_load *l, struct bpf_object *obj);

/* Loads the object (load_fn(obj_ctx)) with libbpf's messages held back:
 * 0, or -errno with l->failed naming the refused program where there is
 * one. */
int object_load__try(struct object_load *l, int (*load_fn)(void *), void *obj_ctx);

/* After a failed try: whether the failed program is optional. If it is,
 * says once which feature is off and what is lost, remembers it for the
 * next try and returns true; otherwise says which core program the kernel
 * refused and why, and returns false. */
bool object_load__refusal(struct object_load *l, int err);

/* Whether prog was left out because the kernel refused it. */
bool object_load__was_refused(const struct object_load *l, const char *prog);

/* -v: each loaded program's verified instructions, states and time. */
void object_load__print_costs(const struct object_load *l, struct bpf_object *obj, FILE *out);

/* Frees the logs (not l itself: it lives in the tracer). */
void object_load__release(struct object_load *l);

#endif
