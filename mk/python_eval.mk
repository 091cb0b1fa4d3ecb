# CPython without USDT: the layout tool the layout check runs
# (tests/integration/python_layouts.sh), and the evaluator-probe prototype
# (bpf/python_eval.bpf.c + user/python/python_eval.c, built on its own as
# build/python-eval until the tracer uses it). Included by the Makefile.

CPYTHON_OBJS := $(OUT)/obj/python/cpython_layout.o $(OUT)/obj/python/cpython_binary.o
$(OUT)/obj/python/cpython_layout.o $(OUT)/obj/python/cpython_binary.o: bpf/python_layout.h

build/tools/cpython-layout-dump: tests/tools/cpython_layout_dump.c $(CPYTHON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $^ $(LDFLAGS) -lelf -lcapstone -o $@

fixtures: build/tools/cpython-layout-dump
