// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* process_hash: the table of processes keyed by (pid, start time): found
 * by pid, taken out, walked whole (also across its growth and while
 * entries are taken out). */
#include <stdlib.h>
#include <string.h>

#include "process_hash.h"
#include "unit.h"

static void test_find_add_remove(void)
{
	static const struct {
		pid_t pid;
		uint64_t start;
	} rows[] = {
		{ 1, 100 }, { 257, 200 }, { 513, 300 }, /* one bucket */
		{ 2, 0 },                               /* start not known */
		{ 0x7ffffff0, 5 },
	};
	struct process_link links[sizeof(rows) / sizeof(rows[0])] = { 0 };
	struct process_hash h;

	CHECK_INT(process_hash__init(&h), 0);
	CHECK(process_hash__find(&h, 1) == NULL);
	CHECK(process_hash__first(&h) == NULL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		links[i].key = (struct process_key){ rows[i].pid, rows[i].start };
		process_hash__add(&h, &links[i]);
	}
	CHECK_INT(process_hash__count(&h), sizeof(rows) / sizeof(rows[0]));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct process_link *l = process_hash__find(&h, rows[i].pid);

		CHECK(l == &links[i]);
		if (l)
			CHECK_INT(l->key.start, rows[i].start);
	}
	CHECK(process_hash__find(&h, 3) == NULL);
	CHECK(process_hash__find(&h, 769) == NULL); /* same bucket as 1, absent */
	/* the middle of a chain out; the rest still found */
	process_hash__remove(&h, &links[1]);
	CHECK(process_hash__find(&h, 257) == NULL);
	CHECK(process_hash__find(&h, 1) == &links[0]);
	CHECK(process_hash__find(&h, 513) == &links[2]);
	CHECK_INT(process_hash__count(&h), sizeof(rows) / sizeof(rows[0]) - 1);
	process_hash__remove(&h, &links[1]); /* not in: nothing */
	CHECK_INT(process_hash__count(&h), sizeof(rows) / sizeof(rows[0]) - 1);
	/* the PID taken by a later process: a new entry once the old is out */
	process_hash__remove(&h, &links[0]);
	links[0].key.start = 101;
	process_hash__add(&h, &links[0]);
	CHECK(process_hash__find(&h, 1) && process_hash__find(&h, 1)->key.start == 101);
	process_hash__fini(&h);
	process_hash__fini(NULL);
}

/* Many entries: the buckets grow, every entry is found and walked once;
 * taking entries out during a walk (next taken first) visits the rest. */
static void test_grow_and_walk(void)
{
	enum { N = 5000 };
	struct process_link *links = calloc(N, sizeof(*links));
	unsigned char *seen = calloc(N, 1);
	struct process_hash h;
	size_t walked = 0, found = 0;

	CHECK(links && seen);
	if (!links || !seen)
		goto out;
	CHECK_INT(process_hash__init(&h), 0);
	for (int i = 0; i < N; i++) {
		links[i].key = (struct process_key){ (pid_t)(1000 + 7 * i), (uint64_t)i + 1 };
		process_hash__add(&h, &links[i]);
	}
	CHECK(h.nbuckets > 256);
	for (int i = 0; i < N; i++)
		found += process_hash__find(&h, 1000 + 7 * i) == &links[i];
	CHECK_INT(found, N);
	for (struct process_link *l = process_hash__first(&h); l; l = process_hash__next(&h, l)) {
		size_t i = (size_t)(l - links);

		CHECK(i < N && !seen[i]);
		if (i < N)
			seen[i] = 1;
		walked++;
	}
	CHECK_INT(walked, N);
	/* every other one out during a walk */
	walked = 0;
	for (struct process_link *l = process_hash__first(&h), *after; l; l = after) {
		after = process_hash__next(&h, l);
		walked++;
		if ((l - links) % 2 == 0)
			process_hash__remove(&h, l);
	}
	CHECK_INT(walked, N);
	CHECK_INT(process_hash__count(&h), N / 2);
	CHECK(process_hash__find(&h, 1000) == NULL);
	CHECK(process_hash__find(&h, 1007) == &links[1]);
	process_hash__fini(&h);
out:
	free(links);
	free(seen);
}

int main(void)
{
	unit_prog = "process_hash";
	RUN(test_find_add_remove);
	RUN(test_grow_and_walk);
	return unit_exit();
}
