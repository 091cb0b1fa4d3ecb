/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The daemon's view of Kubernetes: a watch on this node's pods (pod_watch.h)
 * when the API server can be reached, started from spanprobe's options or,
 * inside a pod, from the ServiceAccount the kubelet mounts. It names the
 * pods of traced processes (found by the pod uid of their cgroup), and is
 * where choosing workloads by namespace and labels plugs in. */
#ifndef SPANPROBE_NODE_PODS_H
#define SPANPROBE_NODE_PODS_H

#include "pod_watch.h"

struct node_pods_opts {
	const char *node_name;  /* --node-name; NULL: $K8S_NODE_NAME */
	const char *api_url;    /* --kube-api; NULL: in-cluster when in a pod */
	const char *token_file; /* --kube-token-file (with --kube-api) */
	const char *ca_file;    /* --kube-ca-file (with --kube-api) */
	const char *context;    /* --kube-context: this kubeconfig context */
	bool verbose;
	/* The option that needs the pods (e.g. "--namespace"), or NULL: then
	 * a run with no watch is an error (one line), not a local run. */
	const char *needed_by;
	/* Pod events and complete lists, on the watch thread (pod_watch.h);
	 * ctx is theirs. */
	void (*on_pod)(void *ctx, enum pod_event event, const struct k8s_pod *pod,
		       const struct k8s_pod *old);
	void (*on_synced)(void *ctx);
	void *ctx;
};

/* Starts the watch, from the first of: --kube-api; inside a pod
 * (KUBERNETES_SERVICE_HOST set), its ServiceAccount; a kubeconfig
 * ($KUBECONFIG, or ~/.kube/config when it exists; --kube-context makes it
 * the choice even in a pod). 0 and *out NULL when none applies (a local
 * run: no pod names). A bad option: one line naming it, -EINVAL. In a pod
 * without a node name or credentials, or with a broken kubeconfig: one
 * warning line, no watch. With needed_by, each of those "no watch" cases is
 * one error line naming the fix, and -EINVAL. Outside a pod the node name
 * defaults, on the kubeconfig path only, to this host's name (said once).
 * Failing requests later are reported by the watch thread (one line each,
 * repeats not reported). */
int node_pods__start(const struct node_pods_opts *o, struct pod_watch **out);

/* What the API server says of the pod with this uid and of its container
 * with this runtime id ("" for none), for process_table (a
 * pod_lookup_fn over the pod_watch in ctx): 0 and malloc'd strings
 * (*container_name NULL when the container is not known), or -ENOENT.
 * Never waits for the network. */
int node_pods__lookup(void *watch, const char *pod_uid, const char *container_id, char **name,
		      char **namespace_, char **container_name);

#endif /* SPANPROBE_NODE_PODS_H */
