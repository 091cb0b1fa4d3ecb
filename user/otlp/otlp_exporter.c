// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The batching half of the OTLP exporter, shaped like the SDKs'
 * BatchSpanProcessor: a bounded queue the tracer pushes into without ever
 * waiting on the network, and one thread that exports a batch when
 * max_export_batch_size spans are queued or schedule_delay_ms has passed,
 * retrying what the specification says may succeed later. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysinfo.h>
#include <string.h>
#include <time.h>

#include "otlp_encode.h"
#include "otlp_exporter.h"
#include "otlp_exporter_internal.h"
#include "otlp_transport.h"
#include "span.h"

#define ERROR_REPORT_INTERVAL_MS 10000

struct otlp_exporter {
	const struct otlp_config *cfg;
	otlp_send_fn send;
	void *send_ctx;
	struct otlp_clock clock;

	pthread_mutex_t lock;      /* guards everything from here to stats */
	pthread_cond_t wake;       /* exporter thread: work, or shutdown */
	struct span *queue;        /* ring of max_queue_size spans */
	uint32_t head, count;
	bool stopping;
	uint64_t stop_deadline_ms; /* monotonic; shutdown gives up here */
	struct otlp_stats stats;

	bool thread_started, shut_down;
	pthread_t thread;
	/* Owned by the exporter thread. */
	struct otlp_encoder *encoder;
	struct otlp_transport *transport;
	struct span *batch;
	uint8_t *body;
	size_t body_cap;
	uint64_t last_report_ms;
	uint64_t unreported_failures;
	uint32_t random_state;
};

static uint64_t monotonic_now_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The condvar is made with CLOCK_MONOTONIC: a wall-clock jump must not stall
 * or rush exports. */
static void monotonic_wait_until(void *ctx, pthread_cond_t *cond, pthread_mutex_t *lock,
				 uint64_t deadline_ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ms / 1000),
		.tv_nsec = (long)(deadline_ms % 1000) * 1000000,
	};

	(void)ctx;
	pthread_cond_timedwait(cond, lock, &ts);
}

static const struct otlp_clock monotonic_clock = { monotonic_now_ms, monotonic_wait_until, NULL };

static uint64_t now_ms(const struct otlp_exporter *e)
{
	return e->clock.now_ms(e->clock.ctx);
}

/* Waits on the condvar (lock held) until deadline_ms or a signal. */
static void wait_until(struct otlp_exporter *e, uint64_t deadline_ms)
{
	e->clock.wait_until(e->clock.ctx, &e->wake, &e->lock, deadline_ms);
}

/* xorshift32: jitter only needs to differ between retries and processes. */
static uint32_t next_random(struct otlp_exporter *e)
{
	uint32_t x = e->random_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return e->random_state = x;
}

static bool is_stopping(struct otlp_exporter *e)
{
	bool stopping;

	pthread_mutex_lock(&e->lock);
	stopping = e->stopping;
	pthread_mutex_unlock(&e->lock);
	return stopping;
}

/* Failures repeat once per batch while a collector is down; report the
 * first, then at most one line per ERROR_REPORT_INTERVAL_MS with a count.
 * What shutdown gives up on is always said: it is the last word. */
static void report_failure(struct otlp_exporter *e, const struct otlp_result *res, bool final)
{
	uint64_t now = now_ms(e);

	e->unreported_failures++;
	if (e->last_report_ms && now - e->last_report_ms < ERROR_REPORT_INTERVAL_MS &&
	    !(final && is_stopping(e)))
		return;
	if (e->unreported_failures > 1)
		fprintf(stderr, "spanprobe: OTLP export to %s failed: %s%s [%llu failures in the "
				"last %llu s]%s\n",
			e->cfg->endpoint, res->message, res->hint,
			(unsigned long long)e->unreported_failures,
			(unsigned long long)(now - e->last_report_ms + 999) / 1000,
			final ? "" : ", retrying");
	else
		fprintf(stderr, "spanprobe: OTLP export to %s failed: %s%s%s\n", e->cfg->endpoint,
			res->message, res->hint, final ? "" : ", retrying");
	e->last_report_ms = now;
	e->unreported_failures = 0;
}

static void transport_send(void *ctx, const uint8_t *body, size_t len, uint32_t timeout_ms,
			   struct otlp_result *res)
{
	otlp_transport__send(ctx, body, len, timeout_ms, res);
}

/* Sends one encoded batch of n spans until it is delivered, fails for good,
 * or its time is up: the export timeout from now, or the shutdown deadline
 * if that comes first. */
