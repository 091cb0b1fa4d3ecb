// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* List-then-watch of one node's pods, the way client-go's reflector does it:
 *   list   GET /api/v1/pods?fieldSelector=spec.nodeName%3DNODE&limit=500
 *          (&continue=... for further pages); the table then holds exactly
 *          the listed pods (what vanished meanwhile is reported deleted);
 *   watch  GET ...&watch=1&allowWatchBookmarks=true&resourceVersion=RV
 *          &timeoutSeconds=N; events update the table and RV, bookmarks
 *          only RV. A watch that ends (the server's timeout, a dropped
 *          connection) resumes from RV; a "410 Gone" (RV no longer kept,
 *          as an ERROR event or as the answer) forces a new list.
 * Failures back off exponentially (with jitter) up to backoff_max_ms; an
 * accepted request resets the delay. */
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube_http.h"
#include "pod_table.h"
#include "pod_watch.h"

#define LIST_PAGE 500
#define LIST_IDLE_TIMEOUT_S 60
#define WATCH_IDLE_MARGIN_S 60 /* beyond the server's own timeout */
#define MAX_ERROR 512

struct pod_watch {
	struct kube_http *http;
	char *node;
	char *field_selector; /* escaped "spec.nodeName=NODE" */
	unsigned watch_timeout_s, backoff_min_ms, backoff_max_ms;
	struct pod_watch_callbacks cb;
	struct pod_table *pods;
	pthread_t thread;
	bool started;

	/* Watch thread only. */
	char *resource_version;
	char *continue_token;
	unsigned generation;
	bool expired;
	unsigned jitter_seed;
	char last_reported[MAX_ERROR];

	/* Shared, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t synced_cond;
	struct pod_watch_stats stats;
	char last_error[MAX_ERROR];
};

static void set_string(char **slot, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return; /* out of memory: keep the previous value */
	free(*slot);
	*slot = copy;
}

static struct json_object *json_get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!obj || !json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

static const char *json_str(struct json_object *obj)
{
	return obj && json_object_is_type(obj, json_type_string) ? json_object_get_string(obj) : NULL;
}

static void count(struct pod_watch *w, unsigned long *field)
{
	pthread_mutex_lock(&w->lock);
	(*field)++;
	pthread_mutex_unlock(&w->lock);
}

/* Records a failure; the callback hears each new message once. */
static void report(struct pod_watch *w, const char *message)
{
	pthread_mutex_lock(&w->lock);
	w->stats.errors++;
	snprintf(w->last_error, sizeof(w->last_error), "%s", message);
	pthread_mutex_unlock(&w->lock);
	if (strcmp(w->last_reported, message) == 0)
		return;
	snprintf(w->last_reported, sizeof(w->last_reported), "%s", message);
	if (w->cb.on_error)
		w->cb.on_error(w->cb.ctx, message);
}

static void notify(struct pod_watch *w, enum pod_event ev, const struct k8s_pod *pod, const struct k8s_pod *old)
{
	if (w->cb.on_pod)
		w->cb.on_pod(w->cb.ctx, ev, pod, old);
}

/* A pod from the API into the table, with its event. */
static int apply_pod(struct pod_watch *w, struct json_object *obj, bool deleted)
{
	struct k8s_pod *pod = NULL, *old;
	char err[128], msg[MAX_ERROR];

	if (k8s_pod__from_json(obj, &pod, err, sizeof(err))) {
		/* One malformed pod must not stop the others. */
		snprintf(msg, sizeof(msg), "ignoring a pod the API server sent: %s", err);
		report(w, msg);
		return 0;
	}
	set_string(&w->resource_version, pod->resource_version);
	if (deleted) {
		old = pod_table__remove(w->pods, pod->uid);
		if (old) /* else never seen: nothing to undo */
			notify(w, POD_DELETED, pod, NULL);
		k8s_pod__put(old);
		k8s_pod__put(pod);
		return 0;
	}
	old = pod_table__insert(w->pods, k8s_pod__get(pod), w->generation);
	if (!old)
		notify(w, POD_ADDED, pod, NULL);
	else if (strcmp(old->resource_version, pod->resource_version) != 0)
		notify(w, POD_UPDATED, pod, old);
	k8s_pod__put(old);
	k8s_pod__put(pod);
	return 0;
}

