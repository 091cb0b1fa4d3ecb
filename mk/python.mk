# Python support (python:INTERPRETER:FILES:FUNCS probes): the BPF object and
# skeleton user/python_probe.c includes, and the venv with the OpenTelemetry
# SDK that the in-process comparison (examples/python/app_sdk.py) runs in.
# Included by the Makefile.

PYTHON3_11 ?= /usr/bin/python3.11
PYVENV     := build/pyvenv
# usdt.bpf.h includes <linux/errno.h>, which needs the multiarch asm/ headers;
# -mcpu=v3 for the atomic fetch-and-add that numbers Python functions.
PY_BPF_FLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Ibpf \
	-idirafter /usr/include/$(shell uname -m)-linux-gnu

$(OUT)/python.bpf.o: bpf/python.bpf.c bpf/span_helpers.bpf.h bpf/span_event.h bpf/python_event.h vmlinux/vmlinux.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(PY_BPF_FLAGS) -c $< -o $@

$(OUT)/python.skel.h: $(OUT)/python.bpf.o
	$(BPFTOOL) gen skeleton $< name python_bpf > $@.tmp && mv $@.tmp $@

$(OUT)/obj/python/python_probe.o $(OUT)/test-obj/python/python_probe.o: $(OUT)/python.skel.h bpf/python_event.h
$(OUT)/obj/python/python_interp.o $(OUT)/test-obj/python/python_interp.o: bpf/python_event.h

# Not part of `all`: it downloads from PyPI. Debian's Flask is used through
# --system-site-packages, so both apps run the same Flask.
.PHONY: pyvenv
pyvenv: $(PYVENV)/.ok
$(PYVENV)/.ok: mk/python.mk
	rm -rf $(PYVENV)
	$(PYTHON3_11) -m venv --system-site-packages $(PYVENV)
	$(PYVENV)/bin/pip install --quiet --disable-pip-version-check \
		opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc
	@touch $@
