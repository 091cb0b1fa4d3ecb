#!/usr/bin/env bash
# deploy/ on a real single-node cluster (scripts/cluster.sh: kubelet +
# containerd + runc, cgroupfs driver, cgroup v1 here), applied with
# `kubectl apply -k` as deploy/README.md says: what only a kubelet does.
#   - spanprobe's pod runs with exactly the capabilities its manifest names
#     (its process's CapBnd, read on the node), not privileged;
#   - selection by namespace from the real pod watch and the kubelet's real
#     cgroups: the demo pod's process carries spanprobe's uprobes, the same
#     binary in a pod of another namespace carries none;
#   - a workload pod deleted and recreated by its Deployment is traced again,
#     its spans in Jaeger named by its new pod (k8s.pod.name, k8s.namespace.name);
#   - the demo pod's process has spanprobe's breakpoints at the probed
#     offsets, the other namespace's the file's bytes;
#   - a DaemonSet rollout (spanprobe.conf changed, applied again): the new
#     pod traces the running workload again, and Jaeger holds every span the
#     old and the new pod say they exported;
#   - selection by labels: a new replica is attached, a relabelled one
#     detached (its code its file's again);
#   - spanprobe on the node's shell, with only the admin kubeconfig, chooses
#     and names the demo namespace's pods from the real API server;
#   - spanprobe's DaemonSet deleted: none of its BPF links is left, and the
#     running workload's code is its file's again; `kubectl delete -k`
#     removes the rest.
# The last suite of `make test` (alone: `make test-cluster`): the cluster's
# parts take about 10 minutes to build once (scripts/build-kube.sh cluster),
# made beside the other suites by scripts/prepare-tests.sh.
source "$(dirname "$0")/../lib/common.sh"
scratch
cd "$ROOT" || exit 1
source scripts/cluster/config.sh
source scripts/cluster/deploy_dir.sh
source scripts/lib/jaeger_traces.sh
LIMIT=$((180 * HANG_SCALE)) # hang guard for each rollout (seconds here)

for tool in curl jq bpftool; do
	command -v "$tool" >/dev/null || { skip cluster "$tool is not installed"; exit 0; }
done
[ "$(id -u)" -eq 0 ] || { skip cluster "needs root (containerd, the kubelet)"; exit 0; }
if ! scripts/build-kube.sh cluster >"$SCRATCH/build.log" 2>&1; then
	skip cluster "the cluster's parts can't be built: $(tail -n 1 "$SCRATCH/build.log")"
	exit 0
fi
started=0
# A cluster left half up (a run stopped by its hang guard) is taken down
# first: its pids directory is there but its API server does not answer.
if [ -d "$PIDS" ] && ! (eval "$(scripts/cluster.sh env)" && kubectl get --raw /readyz) >/dev/null 2>&1; then
	scripts/cluster.sh down >"$SCRATCH/down.log" 2>&1
fi
if [ ! -d "$PIDS" ]; then
	if ! scripts/cluster.sh up >"$SCRATCH/up.log" 2>&1; then
		fail node_ready "scripts/cluster.sh up failed: $(grep '^cluster:' "$SCRATCH/up.log" | tail -n 1)"
		scripts/cluster.sh down >/dev/null 2>&1
		exit 1
	fi
	started=1
fi
on_exit() {
	kubectl delete namespace other --ignore-not-found --wait=false >/dev/null 2>&1
	[ -z "${DEPLOY:-}" ] || kubectl delete -k "$DEPLOY" --ignore-not-found --wait=true \
		--timeout="${LIMIT}s" >/dev/null 2>&1
	[ "$started" = 0 ] || scripts/cluster.sh down >/dev/null 2>&1
	cleanup_scratch
}
trap on_exit EXIT
eval "$(scripts/cluster.sh env)"
check node_ready kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s

