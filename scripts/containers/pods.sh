# Playing deploy/'s workloads as pods on podman (sourced after podman-env.sh).
#   pods_deploy_check               builds tests/deploy (cached) and sets DEPLOY_CHECK
#   pods_network NAME               creates the network if needed; sets POD_SUBNET_PREFIX
#                                   (e.g. 10.89.3.): static pod addresses are .128 to .254
#   pod_render OUT REF [ARGS...]    deploy-check pod ROOT deploy REF ARGS --drop-ports > OUT
#   pod_play FILE IP [ARGS...]      podman kube play on the network, at address IP
#   pod_run IP DIR REF [ARGS...]    the pod's container with `podman run`, as deploy-check run
#                                   renders it (kube play 4.3 drops hostPID); DIR holds its
#                                   ConfigMap files; Localhost seccomp profiles from deploy/seccomp/.
#                                   No API server runs beside these pods: the pod selection lines of
#                                   a spanprobe config (namespace, pod-selector, container) are left
#                                   out of its ConfigMap file, and said on stderr (the selection runs
#                                   against a real API server in tests/e2e/daemonset.sh)
#   pod_down FILE [GRACE]           stops the pod with its grace period, then removes it
#   pod_ready_cmd FILE              the readiness probe's exec command, one word a line
#   pod_container POD CONTAINER     the podman name of a container of a played pod
# shellcheck shell=bash

POD_NETWORK=${POD_NETWORK:-spanprobe-demo}

pods_deploy_check() {
	local saved rc=0
	# tests/lib/deploy_check.sh reports through the tests' skip and fail:
	# here they print the reason; a test's own are put back after.
	saved=$(declare -f skip fail)
	skip() { echo "can't build the manifest renderer (tests/deploy): ${*:2}" >&2; }
	fail() { echo "can't build the manifest renderer (tests/deploy): ${*:2}" >&2; }
	ROOT=${ROOT:-$SPANPROBE_ROOT}
	# shellcheck source=../../tests/lib/deploy_check.sh
	source "$SPANPROBE_ROOT/tests/lib/deploy_check.sh"
	deploy_check_build pods || rc=1
	unset -f skip fail
	[ -n "$saved" ] && eval "$saved"
	return $rc
}

# The network leases .1-.127 to containers without an address; the pods'
# static addresses are .128 and up, so a container's lease never takes one
# (podman hands leases out round the whole subnet).
pods_network() {
	local subnet
	podman network exists "$1" || podman network create "$1" >/dev/null || return 1
	subnet=$(podman network inspect -f '{{range .Subnets}}{{.Subnet}} {{end}}' "$1" | awk '{print $1}')
	case $subnet in
	*.0/24) POD_SUBNET_PREFIX=${subnet%0/24} ;;
	*) echo "network $1 has subnet '$subnet'; want an IPv4 /24" >&2; return 1 ;;
	esac
	podman network inspect "$1" | jq -e '.[0].subnets[0].lease_range' >/dev/null && return 0
	# made before the lease range, or by podman alone: made again on the same subnet
	podman network rm "$1" >/dev/null 2>&1 &&
		podman network create --subnet "$subnet" --ip-range "${POD_SUBNET_PREFIX}0/25" "$1" >/dev/null ||
		{ echo "network $1 leases its whole subnet and is in use: stop its containers, or podman network rm $1" >&2; return 1; }
}

pod_render() {
	local out=$1
	shift
	"$DEPLOY_CHECK" pod "$SPANPROBE_ROOT" deploy "$@" --drop-ports >"$out"
}

pod_play() {
	local file=$1 ip=$2
	shift 2
	podman kube play --replace --network "$POD_NETWORK" --ip "$ip" "$@" "$file" >/dev/null
}

_pod_run_without_selection() {
	local conf
	while IFS= read -r -d '' conf; do
		grep -qE '^[[:space:]]*(namespace|pod-selector|container)([[:space:]=]|$)' "$conf" || continue
		echo "pods: no API server here: $(basename "$conf") without its pod selection" \
			"($(grep -E '^[[:space:]]*(namespace|pod-selector|container)([[:space:]=]|$)' "$conf" | tr '\n' ';'))" >&2
		sed -i -E '/^[[:space:]]*(namespace|pod-selector|container)([[:space:]=]|$)/d' "$conf"
	done < <(find "$1" -name '*.conf' -print0)
}

pod_run() {
	local ip=$1 dir=$2 ref=$3 args
	shift 3
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd) # a bind mount's source must be absolute
	"$DEPLOY_CHECK" run "$SPANPROBE_ROOT" deploy "$ref" "$@" --workdir "$dir" \
		--seccomp-root "$SPANPROBE_ROOT/deploy/seccomp" >"$dir/run.args" || return 1
	mapfile -t args <"$dir/run.args"
	_pod_run_without_selection "$dir"
	podman run -d --network "$POD_NETWORK" --ip "$ip" "${args[@]}" >/dev/null
}

pod_down() {
	local file=$1 grace=${2:-10} pod
	pod=$(awk '/^kind: Pod$/ {p = 1} p && /^  name: / {print $2; exit}' "$file")
	[ -n "$pod" ] || return 0
	podman pod stop -t "$grace" "$pod" >/dev/null 2>&1
	podman pod rm -f "$pod" >/dev/null 2>&1
	return 0
}

pod_ready_cmd() {
	awk '/readinessProbe:/ {r = 1} r && /command:/ {c = 1; next}
		c && /^ *- / {sub(/^ *- /, ""); print; next} c {exit}' "$1"
}

pod_container() { echo "$1-$2"; }
