#!/usr/bin/env bash
# `make cluster-demo`: deploy/ on a real single-node cluster (scripts/cluster.sh:
# kubelet + containerd + runc), applied exactly as deploy/README.md tells
# users. The DaemonSet's pod Running, the C demo app and the Flask app
# traced; spanprobe's summary read with `kubectl logs` as its pod stops;
# the traces of both apps read back from Jaeger's API (through its Service)
# with ERROR on goo exactly where each app printed the exception; then
# `kubectl delete -k deploy/` and no BPF link of spanprobe left.
# The cluster is started when it is not up, and stopped again at the end
# unless DEMO_KEEP=1. DEMO_REQUESTS (default 5): requests to wait for in each
# app (more until each has printed its simulated exception once).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster/config.sh
source scripts/lib/jaeger_traces.sh
source scripts/lib/demo_steps.sh

REQUESTS=${DEMO_REQUESTS:-5}
STATE=build/cluster-demo
keep=${DEMO_KEEP:-0}
die() { echo "cluster-demo: $*" >&2; exit 1; }

for tool in curl jq bpftool; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
mkdir -p "$STATE"
started=0
if [ ! -d "$PIDS" ]; then
	say "starting the cluster (scripts/cluster.sh up)"
	scripts/cluster.sh up || die "the cluster did not start (reason above; scripts/cluster.sh down cleans up)"
	started=1
fi
eval "$(scripts/cluster.sh env)"
on_exit() {
	kill ${LOGS_PID:-} ${DEMO_LOGS_PID:-} ${PY_LOGS_PID:-} 2>/dev/null
	if [ "$started" = 1 ] && [ "$keep" != 1 ]; then
		say "stopping the cluster (scripts/cluster.sh down)"
		scripts/cluster.sh down
	elif [ "$keep" = 1 ]; then
		echo "the cluster keeps running (DEMO_KEEP=1): eval \"\$(scripts/cluster.sh env)\"; scripts/cluster.sh down to stop it"
	fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM
kubectl get nodes -o wide

source scripts/cluster/deploy_dir.sh
DEPLOY=$(deploy_dir "$STATE/no-sys-resource") || die "can't write the overlay"
if kubectl get namespace opentelemetry >/dev/null 2>&1; then
	say "deploy/ of an earlier run is still there: kubectl delete -k $DEPLOY first"
	kubectl delete -k "$DEPLOY" --ignore-not-found --wait=true --timeout=180s >/dev/null 2>&1
	! kubectl get namespace opentelemetry >/dev/null 2>&1 || die "kubectl delete -k $DEPLOY failed"
fi
say "kubectl apply -k $DEPLOY"
start_us=$(($(date +%s%N) / 1000))
kubectl apply -k "$DEPLOY" || die "kubectl apply -k $DEPLOY failed"

say "waiting for the rollouts"
kubectl -n opentelemetry rollout status daemonset/spanprobe --timeout=180s || die "spanprobe's DaemonSet did not roll out"
for d in opentelemetry/jaeger opentelemetry/otel-collector demo/demo-app demo/python-app; do
	kubectl -n "${d%/*}" rollout status "deployment/${d#*/}" --timeout=180s || die "$d did not roll out"
done
kubectl get pods -A -o wide
SP_POD=$(kubectl -n opentelemetry get pods -l app.kubernetes.io/name=spanprobe -o jsonpath='{.items[0].metadata.name}')
DEMO_POD=$(kubectl -n demo get pods -l app.kubernetes.io/name=demo-app -o jsonpath='{.items[0].metadata.name}')
PY_POD=$(kubectl -n demo get pods -l app.kubernetes.io/name=python-app -o jsonpath='{.items[0].metadata.name}')
# spanprobe's summary comes as it stops, and a pod's log goes with the pod:
# follow the three logs from now on, to their ends.
kubectl -n opentelemetry logs -f "$SP_POD" >"$STATE/spanprobe.log" 2>&1 &
LOGS_PID=$!
kubectl -n demo logs -f "$DEMO_POD" >"$STATE/demo-app.log" 2>&1 &
DEMO_LOGS_PID=$!
kubectl -n demo logs -f "$PY_POD" -c app >"$STATE/python-app.log" 2>&1 &
PY_LOGS_PID=$!
# spanprobe's BPF links, from the link fds its process holds (other
# spanprobes on this machine have links of their own): its process is the
# one in the pod's cgroup (the pod shares the host's PID namespace).
SP_UID=$(kubectl -n opentelemetry get pod "$SP_POD" -o jsonpath='{.metadata.uid}')
sp_links() {
	local f pid
	for f in $(grep -l "pod$SP_UID" /proc/[0-9]*/cgroup 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cgroup}
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = spanprobe ] || continue
		cat "/proc/$pid/fdinfo/"* 2>/dev/null | sed -n 's/^link_id:[[:space:]]*//p'
	done | sort -un
}

