#!/usr/bin/env bash
# Build the real OpenTelemetry Collector (with its official builder) and real
# Jaeger v2 from their Go modules, once, cached outside the repository.
# Prints nothing on success but the two binaries' paths; their code is never
# committed here. Usage: scripts/build-peers.sh [--print-dir]
set -euo pipefail

COLLECTOR_VERSION=v0.159.0        # collector components and builder
CONFMAP_VERSION=v1.65.0           # confmap providers released with it
# Jaeger v2: its v2.x tags can't be go-installed (module path is v1), v1.x tags
# carry replace directives, and newer main drops /api/traces. The module proxy
# serves v1.76.0 (the commit of Jaeger v2.13.0): build it as a main module.
JAEGER_MODULE_VERSION=v1.76.0

cache=${SPANPROBE_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spanprobe-peers}
mkdir -p "$cache"
# One build at a time: tests/run.sh starts the test prerequisites in the
# background (scripts/prepare-tests.sh), and a test that needs them waits here.
exec 9>"$cache/.lock"
flock 9
source "$(dirname "$0")/progress.sh"
source "$(dirname "$0")/lib/go_module.sh"
export GOPATH=${GOPATH:-$cache/gopath} GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOBIN=$cache/bin
mkdir -p "$GOBIN"

if ! command -v go >/dev/null; then
	echo "build-peers: no Go toolchain on PATH (install golang-go or Go >= 1.24)" >&2
	exit 1
fi

collector=$cache/otelcol-spanprobe-$COLLECTOR_VERSION/otelcol-spanprobe
if [ ! -x "$collector" ]; then
	echo "build-peers: building OpenTelemetry Collector $COLLECTOR_VERSION and then Jaeger (once," \
		"about 7 minutes for both on 2 CPUs; cached in $cache)" >&2
	with_progress "building the Collector" go install go.opentelemetry.io/collector/cmd/builder@$COLLECTOR_VERSION
	dir=$(dirname "$collector")
	mkdir -p "$dir"
	cat >"$dir/builder.yaml" <<YAML
dist:
  name: otelcol-spanprobe
  description: OpenTelemetry Collector for spanprobe's tests and demo
  output_path: $dir
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $COLLECTOR_VERSION
processors:
  - gomod: go.opentelemetry.io/collector/processor/batchprocessor $COLLECTOR_VERSION
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/otlpexporter $COLLECTOR_VERSION
  - gomod: go.opentelemetry.io/collector/exporter/otlphttpexporter $COLLECTOR_VERSION
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter $COLLECTOR_VERSION
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider $CONFMAP_VERSION
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider $CONFMAP_VERSION
  - gomod: go.opentelemetry.io/collector/confmap/provider/yamlprovider $CONFMAP_VERSION
YAML
	with_progress "building the Collector" "$GOBIN/builder" --config "$dir/builder.yaml" >"$dir/build.log" 2>&1 || {
		echo "build-peers: collector build failed; see $dir/build.log" >&2
		exit 1
	}
fi

jaeger=$cache/jaeger-$JAEGER_MODULE_VERSION/jaeger
if [ ! -x "$jaeger" ]; then
	echo "build-peers: building Jaeger v2 (module $JAEGER_MODULE_VERSION; once, about 3 minutes)" >&2
	module_binary Jaeger "$jaeger" "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" ./cmd/jaeger
fi

echo "COLLECTOR=$collector"
echo "JAEGER=$jaeger"
