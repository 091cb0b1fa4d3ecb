#!/usr/bin/env bash
# Outside a pod, the kubectl way: spanprobe with only KUBECONFIG set (no
# --kube-api, no ServiceAccount) against a real kube-apiserver names a
# process's pod as --kube-api does (kube_identity.sh), the expected values
# being what this test created in the API. The kubeconfig is written four
# ways: a token with the CA as -data; a client certificate and key as -data
# (signed by the CA the API server trusts for clients) with the CA as a path
# relative to the kubeconfig; a tokenFile relative to it, in the second file
# of a KUBECONFIG list; an exec plugin (a shell script printing an
# ExecCredential, its first token a wrong one: the 401 makes spanprobe run
# it again). Without --node-name or K8S_NODE_NAME the node is this host's
# name, said once. A broken kubeconfig is one line naming the file, and a
# non-zero exit when --namespace needs the API.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/kube.sh"
scratch
kube_suite_start
NODE=test-node
HOST_NODE=$(uname -n | tr '[:upper:]' '[:lower:]')
APP=$SCRATCH/kcapp # a copy of its own: -p chooses it, the path names it
cp "$DEMO" "$APP"
b64() { base64 -w0 "$1"; }

kube_create_namespace team-k || { fail namespace "see above"; exit 1; }

# in_pod UID CID: $APP in container CID's cgroup of pod UID, as a runtime
# starts it; its pid in POD_PID
in_pod() {
	local root dir
	root=$(_kube_cgroup_root) || return 1
	dir=$root/kubepods/besteffort/pod$1/cri-containerd-$2
	mkdir -p "$dir" || return 1
	KUBE_CGROUPS="$dir $KUBE_CGROUPS"
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$dir" "$APP" --requests 0 --interval 20 \
		--time-scale 0.002 >/dev/null 2>&1 &
	POD_PID=$!
	bg_track $POD_PID
}

# a pod on NODE and one on this host's node name, each with its process
CID=$(openssl rand -hex 32)
UIDK=$(kube_create_pod team-k web-k $NODE '{"app":"web"}') || { fail pod_web_k "see above"; exit 1; }
kube_set_container_ids team-k web-k "app=$CID" || { fail container_ids "see above"; exit 1; }
in_pod "$UIDK" "$CID" || { fail in_pod "see above"; exit 1; }
PK=$POD_PID
HCID=$(openssl rand -hex 32)
UIDH=$(kube_create_pod team-k web-h "$HOST_NODE") || { fail pod_web_h "see above"; exit 1; }
kube_set_container_ids team-k web-h "app=$HCID" || { fail container_ids_h "see above"; exit 1; }
in_pod "$UIDH" "$HCID" || { fail in_pod_h "see above"; exit 1; }
PH=$POD_PID
WANT_K="{\"container.id\":\"$CID\",\"k8s.pod.uid\":\"$UIDK\",\"k8s.pod.name\":\"web-k\",\"k8s.namespace.name\":\"team-k\",\"k8s.container.name\":\"app\"}"
WANT_H="{\"container.id\":\"$HCID\",\"k8s.pod.uid\":\"$UIDH\",\"k8s.pod.name\":\"web-h\",\"k8s.namespace.name\":\"team-k\",\"k8s.container.name\":\"app\"}"

# attrs FILE PID: the pod attributes of PID's foo spans, one JSON object a span
attrs() {
	jq -c --arg pid "$2" 'select(.name == "foo") | select(any(.attributes[]; .key == "process.pid" and .value.intValue == $pid))
		| [.attributes[] | select(.key | startswith("k8s.") or . == "container.id") | {(.key): .value.stringValue}] | add' \
		"$1" 2>/dev/null
}

# kubeconfig DIR CLUSTER-YAML USER-YAML: DIR/config with one context "kc"
kubeconfig() {
	mkdir -p "$1"
	cat >"$1/config" <<KC
apiVersion: v1
kind: Config
current-context: kc
clusters:
- name: test
  cluster:
$2
contexts:
- name: kc
  context: {cluster: test, user: me, namespace: team-k}
users:
- name: me
  user:
$3
KC
}

