// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel feature probes. The BPF ones ask the kernel through libbpf's probes
 * (load a tiny program or create a tiny map and look at the answer), or, for
 * uprobe_multi links, the way libbpf's own internal probe does. The uprobe
 * ones (how a probed instruction is handled) have no BPF probe: they are read
 * from the kernel's BTF, which names every non-inlined kernel function, with
 * /proc/kallsyms as a second source. Checked against Debian's 6.1.176 and
 * 6.12.95 and a 6.18 kernel (tests/kernels). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "env_switches.h"
#include "kernel_features.h"

struct feature_info {
	const char *key;    /* short, for scripts */
	const char *name;
	const char *since;  /* first mainline version */
	const char *absent; /* what spanprobe does without it (or NULL: needed) */
};

static const struct feature_info features[KF_COUNT] = {
	[KF_BTF] = { "btf", "BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF=y)", "5.4", NULL },
	[KF_RINGBUF] = { "ringbuf", "BPF ring buffer", "5.8", NULL },
	[KF_RINGBUF_QUERY] = { "ringbuf_query", "bpf_ringbuf_query", "5.8", NULL },
	[KF_TASK_STORAGE] = { "task_storage", "task storage maps", "5.11", NULL },
	[KF_TASK_STORAGE_GET] = { "task_storage_get", "bpf_task_storage_get in uprobe programs",
				  "5.11", NULL },
	[KF_CURRENT_TASK_BTF] = { "current_task_btf", "bpf_get_current_task_btf", "5.11", NULL },
	[KF_ATTACH_COOKIE] = { "attach_cookie", "bpf_get_attach_cookie in uprobe programs", "5.15",
			       NULL },
	[KF_TP_BTF] = { "tp_btf", "BTF tracepoints (sched_process_exit, sched_process_exec)", "5.5",
			NULL },
	[KF_BPF_LOOP] = { "bpf_loop", "bpf_loop", "5.17", NULL },
	[KF_UPROBE_MULTI] = { "uprobe_multi", "uprobe_multi links", "6.6",
			      "one perf-event link per function and direction: 2 file "
			      "descriptors per function, slower to attach" },
	[KF_PUSH_EMULATED] = { "push_emulated", "push emulated at a probe", "6.1 or earlier",
			       "a function starting with push is single-stepped" },
	[KF_URETPROBE_SYSCALL] = { "uretprobe_syscall", "uretprobe syscall", "6.11",
				   "each return traps (int3) instead of a syscall" },
	[KF_NOP5_OPTIMIZED] = { "nop5_optimized", "5-byte nop probes optimised into a call", "6.18",
				"a 5-byte nop entry traps (int3) on every call" },
};

const char *kernel_feature__key(enum kernel_feature f)
{
	return f < KF_COUNT ? features[f].key : "?";
}

const char *kernel_feature__name(enum kernel_feature f)
{
	return f < KF_COUNT ? features[f].name : "?";
}

const char *kernel_feature__since(enum kernel_feature f)
{
	return f < KF_COUNT ? features[f].since : "?";
}

/* libbpf's probes answer 1 (yes), 0 (no) or a negative error (can't tell). */
static bool probe_yes(int ret)
{
	return ret == 1;
}

/* uprobe_multi links as libbpf probes them (libbpf's own probe is internal):
 * a link on "/" fails with EBADF once the link type exists; and with a PID
 * that can't exist, EINVAL says the PID is checked as a process (the first
 * kernels filtered by thread, so -p would miss every other thread; the fix
 * reached 6.6's stable updates too, so such a kernel counts as having none). */
static bool probe_uprobe_multi(void)
{
	LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .expected_attach_type = BPF_TRACE_UPROBE_MULTI);
	LIBBPF_OPTS(bpf_link_create_opts, link_opts);
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned long offset = 0;
	int prog_fd, link_fd, err;
	bool ok = false;

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &load_opts);
	if (prog_fd < 0)
		return false;
	link_opts.uprobe_multi.path = "/";
	link_opts.uprobe_multi.offsets = &offset;
	link_opts.uprobe_multi.cnt = 1;
	link_fd = bpf_link_create(prog_fd, -1, BPF_TRACE_UPROBE_MULTI, &link_opts);
	err = -errno;
	if (link_fd >= 0) {
		close(link_fd);
		goto cleanup;
	}
	if (err != -EBADF)
		goto cleanup;
	link_opts.uprobe_multi.pid = -1;
	link_fd = bpf_link_create(prog_fd, -1, BPF_TRACE_UPROBE_MULTI, &link_opts);
	err = -errno;
	if (link_fd >= 0)
		close(link_fd);
	ok = link_fd < 0 && err == -EINVAL;
cleanup:
	close(prog_fd);
	return ok;
}

