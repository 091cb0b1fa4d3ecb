/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A pod as the API server describes it: the facts spanprobe uses to choose
 * and name a process (namespace, name, labels, containers). Immutable once
 * made and reference-counted, so the watch thread can replace a pod while
 * another thread still reads the old version. */
#ifndef SPANPROBE_K8S_POD_H
#define SPANPROBE_K8S_POD_H

#include <stddef.h>

#include "label_selector.h"

struct json_object;

struct k8s_container {
	char *name;
	/* The runtime's id from status.*containerStatuses[].containerID
	 * ("containerd://<id>", "cri-o://<id>", "docker://<id>"): 64 lowercase
	 * hex digits, or "" until the kubelet reports the container started. */
	char id[65];
};

struct k8s_pod {
	char uid[37];
	char *namespace;
	char *name;
	char *phase;            /* status.phase ("Pending", "Running", ...), or "" */
	char *resource_version; /* metadata.resourceVersion */
	struct k8s_label *labels;
	size_t n_labels;
	/* spec.containers, initContainers and ephemeralContainers, in that order */
	struct k8s_container *containers;
	size_t n_containers;
	int refs; /* atomic; use k8s_pod__get/put */
};

/* Decodes a v1 Pod object. -EINVAL (and a reason in err) when a field
 * spanprobe relies on is missing or malformed: metadata.uid, name,
 * namespace, resourceVersion. The pod starts with one reference. */
int k8s_pod__from_json(struct json_object *obj, struct k8s_pod **out, char *err, size_t err_len);
/* Another reference to pod (NULL-safe); returns pod. */
struct k8s_pod *k8s_pod__get(struct k8s_pod *pod);
/* Drops a reference; the last one frees the pod (NULL-safe). */
void k8s_pod__put(struct k8s_pod *pod);
/* The container with this runtime id, or NULL. */
const struct k8s_container *k8s_pod__container_by_id(const struct k8s_pod *pod, const char *id);
/* A label's value, or NULL when the pod has no such label. */
const char *k8s_pod__label(const struct k8s_pod *pod, const char *key);

#endif /* SPANPROBE_K8S_POD_H */
