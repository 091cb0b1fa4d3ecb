// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env_switches.h"
#include "preflight.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT   38
#define CAP_BPF_BIT       39

static uint64_t effective_caps(void)
{
	char line[256];
	uint64_t caps = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static bool sysfs_has(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", env_switch__sysfs(), rel);
	return access(path, F_OK) == 0;
}

int preflight_check(void)
{
	uint64_t caps = effective_caps();
	bool bpf_perfmon = (caps >> CAP_BPF_BIT & 1) && (caps >> CAP_PERFMON_BIT & 1);

	if (!bpf_perfmon && !(caps >> CAP_SYS_ADMIN_BIT & 1)) {
		fprintf(stderr, "spanprobe: not enough privilege to trace: run as root, or grant "
			"CAP_BPF and CAP_PERFMON (e.g. sudo spanprobe ...)\n");
		return -EPERM;
	}
	if (!sysfs_has("kernel/btf/vmlinux")) {
		fprintf(stderr, "spanprobe: this kernel has no BTF (/sys/kernel/btf/vmlinux is "
			"missing): use a kernel built with CONFIG_DEBUG_INFO_BTF=y\n");
		return -EOPNOTSUPP;
	}
	if (!sysfs_has("bus/event_source/devices/uprobe")) {
		fprintf(stderr, "spanprobe: this kernel has no uprobes (no uprobe event source): "
			"use a kernel built with CONFIG_UPROBE_EVENTS=y\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

int check_process_exists(pid_t pid)
{
	if (check_process_alive(pid) == 0)
		return 0;
	fprintf(stderr, "spanprobe: no process with PID %d (check it with: ps -p %d)\n", pid, pid);
	return -ESRCH;
}

int check_process_alive(pid_t pid)
{
	char path[64], state = 0;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -ESRCH;
	/* the state follows the ")" closing the command name */
	n = fscanf(f, "%*d (%*[^)]) %c", &state);
	fclose(f);
	return n == 1 && state != 'Z' && state != 'X' ? 0 : -ESRCH;
}
