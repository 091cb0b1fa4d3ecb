// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* k8s_pod and pod_filter: a v1 Pod as the API server sends it decoded into
 * what spanprobe uses; pods it can't use refused with the reason; which
 * processes the namespace / label / container criteria choose. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "k8s_pod.h"
#include "pod_filter.h"
#include "unit.h"

#define CID_APP "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376"
#define CID_SIDE "9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"

/* Trimmed from a real answer of GET /api/v1/pods (managedFields kept: they
 * nest deeper than the rest). */
static const char pod_json[] =
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"frontend-7d9c\",\"namespace\":\"demo\","
	"\"uid\":\"74c13223-5a00-11e9-b385-42010a80018d\",\"resourceVersion\":\"4711\","
	"\"creationTimestamp\":\"2025-01-01T00:00:00Z\",\"labels\":{\"app\":\"frontend\",\"tier\":\"web\"},"
	"\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Update\",\"fieldsType\":\"FieldsV1\","
	"\"fieldsV1\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"app\\\"}\":{\".\":{},"
	"\"f:image\":{},\"f:resources\":{\"f:limits\":{\"f:cpu\":{}}}}}}}}]},"
	"\"spec\":{\"nodeName\":\"node-a\",\"initContainers\":[{\"name\":\"init\",\"image\":\"i\"}],"
	"\"containers\":[{\"name\":\"app\",\"image\":\"a\"},{\"name\":\"sidecar\",\"image\":\"s\"}]},"
	"\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
	"{\"name\":\"app\",\"containerID\":\"containerd://" CID_APP "\",\"ready\":true,\"restartCount\":0},"
	"{\"name\":\"sidecar\",\"containerID\":\"cri-o://" CID_SIDE "\",\"ready\":true,\"restartCount\":0}],"
	"\"initContainerStatuses\":[{\"name\":\"init\",\"containerID\":\"containerd://short\"}]}}";

static struct k8s_pod *decode(const char *text, int *rc, char *err, size_t err_len)
{
	struct json_object *obj = json_tokener_parse(text);
	struct k8s_pod *pod = NULL;

	*rc = obj ? k8s_pod__from_json(obj, &pod, err, err_len) : -EBADMSG;
	json_object_put(obj);
	return pod;
}

static void test_decode(void)
{
	char err[128];
	int rc;
	struct k8s_pod *pod = decode(pod_json, &rc, err, sizeof(err));

	CHECK_INT(rc, 0);
	if (!pod)
		return;
	CHECK_STR(pod->uid, "74c13223-5a00-11e9-b385-42010a80018d");
	CHECK_STR(pod->namespace, "demo");
	CHECK_STR(pod->name, "frontend-7d9c");
	CHECK_STR(pod->phase, "Running");
	CHECK_STR(pod->resource_version, "4711");
	CHECK_STR(k8s_pod__label(pod, "app"), "frontend");
	CHECK_STR(k8s_pod__label(pod, "tier"), "web");
	CHECK(k8s_pod__label(pod, "missing") == NULL);
	CHECK_INT(pod->n_containers, 3);
	CHECK_STR(pod->containers[0].name, "app");
	CHECK_STR(pod->containers[0].id, CID_APP);
	CHECK_STR(pod->containers[1].name, "sidecar");
	CHECK_STR(pod->containers[1].id, CID_SIDE); /* CRI-O's scheme too */
	CHECK_STR(pod->containers[2].name, "init");
	CHECK_STR(pod->containers[2].id, ""); /* not a runtime id: none */
	CHECK(k8s_pod__container_by_id(pod, CID_SIDE) == &pod->containers[1]);
	CHECK(k8s_pod__container_by_id(pod, "") == NULL);
	/* References: the second put frees (ASan checks). */
	CHECK(k8s_pod__get(pod) == pod);
	k8s_pod__put(pod);
	k8s_pod__put(pod);
	k8s_pod__put(NULL);
}

