// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* An empty BPF program (return 0) on uprobes at file offsets of one binary,
 * as one uprobe_multi link: the least any probe at those instructions costs.
 * bpftrace 0.17 refuses a probe inside a function ("compiled without uprobe
 * offset support"), which is where the cheap instruction of a function
 * whose first one is single-stepped lies. Prints "attached N" and holds the
 * link until SIGINT or SIGTERM, then prints "hits N" (from the kernel's
 * BPF run-time statistics, enabled while it runs).
 * -r: a return probe too at each offset (a second link, as a uretprobe
 * there), for the least an entry and return at those instructions cost;
 * -n: no statistics (they time every run), no "hits" line.
 * Usage: empty-uprobe [-r] [-n] BINARY OFFSET...   (hex or decimal file offsets) */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OFFSETS 64

int main(int argc, char **argv)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, popts, .expected_attach_type = BPF_TRACE_UPROBE_MULTI);
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	unsigned long offsets[MAX_OFFSETS];
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int prog, link, stats = -1, n, sig, arg = 1;
	bool returns = false, count = true;
	sigset_t set;

	for (; arg < argc && argv[arg][0] == '-'; arg++) {
		if (strcmp(argv[arg], "-r") == 0)
			returns = true;
		else if (strcmp(argv[arg], "-n") == 0)
			count = false;
		else
			break;
	}
	n = argc - arg - 1;
	if (n < 1 || n > MAX_OFFSETS) {
		fprintf(stderr, "usage: empty-uprobe [-r] [-n] BINARY OFFSET... (1 to %d offsets)\n",
			MAX_OFFSETS);
		return 2;
	}
	for (int i = 0; i < n; i++)
		offsets[i] = strtoul(argv[arg + 1 + i], NULL, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (count)
		stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "empty_uprobe", "GPL", insns, 2, &popts);
	if (prog < 0) {
		fprintf(stderr, "empty-uprobe: can't load the program: %s\n", strerror(errno));
		return 1;
	}
	lopts.uprobe_multi.path = argv[arg];
	lopts.uprobe_multi.offsets = offsets;
	lopts.uprobe_multi.cnt = n;
	link = bpf_link_create(prog, 0, BPF_TRACE_UPROBE_MULTI, &lopts);
	if (link >= 0 && returns) {
		lopts.uprobe_multi.flags = BPF_F_UPROBE_MULTI_RETURN;
		link = bpf_link_create(prog, 0, BPF_TRACE_UPROBE_MULTI, &lopts);
	}
	if (link < 0) {
		fprintf(stderr, "empty-uprobe: can't attach to %s: %s\n", argv[arg], strerror(errno));
		return 1;
	}
	printf("attached %d\n", n);
	fflush(stdout);
	sigwait(&set, &sig);
	if (stats >= 0 && !bpf_prog_get_info_by_fd(prog, &info, &info_len))
		printf("hits %llu\n", (unsigned long long)info.run_cnt);
	return 0;
}