static void export_batch(struct otlp_exporter *e, size_t n)
{
	uint64_t deadline = now_ms(e) + e->cfg->timeout_ms, now;
	struct otlp_result res = { 0 };
	size_t len = 0;
	uint64_t wait;
	bool expired;

	if (otlp_encoder__encode(e->encoder, e->batch, n, &e->body, &e->body_cap, &len)) {
		snprintf(res.message, sizeof(res.message), "out of memory encoding %zu spans", n);
		res.hint = "";
		goto drop;
	}
	for (unsigned attempt = 0;; attempt++) {
		pthread_mutex_lock(&e->lock);
		if (e->stopping && e->stop_deadline_ms < deadline)
			deadline = e->stop_deadline_ms;
		pthread_mutex_unlock(&e->lock);
		now = now_ms(e);
		if (now >= deadline) {
			if (attempt == 0) {
				snprintf(res.message, sizeof(res.message), "shutdown timeout reached");
				res.hint = " (raise OTEL_BSP_EXPORT_TIMEOUT)";
			}
			goto drop;
		}
		e->send(e->send_ctx, e->body, len, (uint32_t)(deadline - now), &res);
		if (res.outcome == OTLP_OUTCOME_OK)
			break;
		pthread_mutex_lock(&e->lock);
		e->stats.failed_requests++;
		pthread_mutex_unlock(&e->lock);
		if (res.outcome == OTLP_OUTCOME_DROP)
			goto drop;
		wait = res.retry_after_ms >= 0 ? (uint64_t)res.retry_after_ms
					       : otlp_retry__backoff_ms(attempt, next_random(e));
		now = now_ms(e);
		if (now + wait >= deadline)
			goto drop; /* the server's wait or our backoff outlasts the timeout */
		report_failure(e, &res, false);
		pthread_mutex_lock(&e->lock);
		e->stats.retries++;
		/* Sleep on the condvar so a shutdown can shorten the deadline. */
		while (now_ms(e) < now + wait && !(e->stopping && e->stop_deadline_ms <= now + wait))
			wait_until(e, now + wait);
		expired = e->stopping && e->stop_deadline_ms <= now + wait;
		pthread_mutex_unlock(&e->lock);
		if (expired)
			goto drop; /* shutdown ends before the wait would */
	}

	if (res.rejected > 0 || res.message[0])
		/* Partial success is the server's final word: log it, never retry. */
		fprintf(stderr, "spanprobe: OTLP receiver at %s rejected %lld of %zu spans%s%s\n",
			e->cfg->endpoint, (long long)res.rejected, n, res.message[0] ? ": " : "",
			res.message);
	if (res.rejected < 0 || (size_t)res.rejected > n)
		res.rejected = (int64_t)n;
	pthread_mutex_lock(&e->lock);
	e->stats.exported += n - (size_t)res.rejected;
	e->stats.rejected += (uint64_t)res.rejected;
	pthread_mutex_unlock(&e->lock);
	return;
drop:
	report_failure(e, &res, true);
	pthread_mutex_lock(&e->lock);
	e->stats.dropped += n;
	pthread_mutex_unlock(&e->lock);
}

/* Moves up to max_export_batch_size spans from the queue into e->batch.
 * Called with the lock held. */
static size_t take_batch(struct otlp_exporter *e)
{
	uint32_t cap = e->cfg->max_queue_size;
	size_t n = e->count < e->cfg->max_export_batch_size ? e->count
							    : e->cfg->max_export_batch_size;
	size_t first = cap - e->head < n ? cap - e->head : n;

	memcpy(e->batch, &e->queue[e->head], first * sizeof(struct span));
	memcpy(e->batch + first, e->queue, (n - first) * sizeof(struct span));
	e->head = (uint32_t)((e->head + n) % cap);
	e->count -= (uint32_t)n;
	return n;
}

static void *exporter_thread(void *arg)
{
	struct otlp_exporter *e = arg;
	uint64_t next_export = now_ms(e) + e->cfg->schedule_delay_ms;
	size_t n;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		while (!e->stopping && e->count < e->cfg->max_export_batch_size &&
		       now_ms(e) < next_export)
			wait_until(e, next_export);
		if (e->count == 0) {
			if (e->stopping)
				break;
			/* At least 1 ms: with OTEL_BSP_SCHEDULE_DELAY=0 this loop would
			 * spin holding the lock, and block every push. */
			next_export = now_ms(e) + (e->cfg->schedule_delay_ms ?: 1);
			continue;
		}
		if (e->stopping && now_ms(e) >= e->stop_deadline_ms) {
			/* Out of shutdown time: what is left is lost. */
			e->stats.dropped += e->count;
			e->count = 0;
			break;
		}
		n = take_batch(e);
		pthread_mutex_unlock(&e->lock);
		export_batch(e, n);
		pthread_mutex_lock(&e->lock);
		next_export = now_ms(e) + e->cfg->schedule_delay_ms;
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static bool queue_fits(uint32_t spans)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return true; /* unknown: let the allocation decide */
	return (double)spans * sizeof(struct span) <=
	       ((double)si.totalram + (double)si.totalswap) * si.mem_unit;
}

