// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: the Kubernetes inputs. The first byte picks the parser:
 *   0 mod 3  a label selector (--pod-selector): a parsed selector's text
 *            parses again to the same text and selects the same pods;
 *   1 mod 3  a /proc/PID/cgroup file: ids found are well-formed;
 *   2 mod 3  a pod object from the API server (JSON). */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_pod.h"
#include "label_selector.h"
#include "pod_cgroup.h"

static const struct k8s_label label_sets[][3] = {
	{ { "app", "web" }, { "tier", "fe" }, { "n", "5" } },
	{ { "app", "" }, { "canary", "1" }, { "n", "-3" } },
	{ { "x", "y" }, { "a.b/c", "d" }, { "n", "x" } },
};

static void selector(const char *text)
{
	struct label_selector *sel = NULL, *again = NULL;
	char err[256];

	if (label_selector__parse(text, &sel, err, sizeof(err)) != 0) {
		if (sel || !memchr(err, '\0', sizeof(err)) || !err[0])
			abort(); /* a refusal says why */
		return;
	}
	if (label_selector__parse(label_selector__text(sel), &again, err, sizeof(err)) != 0 ||
	    strcmp(label_selector__text(sel), label_selector__text(again)) != 0)
		abort();
	for (size_t i = 0; i < sizeof(label_sets) / sizeof(label_sets[0]); i++) {
		if (label_selector__matches(sel, label_sets[i], 3) != label_selector__matches(again, label_sets[i], 3))
			abort();
	}
	label_selector__free(sel);
	label_selector__free(again);
}

static void cgroup(const char *text)
{
	struct pod_cgroup_ids ids;
	int err = pod_cgroup__parse(text, &ids);

	if (err == 0 && strlen(ids.pod_uid) != 36)
		abort();
	if (err != 0 && (ids.pod_uid[0] || ids.container_id[0]))
		abort();
	if (ids.container_id[0] && strlen(ids.container_id) != 64)
		abort();
}

static void pod(const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *obj;
	struct k8s_pod *p = NULL;
	char err[128];

	if (!tok)
		return;
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (obj && k8s_pod__from_json(obj, &p, err, sizeof(err)) == 0) {
		if (strlen(p->uid) != 36 || !p->namespace || !p->name)
			abort();
		for (size_t i = 0; i < p->n_containers; i++)
			k8s_pod__container_by_id(p, p->containers[i].id);
		k8s_pod__put(p);
	}
	json_object_put(obj);
	json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0: selector(text); break;
	case 1: cgroup(text); break;
	default: pod(text, strlen(text)); break;
	}
	free(text);
	return 0;
}
