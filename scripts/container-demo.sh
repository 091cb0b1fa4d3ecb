#!/usr/bin/env bash
# `make container-demo`: deploy/ on a real container runtime (podman + runc),
# without a cluster. Builds the images (scripts/container-images.sh), renders
# the manifests with kustomize's library (tests/deploy: deploy-check pod) and
# plays each workload's pod template as a Pod (podman kube play has no
# DaemonSet): Jaeger and the Collector, spanprobe's DaemonSet pod exactly as
# its template says (image, args, env, capabilities, hostPID, mounts, the
# ConfigMap as its file, seccomp profile, read-only root; run with `podman
# run` from the same rendering, as kube play 4.3 drops hostPID), then the two
# workloads' Deployments: the C demo app and the exercise's Flask app in its
# image shaped like python:3.10 (CPython without USDT: spanprobe's evaluator
# path), which the Deployment's own `load` container sends a request a second
# (the app listens on 127.0.0.1 only, as the exercise wrote it). Ends by
# reading the traces of both back from Jaeger's API and checking them against
# what each app printed.
#
# What a cluster would supply and one host can't, stood in for:
#   - Service names (otel-collector.opentelemetry.svc.cluster.local, jaeger):
#     /etc/hosts entries (hostAliases) with the pods' static addresses on a
#     podman network of their own;
#   - the kubelet's Localhost seccomp profile directory: deploy/seccomp/;
#   - spec.nodeName for the downward API: this host's name.
# DEMO_REQUESTS (default 5): requests to trace in each app (more until each
# app has printed its simulated exception once). DEMO_KEEP=1 leaves
# the pods running (Jaeger's UI and API at the address printed).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/containers/podman-env.sh
source scripts/containers/pods.sh
source scripts/lib/jaeger_traces.sh
source scripts/lib/demo_steps.sh

REQUESTS=${DEMO_REQUESTS:-5}
STATE=build/container-demo
keep=${DEMO_KEEP:-0}
PODS=(demo-app python-app spanprobe otel-collector jaeger) # stop order
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
		echo "pods keep running (DEMO_KEEP=1): Jaeger at http://${POD_SUBNET_PREFIX:-?}200:16686"
		echo "stop them with: podman pod rm -f demo-app python-app otel-collector jaeger; podman rm -f spanprobe-spanprobe"
	else
		stop_pods
	fi
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
JAEGER_IP=${P}200 COLLECTOR_IP=${P}201 SPANPROBE_IP=${P}202 DEMO_IP=${P}203 PYTHON_IP=${P}204
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
pod_render "$STATE/python-app.yaml" demo/python-app || die "rendering python-app failed"

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

say "the workloads' Deployments: demo-app ($DEMO_IP) and python-app ($PYTHON_IP), until $REQUESTS requests and an exception in each"
start_us=$(($(date +%s%N) / 1000))
pod_play "$STATE/demo-app.yaml" "$DEMO_IP" 2> >(quiet_play) || die "demo-app did not start"
pod_play "$STATE/python-app.yaml" "$PYTHON_IP" 2> >(quiet_play) || die "python-app did not start"
DEMO_CTR=$(pod_container demo-app demo-app)
PY_CTR=$(pod_container python-app app)
PY_LOAD=$(pod_container python-app load)
DEMO_PID=$(podman inspect -f '{{.State.Pid}}' "$DEMO_CTR")
PY_PID=$(podman inspect -f '{{.State.Pid}}' "$PY_CTR")
# Each request prints one "Goo function completed." or "Exception in goo"
# line, then one "Zoo function completed." line; about one in five has the
# simulated exception: run until both are seen.
completed() { # completed CONTAINER
	local log
	log=$(podman logs "$1" 2>&1)
	[ "$(grep -c 'Zoo function completed' <<<"$log")" -ge $((REQUESTS + 1)) ] &&
		grep -q 'Exception in goo' <<<"$log"
}
# python-app: no request between its goo and its zoo (zoo sleeps up to 5 s).
drained() {
	local log
	log=$(podman logs "$PY_CTR" 2>&1)
	[ "$(grep -c -e 'Goo function completed' -e 'Exception in goo' <<<"$log")" = \
		"$(grep -c 'Zoo function completed' <<<"$log")" ]
}
wait_until $((REQUESTS * 30 + 60)) "$REQUESTS requests of demo-app, one with the exception" completed "$DEMO_CTR"
wait_until $((REQUESTS * 60 + 120)) "$REQUESTS requests of python-app, one with the exception" completed "$PY_CTR"

say "stopping the workloads, then spanprobe with its grace period (it flushes its last batch)"
# The load container frozen, the request it has sent ends; then the app is idle.
podman pause "$PY_LOAD" >/dev/null || die "can't pause python-app's load container"
wait_until 60 "python-app's last request ending" drained
podman pod stop -t "$(grace_of "$STATE/demo-app.yaml")" demo-app >/dev/null
# CPython as PID 1 of its container has no SIGTERM handler: the runtime kills
# it after the grace period; idle, it loses nothing when killed at once.
podman pod stop -t 1 python-app >/dev/null 2>&1
podman logs "$DEMO_CTR" >"$STATE/demo-app.log" 2>&1 || true
podman logs "$PY_CTR" >"$STATE/python-app.log" 2>&1 || true
podman stop -t "$(grace_of "$STATE/spanprobe.yaml")" "$SPANPROBE_CTR" >/dev/null
sp_status=$(podman inspect -f '{{.State.ExitCode}}' "$SPANPROBE_CTR")
podman logs "$SPANPROBE_CTR" >"$STATE/spanprobe.log" 2>&1
tail -n 4 "$STATE/spanprobe.log" | sed 's/^/   /'
echo "   spanprobe exited $sp_status"
[ "$sp_status" = 0 ] || die "spanprobe exited $sp_status on SIGTERM"
pod_down "$STATE/demo-app.yaml" 1
pod_down "$STATE/python-app.yaml" 1

say "reading the traces back from Jaeger's API"
# Every span spanprobe exported reaches Jaeger (the Collector batches for 1 s).
# Other containers on this host running the same binaries are traced too (the
# DaemonSet traces the node): each app's traces are told apart by its process.
exported=$(sed -n 's/.*OTLP exported \([0-9]*\), dropped 0,.*/\1/p' "$STATE/spanprobe.log" | tail -n 1)
[ -n "$exported" ] || die "spanprobe did not say it exported every span (OTLP exported N, dropped 0)"
jaeger_wait_spans "http://$JAEGER_IP:16686" "$start_us" "$exported"

check_traces "http://$JAEGER_IP:16686" "$start_us" demo-app "$STATE/demo-app.log" process.pid "$DEMO_PID" \
	"$STATE/traces-demo-app.json"
# The Python app's spans carry the interpreter's name (no service name is set).
check_traces "http://$JAEGER_IP:16686" "$start_us" python3.10 "$STATE/python-app.log" process.pid "$PY_PID" \
	"$STATE/traces-python3.10.json"
echo "both apps: every traced request is foo -> goo, zoo; ERROR on goo exactly in the requests where the app printed the exception"
