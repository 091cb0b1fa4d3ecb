# shellcheck shell=bash
# deploy_dir DIR: what `kubectl apply -k` takes on this node: deploy/ itself,
# or, on a node whose own capability bounding set lacks CAP_SYS_RESOURCE (a
# VM or container that was denied it), an overlay written to DIR that
# removes SYS_RESOURCE from spanprobe's DaemonSet and nothing else: no
# container on such a node can get it, and runc fails the pod with "unable
# to apply caps: operation not permitted" (podman drops such a capability
# silently; the CRI does not). SYS_RESOURCE is needed for RLIMIT_MEMLOCK on
# kernels < 5.11 only. Says which on stderr. Run from the repository's root.
deploy_dir() {
	local dir=$1 bounding
	bounding=$((16#$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)))
	if [ $((bounding >> 24 & 1)) = 1 ]; then
		echo deploy/
		return
	fi
	mkdir -p "$dir"
	cat >"$dir/kustomization.yaml" <<-EOF
	apiVersion: kustomize.config.k8s.io/v1beta1
	kind: Kustomization
	resources:
	  - $(realpath --relative-to="$dir" deploy)
	patches:
	  - target: {kind: DaemonSet, name: spanprobe}
	    patch: |-
	      - op: test
	        path: /spec/template/spec/containers/0/securityContext/capabilities/add/3
	        value: SYS_RESOURCE
	      - op: remove
	        path: /spec/template/spec/containers/0/securityContext/capabilities/add/3
	EOF
	echo "this node has no CAP_SYS_RESOURCE in its bounding set, so no container on it can" \
		"get it: deploy/ is applied through $dir, which removes SYS_RESOURCE (needed for" \
		"RLIMIT_MEMLOCK on kernels < 5.11 only; this is $(uname -r)) from spanprobe's DaemonSet" >&2
	echo "$dir"
}
