// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "exec_credential.h"
#include "kube_config.h"
#include "kubeconfig.h"
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

/* A kubeconfig's credential plugin is run once now, so that one that
 * fails is said at the start with the file it comes from. */
static int first_credential(struct kube_config *cfg, char *err, size_t err_len)
{
	char why[400];
	int rc;

	if (!cfg->exec)
		return 0;
	rc = exec_plugin__credential(cfg->exec, false, why, sizeof(why));
	if (rc)
		snprintf(err, err_len, "kubeconfig %s: %s", cfg->source, why);
	return rc;
}

/* Outside a pod, with --kube-context or a kubeconfig present. */
static int kubeconfig_config(const struct node_pods_opts *o, struct kube_config *cfg)
{
	char err[768];
	int rc;

	rc = kubeconfig__load(o->context, cfg, err, sizeof(err));
	if (rc == -ENOENT && !err[0]) {
		if (o->context) {
			fprintf(stderr, "spanprobe: --kube-context %s: no kubeconfig (set KUBECONFIG, or write "
				"~/.kube/config)\n", o->context);
			return -EINVAL;
		}
		if (o->needed_by)
			return needed(o, "give --kube-api URL (with --kube-token-file and --kube-ca-file), "
				      "a kubeconfig (KUBECONFIG or ~/.kube/config), or run in a pod with a "
				      "ServiceAccount");
		return 1; /* a local run */
	}
	if (!rc && (rc = first_credential(cfg, err, sizeof(err))))
		kube_config__clear(cfg);
	if (rc && (o->needed_by || o->context)) {
		fprintf(stderr, "spanprobe: %s\n", err);
		return -EINVAL;
	}
	if (rc) {
		fprintf(stderr, "spanprobe: warning: %s; pods are not named\n", err);
		return 1;
	}
	return 0;
}

/* 0: cfg filled; 1: no watch (said when it matters); -EINVAL: said. */
static int make_config(const struct node_pods_opts *o, struct kube_config *cfg, bool *from_kubeconfig)
{
	char err[512];
	int rc;

	*from_kubeconfig = false;
	if (o->api_url) {
		if (o->context) {
			fprintf(stderr, "spanprobe: --kube-context chooses in a kubeconfig; it can't go with "
				"--kube-api\n");
			return -EINVAL;
		}
		rc = kube_config__explicit(cfg, o->api_url, o->token_file, o->ca_file, err, sizeof(err));
		if (rc)
			fprintf(stderr, "spanprobe: --kube-api: %s\n", err);
		return rc;
	}
	if (o->token_file || o->ca_file) {
		fprintf(stderr, "spanprobe: --kube-token-file and --kube-ca-file need --kube-api URL "
			"(inside a pod the ServiceAccount's are used, outside one a kubeconfig's)\n");
		return -EINVAL;
	}
	/* --kube-context asks for the kubeconfig by name, even in a pod. */
	rc = o->context ? -ENOENT : kube_config__in_cluster(cfg, NULL, err, sizeof(err));
	if (rc == -ENOENT) {
		rc = kubeconfig_config(o, cfg);
		*from_kubeconfig = rc == 0;
		return rc;
	}
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

/* The name the kubelet registers this host under by default: its host
 * name, lowercased. Said once, so a wrong guess is seen. */
static const char *host_node_name(char *buf, size_t len)
{
	struct utsname u;

	if (uname(&u) != 0 || !u.nodename[0])
		return NULL;
	snprintf(buf, len, "%s", u.nodename);
	for (char *c = buf; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c += 'a' - 'A';
	fprintf(stderr, "spanprobe: no --node-name or K8S_NODE_NAME: assuming this host's name, node %s\n", buf);
	return buf;
}

int node_pods__start(const struct node_pods_opts *o, struct pod_watch **out)
{
	struct kube_config cfg;
	const char *node = o->node_name;
	char host[256];
	bool from_kubeconfig;
	int rc;

	*out = NULL;
	if (!node || !*node)
		node = getenv("K8S_NODE_NAME");
	rc = make_config(o, &cfg, &from_kubeconfig);
	if (rc)
		return rc < 0 ? rc : 0;
	if ((!node || !*node) && from_kubeconfig)
		node = host_node_name(host, sizeof(host));
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
		fprintf(stderr, "spanprobe: watching the pods of node %s at %s%s%s\n", node, cfg.server,
			cfg.source ? " from kubeconfig " : "", cfg.source ? cfg.source : "");
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