say "the workloads: until $REQUESTS requests and an exception in each"
completed() { # completed LOG
	[ "$(grep -c 'Zoo function completed' "$1")" -ge $((REQUESTS + 1)) ] &&
		grep -q 'Exception in goo' "$1"
}
drained() {
	[ "$(grep -c -e 'Goo function completed' -e 'Exception in goo' "$STATE/python-app.log")" = \
		"$(grep -c 'Zoo function completed' "$STATE/python-app.log")" ]
}
wait_until $((REQUESTS * 30 + 60)) "$REQUESTS requests of demo-app, one with the exception" completed "$STATE/demo-app.log"
wait_until $((REQUESTS * 60 + 120)) "$REQUESTS requests of python-app, one with the exception" completed "$STATE/python-app.log"

SP_LINKS=$(sp_links)
echo "spanprobe's pod holds $(grep -c . <<<"$SP_LINKS") BPF links (link_id in its fdinfo); bpftool link show:"
[ -n "$SP_LINKS" ] || die "spanprobe's pod holds no BPF link"
for id in $SP_LINKS; do bpftool link show id "$id" | grep -oE "(uprobe[a-z._]*|uretprobe[a-z._]*) +path [^ ]+|tp '[a-z_]+'"; done |
	sort | uniq -c | sed 's/^/   /'

say "stopping the workloads, then spanprobe's pod (it flushes its last batch)"
# python-app's load container sends a request a second; frozen (SIGSTOP to
# its processes, found by the container's cgroup), the request it has sent
# ends, and the app is idle: CPython as PID 1 has no SIGTERM handler and is
# killed, which loses nothing then. demo-app ends its request on SIGTERM.
load_id=$(kubectl -n demo get pod "$PY_POD" -o jsonpath='{.status.containerStatuses[?(@.name=="load")].containerID}')
load_id=${load_id#*://}
[ -n "$load_id" ] || die "no container id for python-app's load container"
for f in $(grep -l "$load_id" /proc/[0-9]*/cgroup 2>/dev/null); do
	f=${f#/proc/}
	kill -STOP "${f%/cgroup}" 2>/dev/null
done
wait_until 60 "python-app's last request ending" drained
kubectl -n demo scale deployment/demo-app deployment/python-app --replicas=0 >/dev/null
kubectl -n demo delete pod "$PY_POD" --grace-period=1 --wait=false >/dev/null 2>&1
kubectl -n demo wait --for=delete pod/"$DEMO_POD" pod/"$PY_POD" --timeout=120s >/dev/null ||
	die "the workloads' pods did not stop"
wait "$DEMO_LOGS_PID" "$PY_LOGS_PID" 2>/dev/null
DEMO_LOGS_PID= PY_LOGS_PID=
kubectl -n opentelemetry delete daemonset spanprobe --wait=true --timeout=120s >/dev/null
kubectl -n opentelemetry wait --for=delete pod/"$SP_POD" --timeout=120s >/dev/null
left=$(for id in $SP_LINKS; do bpftool link show id "$id" >/dev/null 2>&1 && echo "$id"; done)
echo "spanprobe's BPF links left after its pod stopped: $(grep -c . <<<"$left") of $(grep -c . <<<"$SP_LINKS")"
[ -z "$left" ] || die "BPF links left after spanprobe's pod stopped: $left"
wait "$LOGS_PID" 2>/dev/null
LOGS_PID=
echo "kubectl -n opentelemetry logs -f $SP_POD (its last lines):"
tail -n 4 "$STATE/spanprobe.log" | sed 's/^/   /'
exported=$(sed -n 's/.*OTLP exported \([0-9]*\), dropped 0,.*/\1/p' "$STATE/spanprobe.log" | tail -n 1)
[ -n "$exported" ] || die "spanprobe did not say it exported every span (OTLP exported N, dropped 0)"

say "reading the traces back from Jaeger's API (Service jaeger-service)"
JAEGER=http://$(kubectl -n opentelemetry get svc jaeger-service -o jsonpath='{.spec.clusterIP}'):16686
jaeger_wait_spans "$JAEGER" "$start_us" "$exported"

check_traces "$JAEGER" "$start_us" demo-app "$STATE/demo-app.log" k8s.pod.name "$DEMO_POD" \
	"$STATE/traces-demo-app.json"
check_traces "$JAEGER" "$start_us" python3.10 "$STATE/python-app.log" k8s.pod.name "$PY_POD" \
	"$STATE/traces-python3.10.json"
echo "both apps: every traced request is foo -> goo, zoo; ERROR on goo where the app printed the exception"

say "kubectl delete -k $DEPLOY"
# (spanprobe's DaemonSet is gone already: its pod stopped above)
kubectl delete -k "$DEPLOY" --ignore-not-found --wait=true --timeout=180s
! kubectl get namespace opentelemetry demo >/dev/null 2>&1 || die "kubectl delete -k $DEPLOY left its namespaces"
left=$(for id in $SP_LINKS; do bpftool link show id "$id" >/dev/null 2>&1 && echo "$id"; done)
echo "spanprobe's BPF links left: $(grep -c . <<<"$left") of $(grep -c . <<<"$SP_LINKS") (bpftool link show id N)"
[ -z "$left" ] || die "BPF links left after kubectl delete -k deploy/: $left"
echo "cluster-demo: OK"