int otlp_exporter__new_with(const struct otlp_config *cfg, otlp_send_fn send, void *send_ctx,
			    const struct otlp_clock *clock, struct otlp_exporter **out)
{
	struct otlp_exporter *e = NULL;
	pthread_condattr_t attr;
	int err;

	*out = NULL;
	if (!cfg->max_queue_size || !cfg->max_export_batch_size ||
	    cfg->max_export_batch_size > cfg->max_queue_size || !cfg->endpoint) {
		fprintf(stderr, "spanprobe: bad OTLP exporter configuration (queue %u, batch %u)\n",
			cfg->max_queue_size, cfg->max_export_batch_size);
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = cfg;
	e->clock = clock ? *clock : monotonic_clock;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&e->wake, &attr);
	pthread_condattr_destroy(&attr);
	e->random_state = (uint32_t)now_ms(e) ^ (uint32_t)(uintptr_t)e ^ 0x9e3779b9u;
	if (!e->random_state)
		e->random_state = 1;

	/* A queue larger than the machine's memory and swap is refused before
	 * asking for it (an allocator may warn, or overcommit, instead of failing). */
	if (!queue_fits(cfg->max_queue_size)) {
		err = -ENOMEM;
		fprintf(stderr, "spanprobe: out of memory for an OTLP queue of %u spans (%.1f GiB; lower "
			"OTEL_BSP_MAX_QUEUE_SIZE)\n", cfg->max_queue_size,
			(double)cfg->max_queue_size * sizeof(struct span) / (1 << 30));
		goto cleanup;
	}
	e->queue = calloc(cfg->max_queue_size, sizeof(struct span));
	e->batch = calloc(cfg->max_export_batch_size, sizeof(struct span));
	if (!e->queue || !e->batch) {
		err = -ENOMEM;
		fprintf(stderr, "spanprobe: out of memory for an OTLP queue of %u spans\n",
			cfg->max_queue_size);
		goto cleanup;
	}
	err = otlp_encoder__new(cfg, &e->encoder);
	if (err)
		goto cleanup;
	if (send) {
		e->send = send;
		e->send_ctx = send_ctx;
	} else {
		err = otlp_transport__new(cfg, &e->transport);
		if (err)
			goto cleanup;
		e->send = transport_send;
		e->send_ctx = e->transport;
	}
	err = -pthread_create(&e->thread, NULL, exporter_thread, e);
	if (err) {
		fprintf(stderr, "spanprobe: cannot start the OTLP exporter thread: %s\n",
			strerror(-err));
		goto cleanup;
	}
	e->thread_started = true;
	*out = e;
	e = NULL;
cleanup:
	otlp_exporter__free(e);
	return err;
}

int otlp_exporter__new(const struct otlp_config *cfg, struct otlp_exporter **out)
{
	return otlp_exporter__new_with(cfg, NULL, NULL, NULL, out);
}

void otlp_exporter__push(struct otlp_exporter *e, const struct span *s)
{
	uint32_t cap;

	if (!e)
		return;
	cap = e->cfg->max_queue_size;
	pthread_mutex_lock(&e->lock);
	if (e->count == cap || e->stopping) {
		e->stats.dropped++;
	} else {
		e->queue[(e->head + e->count) % cap] = *s;
		/* Wake the thread only when a batch is ready; the timer covers
		 * the rest, and signalling per span would cost a syscall each. */
		if (++e->count == e->cfg->max_export_batch_size)
			pthread_cond_signal(&e->wake);
	}
	pthread_mutex_unlock(&e->lock);
}

void otlp_exporter__shutdown(struct otlp_exporter *e)
{
	if (!e || e->shut_down)
		return;
	e->shut_down = true;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	e->stop_deadline_ms = now_ms(e) + e->cfg->export_timeout_ms;
	/* A request already waiting on the network must not outlast it either. */
	otlp_transport__abort_at(e->transport, e->stop_deadline_ms);
	pthread_cond_broadcast(&e->wake);
	pthread_mutex_unlock(&e->lock);
	if (e->thread_started)
		pthread_join(e->thread, NULL);
	e->thread_started = false;
}

void otlp_exporter__stats(struct otlp_exporter *e, struct otlp_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	*out = e->stats;
	pthread_mutex_unlock(&e->lock);
}

void otlp_exporter__free(struct otlp_exporter *e)
{
	if (!e)
		return;
	otlp_exporter__shutdown(e);
	otlp_transport__free(e->transport);
	otlp_encoder__free(e->encoder);
	free(e->queue);
	free(e->batch);
	free(e->body);
	pthread_cond_destroy(&e->wake);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
