# Programs the benchmarks run: built plain, no tracing code. bench/run.sh
# builds them with `make -f Makefile -f bench/bench.mk bench-programs`.
#
# call-cost is built once per kind of function entry a uprobe meets; each
# compiler and flag set is picked for the prologue it produces in
# bench_target() (check with objdump -d):
#   call-cost-o2    clang -O2:                        lea 0x1(%rdi),%eax  (single-stepped)
#   call-cost-fp    clang -O2 -fno-omit-frame-pointer: push %rbp          (emulated; gcc
#                   drops the frame in this leaf even with -fno-omit-frame-pointer)
#   call-cost-nop5  gcc -pg -mfentry -mnop-mcount, non-PIE: 5-byte nop     (clang has no
#                   -mnop-mcount); compiled -pg but linked without it, so no gmon.out
#   call-cost-cet   clang -O2 -fcf-protection=full -fno-omit-frame-pointer: endbr64; push %rbp
# span-load is built like call-cost-nop5: the cheapest probe gives the most spans/s.
BENCH_CLANG  ?= clang-19
BENCH_GCC    ?= gcc
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE
BENCH_OUT    := build/bench
CALL_COST    := bench/call_cost.c

BENCH_PROGRAMS := $(addprefix $(BENCH_OUT)/,call-cost-o2 call-cost-fp call-cost-nop5 \
		  call-cost-cet span-load otlp-null-sink otlp-encode-bench http-load)

.PHONY: bench-programs
bench-programs: $(BENCH_PROGRAMS)

$(BENCH_OUT)/call-cost-o2: $(CALL_COST)
	@mkdir -p $(@D)
	$(BENCH_CLANG) $(BENCH_CFLAGS) -fcf-protection=none $< -o $@

$(BENCH_OUT)/call-cost-fp: $(CALL_COST)
	@mkdir -p $(@D)
	$(BENCH_CLANG) $(BENCH_CFLAGS) -fcf-protection=none -fno-omit-frame-pointer $< -o $@

$(BENCH_OUT)/call-cost-nop5: $(CALL_COST)
	@mkdir -p $(@D)
	$(BENCH_GCC) $(BENCH_CFLAGS) -fcf-protection=none -pg -mfentry -mnop-mcount -fno-pie \
		-c $< -o $@.o
	$(BENCH_GCC) -no-pie $@.o -o $@
	@rm -f $@.o

$(BENCH_OUT)/call-cost-cet: $(CALL_COST)
	@mkdir -p $(@D)
	$(BENCH_CLANG) $(BENCH_CFLAGS) -fcf-protection=full -fno-omit-frame-pointer $< -o $@

$(BENCH_OUT)/span-load: bench/span_load.c
	@mkdir -p $(@D)
	$(BENCH_GCC) $(BENCH_CFLAGS) -fcf-protection=none -pg -mfentry -mnop-mcount -fno-pie \
		-c $< -o $@.o
	$(BENCH_GCC) -no-pie $@.o -o $@ -lpthread
	@rm -f $@.o

$(BENCH_OUT)/otlp-null-sink: bench/otlp_null_sink.c
	@mkdir -p $(@D)
	$(BENCH_CLANG) $(BENCH_CFLAGS) $< -o $@

$(BENCH_OUT)/http-load: bench/http_load.c
	@mkdir -p $(@D)
	$(BENCH_CLANG) $(BENCH_CFLAGS) $< -lpthread -o $@

# The encoder alone, linked with spanprobe's own objects (built by the Makefile).
BENCH_PROTO_OBJS = $(filter-out %/any.pb-c.o %/duration.pb-c.o %/status.pb-c.o,$(PROTO_OBJS))
$(BENCH_OUT)/otlp-encode-bench: bench/otlp_encode_bench.c build/obj/otlp/otlp_encode.o $(PROTO_OBJS)
	@mkdir -p $(@D)
	$(BENCH_CLANG) $(BENCH_CFLAGS) $(addprefix -I,$(USER_DIRS)) -Ibuild/proto $< build/obj/otlp/otlp_encode.o \
		$(BENCH_PROTO_OBJS) -lprotobuf-c -o $@

# Reading a library's functions (bench/elf_open_bench.c), linked with the
# user objects as the unit tests are.
$(BENCH_OUT)/elf-open-bench: bench/elf_open_bench.c $(filter $(OUT)/obj/elf/% $(OUT)/obj/common/%,$(USER_OBJS))
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $^ -lelf -ldw -lcapstone -liberty -lz -o $@

