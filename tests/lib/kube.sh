# A real Kubernetes control plane for the tests: etcd and kube-apiserver
# (scripts/build-kube.sh), on loopback on free ports, with RBAC, a
# ServiceAccount signing key and an admin token. No kubelet: pods stay
# Pending, but they are full API objects with server-assigned uids.
# Source after common.sh and peers.sh, call `scratch` first; everything
# started here is stopped at exit (bg_track).
#   kube_build NAME || exit 0      find the binaries; SKIP NAME when they can't be built
#   kube_start                     sets KUBE_API (https://127.0.0.1:PORT), KUBE_CA (PEM),
#                                  KUBE_ADMIN_TOKEN_FILE, ETCD_URL, KUBE_APISERVER_PID,
#                                  KUBE_CLIENT_CA and KUBE_CLIENT_CA_KEY (the CA the API
#                                  server trusts for client certificates)
#   kube_restart_apiserver         stop and start kube-apiserver (same etcd, port, keys)
#   kube_api [--token-file F] METHOD PATH [BODY [CONTENT-TYPE]]
#                                  prints the answer; sets KUBE_HTTP_CODE; fails on >= 400
#   kube_create_namespace NS       with its `default` ServiceAccount
#   kube_create_serviceaccount NS NAME
#   kube_create_pod NS NAME NODE [LABELS_JSON [CONTAINERS]]
#                                  CONTAINERS: comma-separated names (default "app");
#                                  prints the pod's uid
#   kube_label_pod NS NAME KEY=VALUE|KEY-...   set or remove labels
#   kube_set_container_ids NS NAME CONTAINER=ID...
#                                  status.containerStatuses as a kubelet would report
#                                  them (containerd://ID, running)
#   kube_delete_pod NS NAME
#   kube_apply FILE                create every object of a manifest file (Namespace,
#                                  ServiceAccount, (Cluster)Role(Binding))
#   kube_token NS SA [SECONDS]     a token of ServiceAccount SA (TokenRequest API)
#   etcd_api PATH JSON             etcd's v3 JSON gateway (writes behind the API's back)
#   kube_pod_cgroup RELPATH PID    make cgroup RELPATH (named as a kubelet and runtime
#                                  would, e.g. kubepods/besteffort/pod<uid>/<id>) and
#                                  move PID into it; removed at exit
# shellcheck shell=bash

KUBE_TIMEOUT=${KUBE_TIMEOUT:-60} # hang guard: ready in ~2 s here
KUBE_WATCH=$ROOT/build/tools/kube-watch
KUBE_CGROUPS=""

kube_build() {
	local name=$1 out
	for tool in curl jq openssl; do
		command -v "$tool" >/dev/null || {
			skip "$name" "$tool is needed to talk to the API server (scripts/install-deps.sh test)"
			return 1
		}
	done
	if ! out=$("$ROOT/scripts/build-kube.sh" 2>&1); then
		skip "$name" "etcd and kube-apiserver can't be built: $(printf '%s' "$out" | tail -n 1)"
		return 1
	fi
	ETCD=$(printf '%s\n' "$out" | sed -n 's/^ETCD=//p')
	KUBE_APISERVER=$(printf '%s\n' "$out" | sed -n 's/^KUBE_APISERVER=//p')
	if [ ! -x "$ETCD" ] || [ ! -x "$KUBE_APISERVER" ]; then
		skip "$name" "scripts/build-kube.sh printed no usable binaries: $out"
		return 1
	fi
}

# kube_suite_start [watch]: what a suite on the real API server does first:
# etcd and kube-apiserver built (a SKIP line and exit when they can't be:
# CI=true counts it as a failure), with "watch" the pod-watch tool there,
# and the API server up; otherwise a FAIL line and the suite ends.
kube_suite_start() {
	kube_build kube || exit 0
	if [ "${1:-}" = watch ] && [ ! -x "$KUBE_WATCH" ]; then
		fail kube_watch_built "$KUBE_WATCH missing (make fixtures)"
		exit 1
	fi
	kube_start || { fail kube_start "see above"; exit 1; }
}

_kube_apiserver_run() {
	"$KUBE_APISERVER" \
		--etcd-servers="$ETCD_URL" \
		--bind-address=127.0.0.1 --secure-port="$KUBE_PORT" \
		--cert-dir="$KUBE_DIR/certs" \
		--service-account-issuer=https://kubernetes.default.svc \
		--service-account-key-file="$KUBE_DIR/sa.pub" \
		--service-account-signing-key-file="$KUBE_DIR/sa.key" \
		--token-auth-file="$KUBE_DIR/tokens.csv" \
		--client-ca-file="$KUBE_CLIENT_CA" \
		--authorization-mode=RBAC \
		--service-cluster-ip-range=10.96.0.0/16 \
		--profiling=false \
		>>"$SCRATCH/kube-apiserver.log" 2>&1 &
	KUBE_APISERVER_PID=$!
	bg_track "$KUBE_APISERVER_PID"
}

