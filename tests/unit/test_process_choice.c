// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* process_choice's memory of the processes it does not trace: what -v
 * said of each, once per process and reason, and its bound. */
#include <stdlib.h>
#include <unistd.h>

#include "proc_stat.h"
#include "process_choice.h"
#include "process_choice_internal.h"
#include "selection.h"
#include "unit.h"

static struct process_choice *new_choice(struct selection *s)
{
	struct process_choice *c = NULL;
	struct process_choice_setup setup = { .selection = s, .root = -1 };

	CHECK_INT(process_choice__new(&setup, &c), 0);
	return c;
}

/* -v's "not chosen": once per process and reason; again for another
 * reason, or for another process given the PID. */
static void test_said_once(void)
{
	static const struct {
		pid_t pid;
		uint64_t start;
		const char *why;
		bool said_before;
	} rows[] = {
		{ 100, 1, "/bin/sh matches no --exe", false },
		{ 100, 1, "/bin/sh matches no --exe", true },
		{ 101, 1, "/bin/sh matches no --exe", false },
		{ 100, 1, "/bin/sh matches no --exe; pod elsewhere/web", false }, /* another reason */
		{ 100, 1, "/bin/sh matches no --exe; pod elsewhere/web", true },
		{ 100, 2, "/bin/sh matches no --exe; pod elsewhere/web", false }, /* PID reused */
		{ 100, 2, "/bin/sh matches no --exe; pod elsewhere/web", true },
		{ 356, 1, "/bin/sh matches no --exe", false }, /* 100's bucket */
		{ 101, 1, "/bin/sh matches no --exe", true },
	};
	struct selection *s = selection__new();
	struct process_choice *c = new_choice(s);

	for (size_t i = 0; c && i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK_INT(said_before(c, rows[i].pid, rows[i].start, rows[i].why), rows[i].said_before);
	process_choice__free(c);
	selection__free(s);
}

/* Past REMEMBERED_MAX processes remembered, the gone ones are forgotten
 * (said again if met again) and a running one is kept. */
static void test_remembered_bound(void)
{
	struct selection *s = selection__new();
	struct process_choice *c = new_choice(s);
	pid_t self = getpid();
	uint64_t start = process_start_time(self);
	const pid_t gone = 0x7ffff000; /* above any pid_max */

	CHECK(start != 0);
	if (!c)
		goto out;
	CHECK(!said_before(c, self, start, "running"));
	for (int i = 0; i < REMEMBERED_MAX - 1; i++)
		CHECK(!said_before(c, gone - i, 1, "gone"));
	CHECK(said_before(c, gone, 1, "gone")); /* all still remembered */
	CHECK(!said_before(c, gone - REMEMBERED_MAX, 1, "gone")); /* full: the gone forgotten */
	CHECK(said_before(c, self, start, "running"));
	CHECK(!said_before(c, gone, 1, "gone"));
	CHECK(said_before(c, gone - REMEMBERED_MAX, 1, "gone"));
out:
	process_choice__free(c);
	selection__free(s);
}

int main(void)
{
	unit_prog = "process_choice";
	RUN(test_said_once);
	RUN(test_remembered_bound);
	return unit_exit();
}