bench-programs: $(BENCH_OUT)/elf-open-bench

# Ablation builds for bench/call_breakdown.sh: spanprobe with one part of a
# traced call's hot path dropped (or repeated), selected by a mask of
# bpf/bench_ablate.h's ABLATE_* bits. Only the BPF object, its skeleton and
# the user files that embed the skeleton are rebuilt; the rest is linked
# from the normal build.
ABLATE_VARIANTS := empty no-hits no-stats no-ids no-time no-wakeup no-record exc-always no-filters \
		   no-tgid ts-twice task-storage py-trap py-no-lookup
ABLATE_MASK_empty      := 0x1
ABLATE_MASK_no-hits    := 0x2
ABLATE_MASK_no-stats   := 0x4
ABLATE_MASK_no-ids     := 0x8
ABLATE_MASK_no-time    := 0x10
ABLATE_MASK_no-wakeup  := 0x20
ABLATE_MASK_no-record  := 0x40
ABLATE_MASK_exc-always := 0x80
ABLATE_MASK_no-filters := 0x100
ABLATE_MASK_no-tgid    := 0x200
ABLATE_MASK_ts-twice   := 0x400
ABLATE_MASK_task-storage := 0x800
ABLATE_MASK_py-trap    := 0x1000
ABLATE_MASK_py-no-lookup := 0x2000
ABLATE_OUT  := $(BENCH_OUT)/ablate
# user files that include spanprobe.skel.h
ABLATE_SKEL_USERS := python/python_eval python/python_probe tracer/tracer tracer/tracer_stats
ABLATE_BINS := $(foreach v,$(ABLATE_VARIANTS),$(ABLATE_OUT)/$(v)/spanprobe)

.PHONY: bench-ablations
bench-ablations: $(ABLATE_BINS)

define ablate_rules
$(ABLATE_OUT)/$(1)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) vmlinux/vmlinux.h
	@mkdir -p $$(@D)
	$(CLANG) $(BPF_FLAGS) -DSPANPROBE_ABLATE=$(ABLATE_MASK_$(1)) -c $$< -o $$@
$(ABLATE_OUT)/$(1)/spanprobe.bpf.o: $(patsubst bpf/%.bpf.c,$(ABLATE_OUT)/$(1)/bpf/%.bpf.o,$(BPF_SRCS))
	$(BPFTOOL) gen object $$@ $$^
$(ABLATE_OUT)/$(1)/spanprobe.skel.h: $(ABLATE_OUT)/$(1)/spanprobe.bpf.o
	$(BPFTOOL) gen skeleton $$< name spanprobe_bpf > $$@.tmp && mv $$@.tmp $$@
$(ABLATE_OUT)/$(1)/obj/%.o: user/%.c $(ABLATE_OUT)/$(1)/spanprobe.skel.h $(USER_HDRS) $(BPF_HDRS)
	@mkdir -p $$(@D)
	$(CC) -I$(ABLATE_OUT)/$(1) $(CPPFLAGS) $(CFLAGS) -c $$< -o $$@
$(ABLATE_OUT)/$(1)/spanprobe: build/obj/cli/main.o $(filter-out $(addprefix build/obj/,$(addsuffix .o,$(ABLATE_SKEL_USERS))),$(USER_OBJS)) \
		$(addprefix $(ABLATE_OUT)/$(1)/obj/,$(addsuffix .o,$(ABLATE_SKEL_USERS))) $(PROTO_OBJS)
	$(CC) $(LDFLAGS) $$^ $(LDLIBS) -o $$@
endef
$(foreach v,$(ABLATE_VARIANTS),$(eval $(call ablate_rules,$(v))))

$(BENCH_OUT)/bpf-stats-on: bench/bpf_stats_on.c
	@mkdir -p $(@D)
	$(BENCH_CLANG) $(BENCH_CFLAGS) $< -lbpf -o $@

bench-programs: $(BENCH_OUT)/bpf-stats-on

$(BENCH_OUT)/empty-uprobe: bench/empty_uprobe.c
	@mkdir -p $(@D)
	$(BENCH_CLANG) $(BENCH_CFLAGS) $< -lbpf -o $@

bench-programs: $(BENCH_OUT)/empty-uprobe