# Ready: /readyz answers ok (RBAC's bootstrap roles included).
_kube_wait_ready() {
	local i
	for ((i = 0; i < KUBE_TIMEOUT * 10; i++)); do
		kill -0 "$KUBE_APISERVER_PID" 2>/dev/null || {
			echo "kube-apiserver exited: $(tail -n 3 "$SCRATCH/kube-apiserver.log")" >&2
			return 1
		}
		if [ -s "$KUBE_DIR/certs/apiserver.crt" ] &&
			[ "$(curl -s --cacert "$KUBE_CA" -H "Authorization: Bearer $(cat "$KUBE_ADMIN_TOKEN_FILE")" \
				"$KUBE_API/readyz" 2>/dev/null)" = ok ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "hang guard: kube-apiserver not ready after ${KUBE_TIMEOUT}s (usually ~2 s)" >&2
	return 1
}

kube_start() {
	local client peer
	trap '_kube_stop; cleanup_scratch; _kube_cleanup_cgroups' EXIT
	KUBE_DIR=$SCRATCH/kube
	mkdir -p "$KUBE_DIR/certs"
	free_port client && free_port peer && free_port KUBE_PORT || return 1
	ETCD_URL=http://127.0.0.1:$client
	KUBE_API=https://127.0.0.1:$KUBE_PORT
	# The serving certificate kube-apiserver makes for itself in --cert-dir
	# is signed by a CA it writes into the same file.
	KUBE_CA=$KUBE_DIR/certs/apiserver.crt
	"$ETCD" --data-dir "$KUBE_DIR/etcd" --name test \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
		--initial-cluster "test=http://127.0.0.1:$peer" --unsafe-no-fsync \
		>>"$SCRATCH/etcd.log" 2>&1 &
	ETCD_PID=$!
	bg_track "$ETCD_PID"
	wait_port "127.0.0.1:$client" "$KUBE_TIMEOUT" "$ETCD_PID" || {
		echo "etcd did not start: $(tail -n 3 "$SCRATCH/etcd.log")" >&2
		return 1
	}
	openssl genrsa -out "$KUBE_DIR/sa.key" 2048 2>/dev/null &&
		openssl rsa -in "$KUBE_DIR/sa.key" -pubout -out "$KUBE_DIR/sa.pub" 2>/dev/null || return 1
	# Client certificates signed by this CA authenticate as their CN, in the
	# groups of their O fields.
	KUBE_CLIENT_CA=$KUBE_DIR/client-ca.crt
	KUBE_CLIENT_CA_KEY=$KUBE_DIR/client-ca.key
	openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$KUBE_CLIENT_CA_KEY" -out "$KUBE_CLIENT_CA" \
		-subj /CN=spanprobe-test-client-ca -days 2 2>/dev/null || return 1
	KUBE_ADMIN_TOKEN_FILE=$KUBE_DIR/admin.token
	openssl rand -hex 24 >"$KUBE_ADMIN_TOKEN_FILE"
	echo "$(cat "$KUBE_ADMIN_TOKEN_FILE"),test-admin,test-admin-uid,\"system:masters\"" >"$KUBE_DIR/tokens.csv"
	_kube_apiserver_run
	_kube_wait_ready
}

# kube-apiserver before etcd: without etcd its shutdown waits for timeouts.
_kube_stop() {
	[ -n "${KUBE_APISERVER_PID:-}" ] && peer_stop "$KUBE_APISERVER_PID"
	[ -n "${ETCD_PID:-}" ] && peer_stop "$ETCD_PID"
	return 0
}

kube_restart_apiserver() {
	peer_stop "$KUBE_APISERVER_PID"
	_kube_apiserver_run
	_kube_wait_ready
}

kube_api() {
	local token_file=$KUBE_ADMIN_TOKEN_FILE out
	if [ "$1" = --token-file ]; then
		token_file=$2
		shift 2
	fi
	local method=$1 path=$2 body=${3:-} type=${4:-application/json}
	out=$(curl -sS --cacert "$KUBE_CA" -X "$method" -H "Authorization: Bearer $(cat "$token_file")" \
		-H "Accept: application/json" ${body:+-H "Content-Type: $type" --data-binary "$body"} \
		-w '\n%{http_code}' "$KUBE_API$path") || return 1
	KUBE_HTTP_CODE=${out##*$'\n'}
	printf '%s\n' "${out%$'\n'*}"
	[ "$KUBE_HTTP_CODE" -lt 400 ]
}

kube_create_serviceaccount() {
	kube_api POST "/api/v1/namespaces/$1/serviceaccounts" \
		"{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"$2\"}}" >/dev/null ||
		[ "$KUBE_HTTP_CODE" = 409 ]
}

# No controller manager runs: nothing else makes the `default` ServiceAccount
# without which pods are refused.
kube_create_namespace() {
	kube_api POST /api/v1/namespaces \
		"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$1\"}}" >/dev/null ||
		[ "$KUBE_HTTP_CODE" = 409 ] || return 1
	kube_create_serviceaccount "$1" default
}

kube_create_pod() {
	local ns=$1 name=$2 node=$3 labels=${4:-"{}"} containers=${5:-app} c list="" out
	for c in ${containers//,/ }; do
		list+="${list:+,}{\"name\":\"$c\",\"image\":\"registry.invalid/$c:1\"}"
	done
	out=$(kube_api POST "/api/v1/namespaces/$ns/pods" \
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$name\",\"labels\":$labels},
		  \"spec\":{\"nodeName\":\"$node\",\"containers\":[$list]}}") || {
		echo "kube_create_pod $ns/$name: $out" >&2
		return 1
	}
	jq -r .metadata.uid <<<"$out"
}

kube_label_pod() {
	local ns=$1 name=$2 kv patch=""
	shift 2
	for kv in "$@"; do
		if [[ $kv == *- && $kv != *=* ]]; then
			patch+="${patch:+,}\"${kv%-}\":null"
		else
			patch+="${patch:+,}\"${kv%%=*}\":\"${kv#*=}\""
		fi
	done
	kube_api PATCH "/api/v1/namespaces/$ns/pods/$name" "{\"metadata\":{\"labels\":{$patch}}}" \
		application/merge-patch+json >/dev/null
}

kube_set_container_ids() {
	local ns=$1 name=$2 kv list=""
	shift 2
	for kv in "$@"; do
		list+="${list:+,}{\"name\":\"${kv%%=*}\",\"containerID\":\"containerd://${kv#*=}\",
			\"image\":\"registry.invalid/${kv%%=*}:1\",\"imageID\":\"\",\"ready\":true,\"restartCount\":0,
			\"started\":true,\"state\":{\"running\":{\"startedAt\":\"2025-01-01T00:00:00Z\"}}}"
	done
	kube_api PATCH "/api/v1/namespaces/$ns/pods/$name/status" \
		"{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[$list]}}" application/merge-patch+json >/dev/null
}

kube_delete_pod() {
	kube_api DELETE "/api/v1/namespaces/$1/pods/$2?gracePeriodSeconds=0" >/dev/null
}

# The resource path of one manifest document's object.
_kube_path_of() {
	local kind=$1 ns=$2
	case $kind in
	Namespace) echo /api/v1/namespaces ;;
	ServiceAccount) echo "/api/v1/namespaces/$ns/serviceaccounts" ;;
	ClusterRole) echo /apis/rbac.authorization.k8s.io/v1/clusterroles ;;
	ClusterRoleBinding) echo /apis/rbac.authorization.k8s.io/v1/clusterrolebindings ;;
	Role) echo "/apis/rbac.authorization.k8s.io/v1/namespaces/$ns/roles" ;;
	RoleBinding) echo "/apis/rbac.authorization.k8s.io/v1/namespaces/$ns/rolebindings" ;;
	*) return 1 ;;
	esac
}