# host_pids POD_UID COMM: the node's processes of that pod named COMM.
host_pids() {
	local f pid
	for f in $(grep -l "pod$1" /proc/[0-9]*/cgroup 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cgroup}
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && echo "$pid"
	done
}
pod_uid() { kubectl -n "$1" get pods -l "$2" -o jsonpath='{.items[0].metadata.uid}'; }
pod_name() { kubectl -n "$1" get pods -l "$2" -o jsonpath='{.items[0].metadata.name}'; }
# the BPF links spanprobe's process holds (link_id in its fdinfo)
sp_links() { cat "/proc/$SP_PID/fdinfo/"* 2>/dev/null | sed -n 's/^link_id:[[:space:]]*//p' | sort -un; }
# the processes its uprobe links are limited to (bpftool: "pid" of a uprobe_multi link)
traced_pids() {
	local id
	for id in $(sp_links); do bpftool link show id "$id" -j 2>/dev/null | jq -r '.pid // empty'; done |
		grep -v '^0$' | sort -un
}
traced() { traced_pids | grep -qx "$1"; }
wait_until() { # SECONDS COMMAND...
	local i
	for ((i = 0; i < $1 * HANG_SCALE * 2; i++)); do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

DEPLOY=$(deploy_dir "$SCRATCH/overlay" 2>"$SCRATCH/deploy_dir.txt")
kubectl delete namespace other --ignore-not-found --wait=true --timeout="${LIMIT}s" >/dev/null 2>&1
kubectl delete -k "$DEPLOY" --ignore-not-found --wait=true --timeout="${LIMIT}s" >/dev/null 2>&1
start_us=$(($(date +%s%N) / 1000))
if kubectl apply -k "$DEPLOY" >"$SCRATCH/apply.log" 2>&1 &&
	kubectl -n opentelemetry rollout status daemonset/spanprobe --timeout="${LIMIT}s" >/dev/null &&
	kubectl -n demo rollout status deployment/demo-app --timeout="${LIMIT}s" >/dev/null &&
	kubectl -n opentelemetry rollout status deployment/jaeger --timeout="${LIMIT}s" >/dev/null; then
	pass applied_and_rolled_out
else
	fail applied_and_rolled_out "$(tail -n 3 "$SCRATCH/apply.log"; kubectl get pods -A)"
	exit 1
fi

SP_UID=$(pod_uid opentelemetry app.kubernetes.io/name=spanprobe)
SP_PID=$(host_pids "$SP_UID" spanprobe | head -n 1)
if [ -z "$SP_PID" ]; then
	fail spanprobe_process "no spanprobe process in pod $SP_UID's cgroups"
	exit 1
fi

# Its process's capability bounding set (what the runtime gave the
# container; spanprobe can drop from its effective set, never add to this) is
# exactly what the DaemonSet names.
declare -A CAP_BIT=([BPF]=39 [PERFMON]=38 [SYS_PTRACE]=19 [SYS_RESOURCE]=24 [SYS_ADMIN]=21)
want_caps=0
for c in $(kubectl -n opentelemetry get daemonset spanprobe \
	-o jsonpath='{.spec.template.spec.containers[0].securityContext.capabilities.add[*]}'); do
	want_caps=$((want_caps | 1 << ${CAP_BIT[$c]:-63}))
done
got_caps=$((16#$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$SP_PID/status")))
[ "$want_caps" -ne 0 ] || fail capabilities_as_manifest "the DaemonSet names no capability"
expect_eq capabilities_as_manifest "$(printf '%016x' "$got_caps")" "$(printf '%016x' "$want_caps")"
expect_eq not_privileged "$(kubectl -n opentelemetry get daemonset spanprobe \
	-o jsonpath='{.spec.template.spec.containers[0].securityContext.privileged}')" false

# The same binary in a pod of another namespace, started before the check.
kubectl create namespace other >/dev/null
kubectl -n other apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: same-binary
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65534}
  containers:
    - name: demo-app
      image: spanprobe/demo-app:latest
      imagePullPolicy: IfNotPresent
      command: [/usr/local/bin/demo-app, --interval, "1000"]
EOF
kubectl -n other wait --for=condition=Ready pod/same-binary --timeout="${LIMIT}s" >/dev/null
OTHER_PID=$(host_pids "$(kubectl -n other get pod same-binary -o jsonpath='{.metadata.uid}')" demo-app)

DEMO_UID=$(pod_uid demo app.kubernetes.io/name=demo-app)
DEMO_PID=$(host_pids "$DEMO_UID" demo-app)
if [ -n "$DEMO_PID" ] && wait_until 60 traced "$DEMO_PID"; then
	pass demo_pod_traced
else
	fail demo_pod_traced "process ${DEMO_PID:-?} of pod $DEMO_UID has no uprobe link of spanprobe's (links to: $(traced_pids | tr '\n' ' '))"
fi

# Deleted, recreated by its Deployment: the new pod's process is traced.
kubectl -n demo delete pod -l app.kubernetes.io/name=demo-app --wait=true --timeout="${LIMIT}s" >/dev/null
kubectl -n demo rollout status deployment/demo-app --timeout="${LIMIT}s" >/dev/null
NEW_UID=$(pod_uid demo app.kubernetes.io/name=demo-app)
NEW_POD=$(pod_name demo app.kubernetes.io/name=demo-app)
NEW_PID=$(host_pids "$NEW_UID" demo-app)
if [ -n "$NEW_PID" ] && [ "$NEW_UID" != "$DEMO_UID" ] && wait_until 60 traced "$NEW_PID"; then
	pass recreated_pod_traced
else
	fail recreated_pod_traced "pod $NEW_UID (was $DEMO_UID), process ${NEW_PID:-?}: links to $(traced_pids | tr '\n' ' ')"
fi

# Decided long ago (before the demo pod was recreated): never chosen.
if [ -z "$OTHER_PID" ]; then
	fail other_namespace_not_traced "no demo-app process in pod other/same-binary"
elif traced "$OTHER_PID"; then
	fail other_namespace_not_traced "process $OTHER_PID of namespace other has spanprobe's uprobes"
else
	pass other_namespace_not_traced
fi

# The new pod's spans in Jaeger, named from the pod watch.
JAEGER=http://$(kubectl -n opentelemetry get svc jaeger-service -o jsonpath='{.spec.clusterIP}'):16686
named() {
	curl -sf "$JAEGER/api/traces?service=demo-app&start=$start_us&limit=1000" | jq -e \
		--arg pod "$NEW_POD" '[.data[]?.processes[]? | select(any(.tags[]; .key == "k8s.pod.name"
		and .value == $pod) and any(.tags[]; .key == "k8s.namespace.name" and .value == "demo"))]
		| length > 0'
}
if wait_until 90 named; then
	pass recreated_pod_spans_named_in_jaeger
