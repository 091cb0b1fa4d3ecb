// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Streaming GETs to the API server through libcurl's multi interface, so
 * that curl_multi_wakeup can end a watch that would otherwise wait for the
 * next event; the body is parsed as it arrives by one json_tokener (a watch
 * sends one JSON object per event, newline-separated). */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec_credential.h"
#include "kube_http.h"
#include "secret_str.h"
#include "version.h"

/* One object (a list page, an event) larger than this is refused: pages
 * are asked for 500 pods at a time, each a few kilobytes. */
#define MAX_OBJECT_BYTES (64u << 20)
#define MAX_ERROR_BODY 8192
#define JSON_DEPTH 64 /* managedFields nest deeper than json-c's default 32 */
#define CONNECT_TIMEOUT_S 10L

struct kube_http {
	struct kube_config cfg;
	CURLM *multi;
	atomic_bool canceled;
};

struct request {
	CURL *easy;
	json_tokener *tok;
	long status;
	size_t object_bytes;
	kube_http_object_fn on_object;
	void *ctx;
	int abort_err;
	char abort_msg[256];
	char *body; /* a non-200 answer, for its Status message */
	bool refresh; /* run the exec plugin again: the server refused its credential */
	size_t body_len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct kube_http *kube_http__new(const struct kube_config *cfg)
{
	struct kube_http *h;

	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	if (kube_config__copy(&h->cfg, cfg)) {
		free(h);
		return NULL;
	}
	h->multi = curl_multi_init();
	if (!h->multi) {
		kube_http__free(h);
		return NULL;
	}
	return h;
}

void kube_http__free(struct kube_http *h)
{
	if (!h)
		return;
	if (h->multi)
		curl_multi_cleanup(h->multi);
	kube_config__clear(&h->cfg);
	free(h);
}

void kube_http__cancel(struct kube_http *h)
{
	atomic_store(&h->canceled, true);
	curl_multi_wakeup(h->multi);
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

void kube_http__sleep(struct kube_http *h, unsigned ms)
{
	unsigned long long end = now_ms() + ms, now;

	while (!atomic_load(&h->canceled) && (now = now_ms()) < end)
		curl_multi_poll(h->multi, NULL, 0, (int)(end - now), NULL);
}

char *kube_http__escape(struct kube_http *h, const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	(void)h;
	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

/* Feeds a 200 body to the tokener; each complete object to on_object. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct request *r = arg;
	size_t len = size * nmemb, off = 0;

	if (!r->status)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status != 200) {
		size_t keep = len;
		char *grown;

		if (r->body_len + keep > MAX_ERROR_BODY)
			keep = MAX_ERROR_BODY - r->body_len;
		grown = realloc(r->body, r->body_len + keep + 1);
		if (!grown)
			return 0;
		r->body = grown;
		memcpy(r->body + r->body_len, data, keep);
		r->body_len += keep;
		r->body[r->body_len] = '\0';
		return len;
	}
	while (off < len) {
		struct json_object *obj;

		/* Between objects: the newlines of a watch stream. */
		if (r->object_bytes == 0) {
			while (off < len && (data[off] == '\n' || data[off] == '\r' || data[off] == ' ' ||
					     data[off] == '\t'))
				off++;
			if (off == len)
				break;
		}
		obj = json_tokener_parse_ex(r->tok, data + off, (int)(len - off));
		enum json_tokener_error jerr = json_tokener_get_error(r->tok);
		size_t used = json_tokener_get_parse_end(r->tok);
		int rc;


		if (obj) {
			off += used;
			r->object_bytes = 0;
			rc = r->on_object(r->ctx, obj);
			json_object_put(obj);
			if (rc < 0) {
				r->abort_err = rc;
				return 0;
			}
			continue;
		}
		if (jerr == json_tokener_continue) {
			r->object_bytes += len - off;
			if (r->object_bytes > MAX_OBJECT_BYTES) {
				r->abort_err = -EFBIG;
				snprintf(r->abort_msg, sizeof(r->abort_msg),
					 "an object in the API server's answer is larger than %u MiB",
					 MAX_OBJECT_BYTES >> 20);
				return 0;
			}
			break;
		}
		r->abort_err = -EBADMSG;
		snprintf(r->abort_msg, sizeof(r->abort_msg), "the API server's answer is not JSON (%s)",
			 json_tokener_error_desc(jerr));
		return 0;
	}
	return len;
}

/* The "message" of a Status body, or its first line. */
static void status_message(const struct request *r, char *err, size_t err_len)
{
	struct json_object *obj = r->body ? json_tokener_parse(r->body) : NULL, *msg = NULL;

	if (obj && json_object_object_get_ex(obj, "message", &msg) && json_object_is_type(msg, json_type_string))
		snprintf(err, err_len, "%s", json_object_get_string(msg));
	else if (r->body_len)
		snprintf(err, err_len, "%.*s", (int)strcspn(r->body, "\r\n"), r->body);
	else
		snprintf(err, err_len, "no message");
	json_object_put(obj);
}

/* Blobs are copied by libcurl: the config keeps the only long-lived copy. */
static void set_blob(CURL *easy, CURLoption opt, const char *data, size_t len)
{
	struct curl_blob blob = { .data = (void *)data, .len = len, .flags = CURL_BLOB_COPY };

	curl_easy_setopt(easy, opt, &blob);
}

/* The server's CA and the client certificate: files or, from a
 * kubeconfig's -data fields, memory (never a temporary file). */
static void tls_options(struct kube_http *h, CURL *easy)
{
	const struct kube_config *c = &h->cfg;

	if (c->insecure) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->ca_data)
		set_blob(easy, CURLOPT_CAINFO_BLOB, c->ca_data, c->ca_data_len);
	else if (c->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_data)
		set_blob(easy, CURLOPT_SSLCERT_BLOB, c->cert_data, c->cert_data_len);
	else if (c->cert_file)
		curl_easy_setopt(easy, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_data)
		set_blob(easy, CURLOPT_SSLKEY_BLOB, c->key_data, c->key_data_len);
	else if (c->key_file)
		curl_easy_setopt(easy, CURLOPT_SSLKEY, c->key_file);
	if (c->cert_data || c->cert_file) {
		curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

/* The bearer token (malloc'ed, or NULL for none) and, from an exec plugin,
 * a client certificate: the plugin's credential while it lasts, else the
 * token file (re-read: it may be rotated), else the kubeconfig's token. */
static int credentials(struct kube_http *h, struct request *r, char **token, char *err, size_t err_len)
{
	struct exec_plugin *p = h->cfg.exec;
	int rc;

	*token = NULL;
	if (p) {
		rc = exec_plugin__credential(p, r->refresh, err, err_len);
		if (rc)
			return rc;
		if (p->cred.cert) {
			set_blob(r->easy, CURLOPT_SSLCERT_BLOB, p->cred.cert, strlen(p->cred.cert));
			set_blob(r->easy, CURLOPT_SSLKEY_BLOB, p->cred.key, strlen(p->cred.key));
			curl_easy_setopt(r->easy, CURLOPT_SSLCERTTYPE, "PEM");
			curl_easy_setopt(r->easy, CURLOPT_SSLKEYTYPE, "PEM");
		}
		if (p->cred.token && !(*token = strdup(p->cred.token)))
			goto nomem;
		if (p->cred.token || p->cred.cert)
			return 0;
	}
	if (h->cfg.token_file)
		return kube_config__read_token(&h->cfg, token, err, err_len);
	if (h->cfg.token && !(*token = strdup(h->cfg.token)))
		goto nomem;
	return 0;
nomem:
	snprintf(err, err_len, "out of memory");
	return -ENOMEM;
}

static int setup(struct kube_http *h, struct request *r, const char *path, unsigned idle_timeout_s,
		 struct curl_slist **headers, char *curl_err, char *err, size_t err_len)
{
	char *token = NULL, *url = NULL, *auth = NULL;
	int rc;

	rc = credentials(h, r, &token, err, err_len);
	if (rc)
		return rc;
	rc = -ENOMEM;
	if (asprintf(&url, "%s%s", h->cfg.server, path) < 0) {
		url = NULL;
		goto cleanup;
	}
	if (token && asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
		auth = NULL;
		goto cleanup;
	}
	*headers = curl_slist_append(NULL, "Accept: application/json");
	if (!*headers || (auth && !curl_slist_append(*headers, auth)))
		goto cleanup;
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "spanprobe/" SPANPROBE_VERSION);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L); /* not on the main thread */
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	/* A watch may be quiet for long; a peer gone silent is noticed by
	 * keepalive, and a stream with no byte for idle_timeout_s is ended. */
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_TIME, (long)idle_timeout_s);
	curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	tls_options(h, r->easy);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, curl_err);
	rc = 0;
