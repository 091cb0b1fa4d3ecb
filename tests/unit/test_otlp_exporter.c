// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The exporter's batching, queue and retries: with a fake sender (batch
 * boundaries, queue full, shutdown deadline, requests that grow while the
 * exporter is behind) and, for the HTTP path, a tiny in-process HTTP/1.1
 * receiver on 127.0.0.1 (503 + Retry-After then 200 is retried and
 * delivered once; 400 is dropped; gzip is gzip; requests in flight side by
 * side). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp_exporter.h"
#include "otlp_exporter_internal.h"
#include "otlp_retry.h"
#include "span.h"
#include "unit.h"

static int otlp_exporter__new_with_sender(const struct otlp_config *cfg, otlp_send_fn send,
					  void *send_ctx, struct otlp_exporter **out)
{
	return otlp_exporter__new_with(cfg, send, send_ctx, NULL, out);
}

static size_t spans_in(const uint8_t *body, size_t len)
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
			NULL, len, body);
	size_t n = 0;

	if (!req)
		return 0;
	for (size_t r = 0; r < req->n_resource_spans; r++)
		for (size_t s = 0; s < req->resource_spans[r]->n_scope_spans; s++)
			n += req->resource_spans[r]->scope_spans[s]->n_spans;
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
												 NULL);
	return n;
}

struct fake_sender {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t requests;
	size_t batch_sizes[16];
	bool hold;        /* block inside send until released */
	bool inside;
	enum otlp_outcome outcome;
	int64_t retry_after_ms;
	size_t retry_first; /* this many first requests answer "retry later" */
	size_t hold_request; /* 1-based: only this request holds (0: every one, when hold) */
};

static void fake_send(void *ctx, const uint8_t *body, size_t len, uint32_t timeout_ms,
		      struct otlp_result *res)
{
	struct fake_sender *f = ctx;

	(void)timeout_ms;
	memset(res, 0, sizeof(*res));
	res->hint = "";
	pthread_mutex_lock(&f->lock);
	if (f->requests < 16)
		f->batch_sizes[f->requests] = spans_in(body, len);
	f->requests++;
	f->inside = true;
	pthread_cond_broadcast(&f->cond);
	while (f->hold && (!f->hold_request || f->hold_request == f->requests))
		pthread_cond_wait(&f->cond, &f->lock);
	f->inside = false;
	res->outcome = f->outcome;
	res->retry_after_ms = f->retry_after_ms;
	if (f->requests <= f->retry_first)
		res->outcome = OTLP_OUTCOME_RETRY;
	snprintf(res->message, sizeof(res->message), "fake failure");
	if (res->outcome == OTLP_OUTCOME_OK)
		res->message[0] = '\0';
	pthread_mutex_unlock(&f->lock);
}

static void fake_init(struct fake_sender *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->retry_after_ms = -1;
}

static struct otlp_config test_config(uint32_t queue, uint32_t batch)
{
	struct otlp_config cfg = {
		.protocol = OTLP_HTTP_PROTOBUF,
		.endpoint = "http://127.0.0.1:9/v1/traces",
		.timeout_ms = 2000,
		.schedule_delay_ms = 60000, /* only full batches or shutdown export */
		.export_timeout_ms = 5000,
		.max_queue_size = queue,
		.max_export_batch_size = batch,
		.host_name = "test",
	};
	return cfg;
}

static struct span test_span(uint64_t id)
{
	struct span s = { .span_id = id, .pid = 1, .tid = 1, .name = "f", .has_ret = true };

	s.trace_id[0] = 1;
	return s;
}

static void test_batch_boundaries(void)
{
	struct otlp_config cfg = test_config(2048, 512);
	struct otlp_exporter *e = NULL;
	struct otlp_stats st;
	struct fake_sender f;

	fake_init(&f);
	CHECK_INT(otlp_exporter__new_with_sender(&cfg, fake_send, &f, &e), 0);
	for (uint64_t i = 0; i < 1100; i++) {
		struct span s = test_span(i + 1);

		otlp_exporter__push(e, &s);
	}
	otlp_exporter__shutdown(e);
	otlp_exporter__stats(e, &st);
	CHECK_INT(f.requests, 3);
	CHECK_INT(f.batch_sizes[0], 512);
	CHECK_INT(f.batch_sizes[1], 512);
	CHECK_INT(f.batch_sizes[2], 76);
	CHECK_INT(st.exported, 1100);
	CHECK_INT(st.dropped, 0);
	CHECK_INT(st.failed_requests, 0);
	otlp_exporter__free(e);
}