else
	fail recreated_pod_spans_named_in_jaeger "no span of demo/$NEW_POD in Jaeger ($JAEGER)"
fi

# A DaemonSet rollout, as a user makes one: spanprobe.conf edited (here: the
# pods labelled traced=no are left out) and `kubectl apply -k` again; the
# ConfigMap's new name changes the pod template. The old pod flushes as it
# stops, the new one attaches to the running workload; every span either
# says it exported is in Jaeger (a span lost is at worst counted as
# dropped, never lost silently).
SELECTOR_DIR=$SCRATCH/selector
mkdir -p "$SELECTOR_DIR"
{ cat deploy/spanprobe.conf; echo 'pod-selector traced!=no'; } >"$SELECTOR_DIR/spanprobe.conf"
cat >"$SELECTOR_DIR/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$SELECTOR_DIR" "$DEPLOY")
configMapGenerator:
  - name: spanprobe-config
    namespace: opentelemetry
    behavior: replace
    files:
      - spanprobe.conf
EOF
OLD_SP_POD=$(pod_name opentelemetry app.kubernetes.io/name=spanprobe)
kubectl -n opentelemetry logs -f "$OLD_SP_POD" >"$SCRATCH/spanprobe-old.log" 2>&1 &
old_logs=$!
bg_track $old_logs
kubectl apply -k "$SELECTOR_DIR" >"$SCRATCH/apply-selector.log" 2>&1 ||
	fail applied_with_pod_selector "$(tail -n 3 "$SCRATCH/apply-selector.log")"
kubectl -n opentelemetry rollout status daemonset/spanprobe --timeout="${LIMIT}s" >/dev/null
wait_exit $old_logs 60
SP_UID=$(pod_uid opentelemetry app.kubernetes.io/name=spanprobe)
SP_POD=$(pod_name opentelemetry app.kubernetes.io/name=spanprobe)
SP_PID=$(host_pids "$SP_UID" spanprobe | head -n 1)
kubectl -n opentelemetry logs -f "$SP_POD" >"$SCRATCH/spanprobe-new.log" 2>&1 &
new_logs=$!
bg_track $new_logs
if [ "$SP_POD" != "$OLD_SP_POD" ] && [ -n "$SP_PID" ] && wait_until 60 traced "$NEW_PID"; then
	pass traced_again_after_rollout
else
	fail traced_again_after_rollout "pod $SP_POD (was $OLD_SP_POD), process ${SP_PID:-?}: links to $(traced_pids | tr '\n' ' ')"
fi

# Selection by labels from the real pod watch: a new replica of the
# Deployment is attached as it starts; relabelled traced=no, it is detached
# (no link of spanprobe's limited to it, its code its file's again).
kubectl -n demo scale deployment/demo-app --replicas=2 >/dev/null
kubectl -n demo rollout status deployment/demo-app --timeout="${LIMIT}s" >/dev/null
REPLICA_POD=$(kubectl -n demo get pods -l app.kubernetes.io/name=demo-app -o json |
	jq -r --arg old "$NEW_POD" '[.items[] | select(.metadata.name != $old
		and .metadata.deletionTimestamp == null)][0].metadata.name // empty')
REPLICA_PID=
[ -z "$REPLICA_POD" ] ||
	REPLICA_PID=$(host_pids "$(kubectl -n demo get pod "$REPLICA_POD" -o jsonpath='{.metadata.uid}')" demo-app)
if [ -n "$REPLICA_PID" ] && wait_until 60 traced "$REPLICA_PID"; then
	pass new_replica_attached
else
	fail new_replica_attached "replica ${REPLICA_POD:-?}, process ${REPLICA_PID:-?}: links to $(traced_pids | tr '\n' ' ')"
fi
if [ -n "$REPLICA_PID" ]; then
	kubectl -n demo label pod "$REPLICA_POD" traced=no >/dev/null
	untraced() { ! traced "$1"; }
	if wait_until 60 untraced "$REPLICA_PID" && traced "$NEW_PID"; then
		pass relabel_detaches
	else
		fail relabel_detaches "process $REPLICA_PID of $REPLICA_POD (traced=no): links to $(traced_pids | tr '\n' ' ') (the other replica's: $NEW_PID)"
	fi
fi

# Outside a pod, the kubectl way: spanprobe on the node's shell with only the
# admin kubeconfig (KUBECONFIG, from scripts/cluster.sh env) chooses the demo
# namespace's pods from the real API server and names their spans.
# pod_attrs FILE PID: PID's foo spans' pod name and namespace, one a line
pod_attrs() {
	jq -r --argjson pid "$2" 'select(.name == "foo") | select(any(.attributes[];
		.key == "process.pid" and .value.intValue == ($pid | tostring)))
		| [.attributes[] | select(.key == "k8s.pod.name" or .key == "k8s.namespace.name")
		| .value.stringValue] | join(" ")' "$1" 2>/dev/null
}
KC_OUT=$SCRATCH/kubeconfig.jsonl
env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT -u K8S_NODE_NAME "$SPANPROBE" \
	--node-name "$NODE_NAME" --namespace demo -o jsonl --output-file "$KC_OUT" \
	uprobe:/usr/local/bin/demo-app:foo 2>"$SCRATCH/kubeconfig.err" &
kc_sp=$!
bg_track $kc_sp
kc_named() { pod_attrs "$KC_OUT" "$NEW_PID" | grep -qx "$NEW_POD demo"; }
wait_until 60 kc_named
kill -INT $kc_sp
wait_exit $kc_sp 60 || fail kubeconfig_run_exits "hang guard: spanprobe still runs 60 s after SIGINT"
if kc_named && ! pod_attrs "$KC_OUT" "${OTHER_PID:-0}" | grep -q .; then
	pass kubeconfig_chooses_and_names_pods
else
	fail kubeconfig_chooses_and_names_pods "want foo spans of process $NEW_PID named '$NEW_POD demo', none of $OTHER_PID (namespace other); got: $(pod_attrs "$KC_OUT" "$NEW_PID" | sort | uniq -c | head -n 3); stderr: $(head -n 3 "$SCRATCH/kubeconfig.err")"
fi

