// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_config.h"
#include "node_pods.h"

static void report_error(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "spanprobe: Kubernetes API: %s (pods are named once it answers)\n", message);
}

/* What a selection option needs that is missing: one line, -EINVAL. */
static int needed(const struct node_pods_opts *o, const char *missing)
{
	fprintf(stderr, "spanprobe: %s chooses pods from the Kubernetes API: %s\n", o->needed_by, missing);
	return -EINVAL;
}

static int make_config(const struct node_pods_opts *o, struct kube_config *cfg)
{
	char err[512];
	int rc;

	if (o->api_url) {
		rc = kube_config__explicit(cfg, o->api_url, o->token_file, o->ca_file, err, sizeof(err));
		if (rc)
			fprintf(stderr, "spanprobe: --kube-api: %s\n", err);
		return rc;
	}
	if (o->token_file || o->ca_file) {
		fprintf(stderr, "spanprobe: --kube-token-file and --kube-ca-file need --kube-api URL "
			"(inside a pod the ServiceAccount's are used)\n");
		return -EINVAL;
	}
	rc = kube_config__in_cluster(cfg, NULL, err, sizeof(err));
	if (rc == -ENOENT && o->needed_by)
		return needed(o, "give --kube-api URL (with --kube-token-file and --kube-ca-file) and "
			      "--node-name NAME, or run in a pod with a ServiceAccount");
	if (rc == -ENOENT)
		return 1; /* a local run */
	if (rc && o->needed_by) {
		char why[640];

		snprintf(why, sizeof(why), "%s", err);
		return needed(o, why);
	}
	if (rc) {
		fprintf(stderr, "spanprobe: warning: %s; pods are not named\n", err);
		return 1;
	}
	return 0;
}

int node_pods__start(const struct node_pods_opts *o, struct pod_watch **out)
{
	struct kube_config cfg;
	const char *node = o->node_name;
	int rc;

	*out = NULL;
	if (!node || !*node)
		node = getenv("K8S_NODE_NAME");
	rc = make_config(o, &cfg);
	if (rc)
		return rc < 0 ? rc : 0;
	if (!node || !*node) {
		kube_config__clear(&cfg);
		if (o->api_url || o->needed_by) {
			fprintf(stderr, "spanprobe: %s needs this node's name: --node-name NAME "
				"or K8S_NODE_NAME (the DaemonSet sets it from spec.nodeName)\n",
				o->needed_by ?: "--kube-api");
			return -EINVAL;
		}
		fprintf(stderr, "spanprobe: warning: in a pod but K8S_NODE_NAME is unset (set it from "
			"spec.nodeName, or pass --node-name); pods are not named\n");
		return 0;
	}
	rc = pod_watch__start(&(struct pod_watch_opts){
				      .kube = &cfg,
				      .node_name = node,
				      .cb = { .on_error = report_error, .on_pod = o->on_pod,
					      .on_synced = o->on_synced, .ctx = o->ctx },
			      },
			      out);
	if (rc)
		fprintf(stderr, "spanprobe: can't watch the pods of node %s: %s\n", node, strerror(-rc));
	else if (o->verbose)
		fprintf(stderr, "spanprobe: watching the pods of node %s at %s\n", node, cfg.server);
	kube_config__clear(&cfg);
	return rc;
}

int node_pods__lookup(void *watch, const char *pod_uid, const char *container_id, char **name,
		      char **namespace_, char **container_name)
{
	struct k8s_pod *pod = pod_watch__lookup(watch, pod_uid);
	const struct k8s_container *c;
	int rc = 0;

	*name = *namespace_ = *container_name = NULL;
	if (!pod)
		return -ENOENT;
	*name = strdup(pod->name);
	*namespace_ = strdup(pod->namespace);
	c = container_id && *container_id ? k8s_pod__container_by_id(pod, container_id) : NULL;
	if (c && c->name)
		*container_name = strdup(c->name);
	if (!*name || !*namespace_) {
		free(*name);
		free(*namespace_);
		free(*container_name);
		*name = *namespace_ = *container_name = NULL;
		rc = -ENOMEM;
	}
	k8s_pod__put(pod);
	return rc;
}
