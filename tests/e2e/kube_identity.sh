#!/usr/bin/env bash
# Pod identity from the real API server, never from the container: pods in a
# real kube-apiserver (no kubelet), their processes in hostile containers
# (Debian roots, kubelet-named cgroups) that forge /etc/hostname and the
# service-account namespace file. spanprobe, with the DaemonSet's
# ServiceAccount token (deploy/'s RBAC applied), names each traced process by
# the pod uid of its cgroup: the pod's real name, namespace and container
# name, also for a pod created after it started; nothing forged reaches a
# span; a pod of another node or an unreachable API names nothing. The same
# in-cluster, as the DaemonSet's pod finds the API.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/kube.sh"
source "$ROOT/tests/lib/hostile.sh"
scratch
kube_build kube || exit 0
hostile_build hostile_root || exit 0
kube_start || { fail kube_start "see above"; exit 1; }
trap '_kube_stop; _hostile_cleanup' EXIT
NODE=test-node
APP=/usr/local/bin/idapp
APP_ARGS=(--requests 0 --interval 20 --time-scale 0.002)

kube_apply "$ROOT/deploy/base/namespaces.yaml" && kube_apply "$ROOT/deploy/base/spanprobe-rbac.yaml" ||
	{ fail rbac_applied "see above"; exit 1; }
token=$SCRATCH/sa.token
kube_token opentelemetry spanprobe 600 >"$token" && [ -s "$token" ] || { fail token "see above"; exit 1; }
kube_create_namespace team-a || { fail namespace "see above"; exit 1; }

# container CTR UID CID: a hostile container running $APP in pod UID's cgroup,
# claiming to be pod "evil-pod" of namespace kube-system
container() {
	hostile_new "$1" || return 1
	cp "$DEMO" "$HOSTILE_ROOT$APP"
	echo evil-pod >"$HOSTILE_ROOT/etc/hostname"
	mkdir -p "$HOSTILE_ROOT/var/run/secrets/kubernetes.io/serviceaccount"
	echo kube-system >"$HOSTILE_ROOT/var/run/secrets/kubernetes.io/serviceaccount/namespace"
	hostile_start "$1" "$2" "$3" "$APP" "${APP_ARGS[@]}"
}

# attrs FILE PID: the pod attributes of PID's foo spans, one JSON object
attrs() {
	jq -c --arg pid "$2" 'select(.name == "foo") | select(any(.attributes[]; .key == "process.pid" and .value.intValue == $pid))
		| [.attributes[] | select(.key | startswith("k8s.") or . == "container.id") | {(.key): .value.stringValue}] | add' \
		"$1"
}

CID1=$(hostile_cid)
UID1=$(kube_create_pod team-a web-1 $NODE '{"app":"web"}') || { fail pod_web_1 "see above"; exit 1; }
kube_set_container_ids team-a web-1 "app=$CID1"
container c1 "$UID1" "$CID1" || { fail c1_start "see above"; exit 1; }
P1=$HOSTILE_PID
# a pod of another node: its uid is not this node's to name
CID3=$(hostile_cid)
UID3=$(kube_create_pod team-a far-away node-b) || { fail pod_far_away "see above"; exit 1; }
container c3 "$UID3" "$CID3" || { fail c3_start "see above"; exit 1; }
P3=$HOSTILE_PID

"$SPANPROBE" --wait -o jsonl --output-file "$SCRATCH/spans.jsonl" --node-name $NODE \
	--kube-api "$KUBE_API" --kube-token-file "$token" --kube-ca-file "$KUBE_CA" \
	"uprobe:$APP:foo" 2>"$SCRATCH/sp.err" &
sp=$!
bg_track $sp
check attached wait_for_line "$SCRATCH/sp.err" "tracing [0-9]* functions" 30

# a pod created after spanprobe started: named from the watch's event
CID2=$(hostile_cid)
UID2=$(kube_create_pod team-a web-2 $NODE) || { fail pod_web_2 "see above"; exit 1; }
container c2 "$UID2" "$CID2" || { fail c2_start "see above"; exit 1; }
P2=$HOSTILE_PID
check c2_attached wait_for_line "$SCRATCH/sp.err" "tracing $APP (/proc/$P2/root" 30
for p in $P1 $P2 $P3; do
	wait_for_count "$SCRATCH/spans.jsonl" "\"intValue\":\"$p\"" 10 60
done
# until the names are there (a process seen before its pod is looked up again)
for _ in $(seq 40); do
	attrs "$SCRATCH/spans.jsonl" "$P2" | grep -q web-2 && break
	sleep 0.05
done
kill -INT $sp
wait_exit $sp 60 || fail exits "hang guard: spanprobe still runs 60 s after SIGINT"
expect_eq exit_status "$WAIT_STATUS" 0

