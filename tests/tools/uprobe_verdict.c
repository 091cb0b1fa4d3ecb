// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The kernel's own verdict on uprobes: for each hex file offset on stdin,
 * registers a perf uprobe at FILE+offset in process PID (which must map FILE
 * executable) and prints "OFFSET ERRNO" (0: accepted, 524: ENOTSUPP, the
 * instruction refused). Used to check spanprobe's predictions.
 * usage: uprobe-verdict FILE PID < offsets */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long long off;
	FILE *f;
	int type;

	if (argc != 3) {
		fprintf(stderr, "usage: uprobe-verdict FILE PID < offsets\n");
		return 2;
	}
	f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	if (!f || fscanf(f, "%d", &type) != 1) {
		fprintf(stderr, "uprobe-verdict: no uprobe PMU in this kernel\n");
		return 1;
	}
	fclose(f);
	while (scanf("%llx", &off) == 1) {
		struct perf_event_attr a;
		int fd;

		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = (unsigned int)type;
		a.config1 = (unsigned long)argv[1];
		a.config2 = off;
		fd = (int)syscall(SYS_perf_event_open, &a, atoi(argv[2]), -1, -1, PERF_FLAG_FD_CLOEXEC);
		printf("%llx %d\n", off, fd < 0 ? errno : 0);
		fflush(stdout);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}
