#!/usr/bin/env bash
# Derives deploy/seccomp/spanprobe.json, the Localhost seccomp profile of
# spanprobe's DaemonSet, from evidence, in two runs of the DaemonSet's config
# (deploy/spanprobe.conf: wait for the binary, find it in a container started
# later, trace it, export over OTLP/gRPC to the real Collector, SIGTERM: flush
# and detach):
#   1. spanprobe on the host under `strace -f`: every call it makes, with
#      uprobe_multi links and with the perf-event uprobes of kernels < 6.6;
#   2. spanprobe in its container as the DaemonSet runs it (capabilities,
#      hostPID, read-only root, mounts), under a profile that allows the calls
#      of run 1 and logs any other (SCMP_ACT_LOG; the kernel prints each as an
#      audit record type=1326): what the runtime calls after installing the
#      filter (runc's exec of the entrypoint) and anything run 1 missed.
# The profile allows the union and refuses everything else with EPERM.
# Usage: scripts/containers/seccomp-derive.sh [OUT]   (default: deploy/seccomp/spanprobe.json)
# Needs root, strace, podman, the images (scripts/container-images.sh) and the
# peers (scripts/build-peers.sh). x86-64 only: other architectures' extra
# calls would show in their own run 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/containers/podman-env.sh
out=${1:-deploy/seccomp/spanprobe.json}
work=$(mktemp -d /tmp/spanprobe-seccomp.XXXXXX)
ctr=spanprobe-seccomp-$$
pids=()
cleanup() {
	podman rm -f --ignore -t 1 "$ctr-app" "$ctr-sp" "$ctr-net" >/dev/null 2>&1 || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
die() { echo "seccomp-derive: $*" >&2; exit 1; }

UNISTD=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
[ "$(uname -m)" = x86_64 ] || die "derive on x86-64 (the syscall table used is $UNISTD)"
for tool in strace jq; do command -v "$tool" >/dev/null || die "needs $tool"; done
[ -r "$UNISTD" ] || die "no $UNISTD (linux-libc-dev)"

peers=$(scripts/build-peers.sh)
COLLECTOR=$(sed -n 's/^COLLECTOR=//p' <<<"$peers")
JAEGER=$(sed -n 's/^JAEGER=//p' <<<"$peers")
# The peers on the podman network's gateway address, reachable from the
# container and from here.
podman network exists spanprobe-seccomp || podman network create spanprobe-seccomp >/dev/null
gw=$(podman network inspect -f '{{range .Subnets}}{{.Gateway}} {{end}}' spanprobe-seccomp | awk '{print $1}')
# the bridge (and its address) exists while a container is on the network
podman run -d --name "$ctr-net" --network spanprobe-seccomp --entrypoint sleep "$SPANPROBE_IMAGE" infinity >/dev/null
free() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
jg=$(free) cg=$(free)
JAEGER_QUERY_HTTP_ENDPOINT=127.0.0.1:$(free) JAEGER_QUERY_GRPC_ENDPOINT=127.0.0.1:$(free) \
	JAEGER_OTLP_GRPC_ENDPOINT=127.0.0.1:$jg JAEGER_OTLP_HTTP_ENDPOINT=127.0.0.1:$(free) \
	"$JAEGER" --config tests/lib/jaeger.yaml >"$work/jaeger.log" 2>&1 &
pids+=($!)
OTELCOL_OTLP_GRPC_ENDPOINT=$gw:$cg OTELCOL_OTLP_HTTP_ENDPOINT=127.0.0.1:$(free) \
	OTELCOL_JAEGER_ENDPOINT=127.0.0.1:$jg OTELCOL_METRICS_LEVEL=none \
	"$COLLECTOR" --config deploy/otel-collector.yaml >"$work/collector.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 300; i++)); do grep -qs "Everything is ready" "$work/collector.log" && break; sleep 0.1; done
grep -q "Everything is ready" "$work/collector.log" || die "the collector did not start: $(tail -n 3 "$work/collector.log")"
export OTEL_EXPORTER_OTLP_ENDPOINT=http://$gw:$cg OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
	OTEL_BSP_EXPORT_TIMEOUT=30000 OTEL_RESOURCE_ATTRIBUTES=k8s.node.name=seccomp

# workload: a demo-app container (found by spanprobe when it execs) runs 20
# requests, and their spans are exported.
workload() {
	podman run --rm --name "$ctr-app" --network spanprobe-seccomp --user 65534 --read-only \
		--cap-drop ALL --entrypoint /usr/local/bin/demo-app "$DEMO_APP_IMAGE" \
		--requests 20 --interval 20 --time-scale 0.01 >/dev/null
	sleep 2 # a batch exported before the stop
}

# No API server runs here to choose pods from: the config's pod selection
# (namespace, pod-selector, container) becomes --exe demo-app, which puts the
# probes into each chosen process the same way.
without_pod_selection() {
	sed -E -e '/^(pod-selector|container)([[:space:]=]|$)/d' -e 's/^namespace([[:space:]=].*)?$/exe demo-app/' "$@"
}

# 1. strace on the host, once with uprobe_multi links, once with the
# perf-event uprobes spanprobe falls back to on kernels before 6.6
strace_run() { # strace_run NAME [ENV...]
	local name=$1 tracer
	shift
	without_pod_selection deploy/spanprobe.conf | sed "s|^ready-file .*|ready-file $work/ready-$name|" >"$work/$name.conf"
	env "$@" strace -f -qq -o "$work/$name.strace" build/spanprobe --config "$work/$name.conf" \
		2>"$work/$name.err" &
	tracer=$!
	for ((i = 0; i < 300; i++)); do [ -e "$work/ready-$name" ] && break; sleep 0.1; done
	[ -e "$work/ready-$name" ] || die "spanprobe ($name) not ready: $(tail -n 3 "$work/$name.err")"
	workload
	# strace ignores SIGTERM while it runs a command: stop spanprobe itself
	kill -TERM "$(pgrep -P "$tracer" -x spanprobe)"
	wait "$tracer" || die "spanprobe ($name) failed: $(tail -n 3 "$work/$name.err")"
	grep -q 'OTLP exported [1-9]' "$work/$name.err" || die "nothing exported ($name): $(tail -n 3 "$work/$name.err")"
}
strace_run multi
strace_run perf SPANPROBE_NO_UPROBE_MULTI=1
mapfile -t seen < <(cat "$work"/*.strace |
	sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)(\(| resumed>).*/\2/p' | sort -u)
echo "seccomp-derive: run 1 (strace): ${#seen[@]} calls" >&2

# 2. in the container, as the DaemonSet runs it, unlisted calls logged
profile() { # profile ACTION NAMES...
	local action=$1
	shift
	jq -n --arg action "$action" --argjson names "$(printf '%s\n' "$@" | jq -R . | jq -s .)" '{
		defaultAction: $action,
		archMap: [
			{architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
			{architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"]}
		],
		syscalls: [{names: $names, action: "SCMP_ACT_ALLOW"}]
	} + (if $action == "SCMP_ACT_ERRNO" then {defaultErrnoRet: 1} else {} end)'
}
profile SCMP_ACT_LOG "${seen[@]}" >"$work/log.json"
without_pod_selection deploy/spanprobe.conf >"$work/container.conf"
since=$(dmesg | wc -l)
podman run -d --name "$ctr-sp" --network spanprobe-seccomp --pid=host --cap-drop=ALL \
	--cap-add=BPF,PERFMON,SYS_PTRACE,SYS_RESOURCE --security-opt no-new-privileges \
	--security-opt "seccomp=$work/log.json" --read-only --tmpfs /run/spanprobe \
	-v /sys/kernel/btf:/sys/kernel/btf:ro -v /sys/fs/bpf:/sys/fs/bpf \
	-v "$work/container.conf:/etc/spanprobe/spanprobe.conf:ro" \
	-e OTEL_EXPORTER_OTLP_ENDPOINT -e OTEL_EXPORTER_OTLP_PROTOCOL -e OTEL_BSP_EXPORT_TIMEOUT \
	-e OTEL_RESOURCE_ATTRIBUTES "$SPANPROBE_IMAGE" --config /etc/spanprobe/spanprobe.conf >/dev/null
for ((i = 0; i < 300; i++)); do podman exec "$ctr-sp" test -f /run/spanprobe/ready 2>/dev/null && break; sleep 0.1; done
podman exec "$ctr-sp" test -f /run/spanprobe/ready || die "spanprobe (container) not ready: $(podman logs "$ctr-sp" 2>&1 | tail -n 3)"
workload
podman stop -t 40 "$ctr-sp" >/dev/null
[ "$(podman inspect -f '{{.State.ExitCode}}' "$ctr-sp")" = 0 ] ||
	die "spanprobe (container) failed: $(podman logs "$ctr-sp" 2>&1 | tail -n 3)"
podman logs "$ctr-sp" 2>&1 | grep -q 'OTLP exported [1-9]' || die "the container exported nothing"
mapfile -t numbers < <(dmesg | tail -n +$((since + 1)) |
	sed -nE 's/.*type=1326 .*comm="(runc:\[2:INIT\]|spanprobe)".* syscall=([0-9]+) .*/\2/p' | sort -un)
logged=()
for n in "${numbers[@]}"; do
	name=$(awk -v n="$n" '$1 == "#define" && $3 == n { sub(/^__NR_/, "", $2); print $2; exit }' "$UNISTD")
	logged+=("${name:-unknown_$n}")
done
echo "seccomp-derive: run 2 (container, logged beyond run 1): ${logged[*]:-none}" >&2

# Both runs export to an address; in a cluster the Collector's name goes
# through glibc's resolver, which sends its A and AAAA queries with sendmmsg
# (seen on a real node, scripts/cluster.sh: every export failed without it).
dns=(sendmmsg)
mapfile -t names < <(printf '%s\n' "${seen[@]}" "${logged[@]}" "${dns[@]}" | grep . | sort -u)
mkdir -p "$(dirname "$out")"
profile SCMP_ACT_ERRNO "${names[@]}" >"$out"
echo "seccomp-derive: $out allows ${#names[@]} system calls" >&2
