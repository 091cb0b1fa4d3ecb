// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_stat.h"

/* Field `field` (1-based, >= 3) of /proc/PID/stat; 0 when unreadable. The
 * comm in field 2 is in parentheses and may itself hold spaces and
 * parentheses: fields are counted from the last ')'. */
static unsigned long long stat_field(pid_t pid, int field)
{
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (int i = 2; p && i < field; i++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

uint64_t process_start_time(pid_t pid)
{
	return stat_field(pid, 22);
}

pid_t process_parent_pid(pid_t pid)
{
	return (pid_t)stat_field(pid, 4);
}