static int on_list_page(void *ctx, struct json_object *list)
{
	struct pod_watch *w = ctx;
	struct json_object *items = json_get(list, "items");
	struct json_object *meta = json_get(list, "metadata");
	const char *rv = json_str(json_get(meta, "resourceVersion"));
	const char *cont = json_str(json_get(meta, "continue"));

	if (!rv || !items || !json_object_is_type(items, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(items); i++)
		apply_pod(w, json_object_array_get_idx(items, i), false);
	/* A list's version, not its items', is where the watch starts. */
	set_string(&w->resource_version, rv);
	set_string(&w->continue_token, cont && *cont ? cont : NULL);
	return 0;
}

static void on_gone(void *ctx, struct k8s_pod *pod)
{
	notify(ctx, POD_DELETED, pod, NULL);
	k8s_pod__put(pod);
}

static int on_watch_event(void *ctx, struct json_object *event)
{
	struct pod_watch *w = ctx;
	const char *type = json_str(json_get(event, "type"));
	struct json_object *obj = json_get(event, "object");
	char msg[MAX_ERROR];

	if (!type || !obj)
		return -EBADMSG;
	if (strcmp(type, "ERROR") == 0) {
		/* A Status: 410 when our version is older than the server keeps. */
		struct json_object *code = json_get(obj, "code");

		if (code && json_object_get_int(code) == 410) {
			w->expired = true;
			return -ESTALE;
		}
		snprintf(msg, sizeof(msg), "the API server ended the watch of pods on node %s: %s", w->node,
			 json_str(json_get(obj, "message")) ?: "no message");
		report(w, msg);
		return -EREMOTEIO;
	}
	if (strcmp(type, "BOOKMARK") == 0) {
		const char *rv = json_str(json_get(json_get(obj, "metadata"), "resourceVersion"));

		count(w, &w->stats.bookmarks);
		if (rv)
			set_string(&w->resource_version, rv);
		return 0;
	}
	count(w, &w->stats.events);
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0)
		return apply_pod(w, obj, false);
	if (strcmp(type, "DELETED") == 0)
		return apply_pod(w, obj, true);
	return 0; /* a type added later: its version is not trusted */
}

/* One line for a failed request: cause, then the fix where we know it. */
static void report_failure(struct pod_watch *w, const char *verb, int rc, const char *detail)
{
	char msg[MAX_ERROR];

	if (rc == 401)
		snprintf(msg, sizeof(msg),
			 "the Kubernetes API server refused spanprobe's token (401 Unauthorized: %s); "
			 "check the token it sends (the ServiceAccount's, --kube-token-file's or the kubeconfig user's)",
			 detail);
	else if (rc == 403)
		snprintf(msg, sizeof(msg),
			 "the Kubernetes API server forbids spanprobe to %s pods on node %s (403: %s); grant get, list "
			 "and watch on pods to its ServiceAccount (deploy/base/spanprobe-rbac.yaml)",
			 verb, w->node, detail);
	else if (rc > 0)
		snprintf(msg, sizeof(msg), "the Kubernetes API server answered %d to %s pods on node %s: %s", rc,
			 verb, w->node, detail);
	else
		snprintf(msg, sizeof(msg), "cannot %s pods on node %s: %s", verb, w->node, detail);
	report(w, msg);
}

static int list_pods(struct pod_watch *w)
{
	char path[4096], err[MAX_ERROR];
	int rc;

	w->generation++;
	set_string(&w->continue_token, NULL);
	do {
		char *cont = w->continue_token ? kube_http__escape(w->http, w->continue_token) : NULL;

		if (w->continue_token && !cont)
			return -ENOMEM;
		snprintf(path, sizeof(path), "/api/v1/pods?fieldSelector=%s&limit=%d%s%s", w->field_selector,
			 LIST_PAGE, cont ? "&continue=" : "", cont ? cont : "");
		free(cont);
		rc = kube_http__get(w->http, path, LIST_IDLE_TIMEOUT_S, on_list_page, w, err, sizeof(err));
		if (rc) {
			/* 410 here: the continue token expired; start over. */
			if (rc != 410 && rc != -ECANCELED)
				report_failure(w, "list", rc, err);
			return rc == 410 ? -ESTALE : rc;
		}
	} while (w->continue_token);
	pod_table__sweep(w->pods, w->generation, on_gone, w);
	pthread_mutex_lock(&w->lock);
	w->stats.lists++;
	w->stats.synced = true;
	w->last_error[0] = '\0';
	pthread_cond_broadcast(&w->synced_cond);
	pthread_mutex_unlock(&w->lock);
	w->last_reported[0] = '\0';
	if (w->cb.on_synced)
		w->cb.on_synced(w->cb.ctx);
	return 0;
}

static int watch_pods(struct pod_watch *w)
{
	char path[4096], err[MAX_ERROR];
	char *rv = kube_http__escape(w->http, w->resource_version ? w->resource_version : "");
	int rc;

	if (!rv)
		return -ENOMEM;
	snprintf(path, sizeof(path),
		 "/api/v1/pods?fieldSelector=%s&watch=1&allowWatchBookmarks=true&resourceVersion=%s"
		 "&timeoutSeconds=%u",
		 w->field_selector, rv, w->watch_timeout_s);
	free(rv);
	w->expired = false;
	count(w, &w->stats.watches);
	rc = kube_http__get(w->http, path, w->watch_timeout_s + WATCH_IDLE_MARGIN_S, on_watch_event, w, err,
			    sizeof(err));
	if (w->expired || rc == 410)
		return -ESTALE;
	if (rc && rc != -ECANCELED && rc != -EREMOTEIO) /* ERROR events report themselves */
		report_failure(w, "watch", rc, err);
	return rc;
}