# run_named NAME PID WANT ENV...: spanprobe -p PID with only the kubeconfig
# environment ENV (no --kube-api, not in a pod); PID's spans named WANT
run_named() {
	local name=$1 pid=$2 want=$3 out=$SCRATCH/$1.jsonl err=$SCRATCH/$1.err sp got
	local deadline=$((SECONDS + 60 * HANG_SCALE)) # hang guard; named in ~1 s
	shift 3
	env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT -u K8S_NODE_NAME "$@" \
		"$SPANPROBE" -p "$pid" -o jsonl --output-file "$out" "uprobe:$APP:foo" 2>"$err" &
	sp=$!
	bg_track $sp
	while [ $SECONDS -lt $deadline ]; do
		attrs "$out" "$pid" | tail -n 1 | grep -q '"k8s.pod.name"' && break
		sleep 0.1
	done
	kill -INT $sp
	wait_exit $sp 60 || fail "$name.exits" "hang guard: spanprobe still runs 60 s after SIGINT"
	expect_eq "$name.exit_status" "$WAIT_STATUS" 0
	got=$(attrs "$out" "$pid" | tail -n 1)
	expect_eq "$name.named_by_the_api" "$got" "$want"
	check "$name.no_api_errors" bash -c "test -s '$err' && ! grep -q 'Kubernetes API' '$err'"
}

# 1. token, CA as -data; no node name given: this host's
kubeconfig "$SCRATCH/token" "    server: $KUBE_API
    certificate-authority-data: $(b64 "$KUBE_CA")" "    token: $(cat "$KUBE_ADMIN_TOKEN_FILE")"
run_named token "$PH" "$WANT_H" KUBECONFIG="$SCRATCH/token/config"
n=$(grep -c "assuming this host's name, node $HOST_NODE\$" "$SCRATCH/token.err")
expect_eq token.host_node_said_once "$n" 1
check token.token_never_logged bash -c "! grep -qF '$(cat "$KUBE_ADMIN_TOKEN_FILE")' '$SCRATCH/token.err'"

# 2. client certificate and key as -data, CA as a path relative to the file
openssl req -new -newkey rsa:2048 -nodes -keyout "$SCRATCH/client.key" -out "$SCRATCH/client.csr" \
	-subj "/CN=kubeconfig-admin/O=system:masters" 2>/dev/null &&
	openssl x509 -req -in "$SCRATCH/client.csr" -CA "$KUBE_CLIENT_CA" -CAkey "$KUBE_CLIENT_CA_KEY" \
		-CAcreateserial -out "$SCRATCH/client.crt" -days 1 2>/dev/null || { fail client_cert "openssl"; exit 1; }
kubeconfig "$SCRATCH/cert" "    server: $KUBE_API
    certificate-authority: ca/server-ca.crt" "    client-certificate-data: $(b64 "$SCRATCH/client.crt")
    client-key-data: $(b64 "$SCRATCH/client.key")"
mkdir -p "$SCRATCH/cert/ca" && cp "$KUBE_CA" "$SCRATCH/cert/ca/server-ca.crt"
run_named client_cert "$PK" "$WANT_K" KUBECONFIG="$SCRATCH/cert/config" K8S_NODE_NAME=$NODE

# 3. tokenFile relative to its file, the second of a KUBECONFIG list whose
# first file (another's, with no current-context) defines nothing we use
mkdir -p "$SCRATCH/list" && cp "$KUBE_ADMIN_TOKEN_FILE" "$SCRATCH/list/admin.token"
kubeconfig "$SCRATCH/list" "    server: $KUBE_API
    certificate-authority: $KUBE_CA" "    tokenFile: admin.token"
printf 'apiVersion: v1\nkind: Config\nclusters: []\nusers: [{name: other, user: {token: x}}]\n' >"$SCRATCH/first.yaml"
run_named token_file "$PK" "$WANT_K" KUBECONFIG="$SCRATCH/missing.yaml:$SCRATCH/first.yaml:$SCRATCH/list/config" \
	K8S_NODE_NAME=$NODE

# 4. an exec plugin: its first token is wrong (401), the next right
mkdir -p "$SCRATCH/exec"
cat >"$SCRATCH/exec/plugin.sh" <<'PLUGIN'
#!/bin/sh
dir=$(dirname "$0")
n=$(($(cat "$dir/runs" 2>/dev/null || echo 0) + 1))
echo $n >"$dir/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" >"$dir/exec-info.json"
token=$(cat "$ADMIN_TOKEN_FILE")
[ $n -eq 1 ] && token=wrong-token
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"%s"}}\n' "$token"
PLUGIN
chmod +x "$SCRATCH/exec/plugin.sh"
kubeconfig "$SCRATCH/exec" "    server: $KUBE_API
    certificate-authority-data: $(b64 "$KUBE_CA")" "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./plugin.sh
      env: [{name: ADMIN_TOKEN_FILE, value: $KUBE_ADMIN_TOKEN_FILE}]
      interactiveMode: Never
      provideClusterInfo: true"