# the last version of each process's attributes (an early span may lack names)
last() { attrs "$SCRATCH/spans.jsonl" "$1" | tail -n 1; }
expect_eq web_1_named_by_the_api "$(last $P1)" \
	"{\"container.id\":\"$CID1\",\"k8s.pod.uid\":\"$UID1\",\"k8s.pod.name\":\"web-1\",\"k8s.namespace.name\":\"team-a\",\"k8s.container.name\":\"app\"}"
expect_eq web_2_created_later_named "$(last $P2)" \
	"{\"container.id\":\"$CID2\",\"k8s.pod.uid\":\"$UID2\",\"k8s.pod.name\":\"web-2\",\"k8s.namespace.name\":\"team-a\"}"
expect_eq other_nodes_pod_not_named "$(last $P3)" "{\"container.id\":\"$CID3\",\"k8s.pod.uid\":\"$UID3\"}"
check nothing_forged_exported bash -c "! grep -q -e evil-pod -e kube-system '$SCRATCH/spans.jsonl'"
check no_api_errors bash -c "! grep -q 'Kubernetes API' '$SCRATCH/sp.err'"

# In-cluster, as in the DaemonSet's pod: the ServiceAccount files at their
# path (a private mount namespace), the service address and node name in the
# environment.
sa_dir=/var/run/secrets/kubernetes.io/serviceaccount
cp "$KUBE_CA" "$SCRATCH/ca.crt"
unshare --mount --propagation private sh -c "
	mount -t tmpfs tmpfs /var/run && mkdir -p $sa_dir &&
	cp '$token' $sa_dir/token && cp '$SCRATCH/ca.crt' $sa_dir/ca.crt && echo opentelemetry >$sa_dir/namespace &&
	exec env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$KUBE_PORT K8S_NODE_NAME=$NODE \
		'$SPANPROBE' -p $P1 -o jsonl --output-file '$SCRATCH/incluster.jsonl' 'uprobe:$APP:foo'" \
	2>"$SCRATCH/incluster.err" &
ic=$!
bg_track $ic
for _ in $(seq 200); do
	attrs "$SCRATCH/incluster.jsonl" "$P1" 2>/dev/null | grep -q web-1 && break
	sleep 0.05
done
kill -INT $ic
wait_exit $ic 60 || fail in_cluster_exits "hang guard: spanprobe still runs 60 s after SIGINT"
ic_attrs=$(attrs "$SCRATCH/incluster.jsonl" "$P1" | tail -n 1)
check in_cluster_named_by_the_api grep -q '"k8s.pod.name":"web-1","k8s.namespace.name":"team-a"' <<<"$ic_attrs"

# An API server that does not answer: one line, tracing goes on, no names.
free_port closed
"$SPANPROBE" -p "$P1" -o jsonl --output-file "$SCRATCH/noapi.jsonl" --node-name $NODE \
	--kube-api "https://127.0.0.1:$closed" --kube-ca-file "$KUBE_CA" "uprobe:$APP:foo" 2>"$SCRATCH/noapi.err" &
na=$!
bg_track $na
check unreachable_api_traces_on wait_for_count "$SCRATCH/noapi.jsonl" '"name":"foo"' 5 60
check unreachable_api_said wait_for_line "$SCRATCH/noapi.err" "Kubernetes API: .*127.0.0.1:$closed" 30
kill -INT $na
wait_exit $na 60 || fail unreachable_api_exits "hang guard: spanprobe still runs 60 s after SIGINT"
expect_eq unreachable_api_exit_status "$WAIT_STATUS" 0
n=$(grep -c 'Kubernetes API' "$SCRATCH/noapi.err")
[ "$n" -eq 1 ] && pass unreachable_api_said_once ||
	fail unreachable_api_said_once "$n lines: $(grep 'Kubernetes API' "$SCRATCH/noapi.err" | head -n 3 | tr '\n' '|')"
# (absent from spans that are there: the file holds the foo spans counted above)
check unreachable_api_no_names bash -c "test -s '$SCRATCH/noapi.jsonl' && ! grep -q -e k8s.pod.name -e evil-pod '$SCRATCH/noapi.jsonl'"

# Bad options: one line each, non-zero exit.
"$SPANPROBE" --kube-api "$KUBE_API" --node-name '' -p "$P1" "uprobe:$APP:foo" 2>"$SCRATCH/bad1.err"
check no_node_name_refused test $? -ne 0 -a "$(wc -l <"$SCRATCH/bad1.err")" -eq 1
check no_node_name_says_why grep -q -- "--node-name" "$SCRATCH/bad1.err"
"$SPANPROBE" --kube-api ftp://x --node-name $NODE -p "$P1" "uprobe:$APP:foo" 2>"$SCRATCH/bad2.err"
check bad_url_refused test $? -ne 0 -a "$(wc -l <"$SCRATCH/bad2.err")" -eq 1
