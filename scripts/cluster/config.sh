# shellcheck shell=bash
# The single-node cluster's layout, names and addresses (scripts/cluster.sh).
# Everything it makes lives under CLUSTER_DIR; `down` removes all of it but
# containerd's root (the imported images, kept for the next `up`).

CLUSTER_DIR=${SPANPROBE_CLUSTER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spanprobe-cluster}
RUN=$CLUSTER_DIR/run               # wiped by `down`
PKI=$RUN/pki
LOGS=$RUN/logs
PIDS=$RUN/pids
CONTAINERD_ROOT=$CLUSTER_DIR/containerd   # kept: images and their snapshots
CONTAINERD_STATE=$RUN/containerd
CONTAINERD_SOCK=$CONTAINERD_STATE/containerd.sock
KUBELET_ROOT=$RUN/kubelet
CNI_CONF_DIR=$RUN/cni/net.d
CNI_BIN_DIR=/usr/lib/cni           # Debian's containernetworking-plugins
KUBECONFIG_ADMIN=$RUN/admin.kubeconfig

NODE_NAME=${SPANPROBE_NODE_NAME:-spanprobe-node}
# The kubelet's own cgroup root: its pods' cgroups are
# /spanprobe-node/kubepods/<qos>/pod<uid>/<container> in every v1 hierarchy,
# apart from a /kubepods that anything else on the host (tests included) made,
# which a kubelet at / would treat as orphaned pods and kill.
CGROUP_ROOT=/$NODE_NAME
BRIDGE=spanprobe0
CNI_NETWORK=spanprobe
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
ETCD_PORT=${SPANPROBE_ETCD_PORT:-2379}
API_PORT=${SPANPROBE_API_PORT:-6443}
KUBELET_PORT=10250
# The node's address (pods reach the API server there, through the
# `kubernetes` Service): the source address of the default route.
node_ip() { ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p'; }

# Images the cluster itself runs, built locally (scripts/cluster/images.sh).
PAUSE_IMAGE=localhost/spanprobe-cluster/pause:1
COREDNS_IMAGE=localhost/spanprobe-cluster/coredns:${COREDNS_VERSION:-v1.15.0}

# The kubelet sets these kernel tunables when it starts (its defaults for a
# node, without protectKernelDefaults); `up` saves them and `down` puts them
# back, so a machine that also does other work keeps its own.
KERNEL_TUNABLES=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
	kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }
