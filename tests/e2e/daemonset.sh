#!/usr/bin/env bash
# spanprobe run exactly as the DaemonSet runs it: the arguments and
# environment of the rendered DaemonSet (deploy/), the config file its
# ConfigMap is made from (deploy/spanprobe.conf), against the real Collector
# (deploy/otel-collector.yaml) and real Jaeger on loopback. The config
# chooses the pods of namespace demo: spanprobe watches this node's pods on
# a real kube-apiserver (deploy/'s RBAC applied, its ServiceAccount's token;
# finding the API in-cluster is kube_identity.sh's). The demo workload runs
# as in its pod: in its own mount and PID namespaces, at the image's path
# /usr/local/bin/demo-app, in its pod's kubelet-named cgroup, started after
# spanprobe; the same image in a pod of another namespace runs beside it and
# is not traced.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/deploy_check.sh"
source "$ROOT/tests/lib/kube.sh"
scratch
peers_build peers || exit 0
deploy_check_build deploy_check || exit 0
kube_build kube || exit 0
IN_PATH=/usr/local/bin/demo-app
REQUESTS=20

if [ -e "$IN_PATH" ]; then
	fail host_has_no_demo_app "$IN_PATH exists on this host; the test needs it only inside"
	exit 0
fi
if ! "$DEPLOY_CHECK" daemonset "$ROOT" spanprobe spanprobe >"$SCRATCH/ds.txt" 2>"$SCRATCH/ds.err"; then
	fail daemonset_spec "$(cat "$SCRATCH/ds.err")"
	exit 0
fi
kube_start || { fail kube_start "see above"; exit 0; }
kube_apply "$ROOT/deploy/base/namespaces.yaml" && kube_apply "$ROOT/deploy/base/spanprobe-rbac.yaml" &&
	kube_create_serviceaccount demo default && kube_create_namespace other ||
	{ fail rbac_applied "see above"; exit 0; }
kube_token opentelemetry spanprobe 600 >"$SCRATCH/sa.token" || { fail token "see above"; exit 0; }
DEMO_UID=$(kube_create_pod demo demo-app-1 test-node '{"app":"demo-app"}') &&
	OTHER_UID=$(kube_create_pod other demo-app-1 test-node '{"app":"demo-app"}') ||
	{ fail pods "see above"; exit 0; }
jaeger_start || { fail jaeger_start "see above"; exit 0; }
collector_start "$JAEGER_OTLP_GRPC" || { fail collector_start "see above"; exit 0; }

# The container's arguments, the ConfigMap's mount path mapped to the file the
# ConfigMap is generated from; its environment, with the cluster's collector
# address moved to loopback and $(VAR) expanded as the kubelet does.
mount_dir=$(awk '$1 == "MOUNT" && $3 ~ /^spanprobe-config/ { print $2 }' "$SCRATCH/ds.txt")
mapfile -t args < <(sed -n 's/^ARG //p' "$SCRATCH/ds.txt" | sed "s|^$mount_dir/spanprobe.conf$|$ROOT/deploy/spanprobe.conf|")
check "args_use_the_configmap_file" grep -qx -- "$ROOT/deploy/spanprobe.conf" <(printf '%s\n' "${args[@]}")
declare -a envs=()
while IFS= read -r kv; do
	k=${kv%%=*} v=${kv#*=}
	[ "$k" = OTEL_EXPORTER_OTLP_ENDPOINT ] && v=http://$COLLECTOR_GRPC
	v=${v//\$(K8S_NODE_NAME)/test-node}
	[ "$k" = K8S_NODE_NAME ] && v=test-node
	envs+=("$k=$v")
done < <(sed -n 's/^ENV //p' "$SCRATCH/ds.txt")
ready=$(sed -n 's/^ready-file *=\{0,1\} *//p' "$ROOT/deploy/spanprobe.conf")
mkdir -p "$(dirname "$ready")"
rm -f "$ready"

# (-v: each process decided is named, the gate below waits for that line)
env "${envs[@]}" "$SPANPROBE" "${args[@]}" -v --kube-api "$KUBE_API" --kube-token-file "$SCRATCH/sa.token" \
	--kube-ca-file "$KUBE_CA" 2>"$SCRATCH/sp.err" &
sp=$!
bg_track $sp
check "ready_file_made_once_attached" wait_for_line "$ready" "^$sp\$" 10
check "waits_for_the_workload" grep -q "not found yet; waiting" "$SCRATCH/sp.err"

# pod_container UID OUT SEED: the demo image's container of pod UID: the
# binary at its path, in fresh namespaces and the pod's kubelet-named cgroup
# (entered before the runtime's exec). Once the binary is in place the
# container starts a marker program (gate-SEED, sleeping until it is
# decided on: a process gone first is decided on unnamed) and waits for the file
# $SCRATCH/gate-SEED before it execs the app: spanprobe names the marker once
# it has decided on it, by then with the app's file found and its probes on
# every chosen process (pod_gate). Its pid in CTR.
pod_container() {
	local cg
	cg=$(_kube_cgroup_root)/kubepods/besteffort/pod$1/cri-containerd-$(openssl rand -hex 32) &&
		mkdir -p "$cg" || return 1
	KUBE_CGROUPS="$cg $KUBE_CGROUPS"
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" \
		unshare --mount --pid --fork --kill-child --propagation private sh -c \
		"mount -t tmpfs tmpfs /usr/local/bin && cp '$DEMO' '$IN_PATH' &&
		 cp /bin/sleep /usr/local/bin/gate-$3 || exit 1
		 /usr/local/bin/gate-$3 $((120 * HANG_SCALE)) & g=\$!
		 i=0
		 while [ ! -e '$SCRATCH/gate-$3' ] && [ \$i -lt $((1200 * HANG_SCALE)) ]; do sleep 0.05; i=\$((i + 1)); done
		 kill \$g
		 exec '$IN_PATH' --requests $REQUESTS --seed $3 --time-scale 0.002 --annotate" >"$2" 2>&1 &
	CTR=$!
}
# pod_gate NAME SEED DECISION: spanprobe said DECISION (chosen, not chosen)
# for the marker of the container started with SEED: let its app start.
pod_gate() {
	check "$1" wait_for_line "$SCRATCH/sp.err" "process [0-9]* $3: [^;]*gate-$2" 60
	touch "$SCRATCH/gate-$2"
}
pod_container "$DEMO_UID" "$SCRATCH/app.out" 77 || { fail demo_pod_started "see above"; exit 0; }
ctr=$CTR
pod_gate demo_pod_decided 77 chosen
pod_container "$OTHER_UID" "$SCRATCH/other.out" 78 || { fail other_pod_started "see above"; exit 0; }
other=$CTR
pod_gate other_pod_decided 78 "not chosen"
wait_or_fail $ctr 120
expect_eq "workload_exit_status" "$?" 0
wait_or_fail $other 120
expect_eq "other_namespace_workload_exit_status" "$?" 0
check "other_namespace_workload_ran" test "$(grep -c 'Zoo function completed' "$SCRATCH/other.out")" -eq $REQUESTS

# SIGTERM, as the kubelet stops a pod: flush, then exit 0 and remove the ready file.
kill -TERM $sp
wait_or_fail $sp
expect_eq "sigterm_exit_status" "$?" 0
check "ready_file_removed" test ! -e "$ready"
# the demo pod's calls alone (3 spans a request); the other pod's none
check "summary_exported_all" grep -q "OTLP exported $((3 * REQUESTS)), dropped 0" "$SCRATCH/sp.err"
# the pod's processes: its container's shell, unshare, sleep and demo-app
check "summary_counts_the_pod" grep -q "; [0-9]* processes and 1 pod traced" "$SCRATCH/sp.err"

# In Jaeger: the service is the executable's name; every request one trace.
if jaeger_wait_traces demo-app "$REQUESTS" $((3 * REQUESTS)) "$SCRATCH/jaeger.json" 30; then
	pass jaeger_has_every_trace
	# The app ran in a PID namespace: its printed tids are namespace tids.
	# Map them to the host tid the spans carry (one thread: one of each).
	host_tid=$(jq -r '[.data[].spans[].tags[] | select(.key == "thread.id") | .value] | unique | .[0]' "$SCRATCH/jaeger.json")
	sed -E "s/^tid=[0-9]+ /tid=$host_tid /" "$SCRATCH/app.out" >"$SCRATCH/app.host"
	report_checks jaeger tests/lib/check_demo_spans.sh jaeger "$SCRATCH/jaeger.json" "$SCRATCH/app.host" "$REQUESTS"
	check "node_name_resource_attribute" jq -e \
		'[.data[].processes[].tags[] | select(.key == "k8s.node.name") | .value] | unique == ["test-node"]' \
		"$SCRATCH/jaeger.json"
else
	fail jaeger_has_every_trace "$(tail -n 3 "$SCRATCH/sp.err")"
fi
