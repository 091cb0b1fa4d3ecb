#!/usr/bin/env bash
# `make container-demo`: deploy/ on a real container runtime (podman + runc),
# without a cluster. Builds the images (scripts/container-images.sh), renders
# the manifests with kustomize's library (tests/deploy: deploy-check pod) and
# plays each workload's pod template as a Pod (podman kube play has no
# DaemonSet): Jaeger and the Collector, spanprobe's DaemonSet pod exactly as
# its template says (image, args, env, capabilities, hostPID, mounts, the
# ConfigMap as its file, seccomp profile, read-only root; run with `podman
# run` from the same rendering, as kube play 4.3 drops hostPID), then the demo
# app's Deployment. Ends by reading the traces back from Jaeger's API and checking
# them against what the app printed.
#
# What a cluster would supply and one host can't, stood in for:
#   - Service names (otel-collector.opentelemetry.svc.cluster.local, jaeger):
#     /etc/hosts entries (hostAliases) with the pods' static addresses on a
#     podman network of their own;
#   - the kubelet's Localhost seccomp profile directory: deploy/seccomp/;
#   - spec.nodeName for the downward API: this host's name.
# DEMO_REQUESTS (default 5): requests to trace (more until the app has printed
# its simulated exception once). DEMO_KEEP=1 leaves
# the pods running (Jaeger's UI and API at the address printed).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/containers/podman-env.sh
source scripts/containers/pods.sh

REQUESTS=${DEMO_REQUESTS:-5}
STATE=build/container-demo
keep=${DEMO_KEEP:-0}
PODS=(demo-app spanprobe otel-collector jaeger) # stop order
say() { printf '\n== %s\n' "$*"; }
die() { echo "container-demo: $*" >&2; exit 1; }
# podman warns on every play that it can't reach systemd for healthchecks
# (the probes run from here instead); keep its other messages.
quiet_play() { grep -v -e 'systemd' -e 'static macs' -e 'syslog' >&2 || true; }

stop_pods() {
	local p
	for p in "${PODS[@]}"; do
		if [ "$p" = spanprobe ]; then
			podman stop -t "$(grace_of "$STATE/spanprobe.yaml")" spanprobe-spanprobe >/dev/null 2>&1
			podman rm -f spanprobe-spanprobe >/dev/null 2>&1
		elif [ -f "$STATE/$p.yaml" ]; then
			pod_down "$STATE/$p.yaml" "$(grace_of "$STATE/$p.yaml")"
		fi
	done
}
grace_of() { sed -n 's/^ *terminationGracePeriodSeconds: *//p' "$1" | head -n 1 | grep . || echo 30; }
on_exit() {
	if [ "$keep" = 1 ]; then
		echo "pods keep running (DEMO_KEEP=1): Jaeger at http://${POD_SUBNET_PREFIX:-?}10:16686"
		echo "stop them with: podman pod rm -f demo-app otel-collector jaeger; podman rm -f spanprobe-spanprobe"
	else
		stop_pods
	fi
}

# wait_until SECS WHAT COMMAND...: COMMAND succeeds within SECS (a hang guard).
wait_until() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 4; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	die "$what did not happen in $secs s"
}

why=$(podman_usable) || die "$why"
for tool in curl jq; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
mkdir -p "$STATE"

say "building the images (scripts/container-images.sh; cached after the first run)"
scripts/container-images.sh all peers >"$STATE/images.txt" || die "the images could not be built (reason above)"
sed 's/^/   /' "$STATE/images.txt"
pods_deploy_check || die "the manifests can't be rendered"
pods_network "$POD_NETWORK" || die "podman network $POD_NETWORK can't be made"
P=$POD_SUBNET_PREFIX
JAEGER_IP=${P}10 COLLECTOR_IP=${P}11 SPANPROBE_IP=${P}12 DEMO_IP=${P}13
trap on_exit EXIT
trap 'exit 130' INT TERM

say "rendering deploy/ (kustomize) into pods: $STATE/*.yaml"
pod_render "$STATE/jaeger.yaml" opentelemetry/jaeger || die "rendering jaeger failed"
pod_render "$STATE/otel-collector.yaml" opentelemetry/otel-collector \
	--host-alias "jaeger=$JAEGER_IP" || die "rendering the collector failed"
pod_render "$STATE/spanprobe.yaml" opentelemetry/spanprobe --node "$(hostname)" \
	--host-alias "otel-collector.opentelemetry.svc.cluster.local=$COLLECTOR_IP" ||
	die "rendering spanprobe's DaemonSet failed"
pod_render "$STATE/demo-app.yaml" demo/demo-app || die "rendering demo-app failed"

say "Jaeger ($JAEGER_IP) and the Collector ($COLLECTOR_IP)"
pod_play "$STATE/jaeger.yaml" "$JAEGER_IP" 2> >(quiet_play) || die "jaeger did not start"
wait_until 30 "Jaeger's API answering" curl -sf "http://$JAEGER_IP:16686/api/services"
pod_play "$STATE/otel-collector.yaml" "$COLLECTOR_IP" 2> >(quiet_play) || die "the collector did not start"
wait_until 30 "the Collector listening on 4317" bash -c "exec 3<>/dev/tcp/$COLLECTOR_IP/4317"

# podman kube play 4.3 ignores hostPID (the container would get a PID
# namespace of its own and see no other pod): this pod runs with `podman run`
# and the arguments deploy-check renders from the same template.
say "spanprobe's DaemonSet pod ($SPANPROBE_IP), seccomp profile from deploy/seccomp/"
SPANPROBE_CTR=$(pod_container spanprobe spanprobe)
podman rm -f "$SPANPROBE_CTR" >/dev/null 2>&1
pod_run "$SPANPROBE_IP" "$STATE/spanprobe" opentelemetry/spanprobe --node "$(hostname)" \
	--host-alias "otel-collector.opentelemetry.svc.cluster.local=$COLLECTOR_IP" ||
	die "the spanprobe pod did not start"
