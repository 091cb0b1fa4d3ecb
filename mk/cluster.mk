# A single-node Kubernetes cluster from real parts (kubelet + containerd +
# runc; scripts/cluster.sh), built once into a cache by
# scripts/build-kube.sh cluster. Included by the Makefile.
#   make cluster          build its parts (cold: about 20 minutes)
#   make cluster-demo     deploy/ applied with kubectl, traces read back from Jaeger
#   make test-cluster     tests/e2e/kube_node.sh on that node (outside `make test`)

.PHONY: cluster cluster-demo test-cluster
cluster: test-deps
	@scripts/build-kube.sh cluster >/dev/null

cluster-demo: test-deps
	@$(MAKE) --no-print-directory build-all
	@scripts/cluster-demo.sh

test-cluster: test-deps
	@$(MAKE) --no-print-directory build-all
	@tests/run.sh e2e/kube_node
