#!/usr/bin/env bash
# The DaemonSet's RBAC (deploy/base/spanprobe-rbac.yaml) applied to a real
# kube-apiserver, and spanprobe's pod watch run with a token of its
# ServiceAccount (TokenRequest API): it lists and watches its node's pods,
# in-cluster the way the DaemonSet's pod finds the API (the ServiceAccount
# files and KUBERNETES_SERVICE_*), and every request beyond that is refused
# with 403. A ServiceAccount without the binding, an unknown token, an
# unknown CA and a closed port each get one clear line.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/kube.sh"
scratch
kube_suite_start watch
NODE=node-a
HANG_GUARD_MS=30000 # a list answers within a second here

# The manifests exactly as deploy/ has them.
if kube_apply "$ROOT/deploy/base/namespaces.yaml" && kube_apply "$ROOT/deploy/base/spanprobe-rbac.yaml"; then
	pass rbac_applied
else
	fail rbac_applied "see above"
	exit 1
fi
sa_ns=$(awk '/^kind: ServiceAccount/ { s = 1 } s && $1 == "namespace:" { print $2; exit }' "$ROOT/deploy/base/spanprobe-rbac.yaml")
sa=$(awk '/^kind: ServiceAccount/ { s = 1 } s && $1 == "name:" { print $2; exit }' "$ROOT/deploy/base/spanprobe-rbac.yaml")
kube_create_serviceaccount demo default
uid=$(kube_create_pod demo web-1 $NODE '{"app":"web"}') || { fail pod "see above"; exit 1; }
kube_create_pod demo elsewhere node-b >/dev/null

token=$SCRATCH/sa.token
kube_token "$sa_ns" "$sa" 600 >"$token" && [ -s "$token" ] || { fail token_request "see above"; exit 1; }
pass token_request

# Granted: the list and watch of this node's pods.
"$KUBE_WATCH" --server "$KUBE_API" --token-file "$token" --ca-file "$KUBE_CA" --node $NODE \
	--once $HANG_GUARD_MS >"$SCRATCH/sa.out" 2>"$SCRATCH/sa.err"
expect_eq sa_lists_node_pods_exit "$?" 0
check sa_lists_node_pods grep -q "^ADDED demo/web-1 uid=$uid " "$SCRATCH/sa.out"
check sa_sees_only_its_node bash -c "! grep -q elsewhere '$SCRATCH/sa.out'"
check sa_no_error bash -c "! grep -q '^ERROR' '$SCRATCH/sa.out'"

# ... and the watch: a pod created later arrives as an event.
mkfifo "$SCRATCH/cmd"
"$KUBE_WATCH" --server "$KUBE_API" --token-file "$token" --ca-file "$KUBE_CA" --node $NODE \
	<"$SCRATCH/cmd" >"$SCRATCH/sa-watch.out" 2>"$SCRATCH/sa-watch.err" &
watcher=$!
bg_track $watcher
exec 3>"$SCRATCH/cmd"
wait_for_line "$SCRATCH/sa-watch.out" "^SYNCED" 30
uid2=$(kube_create_pod demo web-2 $NODE)
check sa_watches_node_pods wait_for_line "$SCRATCH/sa-watch.out" "^ADDED demo/web-2 uid=$uid2 "
echo quit >&3
exec 3>&-
wait_or_fail $watcher
expect_eq sa_watch_exit "$?" 0

# In-cluster, as in the DaemonSet's pod: the ServiceAccount files at their
# path (a private mount namespace) and the service address in the environment.
sa_dir=/var/run/secrets/kubernetes.io/serviceaccount
cp "$KUBE_CA" "$SCRATCH/ca.crt"
unshare --mount --propagation private sh -c "
	mount -t tmpfs tmpfs /var/run && mkdir -p $sa_dir &&
	cp '$token' $sa_dir/token && cp '$SCRATCH/ca.crt' $sa_dir/ca.crt && echo $sa_ns >$sa_dir/namespace &&
	exec env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$KUBE_PORT \
		'$KUBE_WATCH' --in-cluster --node $NODE --once $HANG_GUARD_MS" >"$SCRATCH/incluster.out" 2>"$SCRATCH/incluster.err"
expect_eq in_cluster_exit "$?" 0
check in_cluster_lists_node_pods grep -q "^ADDED demo/web-1 uid=$uid " "$SCRATCH/incluster.out"

