#!/usr/bin/env bash
# A single-node Kubernetes cluster on this machine from real parts, for
# `make cluster-demo` and tests/e2e/kube_node.sh: containerd (CRI, runc,
# cgroupfs driver) with its own root and state, etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, the kubelet, kube-proxy
# (iptables), a CNI bridge (Debian's plugins) and CoreDNS; all built once by
# scripts/build-kube.sh cluster. The images of deploy/docker/ (and the peers')
# come from scripts/container-images.sh and are imported into containerd.
# On cgroup v1 the kubelet runs with `failCgroupV1: false` (Kubernetes 1.35+
# refuses v1 by default) and says so in its log.
# Usage (as root):
#   scripts/cluster.sh up      start it; the node Ready, DNS answering
#   scripts/cluster.sh down    stop it: no process, mount, cgroup, network
#                              interface or iptables rule of it left
#   scripts/cluster.sh env     `export KUBECONFIG=... PATH=...` for a shell
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/progress.sh
source scripts/cluster/config.sh
source scripts/cluster/pki.sh
source scripts/cluster/configs.sh
source scripts/cluster/images.sh

HANG_SCALE=${HANG_SCALE:-1}
wait_for() { # SECONDS WHAT COMMAND...: poll COMMAND until it succeeds
	local limit=$(($1 * HANG_SCALE)) what=$2 start=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		[ $((SECONDS - start)) -lt "$limit" ] || {
			log "$what: not after ${limit} s"
			return 1
		}
		sleep 1
	done
}

binaries() {
	local out
	out=$(scripts/build-kube.sh cluster) || die "scripts/build-kube.sh cluster failed"
	eval "$(printf '%s\n' "$out" | grep -E '^[A-Z_]+=/')"
}

# start NAME COMMAND...: a daemon in its own session, its log in $LOGS.
start() {
	local name=$1
	shift
	setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
	echo $! >"$PIDS/$name"
}