# The probed instructions: the file offsets of spanprobe's entry uprobes on
# demo-app in the new pod's process (bpftool), changed in its memory (the
# breakpoint), unchanged in the other namespace's process.
DEMO_FILE=/proc/$NEW_PID/root/usr/local/bin/demo-app
OFFSETS=$(for id in $(sp_links); do bpftool link show id "$id" -j 2>/dev/null; done |
	jq -r --argjson pid "${NEW_PID:-0}" 'select(.type == "uprobe_multi" and .retprobe == false
		and .pid == $pid and (.path | endswith("/demo-app"))) | .funcs[].offset' | sort -un)
file_byte() { od -An -tx1 -j "$1" -N 1 "$DEMO_FILE" | tr -d ' '; }
# bytes PID: "offset:byte" in PID's memory for each probed offset
bytes() { local o; for o in $OFFSETS; do echo "$o:$(code_byte "$1" "$DEMO_FILE" "$o")"; done; }
FILE_BYTES=$(for o in $OFFSETS; do echo "$o:$(file_byte "$o")"; done)
if [ -z "$OFFSETS" ]; then
	fail breakpoints_in_traced_pod "no entry uprobe link on demo-app for process ${NEW_PID:-?}"
else
	probed=$(bytes "$NEW_PID")
	if [ -z "$(comm -12 <(sort <<<"$probed") <(sort <<<"$FILE_BYTES"))" ]; then
		pass breakpoints_in_traced_pod
	else
		fail breakpoints_in_traced_pod "memory $probed, file $FILE_BYTES"
	fi
	[ -n "$OTHER_PID" ] && expect_eq no_breakpoint_in_other_namespace "$(bytes "$OTHER_PID")" "$FILE_BYTES"
	[ -n "$REPLICA_PID" ] && expect_eq relabelled_code_restored "$(bytes "$REPLICA_PID")" "$FILE_BYTES"
fi

# spanprobe's DaemonSet deleted while the workload runs on: none of its links
# is left, and the workload's code is as in its file again.
LINKS=$(sp_links)
kubectl -n opentelemetry delete daemonset spanprobe --wait=true --timeout="${LIMIT}s" >/dev/null
kubectl -n opentelemetry wait --for=delete pod -l app.kubernetes.io/name=spanprobe \
	--timeout="${LIMIT}s" >/dev/null 2>&1
left=$(for id in $LINKS; do bpftool link show id "$id" >/dev/null 2>&1 && echo "$id"; done)
if [ -z "$LINKS" ]; then
	fail links_gone_with_the_daemonset "spanprobe held no BPF link to check"
elif [ -n "$left" ]; then
	fail links_gone_with_the_daemonset "links $(tr '\n' ' ' <<<"$left")of $(grep -c . <<<"$LINKS") left"
else
	pass links_gone_with_the_daemonset
fi
[ -z "$OFFSETS" ] || expect_eq workload_code_restored "$(bytes "$NEW_PID")" "$FILE_BYTES"

# Both of the rollout's pods: what they exported is what Jaeger holds.
wait_exit $new_logs 60
old_exported=$(summary_field exported "$SCRATCH/spanprobe-old.log")
new_exported=$(summary_field exported "$SCRATCH/spanprobe-new.log")
if [ -z "$old_exported" ] || [ -z "$new_exported" ] || [ "$old_exported" -eq 0 ]; then
	fail rollout_spans_all_in_jaeger "no summary with exported spans from both pods (old: ${old_exported:-none}, new: ${new_exported:-none})"
else
	want=$((old_exported + new_exported))
	jaeger_has() { [ "$(jaeger_spanprobe_spans "$JAEGER" "$start_us")" = "$1" ]; }
	wait_until 60 jaeger_has "$want"
	got=$(jaeger_spanprobe_spans "$JAEGER" "$start_us")
	if [ "$got" = "$want" ]; then
		pass rollout_spans_all_in_jaeger
	else
		fail rollout_spans_all_in_jaeger "Jaeger holds $got spans, the pods exported $want: $(grep -h OTLP "$SCRATCH"/spanprobe-*.log | cut -c1-200)"
	fi
fi

# kubectl delete -k: everything deploy/ made is gone.
kubectl delete -k "$DEPLOY" --ignore-not-found --wait=true --timeout="${LIMIT}s" >/dev/null 2>&1
check delete_k_removes_all bash -c "! kubectl get namespace opentelemetry demo 2>/dev/null | grep -q ."
DEPLOY=
