/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where the Kubernetes API server is and how to authenticate to it: from
 * inside a pod (the ServiceAccount files the kubelet mounts and the
 * KUBERNETES_SERVICE_* variables it sets), given explicitly (tests, a
 * daemon run outside a pod), or from a kubeconfig (kubeconfig.h). Every
 * file here belongs to spanprobe's own filesystem, never to a traced
 * container. */
#ifndef SPANPROBE_KUBE_CONFIG_H
#define SPANPROBE_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct exec_plugin;

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_config {
	char *server;     /* "https://host:port", no trailing '/' */
	char *token_file; /* bearer token, re-read on every request: the
			     kubelet rotates bound ServiceAccount tokens */
	char *ca_file;    /* PEM bundle that signs the server's certificate;
			     NULL: the system's CAs (or ca_data) */
	/* What a kubeconfig may give besides (each NULL/false when unset). */
	char *token;             /* a bearer token itself (never logged) */
	char *ca_data;           /* PEM, decoded certificate-authority-data */
	size_t ca_data_len;
	char *cert_file, *key_file; /* client certificate and key (PEM files) */
	char *cert_data, *key_data; /* the same, decoded client-*-data */
	size_t cert_data_len, key_data_len;
	bool insecure;           /* insecure-skip-tls-verify */
	struct exec_plugin *exec; /* exec credential plugin, and its credential */
	char *source;            /* the kubeconfig file, for messages */
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
/* A deep copy of src (the exec plugin's credential too). -ENOMEM. */
int kube_config__copy(struct kube_config *dst, const struct kube_config *src);
/* Frees every field, wiping secrets. */
void kube_config__clear(struct kube_config *cfg);

#endif /* SPANPROBE_KUBE_CONFIG_H */
