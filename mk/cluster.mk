# A single-node Kubernetes cluster from real parts (kubelet + containerd +
# runc; scripts/cluster.sh), built once into a cache by
# scripts/build-kube.sh cluster. Included by the Makefile.
#   make cluster          build its parts (10 minutes here after kube-apiserver's build)
#   make cluster-demo     deploy/ applied with kubectl, traces read back from Jaeger
#   make test-cluster     tests/e2e/kube_node.sh on that node (also the last suite of `make test`)

.PHONY: cluster cluster-demo test-cluster
cluster: test-deps
	@scripts/build-kube.sh cluster >/dev/null

# (spanprobe is built inside its image, from this tree: no build/ needed)
cluster-demo: test-deps
	@scripts/cluster-demo.sh

# (the suite also runs this tree's spanprobe on the node's shell)
test-cluster: test-deps
	@$(MAKE) --no-print-directory build-all
	@tests/run.sh e2e/kube_node