static void test_refused(void)
{
	static const struct {
		const char *json, *want;
	} rows[] = {
		{ "{}", "a pod without a valid metadata.uid" },
		{ "{\"metadata\":{\"uid\":\"74C13223-5A00-11E9-B385-42010A80018D\",\"name\":\"a\",\"namespace\":\"b\","
		  "\"resourceVersion\":\"1\"}}",
		  "a pod without a valid metadata.uid" },
		{ "{\"metadata\":{\"uid\":\"74c13223-5a00-11e9-b385-42010a80018d\",\"name\":\"a\",\"resourceVersion\":\"1\"}}",
		  "a pod without metadata.namespace" },
		{ "{\"metadata\":{\"uid\":\"74c13223-5a00-11e9-b385-42010a80018d\",\"namespace\":\"b\","
		  "\"resourceVersion\":\"1\"}}",
		  "a pod without metadata.name" },
		{ "{\"metadata\":{\"uid\":\"74c13223-5a00-11e9-b385-42010a80018d\",\"name\":\"a\",\"namespace\":\"b\"}}",
		  "a pod without metadata.resourceVersion" },
		{ "{\"metadata\":{\"uid\":7,\"name\":\"a\",\"namespace\":\"b\",\"resourceVersion\":\"1\"}}",
		  "a pod without a valid metadata.uid" },
		{ "[1,2]", "a pod without a valid metadata.uid" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char err[128] = "";
		int rc;
		struct k8s_pod *pod = decode(rows[i].json, &rc, err, sizeof(err));

		CHECK_INT(rc, -EINVAL);
		CHECK(pod == NULL);
		CHECK_STR(err, rows[i].want);
	}
	/* Odd but tolerated: wrong types where spanprobe only reads. */
	{
		char err[128];
		int rc;
		struct k8s_pod *pod = decode(
			"{\"metadata\":{\"uid\":\"74c13223-5a00-11e9-b385-42010a80018d\",\"name\":\"a\",\"namespace\":\"b\","
			"\"resourceVersion\":\"1\",\"labels\":{\"x\":1,\"y\":\"z\"}},\"spec\":{\"containers\":{}},"
			"\"status\":{\"containerStatuses\":[7]}}",
			&rc, err, sizeof(err));

		CHECK_INT(rc, 0);
		if (pod) {
			CHECK_INT(pod->n_labels, 1);
			CHECK_STR(pod->phase, "");
			CHECK_INT(pod->n_containers, 0);
		}
		k8s_pod__put(pod);
	}
}

static void test_filter(void)
{
	static const struct {
		const char *namespaces; /* comma-separated, or "" */
		const char *selector;   /* or NULL */
		const char *container;  /* or NULL */
		const char *process_container_id;
		bool want;
		const char *want_why;
		bool want_may; /* pod_filter__may_select: namespace and labels alone */
	} rows[] = {
		{ "", NULL, NULL, CID_APP, true, "no pod selection: every process is chosen", true },
		{ "demo", NULL, NULL, CID_APP, true, "pod demo/frontend-7d9c container app selected (namespace demo)", true },
		{ "prod,demo", NULL, NULL, "", true, "pod demo/frontend-7d9c selected (namespace demo)", true },
		{ "prod", NULL, NULL, CID_APP, false, "pod demo/frontend-7d9c: namespace demo not selected", false },
		{ "", "app=frontend,tier in (web,api)", NULL, CID_APP, true,
		  "pod demo/frontend-7d9c container app selected (labels match 'app=frontend,tier in (web,api)')", true },
		{ "", "app=backend", NULL, CID_APP, false, "pod demo/frontend-7d9c: labels do not match 'app=backend'", false },
		{ "demo", "!canary", "sidecar", CID_SIDE, true,
		  "pod demo/frontend-7d9c container sidecar selected (namespace demo, labels match '!canary', "
		  "container sidecar)", true },
		{ "", NULL, "sidecar", CID_APP, false, "pod demo/frontend-7d9c: container app not selected", true },
		{ "", NULL, "app", "", false,
		  "pod demo/frontend-7d9c: the process's container (none) is not one the API reports", true },
		{ "", NULL, "app", "0000000000000000000000000000000000000000000000000000000000000000", false,
		  "pod demo/frontend-7d9c: the process's container 000000000000 is not one the API reports", true },
	};
	char err[256], why[256];
	int rc;
	struct k8s_pod *pod = decode(pod_json, &rc, err, sizeof(err));

	CHECK(pod != NULL);
	for (size_t i = 0; pod && i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pod_filter *f = pod_filter__new();
		char list[64], *save = NULL, *ns;

		snprintf(list, sizeof(list), "%s", rows[i].namespaces);
		for (ns = strtok_r(list, ",", &save); ns; ns = strtok_r(NULL, ",", &save))
			CHECK_INT(pod_filter__add_namespace(f, ns, err, sizeof(err)), 0);
		if (rows[i].selector)
			CHECK_INT(pod_filter__set_selector(f, rows[i].selector, err, sizeof(err)), 0);
		if (rows[i].container)
			CHECK_INT(pod_filter__add_container(f, rows[i].container, err, sizeof(err)), 0);
		CHECK_INT(pod_filter__selects(f, pod, rows[i].process_container_id, why, sizeof(why)), rows[i].want);
		CHECK_STR(why, rows[i].want_why);
		CHECK_INT(pod_filter__may_select(f, pod), rows[i].want_may);
		pod_filter__free(f);
	}
	k8s_pod__put(pod);
}

static void test_filter_errors(void)
{
	struct pod_filter *f = pod_filter__new();
	char err[512], why[128];

	CHECK_INT(pod_filter__add_namespace(f, "Demo", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "'Demo' is not a Kubernetes namespace name (1-63 lowercase letters, digits and '-', "
		       "a letter or digit at both ends)");
	CHECK_INT(pod_filter__add_namespace(f, "", err, sizeof(err)), -EINVAL);
	CHECK_INT(pod_filter__add_container(f, "-x", err, sizeof(err)), -EINVAL);
	CHECK_INT(pod_filter__set_selector(f, "app in (a", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "invalid pod selector 'app in (a': expected ',' or ')' in the list of 'app in', found the end");
	CHECK_INT(pod_filter__set_selector(f, "app=a", err, sizeof(err)), 0);
	CHECK_INT(pod_filter__set_selector(f, "tier=b", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "only one pod selector may be given (join requirements with ',')");
	/* With a criterion, a process in no known pod is not chosen. */
	CHECK(!pod_filter__selects(f, NULL, "", why, sizeof(why)));
	CHECK_STR(why, "in no pod of this node known to the API server");
	CHECK(!pod_filter__may_select(f, NULL));
	pod_filter__free(f);
	pod_filter__free(NULL);
}

int main(void)
{
	unit_prog = "pod_filter";
	RUN(test_decode);
	RUN(test_refused);
	RUN(test_filter);
	RUN(test_filter_errors);
	return unit_exit();
}