# Each document as YAML, which the API server decodes itself (and refuses
# when it is not a valid object).
kube_apply() {
	local file=$1 doc kind ns path
	local -a docs=()
	mapfile -d '' docs < <(awk 'BEGIN { RS = "\n---[^\n]*\n" } { printf "%s%c", $0, 0 }' "$file")
	for doc in "${docs[@]}"; do
		kind=$(sed -n 's/^kind: *//p' <<<"$doc")
		[ -n "$kind" ] || continue
		ns=$(awk '/^metadata:/ { m = 1; next } /^[^ ]/ { m = 0 } m && $1 == "namespace:" { print $2 }' <<<"$doc")
		path=$(_kube_path_of "$kind" "$ns") || {
			echo "kube_apply: $file: no path known for kind $kind" >&2
			return 1
		}
		kube_api POST "$path" "$doc" application/yaml >/dev/null || [ "$KUBE_HTTP_CODE" = 409 ] || {
			echo "kube_apply: $file: $kind refused ($KUBE_HTTP_CODE)" >&2
			return 1
		}
	done
}

kube_token() {
	local ns=$1 sa=$2 secs=${3:-3600} out
	out=$(kube_api POST "/api/v1/namespaces/$ns/serviceaccounts/$sa/token" \
		"{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":{\"expirationSeconds\":$secs}}") || {
		echo "kube_token $ns/$sa: $out" >&2
		return 1
	}
	jq -r .status.token <<<"$out"
}

etcd_api() {
	curl -sS -X POST "$ETCD_URL$1" -d "$2"
}

_kube_cgroup_root() { test_cgroup_root; }

kube_pod_cgroup() {
	local rel=$1 pid=$2 root
	root=$(_kube_cgroup_root) || {
		echo "no writable cgroup hierarchy found" >&2
		return 1
	}
	mkdir -p "$root/$rel" || return 1
	KUBE_CGROUPS="$root/$rel $KUBE_CGROUPS"
	echo "$pid" >"$root/$rel/cgroup.procs"
}

# Deepest first: a cgroup goes once its processes are gone (killed by
# cleanup_scratch before this runs) and its children removed.
_kube_cleanup_cgroups() {
	local dir
	for dir in $KUBE_CGROUPS; do
		while [ "$dir" != / ] && [[ $dir == */kubepods* ]]; do
			rmdir "$dir" 2>/dev/null || break
			dir=$(dirname "$dir")
		done
	done
}