static void test_schedule_delay(void)
{
	struct otlp_config cfg = test_config(100, 50);
	struct otlp_exporter *e = NULL;
	struct otlp_stats st = { 0 };
	struct fake_sender f;
	struct span s = test_span(1);

	cfg.schedule_delay_ms = 50;
	fake_init(&f);
	CHECK_INT(otlp_exporter__new_with_sender(&cfg, fake_send, &f, &e), 0);
	otlp_exporter__push(e, &s);
	/* one span, far from a full batch: the timer exports it */
	for (int i = 0; i < 200 && st.exported == 0; i++) {
		usleep(10000);
		otlp_exporter__stats(e, &st);
	}
	CHECK_INT(st.exported, 1);
	otlp_exporter__free(e); /* free without shutdown shuts down */
}

/* OTEL_BSP_SCHEDULE_DELAY=0: export at once, without spinning on the lock
 * (which used to block the first push forever). */
static void test_schedule_delay_zero(void)
{
	struct otlp_config cfg = test_config(100, 50);
	struct otlp_exporter *e = NULL;
	struct otlp_stats st = { 0 };
	struct fake_sender f;
	struct span s = test_span(1);

	cfg.schedule_delay_ms = 0;
	fake_init(&f);
	CHECK_INT(otlp_exporter__new_with_sender(&cfg, fake_send, &f, &e), 0);
	usleep(20000);
	otlp_exporter__push(e, &s);
	for (int i = 0; i < 200 && st.exported == 0; i++) {
		usleep(10000);
		otlp_exporter__stats(e, &st);
	}
	CHECK_INT(st.exported, 1);
	otlp_exporter__free(e);
}

static unsigned backlog_calls;
static unsigned ring_half_full(void *ctx)
{
	(void)ctx;
	backlog_calls++;
	return 50;
}

/* 17 spans into a queue of 10 while the first batch of 5 is stuck "on the
 * network": 2 dropped, the rest exported once it answers. With backlog
 * (the ring buffer half full) the push into the full queue drops at once,
 * asking it once per span that does not fit. */
static void queue_full_case(otlp_backlog_fn backlog)
{
	struct otlp_config cfg = test_config(10, 5);
	struct otlp_exporter *e = NULL;
	struct otlp_stats st;
	struct fake_sender f;

	fake_init(&f);
	f.hold = true;
	backlog_calls = 0;
	CHECK_INT(otlp_exporter__new_with_sender(&cfg, fake_send, &f, &e), 0);
	otlp_exporter__set_backlog(e, backlog, NULL);
	for (uint64_t i = 0; i < 5; i++) {
		struct span s = test_span(i + 1);

		otlp_exporter__push(e, &s);
	}
	/* the first batch is now stuck "on the network" */
	pthread_mutex_lock(&f.lock);
	while (!f.inside)
		pthread_cond_wait(&f.cond, &f.lock);
	pthread_mutex_unlock(&f.lock);
	for (uint64_t i = 5; i < 17; i++) {
		struct span s = test_span(i + 1);

		otlp_exporter__push(e, &s); /* must not block */
	}
	otlp_exporter__stats(e, &st);
	CHECK_INT(st.dropped, 2);
	CHECK_INT(backlog_calls, backlog ? 2 : 0);
	pthread_mutex_lock(&f.lock);
	f.hold = false;
	pthread_cond_broadcast(&f.cond);
	pthread_mutex_unlock(&f.lock);
	otlp_exporter__shutdown(e);
	otlp_exporter__stats(e, &st);
	CHECK_INT(st.exported, 15);
	CHECK_INT(st.dropped, 2);
	otlp_exporter__free(e);
}