# Refused: anything beyond get/list/watch of pods.
refused() { # NAME METHOD PATH [BODY [TYPE]]
	local name=$1
	shift
	kube_api --token-file "$token" "$@" >"$SCRATCH/refused.out" 2>&1
	expect_eq "refused_$name" "$KUBE_HTTP_CODE" 403
}
allowed() {
	local name=$1
	shift
	kube_api --token-file "$token" "$@" >"$SCRATCH/allowed.out" 2>&1
	expect_eq "allowed_$name" "$KUBE_HTTP_CODE" 200
}
allowed get_pod GET /api/v1/namespaces/demo/pods/web-1
allowed list_node_pods "GET" "/api/v1/pods?fieldSelector=spec.nodeName%3D$NODE"
refused list_secrets GET /api/v1/secrets
refused get_secret_in_namespace GET /api/v1/namespaces/demo/secrets/anything
refused list_configmaps GET /api/v1/configmaps
refused list_nodes GET /api/v1/nodes
refused create_pod POST /api/v1/namespaces/demo/pods \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"evil\"},\"spec\":{\"nodeName\":\"$NODE\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}"
refused relabel_pod PATCH /api/v1/namespaces/demo/pods/web-1 '{"metadata":{"labels":{"app":"x"}}}' application/merge-patch+json
refused delete_pod DELETE /api/v1/namespaces/demo/pods/web-1
refused update_pod_status PATCH /api/v1/namespaces/demo/pods/web-1/status '{"status":{"phase":"Failed"}}' application/merge-patch+json
refused exec_in_pod POST "/api/v1/namespaces/demo/pods/web-1/exec?command=id&stdout=true"
refused token_of_other_sa POST "/api/v1/namespaces/demo/serviceaccounts/default/token" \
	'{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}'

# Without the binding: one line naming the cause and the fix.
kube_token demo default 600 >"$SCRATCH/default.token" || fail default_token "see above"
"$KUBE_WATCH" --server "$KUBE_API" --token-file "$SCRATCH/default.token" --ca-file "$KUBE_CA" --node $NODE \
	--once $HANG_GUARD_MS >"$SCRATCH/denied.out" 2>"$SCRATCH/denied.err"
expect_eq unbound_sa_fails "$?" 1
check unbound_sa_error_names_rbac grep -q "^ERROR the Kubernetes API server forbids spanprobe to list pods on node $NODE (403: pods is forbidden: User \"system:serviceaccount:demo:default\" cannot list resource \"pods\" .*); grant get, list and watch on pods to its ServiceAccount (deploy/base/spanprobe-rbac.yaml)" "$SCRATCH/denied.out"

# A token the server does not know.
echo not-a-token >"$SCRATCH/bad.token"
"$KUBE_WATCH" --server "$KUBE_API" --token-file "$SCRATCH/bad.token" --ca-file "$KUBE_CA" --node $NODE \
	--once $HANG_GUARD_MS >"$SCRATCH/bad.out" 2>"$SCRATCH/bad.err"
expect_eq bad_token_fails "$?" 1
check bad_token_error grep -q "^ERROR the Kubernetes API server refused spanprobe's token (401 Unauthorized" "$SCRATCH/bad.out"
# The server's certificate checked: without its CA (the system's CAs only).
"$KUBE_WATCH" --server "$KUBE_API" --token-file "$token" --node $NODE \
	--once $HANG_GUARD_MS >"$SCRATCH/noca.out" 2>"$SCRATCH/noca.err"
expect_eq unknown_ca_fails "$?" 1
check unknown_ca_error grep -q "^ERROR cannot list pods on node $NODE: cannot reach the API server at $KUBE_API: SSL certificate problem" "$SCRATCH/noca.out"
# Nobody listening there.
free_port closed
"$KUBE_WATCH" --server "https://127.0.0.1:$closed" --token-file "$token" --ca-file "$KUBE_CA" --node $NODE \
	--once $HANG_GUARD_MS >"$SCRATCH/closed.out" 2>"$SCRATCH/closed.err"
expect_eq no_server_fails "$?" 1
check no_server_error grep -q "^ERROR cannot list pods on node $NODE: cannot reach the API server at https://127.0.0.1:$closed: Failed to connect to 127.0.0.1 port $closed" "$SCRATCH/closed.out"
check sanitizers_clean bash -c "! cat '$SCRATCH'/*.err | grep -q Sanitizer"
exit 0
