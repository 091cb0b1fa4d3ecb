/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where the Kubernetes API server is and how to authenticate to it: from
 * inside a pod (the ServiceAccount files the kubelet mounts and the
 * KUBERNETES_SERVICE_* variables it sets), or given explicitly (tests,
 * a daemon run outside a pod). Every file here belongs to spanprobe's own
 * filesystem, never to a traced container. */
#ifndef SPANPROBE_KUBE_CONFIG_H
#define SPANPROBE_KUBE_CONFIG_H

#include <stddef.h>

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_config {
	char *server;     /* "https://host:port", no trailing '/' */
	char *token_file; /* bearer token, re-read on every request: the
			     kubelet rotates bound ServiceAccount tokens */
	char *ca_file;    /* PEM bundle that signs the server's certificate;
			     NULL: the system's CAs */
};

/* In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
 * with sa_dir/token and sa_dir/ca.crt (sa_dir NULL: KUBE_SA_DIR). -ENOENT
 * when not in a pod, -EINVAL when a piece is missing; err says which. */
int kube_config__in_cluster(struct kube_config *cfg, const char *sa_dir, char *err, size_t err_len);
/* Explicit: server is an http(s) URL; token_file and ca_file may be NULL
 * (no token, the system's CAs). -EINVAL with err for a bad URL. */
int kube_config__explicit(struct kube_config *cfg, const char *server, const char *token_file,
			  const char *ca_file, char *err, size_t err_len);
/* The token, without trailing blanks, in a malloc'ed string (*out NULL when
 * the config has no token file); -errno with err when unreadable or empty. */
int kube_config__read_token(const struct kube_config *cfg, char **out, char *err, size_t err_len);
void kube_config__clear(struct kube_config *cfg);

#endif /* SPANPROBE_KUBE_CONFIG_H */
