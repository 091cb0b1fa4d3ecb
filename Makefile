# spanprobe: eBPF uprobes -> OpenTelemetry spans.
#   make            build build/spanprobe and build/demo-app (installs missing Debian deps)
#   make demo       the main job: trace demo-app, show its spans (and in Jaeger when it builds)
#   make test       every test; ends with "N passed, N failed"
#   make test-mutants  spanprobe with each deliberate fault of tests/mutants/list: which test catches it
#   make SANITIZE=1 an ASan+UBSan build under build/asan/

CLANG    ?= clang-19
CC       := $(CLANG)
BPFTOOL  ?= bpftool
PROTOC_C ?= protoc-c
ARCH     := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')

ifeq ($(SANITIZE),1)
OUT      := build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
OUT      := build
SANFLAGS :=
endif

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) $(SANFLAGS) -D_GNU_SOURCE
# user/ is grouped in folders by layer; each is on the include path, so a
# module includes another's header by its name alone.
USER_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard user/*/*.[ch]))))
USER_HDRS := $(wildcard user/*/*.h)
BPF_HDRS  := $(wildcard bpf/*.h)
CPPFLAGS += $(addprefix -I,$(USER_DIRS)) -Ibpf -I$(OUT) -Ibuild/proto
LDLIBS   += -lbpf -lelf -ldw -lcapstone -liberty -lz -lprotobuf-c -lcurl -ljson-c -lyaml -lpthread -lm
LDFLAGS  += $(SANFLAGS)

PROTO_FILES := $(shell find proto -name '*.proto' | sort)
PROTO_SRCS  := $(patsubst proto/%.proto,build/proto/%.pb-c.c,$(PROTO_FILES))
PROTO_OBJS  := $(patsubst build/proto/%.c,$(OUT)/proto-obj/%.o,$(PROTO_SRCS))

USER_SRCS := $(filter-out user/cli/main.c,$(wildcard user/*/*.c))
USER_OBJS := $(patsubst user/%.c,$(OUT)/obj/%.o,$(USER_SRCS))
# Unit tests link objects built with UNITTEST empty, so statics are reachable.
TEST_OBJS := $(patsubst user/%.c,$(OUT)/test-obj/%.o,$(USER_SRCS))
SKEL      := $(OUT)/spanprobe.skel.h

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))

.PHONY: all build-all deps test-deps demo test unit peers clean bench bench-startup bench-load test-mutants
# Keep intermediate objects (test-obj, generated protos) between builds.
.SECONDARY:
# Entry points install what is missing first, then build in a sub-make, so no
# rule runs a compiler or bpftool before the installer (on a fresh machine
# none of them is there yet).
all: deps
	@$(MAKE) --no-print-directory build-all
build-all: $(OUT)/spanprobe build/demo-app fixtures

DEPS_STAMP      := build/.deps-ok
TEST_DEPS_STAMP := build/.deps-test-ok
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p build
	@scripts/install-deps.sh
	@touch $@
test-deps: $(TEST_DEPS_STAMP)
$(TEST_DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p build
	@scripts/install-deps.sh test
	@touch $@ $(DEPS_STAMP)

vmlinux/vmlinux.h: | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# One BPF object: each probe source in its own bpf/*.bpf.c, all sharing the
# shadow stack and maps of bpf/shadow_stack.bpf.h, linked by bpftool.
# usdt.bpf.h includes <linux/errno.h>, which needs the multiarch asm/ headers;
# -mcpu=v3 for the atomic fetch-and-add that numbers Python functions.
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_FLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Ibpf \
	     -idirafter /usr/include/$(shell uname -m)-linux-gnu

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) vmlinux/vmlinux.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_FLAGS) -c $< -o $@

$(OUT)/spanprobe.bpf.o: $(BPF_OBJS)
	$(BPFTOOL) gen object $@ $^

$(SKEL): $(OUT)/spanprobe.bpf.o
	$(BPFTOOL) gen skeleton $< name spanprobe_bpf > $@.tmp && mv $@.tmp $@

