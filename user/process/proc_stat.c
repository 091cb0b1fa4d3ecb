// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_stat.h"

/* /proc/PID/stat into buf; false when unreadable. */
static bool read_stat(pid_t pid, char *buf, size_t len)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return true;
}

/* Field `field` (1-based, >= 3) of a /proc/PID/stat line; 0 when absent.
 * The comm in field 2 is in parentheses and may itself hold spaces and
 * parentheses: fields are counted from the last ')'. */
static unsigned long long stat_field(const char *stat, int field)
{
	const char *p = strrchr(stat, ')');

	for (int i = 2; p && i < field; i++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

uint64_t process_start_time(pid_t pid)
{
	char buf[1024];

	return read_stat(pid, buf, sizeof(buf)) ? stat_field(buf, 22) : 0;
}

pid_t process_parent_pid(pid_t pid)
{
	char buf[1024];

	return read_stat(pid, buf, sizeof(buf)) ? (pid_t)stat_field(buf, 4) : 0;
}

void process_parent_and_start(pid_t pid, pid_t *parent, uint64_t *start)
{
	char buf[1024];

	if (!read_stat(pid, buf, sizeof(buf))) {
		*parent = 0;
		*start = 0;
		return;
	}
	*parent = (pid_t)stat_field(buf, 4);
	*start = stat_field(buf, 22);
}