static void test_queue_full(void)
{
	queue_full_case(NULL);
}

static void test_queue_full_ring_half_full(void)
{
	queue_full_case(ring_half_full);
}

/* While an earlier request is still out (here: waiting to be retried) and
 * the queue is more than half full, the next request takes every span
 * queued instead of one batch. */
static void test_batches_grow_when_behind(void)
{
	struct otlp_config cfg = test_config(100, 10);
	struct otlp_exporter *e = NULL;
	struct otlp_stats st;
	struct fake_sender f;
	uint64_t id = 1;

	fake_init(&f);
	f.retry_first = 1;      /* request 1: retried, 50 ms later */
	f.retry_after_ms = 50;
	f.hold = true;          /* request 2: held until the queue has filled */
	f.hold_request = 2;
	CHECK_INT(otlp_exporter__new_with_sender(&cfg, fake_send, &f, &e), 0);
	for (int i = 0; i < 20; i++, id++) {
		struct span s = test_span(id);

		otlp_exporter__push(e, &s);
	}
	pthread_mutex_lock(&f.lock);
	while (f.requests < 2)
		pthread_cond_wait(&f.cond, &f.lock);
	pthread_mutex_unlock(&f.lock);
	for (int i = 0; i < 60; i++, id++) { /* 60 of 100 queued */
		struct span s = test_span(id);

		otlp_exporter__push(e, &s);
	}
	pthread_mutex_lock(&f.lock);
	f.hold = false;
	pthread_cond_broadcast(&f.cond);
	pthread_mutex_unlock(&f.lock);
	otlp_exporter__shutdown(e);
	otlp_exporter__stats(e, &st);
	CHECK_INT(f.batch_sizes[0], 10);
	CHECK_INT(f.batch_sizes[1], 10);
	CHECK_INT(f.batch_sizes[2], 60); /* behind: all of it in one request */
	CHECK_INT(f.batch_sizes[3], 10); /* request 1 again */
	CHECK_INT(f.requests, 4);
	CHECK_INT(st.exported, 80);
	CHECK_INT(st.dropped, 0);
	CHECK_INT(st.retries, 1);
	otlp_exporter__free(e);
}

/* Virtual time: frozen (a wait lasts until a signal) until the test lets it
 * run; then it moves only when the exporter waits, to the end of the wait.
 * Deadlines are so checked exactly, however busy the machine is. */
struct virtual_clock {
	pthread_mutex_t lock;
	uint64_t now_ms;
	bool running;
};

static uint64_t virtual_now(void *ctx)
{
	struct virtual_clock *c = ctx;
	uint64_t now;

	pthread_mutex_lock(&c->lock);
	now = c->now_ms;
	pthread_mutex_unlock(&c->lock);
	return now;
}

static void virtual_wait_until(void *ctx, pthread_cond_t *cond, pthread_mutex_t *lock,
			       uint64_t deadline_ms)
{
	struct virtual_clock *c = ctx;
	bool running;

	pthread_mutex_lock(&c->lock);
	running = c->running;
	pthread_mutex_unlock(&c->lock);
	if (!running) {
		pthread_cond_wait(cond, lock);
		return;
	}
	/* let other threads take the exporter's lock, as a real wait would */
	pthread_mutex_unlock(lock);
	pthread_mutex_lock(&c->lock);
	if (c->now_ms < deadline_ms)
		c->now_ms = deadline_ms;
	pthread_mutex_unlock(&c->lock);
	sched_yield();
	pthread_mutex_lock(lock);
}

/* A receiver that always says "later": shutdown still ends at the export
 * timeout, by the exporter's own clock, and counts the rest as dropped. */
