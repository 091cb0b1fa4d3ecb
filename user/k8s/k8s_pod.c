// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* v1 Pod JSON -> struct k8s_pod. The API server validated the object, but a
 * missing field still must not crash us: every field is read with its type
 * checked, and an unusable pod is refused with the reason. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_pod.h"

/* obj.a.b..., NULL-terminated path; NULL when a step is missing. */
static struct json_object *json_path(struct json_object *obj, ...)
{
	va_list ap;
	const char *key;

	va_start(ap, obj);
	while (obj && (key = va_arg(ap, const char *)) != NULL) {
		if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &obj))
			obj = NULL;
	}
	va_end(ap);
	return obj;
}

static const char *json_string(struct json_object *obj)
{
	return obj && json_object_is_type(obj, json_type_string) ? json_object_get_string(obj) : NULL;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int valid_uid(const char *s)
{
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !is_lower_hex(s[i]))
			return 0;
	}
	return 1;
}

/* "<runtime>://<64 hex>" -> the hex id, else "". */
static void container_id_from_status(const char *s, char out[65])
{
	const char *sep = s ? strstr(s, "://") : NULL;

	out[0] = '\0';
	if (!sep || strlen(sep + 3) != 64)
		return;
	for (int i = 0; i < 64; i++) {
		if (!is_lower_hex(sep[3 + i]))
			return;
	}
	memcpy(out, sep + 3, 65);
}

static void pod_free(struct k8s_pod *pod)
{
	for (size_t i = 0; i < pod->n_labels; i++) {
		free(pod->labels[i].key);
		free(pod->labels[i].value);
	}
	for (size_t i = 0; i < pod->n_containers; i++)
		free(pod->containers[i].name);
	free(pod->labels);
	free(pod->containers);
	free(pod->namespace);
	free(pod->name);
	free(pod->phase);
	free(pod->resource_version);
	free(pod);
}

static int decode_labels(struct k8s_pod *pod, struct json_object *labels)
{
	size_t n = 0;

	if (!labels || !json_object_is_type(labels, json_type_object))
		return 0;
	pod->labels = calloc((size_t)json_object_object_length(labels) + 1, sizeof(*pod->labels));
	if (!pod->labels)
		return -ENOMEM;
	json_object_object_foreach(labels, key, value)
	{
		const char *v = json_string(value);

		if (!v)
			continue;
		pod->labels[n].key = strdup(key);
		pod->labels[n].value = strdup(v);
		n++;
		pod->n_labels = n;
		if (!pod->labels[n - 1].key || !pod->labels[n - 1].value)
			return -ENOMEM;
	}
	return 0;
}

/* Names from spec.<list>[].name, appended to pod->containers. */
static int add_spec_containers(struct k8s_pod *pod, struct json_object *list)
{
	size_t n;
	struct k8s_container *grown;

	if (!list || !json_object_is_type(list, json_type_array))
		return 0;
	n = json_object_array_length(list);
	grown = realloc(pod->containers, (pod->n_containers + n) * sizeof(*grown) + 1);
	if (!grown)
		return -ENOMEM;
	pod->containers = grown;
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string(json_path(json_object_array_get_idx(list, i), "name", NULL));

		if (!name)
			continue;
		memset(&pod->containers[pod->n_containers], 0, sizeof(pod->containers[0]));
		pod->containers[pod->n_containers].name = strdup(name);
		if (!pod->containers[pod->n_containers].name)
			return -ENOMEM;
		pod->n_containers++;
	}
	return 0;
}

/* Ids from status.<list>[] {name, containerID} onto the named containers. */
static void add_status_ids(struct k8s_pod *pod, struct json_object *list)
{
	if (!list || !json_object_is_type(list, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *st = json_object_array_get_idx(list, i);
		const char *name = json_string(json_path(st, "name", NULL));
		const char *id = json_string(json_path(st, "containerID", NULL));

		for (size_t c = 0; name && c < pod->n_containers; c++) {
			if (strcmp(pod->containers[c].name, name) == 0)
				container_id_from_status(id, pod->containers[c].id);
		}
	}
}

int k8s_pod__from_json(struct json_object *obj, struct k8s_pod **out, char *err, size_t err_len)
{
	struct k8s_pod *pod = calloc(1, sizeof(*pod));
	const char *uid = json_string(json_path(obj, "metadata", "uid", NULL));
	const char *ns = json_string(json_path(obj, "metadata", "namespace", NULL));
	const char *name = json_string(json_path(obj, "metadata", "name", NULL));
	const char *rv = json_string(json_path(obj, "metadata", "resourceVersion", NULL));
	const char *phase = json_string(json_path(obj, "status", "phase", NULL));
	static const char *const lists[][2] = {
		{ "containers", "containerStatuses" },
		{ "initContainers", "initContainerStatuses" },
		{ "ephemeralContainers", "ephemeralContainerStatuses" },
	};
	int rc = -EINVAL;

	*out = NULL;
	if (!pod)
		return -ENOMEM;
	pod->refs = 1;
	if (!valid_uid(uid) || !ns || !*ns || !name || !*name || !rv || !*rv) {
		snprintf(err, err_len, "a pod without %s",
			 !valid_uid(uid) ? "a valid metadata.uid" :
			 !ns || !*ns     ? "metadata.namespace" :
			 !name || !*name ? "metadata.name" : "metadata.resourceVersion");
		goto cleanup;
	}
	memcpy(pod->uid, uid, 37);
	rc = -ENOMEM;
	pod->namespace = strdup(ns);
	pod->name = strdup(name);
	pod->resource_version = strdup(rv);
	pod->phase = strdup(phase ? phase : "");
	if (!pod->namespace || !pod->name || !pod->resource_version || !pod->phase)
		goto cleanup;
	if (decode_labels(pod, json_path(obj, "metadata", "labels", NULL)))
		goto cleanup;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (add_spec_containers(pod, json_path(obj, "spec", lists[i][0], NULL)))
			goto cleanup;
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		add_status_ids(pod, json_path(obj, "status", lists[i][1], NULL));
	*out = pod;
	return 0;
cleanup:
	if (rc == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	pod_free(pod);
	return rc;
}

struct k8s_pod *k8s_pod__get(struct k8s_pod *pod)
{
	if (pod)
		__atomic_add_fetch(&pod->refs, 1, __ATOMIC_RELAXED);
	return pod;
}

void k8s_pod__put(struct k8s_pod *pod)
{
	if (pod && __atomic_sub_fetch(&pod->refs, 1, __ATOMIC_ACQ_REL) == 0)
		pod_free(pod);
}

const struct k8s_container *k8s_pod__container_by_id(const struct k8s_pod *pod, const char *id)
{
	if (!pod || !id || !*id)
		return NULL;
	for (size_t i = 0; i < pod->n_containers; i++) {
		if (strcmp(pod->containers[i].id, id) == 0)
			return &pod->containers[i];
	}
	return NULL;
}

const char *k8s_pod__label(const struct k8s_pod *pod, const char *key)
{
	for (size_t i = 0; pod && i < pod->n_labels; i++) {
		if (strcmp(pod->labels[i].key, key) == 0)
			return pod->labels[i].value;
	}
	return NULL;
}
