// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Keeps the kernel's BPF run-time statistics on while it runs: every
 * program's run_time_ns and run_cnt (in /proc/PID/fdinfo of a process that
 * holds the program, and `bpftool prog show`) count from then on. Through
 * BPF_ENABLE_STATS, whose effect ends with this process, rather than the
 * kernel.bpf_stats_enabled sysctl, which others' runs may flip.
 * Prints "on" once enabled; ends on SIGINT or SIGTERM. */
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	sigset_t set;
	int fd, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		fprintf(stderr, "bpf-stats-on: can't enable BPF run-time statistics: %s\n",
			strerror(errno));
		return 1;
	}
	printf("on\n");
	fflush(stdout);
	sigwait(&set, &sig);
	close(fd);
	return 0;
}