echo "   podman run $(tr '\n' ' ' <"$STATE/spanprobe/run.args")"
mapfile -t ready_cmd < <(pod_ready_cmd "$STATE/spanprobe.yaml")
[ ${#ready_cmd[@]} -gt 0 ] || die "the DaemonSet has no exec readiness probe"
echo "   readiness probe: ${ready_cmd[*]}"
wait_until 60 "spanprobe ready (its readiness probe passing)" podman exec "$SPANPROBE_CTR" "${ready_cmd[@]}"
podman logs "$SPANPROBE_CTR" 2>&1 | sed 's/^/   /'

say "the demo app's Deployment ($DEMO_IP), until $REQUESTS requests and an exception"
start_us=$(($(date +%s%N) / 1000))
pod_play "$STATE/demo-app.yaml" "$DEMO_IP" 2> >(quiet_play) || die "demo-app did not start"
DEMO_CTR=$(pod_container demo-app demo-app)
# Each request prints exactly one "Zoo function completed." line; about one
# in five first prints the simulated exception: run until both are seen.
completed() {
	local log
	log=$(podman logs "$DEMO_CTR" 2>&1)
	[ "$(grep -c 'Zoo function completed' <<<"$log")" -ge $((REQUESTS + 1)) ] &&
		grep -q 'Exception in goo' <<<"$log"
}
wait_until $((REQUESTS * 30 + 60)) "$REQUESTS requests of demo-app, one with the exception" completed

say "stopping demo-app, then spanprobe with its grace period (it flushes its last batch)"
podman pod stop -t "$(grace_of "$STATE/demo-app.yaml")" demo-app >/dev/null
podman logs "$DEMO_CTR" >"$STATE/demo-app.log" 2>&1 || true
podman stop -t "$(grace_of "$STATE/spanprobe.yaml")" "$SPANPROBE_CTR" >/dev/null
sp_status=$(podman inspect -f '{{.State.ExitCode}}' "$SPANPROBE_CTR")
podman logs "$SPANPROBE_CTR" 2>&1 | tail -n 3 | sed 's/^/   /'
echo "   spanprobe exited $sp_status"
[ "$sp_status" = 0 ] || die "spanprobe exited $sp_status on SIGTERM"
pod_down "$STATE/demo-app.yaml" 1

say "reading the traces back from Jaeger's API"
url="http://$JAEGER_IP:16686/api/traces?service=demo-app&start=$start_us&limit=1000"
app_requests=$(grep -c 'Zoo function completed' "$STATE/demo-app.log")
# The app's requests in order, 1 = goo raised the simulated exception.
app_errors=$(awk '/Exception in goo/ {e = 1} /Zoo function completed/ {print e + 0; e = 0}' "$STATE/demo-app.log")
# spanprobe's own count of foo calls it saw: every one must reach Jaeger.
foo_hits=$(podman logs "$SPANPROBE_CTR" 2>&1 | sed -n 's/.*hits per function: foo \([0-9]*\).*/\1/p' | tail -n 1)
[ -n "$foo_hits" ] || die "spanprobe printed no hit counts"
[ "$foo_hits" -ge $((app_requests - 1)) ] ||
	die "spanprobe saw $foo_hits foo calls of the app's $app_requests requests (only the first may start before it attaches)"
answer='{}'
for ((i = 0; i < 60; i++)); do # the collector batches for 1 s
	answer=$(curl -sf "$url") || answer='{}'
	complete=$(jq '[.data[]? | select(any(.spans[]; .operationName == "foo" and (.references // [] | length) == 0))] | length' <<<"$answer")
	[ "${complete:-0}" -ge "$foo_hits" ] && break
	sleep 0.5
done
printf '%s\n' "$answer" >"$STATE/traces.json"
# Complete traces (a root foo with goo and zoo under it) in start order, 1 = an
# error span: they must be the app's last requests, in order (its first may
# start before spanprobe has attached to the new process).
traced_errors=$(jq -r '[.data[] | select(any(.spans[]; .operationName == "foo" and (.references // [] | length) == 0))
	| {start: ([.spans[] | select(.operationName == "foo")][0].startTime),
	   names: ([.spans[].operationName] | sort),
	   error: (if any(.spans[]; any(.tags[]; .key == "error" and .value == true)) then 1 else 0 end)}]
	| sort_by(.start) | .[] | "\(.error) \(.names | join(","))"' "$STATE/traces.json")
n=$(grep -c . <<<"$traced_errors")
bad_shape=$(grep -vc ' foo,goo,zoo$' <<<"$traced_errors")
echo "Jaeger (http://$JAEGER_IP:16686, service demo-app) holds $n complete traces;"
echo "the app printed $app_requests requests, $(grep -c 1 <<<"$app_errors") with the exception."
echo "  API: curl '$url'"
[ "$n" -eq "$foo_hits" ] || die "Jaeger has $n complete traces; spanprobe saw $foo_hits foo calls"
[ "$bad_shape" -eq 0 ] || die "$bad_shape traces are not foo with goo and zoo"
want=$(tail -n "$n" <<<"$app_errors")
got=$(cut -d' ' -f1 <<<"$traced_errors")
[ "$got" = "$want" ] || die "errors in Jaeger ($(tr '\n' ' ' <<<"$got")) differ from the app's last $n requests ($(tr '\n' ' ' <<<"$want"))"
echo "every traced request is foo -> goo, zoo; ERROR exactly on the requests where the app printed the exception"
