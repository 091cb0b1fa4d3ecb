#!/usr/bin/env bash
# Derives deploy/seccomp/spanprobe.json, the Localhost seccomp profile of
# spanprobe's DaemonSet, from evidence: every system call spanprobe makes,
# recorded with `strace -f` over a whole DaemonSet-like run (the config of
# deploy/spanprobe.conf: wait for the binary, discover a container's process,
# trace it, export over OTLP/gRPC to the real Collector, SIGTERM: flush and
# detach), plus the calls the OCI runtime makes after it has installed the
# filter and before spanprobe runs (runc: execve of the entrypoint and its Go
# runtime's housekeeping), found the same way (see RUNTIME below).
# Everything else is refused with EPERM, as the runtimes' default profiles do.
# Usage: scripts/containers/seccomp-derive.sh [OUT]   (default: deploy/seccomp/spanprobe.json)
# Needs root, strace, podman (scripts/install-deps.sh test) and the peers.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/containers/podman-env.sh
ROOT=$PWD
out=${1:-deploy/seccomp/spanprobe.json}
work=$(mktemp -d /tmp/spanprobe-seccomp.XXXXXX)
ctr=spanprobe-seccomp-$$
collector="" jaeger=""
cleanup() {
	podman rm -f -t 1 "$ctr" >/dev/null 2>&1 || true
	for p in $collector $jaeger; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# Calls runc makes between installing the filter and exec'ing the entrypoint
# (Go runtime threads keep running until the execve): seen as denials in the
# kernel log (seccomp actions are logged) when the pod ran with a profile of
# the strace'd calls alone.
RUNTIME=(execve futex nanosleep epoll_pwait sched_yield tgkill getpid rt_sigreturn
	rt_sigprocmask sigaltstack exit_group exit capget capset prctl fstat close write)

for tool in strace jq curl; do command -v "$tool" >/dev/null || { echo "seccomp-derive: needs $tool" >&2; exit 1; }; done
peers=$(scripts/build-peers.sh)
COLLECTOR=$(sed -n 's/^COLLECTOR=//p' <<<"$peers")
JAEGER=$(sed -n 's/^JAEGER=//p' <<<"$peers")
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
jg=$(port) jh=$(port) cg=$(port) ch=$(port) jq_=$(port)
JAEGER_QUERY_HTTP_ENDPOINT=127.0.0.1:$jq_ JAEGER_QUERY_GRPC_ENDPOINT=127.0.0.1:$(port) \
	JAEGER_OTLP_GRPC_ENDPOINT=127.0.0.1:$jg JAEGER_OTLP_HTTP_ENDPOINT=127.0.0.1:$jh \
	"$JAEGER" --config tests/lib/jaeger.yaml >"$work/jaeger.log" 2>&1 &
jaeger=$!
OTELCOL_OTLP_GRPC_ENDPOINT=127.0.0.1:$cg OTELCOL_OTLP_HTTP_ENDPOINT=127.0.0.1:$ch \
	OTELCOL_JAEGER_ENDPOINT=127.0.0.1:$jg OTELCOL_METRICS_LEVEL=none \
	"$COLLECTOR" --config deploy/otel-collector.yaml >"$work/collector.log" 2>&1 &
collector=$!
for ((i = 0; i < 300; i++)); do grep -q "Everything is ready" "$work/collector.log" && break; sleep 0.1; done

# The DaemonSet's config, its ready file moved out of /run/spanprobe.
sed "s|^ready-file .*|ready-file $work/ready|" deploy/spanprobe.conf >"$work/spanprobe.conf"
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$cg OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
	OTEL_BSP_EXPORT_TIMEOUT=30000 OTEL_RESOURCE_ATTRIBUTES=k8s.node.name=seccomp \
	strace -f -qq -o "$work/strace.log" build/spanprobe --config "$work/spanprobe.conf" 2>"$work/sp.err" &
tracer=$!
for ((i = 0; i < 300; i++)); do [ -e "$work/ready" ] && break; sleep 0.1; done
podman run -d --name "$ctr" --entrypoint /usr/local/bin/demo-app "$DEMO_APP_IMAGE" \
	--requests 20 --interval 20 --time-scale 0.01 >/dev/null
podman wait "$ctr" >/dev/null
sleep 2 # a batch or two exported
kill -TERM "$tracer"
wait "$tracer" || { echo "seccomp-derive: spanprobe failed: $(tail -n 3 "$work/sp.err")" >&2; exit 1; }
grep -q 'OTLP exported [1-9]' "$work/sp.err" || { echo "seccomp-derive: nothing exported: $(tail -n 3 "$work/sp.err")" >&2; exit 1; }

# "PID name(args..." and "PID <... name resumed>" lines: the call names.
mapfile -t seen < <(sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)(\(| resumed>).*/\2/p' "$work/strace.log" | sort -u)
mapfile -t names < <(printf '%s\n' "${seen[@]}" "${RUNTIME[@]}" | sort -u)
mkdir -p "$(dirname "$out")"
jq -n --argjson names "$(printf '%s\n' "${names[@]}" | jq -R . | jq -s .)" '{
	defaultAction: "SCMP_ACT_ERRNO",
	defaultErrnoRet: 1,
	archMap: [
		{architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
		{architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"]}
	],
	syscalls: [{names: $names, action: "SCMP_ACT_ALLOW"}]
}' >"$out"
echo "seccomp-derive: $out allows ${#names[@]} system calls (${#seen[@]} seen under strace)" >&2