static void test_shutdown_deadline(void)
{
	struct virtual_clock clock = { PTHREAD_MUTEX_INITIALIZER, 1000000, false };
	struct otlp_clock seam = { virtual_now, virtual_wait_until, &clock };
	struct otlp_config cfg = test_config(100, 10);
	struct otlp_exporter *e = NULL;
	struct otlp_stats st;
	struct fake_sender f;
	uint64_t start;

	cfg.export_timeout_ms = 300;
	fake_init(&f);
	f.outcome = OTLP_OUTCOME_RETRY;
	f.retry_after_ms = 20;
	CHECK_INT(otlp_exporter__new_with(&cfg, fake_send, &f, &seam, &e), 0);
	for (uint64_t i = 0; i < 35; i++) {
		struct span s = test_span(i + 1);

		otlp_exporter__push(e, &s);
	}
	start = virtual_now(&clock);
	pthread_mutex_lock(&clock.lock);
	clock.running = true;
	pthread_mutex_unlock(&clock.lock);
	otlp_exporter__shutdown(e);
	/* gave up at the deadline: not before, and not a retry wait after it */
	CHECK(virtual_now(&clock) >= start + cfg.export_timeout_ms - f.retry_after_ms);
	CHECK(virtual_now(&clock) <= start + cfg.export_timeout_ms + f.retry_after_ms);
	otlp_exporter__stats(e, &st);
	CHECK_INT(st.exported, 0);
	CHECK_INT(st.dropped, 35);
	CHECK(st.retries > 0);
	otlp_exporter__free(e);
}

/* A non-retryable failure is dropped at once and counted. */
static void test_drop_counted(void)
{
	struct otlp_config cfg = test_config(100, 10);
	struct otlp_exporter *e = NULL;
	struct otlp_stats st;
	struct fake_sender f;

	fake_init(&f);
	f.outcome = OTLP_OUTCOME_DROP;
	CHECK_INT(otlp_exporter__new_with_sender(&cfg, fake_send, &f, &e), 0);
	for (uint64_t i = 0; i < 25; i++) {
		struct span s = test_span(i + 1);

		otlp_exporter__push(e, &s);
	}
	otlp_exporter__shutdown(e);
	otlp_exporter__stats(e, &st);
	CHECK_INT(f.requests, 3);
	CHECK_INT(st.dropped, 25);
	CHECK_INT(st.failed_requests, 3);
	CHECK_INT(st.retries, 0);
	otlp_exporter__free(e);
}

/* --- a fake OTLP/HTTP receiver: HTTP/1.1, keep-alive, scripted answers --- */

struct fake_http {
	int listen_fd;
	int port;
	pthread_t thread;
	const char *const *answers; /* status lines + headers, one per request */
	size_t requests;
	size_t spans_received;
	bool saw_protobuf_type, saw_gzip;
};

static bool read_request(int fd, struct fake_http *h, char *buf, size_t cap)
{
	size_t len = 0, body_len = 0, header_len;
	char *end = NULL, *cl;

	while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
	}
	header_len = (size_t)(end - buf) + 4;
	cl = strcasestr(buf, "content-length:");
	if (cl)
		body_len = strtoul(cl + 15, NULL, 10);
	h->saw_protobuf_type |= strcasestr(buf, "content-type: application/x-protobuf") != NULL;
	h->saw_gzip |= strcasestr(buf, "content-encoding: gzip") != NULL;
	while (len < header_len + body_len) {
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n <= 0)
			return false;
		len += (size_t)n;
	}
	if (!strcasestr(buf, "content-encoding: gzip"))
		h->spans_received += spans_in((uint8_t *)buf + header_len, body_len);
	else if ((uint8_t)buf[header_len] == 0x1f && (uint8_t)buf[header_len + 1] == 0x8b)
		h->spans_received += 1000000; /* gzip magic: counted apart */
	return true;
}

static void *fake_http_thread(void *arg)
{
	struct fake_http *h = arg;
	static char buf[1 << 20];
	int fd;

	while ((fd = accept(h->listen_fd, NULL, NULL)) >= 0) {
		while (h->answers[h->requests] && read_request(fd, h, buf, sizeof(buf))) {
			char resp[256];
			int n = snprintf(resp, sizeof(resp), "%sContent-Length: 0\r\n\r\n",
					 h->answers[h->requests]);

			h->requests++;
			if (write(fd, resp, (size_t)n) != n)
				break;
		}
		close(fd);
		if (!h->answers[h->requests])
			break;
	}
	return NULL;
}

