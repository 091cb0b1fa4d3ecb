// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel features: which missing ones stop spanprobe, what -v says, and that
 * probing the running kernel answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_features.h"
#include "unit.h"

static struct kernel_features all_present(void)
{
	struct kernel_features kf = { .release = "6.99.0-test", .probed = true };

	for (int f = 0; f < KF_COUNT; f++)
		kf.has[f] = true;
	return kf;
}

/* What describe() prints for kf. */
static char *describe(const struct kernel_features *kf)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	kernel_features__describe(kf, f);
	fclose(f);
	return text;
}

static void test_needed_features_stop_spanprobe(void)
{
	static const struct {
		enum kernel_feature missing;
		int want;
	} cases[] = {
		{ KF_BTF, -EOPNOTSUPP },
		{ KF_RINGBUF, -EOPNOTSUPP },
		{ KF_TASK_STORAGE_GET, -EOPNOTSUPP },
		{ KF_ATTACH_COOKIE, -EOPNOTSUPP },
		{ KF_TP_BTF, -EOPNOTSUPP },
		{ KF_UPROBE_MULTI, 0 },     /* per-function links instead */
		{ KF_PUSH_EMULATED, 0 },    /* single-stepped instead */
		{ KF_URETPROBE_SYSCALL, 0 },
		{ KF_NOP5_OPTIMIZED, 0 },
	};
	struct kernel_features kf = all_present();
	FILE *saved = stderr;

	CHECK_INT(kernel_features__check_needed(&kf), 0);
	/* the one-line errors are checked by the kernel matrix; keep them quiet here */
	stderr = fopen("/dev/null", "w");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kf = all_present();
		kf.has[cases[i].missing] = false;
		CHECK_INT(kernel_features__check_needed(&kf), cases[i].want);
	}
	fclose(stderr);
	stderr = saved;
}

static void test_describe_names_what_replaces_a_missing_feature(void)
{
	struct kernel_features kf = all_present();
	char *text;

	kf.has[KF_UPROBE_MULTI] = false;
	kf.has[KF_URETPROBE_SYSCALL] = false;
	unsetenv("SPANPROBE_NO_UPROBE_MULTI");
	text = describe(&kf);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(strstr(text, "spanprobe: kernel 6.99.0-test:\n") == text);
	CHECK(strstr(text, "no (Linux 6.6): one perf-event link per function") != NULL);
	CHECK(strstr(text, "no (Linux 6.11): each return traps") != NULL);
	CHECK(strstr(text, "bpf_get_attach_cookie in uprobe programs") != NULL);
	/* one line per feature, after the heading */
	int lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	CHECK_INT(lines, KF_COUNT + 1);
	free(text);
}

static void test_keys_and_versions(void)
{
	CHECK_STR(kernel_feature__key(KF_UPROBE_MULTI), "uprobe_multi");
	CHECK_STR(kernel_feature__since(KF_UPROBE_MULTI), "6.6");
	CHECK_STR(kernel_feature__since(KF_ATTACH_COOKIE), "5.15");
	CHECK_STR(kernel_feature__key(KF_COUNT), "?");
	for (int f = 0; f < KF_COUNT; f++) {
		CHECK(strchr(kernel_feature__key(f), ' ') == NULL);
		CHECK(strlen(kernel_feature__name(f)) > 0);
	}
}

static void test_probe_running_kernel(void)
{
	struct kernel_features kf;

	CHECK_INT(kernel_features__probe(&kf), 0);
	CHECK(kf.probed);
	CHECK(kf.release[0] != '\0');
	/* BPF probes need privilege; the BTF file does not */
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		CHECK(!kf.has[KF_BTF]);
	setenv("SPANPROBE_NO_UPROBE_MULTI", "1", 1);
	CHECK_INT(kernel_features__probe(&kf), 0);
	CHECK(!kf.has[KF_UPROBE_MULTI]);
	unsetenv("SPANPROBE_NO_UPROBE_MULTI");
}

int main(void)
{
	unit_prog = "kernel_features";
	RUN(test_needed_features_stop_spanprobe);
	RUN(test_describe_names_what_replaces_a_missing_feature);
	RUN(test_keys_and_versions);
	RUN(test_probe_running_kernel);
	return unit_exit();
}
