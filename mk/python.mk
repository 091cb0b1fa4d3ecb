# The venv with the OpenTelemetry SDK that the in-process comparison
# (examples/python/app_sdk.py) runs in. Not part of `all`: it downloads from
# PyPI. Debian's Flask is used through --system-site-packages, so both apps
# run the same Flask.
PYTHON3_11 ?= /usr/bin/python3.11
PYVENV     := build/pyvenv

.PHONY: pyvenv
pyvenv: $(PYVENV)/.ok
$(PYVENV)/.ok: mk/python.mk
	rm -rf $(PYVENV)
	$(PYTHON3_11) -m venv --system-site-packages $(PYVENV)
	$(PYVENV)/bin/pip install --quiet --disable-pip-version-check \
		opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc
	@touch $@
