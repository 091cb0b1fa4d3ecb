# The kernel matrix: spanprobe's integration tests (those that need no network
# peers) and one OTLP export, on other kernels booted under QEMU with
# virtme-ng (tests/kernels/run.sh; kernels pinned in tests/kernels/kernels.list).
# The last suite of `make test` (tests/run.sh); alone:
#   make test-kernels                 every pinned kernel
#   make test-kernels KERNELS=6.1     one of them
#   make bench-kernels                the per-call table on each kernel (bench/kernels.md)
# Downloads (virtme-ng, Debian's kernel packages) are cached under
# ~/.cache/spanprobe-kernels.

.PHONY: test-kernels bench-kernels kernel-tools

build/tools/kernel-features: tests/tools/kernel_features_report.c $(OUT)/obj/tracer/kernel_features.o \
		$(OUT)/obj/common/env_switches.o
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(OUT)/obj/tracer/kernel_features.o $(OUT)/obj/common/env_switches.o \
		-lbpf -lelf -lz -o $@

kernel-tools: build/tools/kernel-features

test-kernels: test-deps
	@$(MAKE) --no-print-directory build-all kernel-tools
	@KERNELS="$(KERNELS)" tests/kernels/run.sh

bench-kernels: test-deps
	@$(MAKE) --no-print-directory build-all kernel-tools
	@$(MAKE) --no-print-directory -f Makefile -f bench/bench.mk bench-programs
	@KERNELS="$(KERNELS)" bench/kernels.sh