cleanup:
	if (rc == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	secret_free_str(token);
	secret_free_str(auth); /* curl copied the header list's strings */
	free(url);
	return rc;
}

/* Runs the transfer until it ends or the client is cancelled. */
static CURLcode perform(struct kube_http *h, CURL *easy, int *canceled)
{
	CURLcode result = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left;

	if (curl_multi_add_handle(h->multi, easy) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	while (running) {
		if (atomic_load(&h->canceled)) {
			*canceled = 1;
			break;
		}
		if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
			result = CURLE_RECV_ERROR;
			break;
		}
		if (running)
			curl_multi_poll(h->multi, NULL, 0, 1000, NULL);
	}
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy)
			result = msg->data.result;
	}
	curl_multi_remove_handle(h->multi, easy);
	return result;
}

static int get_once(struct kube_http *h, const char *path, unsigned idle_timeout_s,
		    kube_http_object_fn on_object, void *ctx, bool refresh, char *err, size_t err_len)
{
	struct request r = { .on_object = on_object, .ctx = ctx, .refresh = refresh };
	struct curl_slist *headers = NULL;
	char curl_err[CURL_ERROR_SIZE] = "";
	CURLcode result;
	int rc, canceled = 0;

	err[0] = '\0';
	if (atomic_load(&h->canceled))
		return -ECANCELED;
	r.easy = curl_easy_init();
	r.tok = json_tokener_new_ex(JSON_DEPTH);
	if (!r.easy || !r.tok) {
		rc = -ENOMEM;
		snprintf(err, err_len, "out of memory");
		goto cleanup;
	}
	rc = setup(h, &r, path, idle_timeout_s, &headers, curl_err, err, err_len);
	if (rc)
		goto cleanup;
	result = perform(h, r.easy, &canceled);
	if (!r.status)
		curl_easy_getinfo(r.easy, CURLINFO_RESPONSE_CODE, &r.status);
	if (canceled) {
		rc = -ECANCELED;
		snprintf(err, err_len, "cancelled");
	} else if (r.abort_err) {
		rc = r.abort_err;
		snprintf(err, err_len, "%s", r.abort_msg[0] ? r.abort_msg : strerror(-rc));
	} else if (result != CURLE_OK && !(r.status && r.status != 200)) {
		rc = result == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT :
		     result == CURLE_OUT_OF_MEMORY      ? -ENOMEM :
		     result == CURLE_PEER_FAILED_VERIFICATION || result == CURLE_SSL_CACERT_BADFILE ||
				     result == CURLE_SSL_CONNECT_ERROR ? -EPROTO : -EIO;
		snprintf(err, err_len, "cannot reach the API server at %s: %s%s%s", h->cfg.server,
			 curl_err[0] ? curl_err : curl_easy_strerror(result),
			 rc == -EPROTO && h->cfg.ca_file ? "; CA file " : "",
			 rc == -EPROTO && h->cfg.ca_file ? h->cfg.ca_file : "");
	} else if (r.status != 200) {
		rc = (int)r.status;
		status_message(&r, err, err_len);
	} else if (json_tokener_get_error(r.tok) == json_tokener_continue && r.object_bytes) {
		rc = -EBADMSG;
		snprintf(err, err_len, "the API server's answer ended in the middle of an object");
	} else {
		rc = 0;
	}
cleanup:
	if (r.easy)
		curl_easy_cleanup(r.easy);
	curl_slist_free_all(headers);
	if (r.tok)
		json_tokener_free(r.tok);
	free(r.body);
	return rc;
}

int kube_http__get(struct kube_http *h, const char *path, unsigned idle_timeout_s,
		   kube_http_object_fn on_object, void *ctx, char *err, size_t err_len)
{
	int rc = get_once(h, path, idle_timeout_s, on_object, ctx, false, err, err_len);

	/* An exec plugin's credential the server refuses is fetched again
	 * once at once, as client-go does on a 401 (a 401 delivers no object,
	 * so nothing is seen twice). */
	if (rc == 401 && h->cfg.exec)
		rc = get_once(h, path, idle_timeout_s, on_object, ctx, true, err, err_len);
	return rc;
}