/* Loads a program for tp_btf/TRACEPOINT that does nothing: the kernel takes it
 * when it has BTF tracepoints and this one (its btf_trace_* type in BTF). */
static bool probe_tp_btf(const struct btf *vmlinux, const char *tracepoint)
{
	LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .expected_attach_type = BPF_TRACE_RAW_TP);
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char type_name[128];
	int id, prog_fd;

	if (!vmlinux)
		return false;
	snprintf(type_name, sizeof(type_name), "btf_trace_%s", tracepoint);
	id = btf__find_by_name_kind(vmlinux, type_name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return false;
	load_opts.attach_btf_id = id;
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &load_opts);
	if (prog_fd < 0)
		return false;
	close(prog_fd);
	return true;
}

static bool kallsyms_has(const char *name)
{
	char line[512], sym[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %255s", sym) == 1 && strcmp(sym, name) == 0)
			found = true;
	fclose(f);
	return found;
}

/* A kernel function exists: in the kernel's BTF, else in /proc/kallsyms. */
static bool kernel_has_function(const struct btf *vmlinux, const char *name)
{
	if (vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0)
		return true;
	return kallsyms_has(name);
}

static bool uprobe_multi_turned_off(void)
{
	return env_switch__no_uprobe_multi();
}

int kernel_features__probe(struct kernel_features *kf)
{
	struct btf *vmlinux;
	struct utsname u;
	bool *has = kf->has;

	memset(kf, 0, sizeof(*kf));
	if (uname(&u) == 0)
		snprintf(kf->release, sizeof(kf->release), "%s", u.release);
	vmlinux = btf__load_vmlinux_btf(); /* NULL when the kernel has none */
	has[KF_BTF] = vmlinux != NULL && access("/sys/kernel/btf/vmlinux", R_OK) == 0;

	has[KF_RINGBUF] = probe_yes(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL));
	has[KF_TASK_STORAGE] = probe_yes(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL));
	has[KF_RINGBUF_QUERY] = probe_yes(libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
								   BPF_FUNC_ringbuf_query, NULL));
	has[KF_TASK_STORAGE_GET] = probe_yes(libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
								      BPF_FUNC_task_storage_get, NULL));
	has[KF_CURRENT_TASK_BTF] = probe_yes(libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
								      BPF_FUNC_get_current_task_btf, NULL));
	has[KF_ATTACH_COOKIE] = probe_yes(libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
								   BPF_FUNC_get_attach_cookie, NULL));
	has[KF_TP_BTF] = probe_tp_btf(vmlinux, "sched_process_exit") &&
			 probe_tp_btf(vmlinux, "sched_process_exec");
	has[KF_BPF_LOOP] = probe_yes(libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_loop, NULL));
	has[KF_UPROBE_MULTI] = !uprobe_multi_turned_off() && probe_uprobe_multi();
	/* arch/x86/kernel/uprobes.c: push_emulate_op emulates push at a probe;
	 * sys_uretprobe is the return trampoline's syscall; sys_uprobe is the
	 * call an optimised 5-byte nop probe makes. */
	has[KF_PUSH_EMULATED] = kernel_has_function(vmlinux, "push_emulate_op");
	has[KF_URETPROBE_SYSCALL] = kernel_has_function(vmlinux, "__x64_sys_uretprobe");
	has[KF_NOP5_OPTIMIZED] = kernel_has_function(vmlinux, "__x64_sys_uprobe");
	btf__free(vmlinux);
	kf->probed = true;
	return 0;
}

int kernel_features__check_needed(const struct kernel_features *kf)
{
	for (int f = 0; f < KF_COUNT; f++) {
		if (features[f].absent || kf->has[f])
			continue;
		fprintf(stderr, "spanprobe: this kernel (%s) lacks %s, which spanprobe needs "
			"(Linux %s and later have it): run on a newer kernel\n",
			kf->release, features[f].name, features[f].since);
		return -EOPNOTSUPP;
	}
	return 0;
}

void kernel_features__describe(const struct kernel_features *kf, FILE *out)
{
	fprintf(out, "spanprobe: kernel %s:\n", kf->release);
	for (int f = 0; f < KF_COUNT; f++) {
		if (kf->has[f])
			fprintf(out, "spanprobe:   %-58s yes\n", features[f].name);
		else if (f == KF_UPROBE_MULTI && uprobe_multi_turned_off())
			fprintf(out, "spanprobe:   %-58s off (SPANPROBE_NO_UPROBE_MULTI): %s\n",
				features[f].name, features[f].absent);
		else
			fprintf(out, "spanprobe:   %-58s no (Linux %s): %s\n", features[f].name,
				features[f].since, features[f].absent ? features[f].absent :
				"needed");
	}
}
