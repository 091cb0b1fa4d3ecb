// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "proc_stat.h"
#include "process_ref.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

uint64_t process_start_ticks_from_ns(uint64_t ns)
{
	static long hz;

	if (!hz) {
		hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0)
			hz = 100;
	}
	/* the kernel's nsec_to_clock_t: NSEC_PER_SEC / USER_HZ divides exactly */
	return ns / (1000000000ULL / (uint64_t)hz);
}

int process_ref__open(pid_t pid, uint64_t want_start, struct process_ref *r)
{
	uint64_t start;

	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->pidfd = -1;
	if (pid <= 0)
		return -ESRCH;
	r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (r->pidfd < 0 && errno == ESRCH)
		return -ESRCH;
	/* after the pidfd: the start time read now is the pidfd's process's
	 * unless it has exited, which process_ref__alive then says */
	start = process_start_time(pid);
	if (!start || (want_start && start != want_start) || process_ref__alive(r) != 0) {
		process_ref__close(r);
		return -ESRCH;
	}
	r->start_time = start;
	return 0;
}

int process_ref__alive(const struct process_ref *r)
{
	struct pollfd p;
	uint64_t start;

	if (r->pidfd >= 0) {
		p = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
		/* readable once the process has exited */
		if (poll(&p, 1, 0) != 0)
			return -ESRCH;
		return 0;
	}
	start = process_start_time(r->pid);
	if (!start || (r->start_time && start != r->start_time))
		return -ESRCH;
	return 0;
}

void process_ref__close(struct process_ref *r)
{
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
}
