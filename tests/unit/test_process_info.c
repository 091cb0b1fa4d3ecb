// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* process_table: this very process read from /proc, caching by pid, a gone
 * pid, and container ids from the cgroup line formats runtimes write. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process_info.h"
#include "unit.h"

int container_id_from_cgroup_line(const char *line, char out[65]);

#define ID64 "4f1bcd5ca4b6c5a4e2f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f70"

static void test_container_id_table(void)
{
	static const struct {
		const char *line;
		const char *want; /* NULL: none */
	} rows[] = {
		{ "0::/docker/" ID64, ID64 },
		{ "0::/system.slice/docker-" ID64 ".scope", ID64 },
		{ "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" ID64 ".scope", ID64 },
		{ "0::/kubepods/burstable/pod1/crio-" ID64 ".scope", ID64 },
		{ "12:memory:/docker/" ID64, ID64 },
		{ "0::/user.slice/user-1000.slice/session-2.scope", NULL },
		{ "0::/", NULL },
		{ "0::/docker/" ID64 "ff", NULL },          /* 66 digits: not an id */
		{ "0::/docker/4F1BCD5CA4B6C5A4E2F0E1D2C3B4A5968778695A4B3C2D1E0F1A2B3C4D5E6F70", NULL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[65] = "";
		int err = container_id_from_cgroup_line(rows[i].line, out);

		CHECK_INT(err == 0, rows[i].want != NULL);
		if (rows[i].want)
			CHECK_STR(out, rows[i].want);
	}
}

static void test_self(void)
{
	struct process_table *t = process_table__new();
	const struct process_info *p, *again;

	CHECK(t != NULL);
	p = process_table__get(t, (uint32_t)getpid());
	CHECK(p != NULL);
	if (p) {
		CHECK_INT(p->pid, getpid());
		CHECK_STR(p->exe_name, "test_process_info");
		CHECK(p->exe_path && strstr(p->exe_path, "/test_process_info"));
		CHECK(p->command_line && strstr(p->command_line, "test_process_info"));
	}
	again = process_table__get(t, (uint32_t)getpid());
	CHECK(again == p); /* cached: the same entry */
	/* a pid that cannot exist (above pid_max) still gets a named entry */
	p = process_table__get(t, 0x7ffffff0u);
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->exe_name, "pid-2147483632");
		CHECK(p->exe_path == NULL);
		CHECK(p->command_line == NULL);
		CHECK(p->container_id == NULL);
		CHECK(p->k8s_pod_uid == NULL);
		CHECK(p->k8s_pod_name == NULL);
		CHECK(p->k8s_namespace == NULL);
	}
	process_table__free(t);
	process_table__free(NULL);
}

/* A child read as this program, then exec'd into sleep: once forgotten (an
 * exec report), it is read again under its new name; the old entry stays
 * valid for spans already made. */
static void test_forget_after_exec(void)
{
	struct process_table *t = process_table__new();
	const struct process_info *before, *after;
	int go[2], ready[2];
	char c;
	pid_t child;

	CHECK(t != NULL && pipe(go) == 0 && pipe(ready) == 0);
	child = fork();
	if (child == 0) {
		close(go[1]);
		close(ready[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		close(ready[1]); /* close-on-exec would do; the parent waits for the exec */
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	close(ready[1]);
	before = process_table__get(t, (uint32_t)child);
	CHECK(before && strcmp(before->exe_name, "test_process_info") == 0);
	CHECK(write(go[1], "x", 1) == 1);
	CHECK(read(ready[0], &c, 1) == 0); /* the child closed it right before exec */
	/* exec'd once /proc/PID/exe names sleep (the exec itself is that quick) */
	for (int i = 0; i < 1000; i++) {
		char exe[64], target[256] = "";

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)child);
		if (readlink(exe, target, sizeof(target) - 1) > 0 && strstr(target, "sleep"))
			break;
		usleep(1000);
	}
	process_table__forget(t, (uint32_t)child);
	after = process_table__get(t, (uint32_t)child);
	CHECK(after && after != before);
	if (after)
		CHECK_STR(after->exe_name, "sleep");
	CHECK_STR(before->exe_name, "test_process_info");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	process_table__free(t);
}

/* An exec report read after the process ended: named from the report;
 * one read while it runs: named from /proc, whatever the report said. */
static void test_note_exec(void)
{
	struct process_table *t = process_table__new();
	const struct process_info *p;
	pid_t child = fork();

	CHECK(t != NULL && child >= 0);
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0); /* gone: /proc has nothing of it */
	process_table__note_exec(t, (uint32_t)child, "short-lived");
	p = process_table__get(t, (uint32_t)child);
	CHECK(p != NULL);
	if (p)
		CHECK_STR(p->exe_name, "short-lived");
	process_table__note_exec(t, (uint32_t)getpid(), "not-this");
	p = process_table__get(t, (uint32_t)getpid());
	CHECK(p != NULL);
	if (p)
		CHECK_STR(p->exe_name, "test_process_info");
	process_table__free(t);
}

int main(void)
{
	unit_prog = "process_info";
	RUN(test_container_id_table);
	RUN(test_self);
	RUN(test_forget_after_exec);
	RUN(test_note_exec);
	return unit_exit();
}