build/proto/%.pb-c.c build/proto/%.pb-c.h: proto/%.proto | $(DEPS_STAMP)
	@mkdir -p build/proto
	$(PROTOC_C) -Iproto --c_out=build/proto $<

$(OUT)/proto-obj/%.o: build/proto/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-parameter -c $< -o $@

$(OUT)/obj/%.o: user/%.c $(SKEL) $(PROTO_SRCS) $(USER_HDRS) $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/test-obj/%.o: user/%.c $(SKEL) $(PROTO_SRCS) $(USER_HDRS) $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DUNITTEST= $(CFLAGS) -c $< -o $@

$(OUT)/spanprobe: $(OUT)/obj/cli/main.o $(USER_OBJS) $(PROTO_OBJS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The example workload: plain C, no tracing code, frame pointers as distros build.
build/demo-app: examples/demo-app.c | $(DEPS_STAMP)
	@mkdir -p build
	$(CC) -std=gnu11 $(WARN) -O2 -g -fno-omit-frame-pointer $< -o $@ -lpthread -lm

# Unit tests: one binary per tests/unit/test_*.c, linked with the user objects.
$(OUT)/tests/%: tests/unit/%.c tests/unit/unit.h $(TEST_OBJS) $(PROTO_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DUNITTEST= $(CFLAGS) -Itests/unit $< $(TEST_OBJS) $(PROTO_OBJS) $(LDFLAGS) $(LDLIBS) -o $@

# Each tests/fixtures/*.mk adds its binaries as prerequisites of `fixtures`.
.PHONY: fixtures
fixtures:
include $(wildcard tests/fixtures/*.mk)
# Further rules by subject (mk/python.mk: the Python BPF object and the SDK venv).
include $(wildcard mk/*.mk)

unit: deps
	@$(MAKE) --no-print-directory $(UNIT_BINS) fixtures

peers:
	@scripts/build-peers.sh

demo: deps
	@$(MAKE) --no-print-directory build-all
	@scripts/demo.sh

test: test-deps
	@$(MAKE) --no-print-directory build-all $(UNIT_BINS) kernel-tools
	@$(MAKE) --no-print-directory SANITIZE=1 build/asan/spanprobe $(patsubst $(OUT)/%,build/asan/%,$(UNIT_BINS))
	@tests/run.sh

bench: test-deps
	@$(MAKE) --no-print-directory build-all
	@bench/run.sh

# Start-up against bpftrace (bench/startup-results.md); the load's memory and
# CPU on this kernel (the kernel matrix runs it on the others).
bench-startup: test-deps
	@$(MAKE) --no-print-directory all
	@bench/startup.sh
bench-load: deps
	@$(MAKE) --no-print-directory all
	@bench/load_cost.sh

# make test-mutants: spanprobe built with each deliberate fault of
# tests/mutants/list (-DMUTANT -DMUTANT_<NAME>: only the user/ files with a
# hook are compiled again) runs the suites that must catch it; prints the table.
MUTANTS     := $(shell sed -n 's/^\([a-z_]*\)[[:space:]].*/\1/p' tests/mutants/list)
MUTANT_SRCS := $(shell grep -l '^\#if.*MUTANT' user/*/*.c)
define mutant_rules
build/mutants/$(1)/obj/%.o: user/%.c $$(SKEL) $$(PROTO_SRCS) $$(USER_HDRS) $$(BPF_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) -DMUTANT -DMUTANT_$(shell echo $(1) | tr a-z A-Z) -c $$< -o $$@
build/mutants/$(1)/spanprobe: $(foreach f,user/cli/main.c $(USER_SRCS),$(if $(filter $(f),$(MUTANT_SRCS)),build/mutants/$(1),build)/obj/$(patsubst user/%.c,%.o,$(f))) $$(PROTO_OBJS)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach m,$(MUTANTS),$(eval $(call mutant_rules,$(m))))

test-mutants: test-deps
	@$(MAKE) --no-print-directory build-all $(foreach m,$(MUTANTS),build/mutants/$(m)/spanprobe)
	@tests/mutants/run.sh

clean:
	rm -rf build
