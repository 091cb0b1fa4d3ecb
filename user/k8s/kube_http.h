/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One streaming GET at a time to the Kubernetes API server (libcurl):
 * bearer token, the cluster's CA, each complete JSON object of the body to a
 * callback as it arrives (a list's one object, a watch's stream of events),
 * and cancellable from another thread at any moment. */
#ifndef SPANPROBE_KUBE_HTTP_H
#define SPANPROBE_KUBE_HTTP_H

#include <stddef.h>

#include "kube_config.h"

struct json_object;
struct kube_http;

/* on_object gets each top-level object of a 200 response (valid during the
 * call); a negative return ends the request with that error. */
typedef int (*kube_http_object_fn)(void *ctx, struct json_object *obj);

/* A client for cfg (copied). NULL when out of memory. */
struct kube_http *kube_http__new(const struct kube_config *cfg);
/* GET server + path (path holds an escaped query). Returns 0 when the
 * server answered 200 and the body ended cleanly; the HTTP status (> 0)
 * for any other answer, with the API's Status message in err; or a
 * negative errno: -ECANCELED (kube_http__cancel), -ETIMEDOUT (nothing
 * received for idle_timeout_s), -EBADMSG (not JSON), on_object's error,
 * -EIO and the like for the network, with err naming the cause. */
int kube_http__get(struct kube_http *h, const char *path, unsigned idle_timeout_s,
		   kube_http_object_fn on_object, void *ctx, char *err, size_t err_len);
/* Sleeps ms, or less when cancelled. */
void kube_http__sleep(struct kube_http *h, unsigned ms);
/* From any thread: the request in progress and every later one return
 * -ECANCELED, sleeps end. */
void kube_http__cancel(struct kube_http *h);
/* Escapes s for a query string (malloc'ed), or NULL. */
char *kube_http__escape(struct kube_http *h, const char *s);
void kube_http__free(struct kube_http *h);

#endif /* SPANPROBE_KUBE_HTTP_H */