# stop NAME: SIGTERM, then SIGKILL after a grace period.
stop() {
	local f=$PIDS/$1 pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 30 * HANG_SCALE; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

kctl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

cgroup_hierarchies() {
	awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts
}

# The KUBE-* chains of iptables and ip6tables, and the jumps to them: kube-proxy
# --cleanup removes its own, the kubelet's (KUBE-FIREWALL, which drops
# non-loopback packets to 127/8, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT)
# stay behind; no other component on this machine makes KUBE-* chains. And
# the CNI bridge plugin's masquerade chain of any pod whose teardown did not
# run (its rules carry the network's name, `name: "spanprobe"`).
iptables_cleanup() {
	local cmd table rules chains rule chain
	for cmd in iptables ip6tables; do
		command -v "$cmd" >/dev/null || continue
		for table in filter nat mangle; do
			rules=$("$cmd-save" -t "$table" 2>/dev/null)
			chains=$({
				sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p' <<<"$rules"
				grep -F "name: \\\"$CNI_NETWORK\\\" " <<<"$rules" |
					sed -n 's/^-A POSTROUTING .* -j \(CNI-[0-9a-f]*\)$/\1/p'
			} | sort -u)
			[ -n "$chains" ] || continue
			# the jumps to them from the chains that stay, then the chains
			grep -E "^-A [^ ]+ .*-j ($(paste -sd"|" <<<"$chains"))\$" <<<"$rules" |
				grep -vE "^-A ($(paste -sd'|' <<<"$chains")) " | sed 's/^-A /-D /' |
				while read -r rule; do eval "$cmd -w -t $table $rule"; done
			for chain in $chains; do "$cmd" -w -t "$table" -F "$chain"; done
			for chain in $chains; do "$cmd" -w -t "$table" -X "$chain"; done
		done
	done
}

up() {
	local cmd table rule chain
	for cmd in iptables ip6tables; do
		command -v "$cmd" >/dev/null || continue
		for table in filter nat mangle; do
			"$cmd-save" -t "$table" 2>/dev/null | grep -E '^-A [^ ]+ .*-j KUBE-' |
				grep -v '^-A KUBE-' | sed 's/^-A /-D /' | while read -r rule; do
				eval "$cmd -w -t $table $rule" || true
			done || true
			for chain in $("$cmd-save" -t "$table" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p'); do
				"$cmd" -w -t "$table" -F "$chain" || true
			done
			for chain in $("$cmd-save" -t "$table" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p'); do
				"$cmd" -w -t "$table" -X "$chain" || true
			done
		done
	done
}

up() {
	[ "$(id -u)" -eq 0 ] || die "run as root: containerd and the kubelet need it"
	[ ! -d "$PIDS" ] || die "already up (or not cleanly stopped): scripts/cluster.sh down first"
	command -v runc >/dev/null || die "no runc (scripts/install-deps.sh test)"
	[ -x "$CNI_BIN_DIR/bridge" ] || die "no CNI plugins in $CNI_BIN_DIR (scripts/install-deps.sh test)"
	binaries
	NODE_IP=$(node_ip)
	[ -n "$NODE_IP" ] || die "no default route: the node needs an address for its pods to reach"
	# etcd, API server, kubelet (API, healthz), kube-proxy (metrics, healthz),
	# controller-manager, scheduler
	local port
	for port in "$ETCD_PORT" $((ETCD_PORT + 1)) "$API_PORT" "$KUBELET_PORT" 10248 10249 10256 10257 10259; do
		[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] ||
			die "TCP port $port is in use ($(ss -Hltnp "sport = :$port" | grep -o 'users:.*' | head -n 1)); SPANPROBE_ETCD_PORT and SPANPROBE_API_PORT move etcd and the API server"
	done
	trap '[ $? -eq 0 ] || log "up failed; scripts/cluster.sh down removes what it started (logs: $LOGS)"' EXIT
	mkdir -p "$RUN" "$LOGS" "$PIDS" "$CONTAINERD_ROOT"
	export PATH=$(dirname "$CONTAINERD_SHIM"):$PATH   # containerd finds its shim on PATH

	log "saving kernel tunables the kubelet sets (restored by down)"
	sysctl -n "${KERNEL_TUNABLES[@]}" >"$RUN/tunables"
	sysctl -qw net.ipv4.ip_forward=1

	log "credentials and configuration in $RUN"
	pki_make
	containerd_config
	cni_config
	kubelet_config
	kube_proxy_config
	cp deploy/seccomp/spanprobe.json "$KUBELET_ROOT/seccomp/spanprobe.json"
	for h in $(cgroup_hierarchies); do mkdir -p "$h$CGROUP_ROOT"; done

	log "starting containerd and etcd"
	start containerd "$CONTAINERD" --config "$RUN/containerd.toml"
	start etcd "$ETCD" --data-dir "$RUN/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
		--initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
		--initial-cluster "default=http://127.0.0.1:$((ETCD_PORT + 1))"
	wait_for 30 "containerd" ctr_k8s version

	log "building and importing images (pause, CoreDNS, deploy/docker/, peers)"
	with_progress "building the pause and CoreDNS images" images_build_own ||
		die "building the pause or CoreDNS image failed"
	local images line
	images=$(with_progress "building deploy/'s images" scripts/container-images.sh all peers) ||
		die "scripts/container-images.sh failed"
	for line in "$PAUSE_IMAGE" "$COREDNS_IMAGE" $(printf '%s\n' "$images" | sed -n \
		's/^\(SPANPROBE\|DEMO_APP\|PYTHON_APP\|COLLECTOR\|JAEGER\)=//p'); do
		with_progress "importing $line into containerd" image_import "$line" ||
			die "importing $line into containerd failed"
	done

	log "starting kube-apiserver"
	start kube-apiserver "$KUBE_APISERVER" \
		--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
		--bind-address=0.0.0.0 --advertise-address="$NODE_IP" --secure-port="$API_PORT" \
		--tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
		--client-ca-file="$PKI/ca.crt" \
		--kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
		--kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types=InternalIP \
		--service-account-issuer=https://kubernetes.default.svc \
		--service-account-key-file="$PKI/sa.pub" \
		--service-account-signing-key-file="$PKI/sa.key" \
		--token-auth-file="$PKI/tokens.csv" \
		--authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
		--service-cluster-ip-range="$SERVICE_CIDR" --profiling=false
	wait_for 60 "kube-apiserver /readyz" kctl get --raw /readyz

	log "starting kube-controller-manager, kube-scheduler, the kubelet, kube-proxy"
	start kube-controller-manager "$KUBE_CONTROLLER_MANAGER" \
		--kubeconfig="$RUN/controller-manager.kubeconfig" \
		--service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
		--use-service-account-credentials=true --leader-elect=false \
		--bind-address=127.0.0.1 --profiling=false
	start kube-scheduler "$KUBE_SCHEDULER" --kubeconfig="$RUN/scheduler.kubeconfig" \
		--leader-elect=false --bind-address=127.0.0.1 --profiling=false
	start kubelet "$KUBELET" --config="$RUN/kubelet.yaml" \
		--kubeconfig="$RUN/kubelet.kubeconfig" --root-dir="$KUBELET_ROOT" \
		--cert-dir="$KUBELET_ROOT/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"
	start kube-proxy "$KUBE_PROXY" --config="$RUN/kube-proxy.yaml"
	wait_for 120 "node $NODE_NAME Ready" \
		kctl wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] ||
		log "node $NODE_NAME Ready on cgroup v1 (the kubelet told failCgroupV1: false; Kubernetes 1.35+ refuses v1 otherwise)"

	log "starting CoreDNS"
	sed -e "s#@COREDNS_IMAGE@#$COREDNS_IMAGE#" -e "s#@DNS_SERVICE_IP@#$DNS_SERVICE_IP#" \
		scripts/cluster/coredns.yaml | kctl apply -f - >/dev/null
	kctl -n kube-system rollout status deployment/coredns --timeout=$((120 * HANG_SCALE))s >&2
	log "up: export KUBECONFIG=$KUBECONFIG_ADMIN (kubectl: $KUBECTL)"
}

down() {
	[ "$(id -u)" -eq 0 ] || die "run as root"
	[ -d "$RUN" ] || { log "not up"; return 0; }
	binaries
	# every step, whatever the one before it could not do
	set +e +o pipefail
	export PATH=$(dirname "$CONTAINERD_SHIM"):$PATH
	log "stopping the kubelet, then every pod sandbox (CNI teardown included)"
	stop kubelet
	if [ -f "$PIDS/containerd" ]; then
		"$CRICTL" --runtime-endpoint "unix://$CONTAINERD_SOCK" --timeout 60s rmp -fa >/dev/null 2>&1 ||
			log "crictl rmp -fa failed; removing what is left below"
	fi
	log "stopping kube-proxy (and removing its rules), the control plane, containerd"
	stop kube-proxy
	"$KUBE_PROXY" --cleanup >/dev/null 2>&1 || true
	iptables_cleanup
	stop kube-scheduler
	stop kube-controller-manager
	stop kube-apiserver
	stop etcd
	stop containerd
	# shims of containers the CRI could not remove
	local pid
	for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	# mounts below the cluster's directory, deepest first
	local m
	findmnt -rn -o TARGET | grep -F "$CLUSTER_DIR/" | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done
	# the kubelet's cgroups, deepest first, in every hierarchy
	for h in $(cgroup_hierarchies); do
		[ -d "$h$CGROUP_ROOT" ] || continue
		find "$h$CGROUP_ROOT" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		[ ! -d "$h$CGROUP_ROOT" ] || log "cgroup $h$CGROUP_ROOT left (processes in it?)"
	done
	ip link del "$BRIDGE" 2>/dev/null || true
	if [ -f "$RUN/tunables" ]; then
		local -a vals
		mapfile -t vals <"$RUN/tunables"
		local i
		for i in "${!KERNEL_TUNABLES[@]}"; do
			sysctl -qw "${KERNEL_TUNABLES[$i]}=${vals[$i]}" || true
		done
	fi
	rm -rf "$RUN"
	log "down"
}

env_() {
	binaries
	echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
	echo "export PATH=$(dirname "$KUBECTL"):\$PATH"
}

case ${1:-} in
up) up ;;
down) down ;;
env) env_ ;;
*) echo "usage: scripts/cluster.sh up|down|env" >&2; exit 2 ;;
esac