run_named exec_plugin "$PK" "$WANT_K" KUBECONFIG="$SCRATCH/exec/config" K8S_NODE_NAME=$NODE
expect_eq exec_plugin.run_again_after_401 "$(cat "$SCRATCH/exec/runs" 2>/dev/null)" 2
expect_eq exec_plugin.exec_info "$(jq -c '[.kind, .apiVersion, .spec.interactive, .spec.cluster.server]' \
	"$SCRATCH/exec/exec-info.json" 2>&1)" "[\"ExecCredential\",\"client.authentication.k8s.io/v1\",false,\"$KUBE_API\"]"
expect_eq exec_plugin.exec_info_ca "$(jq -r '.spec.cluster["certificate-authority-data"]' \
	"$SCRATCH/exec/exec-info.json" 2>/dev/null | base64 -d 2>/dev/null | sha256sum)" "$(sha256sum <"$KUBE_CA")"

# Broken kubeconfigs where --namespace needs the API: one line naming the
# file, the cause and the fix; a non-zero exit.
# broken NAME KUBECONFIG WANT-LINE
broken() {
	local err=$SCRATCH/$1.err
	env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT KUBECONFIG="$2" \
		"$SPANPROBE" --namespace team-k --node-name $NODE "uprobe:$APP:foo" 2>"$err" &
	local sp=$!
	bg_track $sp
	wait_exit $sp 60 || { fail "$1.exits" "hang guard: spanprobe still runs 60 s later"; kill $sp; return; }
	check "$1.refused" test "$WAIT_STATUS" -ne 0
	expect_eq "$1.one_line" "$(cat "$err")" "$3"
}
kubeconfig "$SCRATCH/nouser" "    server: $KUBE_API" "    token: x"
sed -i 's/user: me, namespace/user: ghost, namespace/' "$SCRATCH/nouser/config"
broken undefined_user "$SCRATCH/nouser/config" \
	"spanprobe: kubeconfig $SCRATCH/nouser/config: context \"kc\" names user \"ghost\" which it does not define (add it under users:, or change the context's user)"
kubeconfig "$SCRATCH/failing" "    server: $KUBE_API" "    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: /bin/false
      installHint: install the cloud's plugin"
broken plugin_fails "$SCRATCH/failing/config" \
	"spanprobe: kubeconfig $SCRATCH/failing/config: exec plugin /bin/false: it exited with status 1; install the cloud's plugin"
kubeconfig "$SCRATCH/noca" "    server: $KUBE_API
    certificate-authority: nowhere/ca.crt" "    token: x"
broken unreadable_ca "$SCRATCH/noca/config" \
	"spanprobe: kubeconfig $SCRATCH/noca/config: cluster \"test\": cannot read certificate-authority $SCRATCH/noca/nowhere/ca.crt: No such file or directory (fix the path; a relative one is relative to this file's directory)"
printf 'current-context: kc\nclusters: [\n' >"$SCRATCH/bad.yaml"
broken bad_yaml "$SCRATCH/bad.yaml" \
	"$(printf 'spanprobe: kubeconfig %s: not valid YAML: did not find expected node content at line 3 column 1 (fix the file, or point KUBECONFIG at another)' "$SCRATCH/bad.yaml")"

# Only naming pods (-p, no selection): the broken kubeconfig is one warning
# line, and tracing goes on.
env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT KUBECONFIG="$SCRATCH/nouser/config" \
	"$SPANPROBE" --dry-run -p "$PK" --node-name $NODE "uprobe:$APP:foo" 2>"$SCRATCH/warn.err"
expect_eq broken_only_naming.exit_status "$?" 0
expect_eq broken_only_naming.one_warning "$(grep kubeconfig "$SCRATCH/warn.err")" \
	"spanprobe: warning: kubeconfig $SCRATCH/nouser/config: context \"kc\" names user \"ghost\" which it does not define (add it under users:, or change the context's user); pods are not named"
