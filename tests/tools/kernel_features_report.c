// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prints what kernel_features__probe() finds on the running kernel, as
 * spanprobe -v would, then one "feature NAME yes|no" line per feature for
 * scripts. The kernel matrix (tests/kernels) runs it on each kernel.
 * Exit status: 0, or 1 when a feature spanprobe needs is missing. */
#include <stdio.h>
#include <bpf/libbpf.h>

#include "kernel_features.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

int main(void)
{
	struct kernel_features kf;

	libbpf_set_print(quiet);
	if (kernel_features__probe(&kf))
		return 1;
	kernel_features__describe(&kf, stdout);
	for (int f = 0; f < KF_COUNT; f++)
		printf("feature %s %s\n", kernel_feature__key(f), kf.has[f] ? "yes" : "no");
	fflush(stdout);
	return kernel_features__check_needed(&kf) ? 1 : 0;
}
