# shellcheck shell=bash
# The node's configuration files (scripts/cluster.sh up), written under $RUN.

containerd_config() {
	cat >"$RUN/containerd.toml" <<-EOF
	version = 3
	root = "$CONTAINERD_ROOT"
	state = "$CONTAINERD_STATE"
	[grpc]
	  address = "$CONTAINERD_SOCK"
	[ttrpc]
	  address = "$CONTAINERD_SOCK.ttrpc"
	[plugins]
	  [plugins.'io.containerd.internal.v1.opt']
	    path = "$RUN/opt"
	  [plugins.'io.containerd.nri.v1.nri']
	    disable = true
	  [plugins.'io.containerd.cri.v1.images']
	    snapshotter = 'overlayfs'
	    [plugins.'io.containerd.cri.v1.images'.pinned_images]
	      sandbox = '$PAUSE_IMAGE'
	  [plugins.'io.containerd.cri.v1.runtime']
	    # the pods' network namespaces under the state directory, not /run/netns
	    netns_mounts_under_state_dir = true
	    # No container below containerd's own oom_score_adj: lowering it needs
	    # CAP_SYS_RESOURCE, which a node in a VM or container may lack (runc
	    # then fails with "can't get final child's PID from pipe: EOF").
	    restrict_oom_score_adj = true
	    [plugins.'io.containerd.cri.v1.runtime'.containerd]
	      default_runtime_name = 'runc'
	      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
	        runtime_type = 'io.containerd.runc.v2'
	        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
	          BinaryName = '$(command -v runc)'
	          SystemdCgroup = false
	    [plugins.'io.containerd.cri.v1.runtime'.cni]
	      bin_dirs = ['$CNI_BIN_DIR']
	      conf_dir = '$CNI_CONF_DIR'
	EOF
}

# One bridge for the node's pods, addresses from host-local (its leases
# under $RUN), masquerading out of the node; hairpin so a pod reaches itself
# through its Service.
cni_config() {
	mkdir -p "$CNI_CONF_DIR"
	cat >"$CNI_CONF_DIR/10-spanprobe.conflist" <<-EOF
	{
	  "cniVersion": "1.0.0",
	  "name": "$CNI_NETWORK",
	  "plugins": [
	    {
	      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true,
	      "hairpinMode": true,
	      "ipam": {
	        "type": "host-local", "dataDir": "$RUN/cni/ipam",
	        "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]
	      }
	    },
	    {"type": "portmap", "capabilities": {"portMappings": true}}
	  ]
	}
	EOF
}

kubelet_config() {
	mkdir -p "$KUBELET_ROOT/seccomp" "$RUN/pod-logs"
	cat >"$RUN/kubelet.yaml" <<-EOF
	apiVersion: kubelet.config.k8s.io/v1beta1
	kind: KubeletConfiguration
	# This machine has cgroup v1 only; Kubernetes 1.35+ refuses it unless told.
	failCgroupV1: false
	cgroupDriver: cgroupfs
	cgroupRoot: $CGROUP_ROOT
	containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
	podLogsDir: $RUN/pod-logs
	authentication:
	  anonymous: {enabled: false}
	  webhook: {enabled: true}
	  x509: {clientCAFile: $PKI/ca.crt}
	authorization: {mode: Webhook}
	address: $NODE_IP
	port: $KUBELET_PORT
	readOnlyPort: 0
	healthzBindAddress: 127.0.0.1
	clusterDomain: cluster.local
	clusterDNS: [$DNS_SERVICE_IP]
	resolvConf: /etc/resolv.conf
	failSwapOn: false
	# a shared machine's disk: evict only when it is nearly full
	evictionHard: {nodefs.available: "2%", imagefs.available: "2%", memory.available: "100Mi"}
	imageGCHighThresholdPercent: 100
	EOF
}

kube_proxy_config() {
	cat >"$RUN/kube-proxy.yaml" <<-EOF
	apiVersion: kubeproxy.config.k8s.io/v1alpha1
	kind: KubeProxyConfiguration
	mode: iptables
	clusterCIDR: $POD_CIDR
	hostnameOverride: $NODE_NAME
	clientConnection: {kubeconfig: $RUN/proxy.kubeconfig}
	bindAddress: 127.0.0.1
	healthzBindAddress: 127.0.0.1:10256
	metricsBindAddress: 127.0.0.1:10249
	# leave the host's conntrack table size alone
	conntrack: {maxPerCore: 0}
	EOF
}
