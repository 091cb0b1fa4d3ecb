# CPython without USDT: the tools the Python tests run. cpython-layout-dump
# prints the layout spanprobe reads from a libpython (the layout check,
# tests/integration/python_layouts.sh); cpython-eval-frame reads a running
# interpreter's eval_frame (inlining off while traced, back on after).
# Included by the Makefile.

CPYTHON_OBJS := $(OUT)/obj/python/cpython_layout.o $(OUT)/obj/python/cpython_binary.o \
		$(OUT)/obj/elf/elf_raw.o
$(OUT)/obj/python/cpython_layout.o $(OUT)/obj/python/cpython_binary.o: bpf/python_layout.h

build/tools/cpython-layout-dump: tests/tools/cpython_layout_dump.c $(CPYTHON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $^ $(LDFLAGS) -lelf -lcapstone -o $@

build/tools/cpython-eval-frame: tests/tools/cpython_eval_frame.c $(CPYTHON_OBJS) $(OUT)/obj/python/cpython_hook.o \
		$(OUT)/obj/common/maps_identity.o
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $^ $(LDFLAGS) -lelf -lcapstone -o $@

fixtures: build/tools/cpython-layout-dump build/tools/cpython-eval-frame