static int fake_http_start(struct fake_http *h, const char *const *answers)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(addr);

	memset(h, 0, sizeof(*h));
	h->answers = answers;
	h->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0 || bind(h->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(h->listen_fd, 4) || getsockname(h->listen_fd, (struct sockaddr *)&addr, &alen))
		return -1;
	h->port = ntohs(addr.sin_port);
	return pthread_create(&h->thread, NULL, fake_http_thread, h) ? -1 : 0;
}

static void fake_http_stop(struct fake_http *h)
{
	shutdown(h->listen_fd, SHUT_RDWR);
	pthread_join(h->thread, NULL);
	close(h->listen_fd);
}

static void run_http(const char *const *answers, bool gzip, uint32_t n, struct fake_http *h,
		     struct otlp_stats *st)
{
	struct otlp_config cfg = test_config(100, 100);
	struct otlp_exporter *e = NULL;
	char url[64];

	CHECK_INT(fake_http_start(h, answers), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/traces", h->port);
	cfg.endpoint = url;
	cfg.gzip = gzip;
	CHECK_INT(otlp_exporter__new(&cfg, &e), 0);
	for (uint64_t i = 0; i < n; i++) {
		struct span s = test_span(i + 1);

		otlp_exporter__push(e, &s);
	}
	otlp_exporter__shutdown(e);
	otlp_exporter__stats(e, st);
	otlp_exporter__free(e);
	fake_http_stop(h);
}

#define ANSWERS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_http_retry_then_ok(void)
{
	struct fake_http h;
	struct otlp_stats st;

	run_http(ANSWERS("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\n",
			 "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"),
		 false, 7, &h, &st);
	CHECK_INT(h.requests, 2);
	CHECK_INT(h.spans_received, 14); /* the same request, sent twice */
	CHECK(h.saw_protobuf_type);
	CHECK_INT(st.exported, 7); /* delivered once */
	CHECK_INT(st.retries, 1);
	CHECK_INT(st.failed_requests, 1);
	CHECK_INT(st.dropped, 0);
}

static void test_http_400_dropped(void)
{
	struct fake_http h;
	struct otlp_stats st;

	run_http(ANSWERS("HTTP/1.1 400 Bad Request\r\n"), false, 5, &h, &st);
	CHECK_INT(h.requests, 1);
	CHECK_INT(st.exported, 0);
	CHECK_INT(st.dropped, 5);
	CHECK_INT(st.retries, 0);
}

static void test_http_gzip(void)
{
	struct fake_http h;
	struct otlp_stats st;

	run_http(ANSWERS("HTTP/1.1 200 OK\r\n"), true, 3, &h, &st);
	CHECK_INT(h.requests, 1);
	CHECK(h.saw_gzip);
	CHECK_INT(h.spans_received, 1000000);
	CHECK_INT(st.exported, 3);
}

/* Nobody listening: connection refused is retryable, so the batch is
 * retried until the export timeout and then dropped, with one clear line. */
static void test_connection_refused(void)
{
	struct otlp_config cfg = test_config(100, 100);
	struct otlp_exporter *e = NULL;
	struct otlp_stats st;
	struct span s = test_span(1);

	cfg.endpoint = "http://127.0.0.1:1/v1/traces";
	cfg.timeout_ms = 400;
	CHECK_INT(otlp_exporter__new(&cfg, &e), 0);
	otlp_exporter__push(e, &s);
	otlp_exporter__shutdown(e);
	otlp_exporter__stats(e, &st);
	CHECK_INT(st.dropped, 1);
	CHECK(st.retries >= 1);
	otlp_exporter__free(e);
}

/* A receiver that answers nothing until `together` requests are waiting at
 * once (each on its own HTTP/1.1 connection), then answers them all 200. */
struct held_http {
	int listen_fd, port;
	pthread_t thread;
	size_t together, expected, requests, most_waiting;
};

static void *held_http_thread(void *arg)
{
	struct held_http *h = arg;
	struct pollfd fds[9] = { { .fd = h->listen_fd, .events = POLLIN } };
	static char buf[8][1 << 20];
	size_t len[9] = { 0 }, nfds = 1, waiting = 0;
	bool done[9] = { false };
	int idle_ms = 0;

	while (h->requests < h->expected) {
		/* hang guard only: a request normally comes within milliseconds */
		if (poll(fds, nfds, 100) == 0 && (idle_ms += 100) >= 10000) {
			fprintf(stderr, "held_http: hang guard: no request for 10 s\n");
			break;
		}
		if (fds[0].revents & POLLIN && nfds < 9) {
			fds[nfds] = (struct pollfd){ .fd = accept(h->listen_fd, NULL, NULL), .events = POLLIN };
			len[nfds] = 0;
			done[nfds] = false;
			nfds++;
		}
		for (size_t i = 1; i < nfds; i++) {
			char *end, *cl;
			ssize_t n;

			if (!(fds[i].revents & POLLIN) || done[i])
				continue;
			n = read(fds[i].fd, buf[i - 1] + len[i], sizeof(buf[0]) - len[i] - 1);
			if (n <= 0) {
				fds[i].events = 0;
				continue;
			}
			len[i] += (size_t)n;
			buf[i - 1][len[i]] = '\0';
			end = strstr(buf[i - 1], "\r\n\r\n");
			cl = strcasestr(buf[i - 1], "content-length:");
			if (end && cl && len[i] >= (size_t)(end - buf[i - 1]) + 4 + strtoul(cl + 15, NULL, 10)) {
				done[i] = true;
				waiting++;
			}
		}
		if (waiting > h->most_waiting)
			h->most_waiting = waiting;
		if (waiting >= h->together || (waiting && idle_ms >= 10000)) {
			for (size_t i = 1; i < nfds; i++) {
				static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

				if (!done[i])
					continue;
				if (write(fds[i].fd, ok, sizeof(ok) - 1) < 0)
					break;
				done[i] = false;
				len[i] = 0;
				h->requests++;
			}
			waiting = 0;
		}
	}
	for (size_t i = 1; i < nfds; i++)
		close(fds[i].fd);
	return NULL;
}

/* Requests go out side by side: the second batch is sent while the first
 * still waits for its answer. */
static void test_http_requests_in_flight(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct otlp_config cfg = test_config(100, 10);
	struct held_http h = { .together = 2, .expected = 2 };
	struct otlp_exporter *e = NULL;
	socklen_t alen = sizeof(addr);
	struct otlp_stats st;
	char url[64];

	h.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(h.listen_fd >= 0 && !bind(h.listen_fd, (struct sockaddr *)&addr, sizeof(addr)) &&
	      !listen(h.listen_fd, 4) && !getsockname(h.listen_fd, (struct sockaddr *)&addr, &alen));
	CHECK_INT(pthread_create(&h.thread, NULL, held_http_thread, &h), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/traces", ntohs(addr.sin_port));
	cfg.endpoint = url;
	CHECK_INT(otlp_exporter__new(&cfg, &e), 0);
	for (uint64_t i = 0; i < 20; i++) {
		struct span s = test_span(i + 1);

		otlp_exporter__push(e, &s);
	}
	pthread_join(h.thread, NULL);
	otlp_exporter__shutdown(e);
	otlp_exporter__stats(e, &st);
	CHECK_INT(h.most_waiting, 2);
	CHECK_INT(st.exported, 20);
	CHECK_INT(st.dropped, 0);
	otlp_exporter__free(e);
	close(h.listen_fd);
}

int main(void)
{
	unit_prog = "otlp_exporter";
	RUN(test_batch_boundaries);
	RUN(test_schedule_delay);
	RUN(test_schedule_delay_zero);
	RUN(test_queue_full);
	RUN(test_queue_full_ring_half_full);
	RUN(test_batches_grow_when_behind);
	RUN(test_shutdown_deadline);
	RUN(test_drop_counted);
	RUN(test_http_retry_then_ok);
	RUN(test_http_400_dropped);
	RUN(test_http_gzip);
	RUN(test_connection_refused);
	RUN(test_http_requests_in_flight);
	return unit_exit();
}
