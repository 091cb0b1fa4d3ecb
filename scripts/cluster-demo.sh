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

REQUESTS=${DEMO_REQUESTS:-5}
STATE=build/cluster-demo
keep=${DEMO_KEEP:-0}
say() { printf '\n== %s\n' "$*"; }
die() { echo "cluster-demo: $*" >&2; exit 1; }

# wait_until SECS WHAT COMMAND...: COMMAND succeeds within SECS (a hang guard).
wait_until() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 2; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	die "$what did not happen in $secs s"
}

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
	[ -z "${LOGS_PID:-}" ] || kill "$LOGS_PID" 2>/dev/null
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

# A node whose own capability bounding set lacks one the DaemonSet adds can't
# run its pod: runc fails with "unable to apply caps: operation not
# permitted" (podman drops such a capability silently; the CRI does not).
# Such a node (a VM or container without CAP_SYS_RESOURCE) gets deploy/
# through an overlay that removes just that capability, said out loud; any
# other node gets deploy/ itself.
DEPLOY=deploy/
bounding=$((16#$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)))
if [ $((bounding >> 24 & 1)) = 0 ]; then
	DEPLOY=$STATE/no-sys-resource
	mkdir -p "$DEPLOY"
	cat >"$DEPLOY/kustomization.yaml" <<-'EOF'
	apiVersion: kustomize.config.k8s.io/v1beta1
	kind: Kustomization
	resources:
	  - ../../../deploy
	patches:
	  - target: {kind: DaemonSet, name: spanprobe}
	    patch: |-
	      - op: test
	        path: /spec/template/spec/containers/0/securityContext/capabilities/add/3
	        value: SYS_RESOURCE
	      - op: remove
	        path: /spec/template/spec/containers/0/securityContext/capabilities/add/3
	EOF
	echo "cluster-demo: this node has no CAP_SYS_RESOURCE in its bounding set (CapBnd" \
		"$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)), so no container on it can" \
		"get it: deploy/ is applied through $DEPLOY, which removes SYS_RESOURCE (needed for" \
		"RLIMIT_MEMLOCK on kernels < 5.11 only; this is $(uname -r)) from the DaemonSet."
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
# spanprobe's summary comes as it stops: follow its log from now on.
kubectl -n opentelemetry logs -f "$SP_POD" >"$STATE/spanprobe.log" 2>&1 &
LOGS_PID=$!
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
completed() { # completed NAMESPACE POD [CONTAINER]
	local log
	log=$(kubectl -n "$1" logs "$2" ${3:+-c "$3"} 2>&1)
	[ "$(grep -c 'Zoo function completed' <<<"$log")" -ge $((REQUESTS + 1)) ] &&
		grep -q 'Exception in goo' <<<"$log"
}
drained() {
	local log
	log=$(kubectl -n demo logs "$PY_POD" -c app 2>&1)
	[ "$(grep -c -e 'Goo function completed' -e 'Exception in goo' <<<"$log")" = \
		"$(grep -c 'Zoo function completed' <<<"$log")" ]
}
wait_until $((REQUESTS * 30 + 60)) "$REQUESTS requests of demo-app, one with the exception" completed demo "$DEMO_POD"
wait_until $((REQUESTS * 60 + 120)) "$REQUESTS requests of python-app, one with the exception" completed demo "$PY_POD" app

SP_LINKS=$(sp_links)
echo "spanprobe's pod holds $(grep -c . <<<"$SP_LINKS") BPF links: $(tr '\n' ' ' <<<"$SP_LINKS")"
[ -n "$SP_LINKS" ] || die "spanprobe's pod holds no BPF link"
bpftool link show | grep -A1 -E "^($(paste -sd'|' <<<"$SP_LINKS")):" | grep -E 'path|tp ' | sort | uniq -c | sed 's/^/   /'

say "stopping the workloads, then spanprobe's pod (it flushes its last batch)"
# python-app's load container sends a request a second: its app's log is
# read when no request is open (zoo sleeps up to 5 s), then the pods go.
wait_until 60 "python-app between two requests" drained
kubectl -n demo logs "$DEMO_POD" >"$STATE/demo-app.log" 2>&1
kubectl -n demo logs "$PY_POD" -c app >"$STATE/python-app.log" 2>&1
kubectl -n demo scale deployment/demo-app deployment/python-app --replicas=0 >/dev/null
kubectl -n demo wait --for=delete pod/"$DEMO_POD" pod/"$PY_POD" --timeout=120s >/dev/null ||
	die "the workloads' pods did not stop"
# The apps may have served a request between reading their logs and stopping.
kubectl -n opentelemetry delete daemonset spanprobe --wait=true --timeout=120s >/dev/null
kubectl -n opentelemetry wait --for=delete pod/"$SP_POD" --timeout=120s >/dev/null
wait "$LOGS_PID" 2>/dev/null
LOGS_PID=
echo "kubectl -n opentelemetry logs -f $SP_POD (its last lines):"
tail -n 4 "$STATE/spanprobe.log" | sed 's/^/   /'
exported=$(sed -n 's/.*OTLP exported \([0-9]*\), dropped 0,.*/\1/p' "$STATE/spanprobe.log" | tail -n 1)
[ -n "$exported" ] || die "spanprobe did not say it exported every span (OTLP exported N, dropped 0)"

say "reading the traces back from Jaeger's API (Service jaeger-service)"
JAEGER=http://$(kubectl -n opentelemetry get svc jaeger-service -o jsonpath='{.spec.clusterIP}'):16686
jaeger_spans() {
	local svc total=0 c
	for svc in $(curl -sf "$JAEGER/api/services" | jq -r '.data[]?'); do
		c=$(curl -sf "$JAEGER/api/traces?service=$svc&start=$start_us&limit=100000" |
			jq '[.data[]?.spans[]?] | length') || return 1
		total=$((total + c))
	done
	echo "$total"
}
in_jaeger=0
for ((i = 0; i < 120; i++)); do # hang guard: 60 s
	in_jaeger=$(jaeger_spans) && [ "$in_jaeger" -ge "$exported" ] && break
	sleep 0.5
done
echo "spanprobe exported $exported spans; Jaeger holds $in_jaeger"
[ "$in_jaeger" = "$exported" ] || die "Jaeger holds $in_jaeger spans; spanprobe exported $exported"

# check_traces SERVICE APP_LOG POD: Jaeger's traces of POD (k8s.pod.name, as
# spanprobe named it from its pod watch) are the app's requests in order, a
# root foo with goo and zoo under it, ERROR on goo exactly where the app
# printed the exception. The first may have started before spanprobe
# attached (then it is missing or without its foo), and the app may have
# served a request or two after its log was read.
check_traces() {
	local service=$1 log=$2 pod=$3 url app_errors traced n bad want got
	url="$JAEGER/api/traces?service=$service&start=$start_us&limit=100000"
	app_errors=$(awk '/Exception in goo/ {e = 1} /Zoo function completed/ {print e + 0; e = 0}' "$log")
	curl -sf "$url" | jq --arg pod "$pod" '{data: [.data[]? | select(any(.processes[];
		any(.tags[]; .key == "k8s.pod.name" and .value == $pod)))]}' >"$STATE/traces-$service.json"
	traced=$(jq -r '[.data[]
		| {start: ([.spans[].startTime] | min),
		   names: ([.spans[] | .operationName + (if (.references // [] | length) == 0 then "" else "<" end)] | sort),
		   error: (if any(.spans[]; any(.tags[]; .key == "error" and .value == true)) then 1 else 0 end),
		   error_on: ([.spans[] | select(any(.tags[]; .key == "error" and .value == true)) | .operationName] | unique)}]
		| sort_by(.start) | .[] | "\(.error) \(.names | join(",")) \(.error_on | join(","))"' "$STATE/traces-$service.json")
	sed -n 1p <<<"$traced" | grep -q ' foo,' || traced=$(sed 1d <<<"$traced")
	n=$(grep -c . <<<"$traced")
	bad=$(grep -vcE '^(0 foo,goo<,zoo< |1 foo,goo<,zoo< goo)$' <<<"$traced")
	echo "Jaeger (service $service, pod $pod) holds $n complete traces;" \
		"the app had printed $(grep -c . <<<"$app_errors") requests, $(grep -c 1 <<<"$app_errors") with the exception."
	[ "$n" -gt 0 ] || die "$service: no trace of pod $pod in Jaeger"
	[ "$bad" -eq 0 ] || die "$service: $bad traces are not a root foo with goo and zoo under it, ERROR on goo alone"
	# the app's requests as its log had them, matched from the first traced one
	want=$(tail -n +"$(( $(grep -c . <<<"$app_errors") - n + 1 > 1 ? $(grep -c . <<<"$app_errors") - n + 1 : 1))" <<<"$app_errors")
	got=$(cut -d' ' -f1 <<<"$traced" | head -n "$(grep -c . <<<"$want")")
	[ "$(grep -c . <<<"$want")" -ge $((n - 3)) ] ||
		die "$service: Jaeger has $n traces, the app printed only $(grep -c . <<<"$app_errors") requests"
	[ "$got" = "$want" ] || die "$service: errors in Jaeger ($(tr '\n' ' ' <<<"$got")) differ from the app's ($(tr '\n' ' ' <<<"$want"))"
}
check_traces demo-app "$STATE/demo-app.log" "$DEMO_POD"
check_traces python3.10 "$STATE/python-app.log" "$PY_POD"
echo "both apps: every traced request is foo -> goo, zoo; ERROR on goo where the app printed the exception"

say "kubectl delete -k $DEPLOY"
kubectl delete -k "$DEPLOY" --wait=true --timeout=180s || die "kubectl delete -k $DEPLOY failed"
left=$(for id in $SP_LINKS; do bpftool link show id "$id" >/dev/null 2>&1 && echo "$id"; done)
echo "spanprobe's BPF links left: $(grep -c . <<<"$left") (bpftool link show id N for each of its $(grep -c . <<<"$SP_LINKS"))"
[ -z "$left" ] || die "BPF links left after kubectl delete -k deploy/: $left"
echo "cluster-demo: OK"
