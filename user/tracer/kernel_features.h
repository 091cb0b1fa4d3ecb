/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the running kernel offers spanprobe, found by asking the kernel (BPF
 * feature probes, the kernel's own BTF), never by its version number:
 * distributions backport features, and a version says nothing about a
 * kernel's configuration. */
#ifndef SPANPROBE_KERNEL_FEATURES_H
#define SPANPROBE_KERNEL_FEATURES_H

#include <stdbool.h>
#include <stdio.h>

enum kernel_feature {
	/* Needed: without one, spanprobe can't trace at all. */
	KF_BTF,              /* /sys/kernel/btf/vmlinux: CO-RE and tp_btf */
	KF_RINGBUF,          /* BPF ring buffer maps */
	KF_RINGBUF_QUERY,    /* bpf_ringbuf_query: wake-up batching */
	KF_TASK_STORAGE,     /* task storage maps: the per-thread open calls */
	KF_TASK_STORAGE_GET, /* bpf_task_storage_get from uprobe programs */
	KF_CURRENT_TASK_BTF, /* bpf_get_current_task_btf */
	KF_ATTACH_COOKIE,    /* bpf_get_attach_cookie: which function fired */
	KF_TP_BTF,           /* BTF raw tracepoints (thread exit, exec) */
	KF_BPF_LOOP,         /* bpf_loop: loops over frames verified once */
	/* Chosen when present, else a slower way. */
	KF_UPROBE_MULTI,     /* uprobe_multi links, with a process-wide PID filter */
	KF_PUSH_EMULATED,    /* a probed push is emulated, not single-stepped */
	KF_URETPROBE_SYSCALL,/* returns through a syscall, not a trap */
	KF_NOP5_OPTIMIZED,   /* a probed 5-byte nop becomes a call, no trap */
	KF_COUNT,
};

struct kernel_features {
	char release[65]; /* uname -r, for messages only */
	bool has[KF_COUNT];
	bool probed;
};

/* Probes every feature (as root; a probe that can't run counts as absent).
 * SPANPROBE_NO_UPROBE_MULTI=1 turns uprobe_multi off, as before. Returns 0,
 * or a negative errno when nothing could be probed. */
int kernel_features__probe(struct kernel_features *kf);

/* The first missing needed feature: prints one line naming it, the kernel
 * version that has it and what to do, and returns -EOPNOTSUPP; else 0. */
int kernel_features__check_needed(const struct kernel_features *kf);

/* For -v: one line per feature, "yes", or "no" and what spanprobe does
 * instead. */
void kernel_features__describe(const struct kernel_features *kf, FILE *out);

const char *kernel_feature__key(enum kernel_feature f); /* "uprobe_multi" */
const char *kernel_feature__name(enum kernel_feature f);
/* The first mainline version with the feature ("6.6"). */
const char *kernel_feature__since(enum kernel_feature f);

#endif
