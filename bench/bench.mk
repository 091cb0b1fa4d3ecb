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
		  call-cost-cet span-load otlp-null-sink otlp-encode-bench)

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