/* ms plus up to a quarter: daemons restarted together spread out. */
static unsigned jittered(struct pod_watch *w, unsigned ms)
{
	return ms + (unsigned)rand_r(&w->jitter_seed) % (ms / 4 + 1);
}

static void *watch_thread(void *arg)
{
	struct pod_watch *w = arg;
	unsigned backoff = w->backoff_min_ms;
	bool need_list = true;
	int rc;

	for (;;) {
		if (need_list) {
			rc = list_pods(w);
			if (rc == -ECANCELED)
				break;
			if (rc == -ESTALE)
				continue; /* an expired continue token: list again now */
			if (rc) {
				kube_http__sleep(w->http, jittered(w, backoff));
				backoff = backoff * 2 > w->backoff_max_ms ? w->backoff_max_ms : backoff * 2;
				continue;
			}
			need_list = false;
			backoff = w->backoff_min_ms;
		}
		rc = watch_pods(w);
		if (rc == -ECANCELED)
			break;
		if (rc == -ESTALE) {
			count(w, &w->stats.expired);
			need_list = true;
			continue;
		}
		if (rc == 0) {
			backoff = w->backoff_min_ms; /* the server's timeout: resume now */
			continue;
		}
		kube_http__sleep(w->http, jittered(w, backoff));
		backoff = backoff * 2 > w->backoff_max_ms ? w->backoff_max_ms : backoff * 2;
	}
	return NULL;
}

static void pod_watch__free(struct pod_watch *w)
{
	if (!w)
		return;
	kube_http__free(w->http);
	pod_table__free(w->pods);
	free(w->node);
	free(w->field_selector);
	free(w->resource_version);
	free(w->continue_token);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->synced_cond);
	free(w);
}

int pod_watch__start(const struct pod_watch_opts *opts, struct pod_watch **out)
{
	struct pod_watch *w;
	pthread_condattr_t attr;
	char *selector = NULL;
	int err;

	*out = NULL;
	if (!opts->kube || !opts->kube->server || !opts->node_name || !*opts->node_name)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->synced_cond, &attr);
	pthread_condattr_destroy(&attr);
	w->watch_timeout_s = opts->watch_timeout_s ? opts->watch_timeout_s : 300;
	w->backoff_min_ms = opts->backoff_min_ms ? opts->backoff_min_ms : 500;
	w->backoff_max_ms = opts->backoff_max_ms ? opts->backoff_max_ms : 30000;
	if (w->backoff_max_ms < w->backoff_min_ms)
		w->backoff_max_ms = w->backoff_min_ms;
	w->cb = opts->cb;
	w->jitter_seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)w;
	w->node = strdup(opts->node_name);
	w->pods = pod_table__new();
	w->http = kube_http__new(opts->kube);
	err = -ENOMEM;
	if (!w->node || !w->pods || !w->http)
		goto cleanup;
	if (asprintf(&selector, "spec.nodeName=%s", opts->node_name) < 0) {
		selector = NULL;
		goto cleanup;
	}
	w->field_selector = kube_http__escape(w->http, selector);
	if (!w->field_selector)
		goto cleanup;
	err = -pthread_create(&w->thread, NULL, watch_thread, w);
	if (err)
		goto cleanup;
	w->started = true;
	*out = w;
	err = 0;
cleanup:
	free(selector);
	if (err)
		pod_watch__free(w);
	return err;
}

struct k8s_pod *pod_watch__lookup(struct pod_watch *w, const char *uid)
{
	return w ? pod_table__lookup(w->pods, uid) : NULL;
}

int pod_watch__wait_synced(struct pod_watch *w, unsigned timeout_ms, char *err, size_t err_len)
{
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->stats.synced && rc == 0)
		rc = pthread_cond_timedwait(&w->synced_cond, &w->lock, &deadline);
	if (!w->stats.synced && err_len)
		snprintf(err, err_len, "%s", w->last_error[0] ? w->last_error : "no answer from the API server yet");
	rc = w->stats.synced ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void pod_watch__stats(struct pod_watch *w, struct pod_watch_stats *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->stats;
	pthread_mutex_unlock(&w->lock);
	out->pods = pod_table__count(w->pods);
}

void pod_watch__stop(struct pod_watch *w)
{
	if (!w)
		return;
	if (w->started) {
		kube_http__cancel(w->http);
		pthread_join(w->thread, NULL);
	}
	pod_watch__free(w);
}
