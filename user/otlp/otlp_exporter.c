// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The batching half of the OTLP exporter, shaped like the SDKs'
 * BatchSpanProcessor: a bounded queue the tracer pushes into without ever
 * waiting on the network, and one thread that exports a request when
 * max_export_batch_size spans are queued or schedule_delay_ms has passed,
 * retrying what the specification says may succeed later.
 *
 * A span is encoded when it is queued (otlp_encode.h), into batches of up
 * to max_export_batch_size spans. Up to EXPORT_SLOTS requests are in flight
 * at once, so the queue keeps draining while the receiver answers. A
 * request carries one batch, except when the exporter falls behind (the
 * queue more than half full while an earlier request is still in flight):
 * then it carries every span queued, up to max_queue_size. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/sysinfo.h>

#include "otlp_encode.h"
#include "otlp_exporter.h"
#include "otlp_exporter_internal.h"
#include "otlp_transport.h"
#include "span.h"

#define ERROR_REPORT_INTERVAL_MS 10000
#define EXPORT_SLOTS 4       /* requests in flight at once */
#define NETWORK_WAIT_MAX_MS 1000
/* A push into a full queue may wait for room: at most this long at once,
 * and at most 1/FULL_WAIT_SHARE of the time overall (an allowance that
 * refills at that rate), so an exporter that can't keep up makes the reader
 * drop spans, not fall behind the ring buffer. */
#define FULL_WAIT_MAX_US 250000
#define FULL_WAIT_SHARE 4
/* With the upstream buffer's fill known (otlp_exporter__set_backlog), half
 * the time, and up to half a second at once, while it is less than half
 * full: what waits there is not lost, what the queue drops is. */
#define BUFFERED_WAIT_MAX_US 500000
#define BUFFERED_WAIT_SHARE 2
#define BUFFERED_NO_WAIT_PCT 50

enum slot_state { SLOT_IDLE, SLOT_SENDING, SLOT_WAITING };

/* One request: its body, and where it is in its retries. */
struct export_slot {
	enum slot_state state;
	struct otlp_request *req;  /* the transport's; NULL with a test's sender */
	uint8_t *body;             /* OTLP_BODY_HEADROOM bytes, then the message */
	size_t body_cap, len;
	size_t n;                  /* spans in it */
	unsigned attempt;
	uint64_t deadline_ms;      /* the export timeout, from its first attempt */
	uint64_t retry_at_ms;      /* SLOT_WAITING: when to try again */
	struct otlp_result last;   /* what the last attempt said */
};

struct otlp_exporter {
	const struct otlp_config *cfg;
	otlp_send_fn send;
	void *send_ctx;
	struct otlp_clock clock;

	pthread_mutex_t lock;      /* guards everything from here to stats */
	pthread_cond_t wake;       /* exporter thread: work, or shutdown */
	pthread_cond_t space;      /* a push waiting: the queue has room again */
	unsigned pushers_waiting;
	uint64_t wait_allowance_us; /* what a push into a full queue may still wait */
	uint64_t allowance_at_us;   /* CLOCK_MONOTONIC: when it was last refilled */
	otlp_backlog_fn backlog;    /* the upstream buffer's fill, or NULL */
	void *backlog_ctx;
	/* The queue: batches of encoded spans, oldest first; only the last
	 * may hold fewer than max_export_batch_size. */
	struct otlp_batch *head, *tail;
	struct otlp_batch *spare;  /* emptied batches, kept for reuse */
	uint32_t spare_count;
	uint32_t count;            /* spans queued */
	bool stopping;
	uint64_t stop_deadline_ms; /* monotonic; shutdown gives up here */
	struct otlp_stats stats;

	bool thread_started, shut_down;
	pthread_t thread;
	/* Owned by the exporter thread. */
	struct otlp_encoder *encoder;
	struct otlp_transport *transport;
	struct export_slot slots[EXPORT_SLOTS];
	uint64_t next_export_ms;
	uint64_t last_report_ms;
	uint64_t unreported_failures;
	uint32_t random_state;
};

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

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

/* Failures repeat once per batch while a collector is down; report the
 * first, then at most one line per ERROR_REPORT_INTERVAL_MS with a count.
 * What shutdown gives up on is always said: it is the last word. Called
 * with the lock held. */
static void report_failure(struct otlp_exporter *e, const struct otlp_result *res, bool final)
{
	uint64_t now = now_ms(e);

	e->unreported_failures++;
	if (e->last_report_ms && now - e->last_report_ms < ERROR_REPORT_INTERVAL_MS &&
	    !(final && e->stopping))
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

/* The spans of a request are done with: delivered, rejected or dropped. */
static void slot_finish(struct export_slot *slot)
{
	slot->state = SLOT_IDLE;
	slot->n = 0;
}

static void slot_drop(struct otlp_exporter *e, struct export_slot *slot,
		      const struct otlp_result *res)
{
	report_failure(e, res, true);
	e->stats.dropped += slot->n;
	slot_finish(slot);
}

/* The time a slot's request has left: its export timeout, or the shutdown
 * deadline if that comes first. */
static uint64_t slot_deadline(const struct otlp_exporter *e, const struct export_slot *slot)
{
	if (e->stopping && e->stop_deadline_ms < slot->deadline_ms)
		return e->stop_deadline_ms;
	return slot->deadline_ms;
}

/* What an attempt came to (lock held). */
static void slot_result(struct otlp_exporter *e, struct export_slot *slot,
			const struct otlp_result *res)
{
	int64_t rejected = res->rejected;
	uint64_t wait, now;

#ifdef MUTANT_EXPORT_TWICE /* make test-mutants: a request that succeeded is sent again */
	if (res->outcome == OTLP_OUTCOME_OK && slot->attempt == 0) {
		e->stats.retries++;
		slot->attempt++;
		slot->retry_at_ms = now_ms(e);
		slot->state = SLOT_WAITING;
		return;
	}
#endif
	if (res->outcome == OTLP_OUTCOME_OK) {
		if (rejected > 0 || res->message[0])
			/* Partial success is the server's final word: log it, never retry. */
			fprintf(stderr, "spanprobe: OTLP receiver at %s rejected %lld of %zu spans%s%s\n",
				e->cfg->endpoint, (long long)rejected, slot->n,
				res->message[0] ? ": " : "", res->message);
		if (rejected < 0 || (size_t)rejected > slot->n)
			rejected = (int64_t)slot->n;
		e->stats.exported += slot->n - (size_t)rejected;
		e->stats.rejected += (uint64_t)rejected;
		slot_finish(slot);
		return;
	}
	e->stats.failed_requests++;
	slot->last = *res;
	if (res->outcome == OTLP_OUTCOME_DROP) {
		slot_drop(e, slot, res);
		return;
	}
	wait = res->retry_after_ms >= 0 ? (uint64_t)res->retry_after_ms
					: otlp_retry__backoff_ms(slot->attempt, next_random(e));
	now = now_ms(e);
	if (now + wait >= slot_deadline(e, slot)) {
		/* the server's wait or our backoff outlasts the time left */
		slot_drop(e, slot, res);
		return;
	}
	report_failure(e, res, false);
	e->stats.retries++;
	slot->attempt++;
	slot->retry_at_ms = now + wait;
	slot->state = SLOT_WAITING;
}

/* Sends (again) what a slot holds (lock held; a test's sender runs with it
 * released). */
static void slot_send(struct otlp_exporter *e, struct export_slot *slot)
{
	uint64_t deadline = slot_deadline(e, slot), now = now_ms(e);
	struct otlp_result res;

	if (now >= deadline) {
		res = slot->last;
		if (slot->attempt == 0) {
			snprintf(res.message, sizeof(res.message), "shutdown timeout reached");
			res.hint = " (raise OTEL_BSP_EXPORT_TIMEOUT)";
		}
		slot_drop(e, slot, &res);
		return;
	}
	slot->state = SLOT_SENDING;
	if (e->send) {
		pthread_mutex_unlock(&e->lock);
		e->send(e->send_ctx, slot->body + OTLP_BODY_HEADROOM, slot->len,
			(uint32_t)(deadline - now), &res);
		pthread_mutex_lock(&e->lock);
		slot_result(e, slot, &res);
	} else if (otlp_transport__start(e->transport, slot->req, slot->body + OTLP_BODY_HEADROOM,
					 slot->len, (uint32_t)(deadline - now), &res)) {
		slot_result(e, slot, &res);
	}
}

/* Requests the transport has finished (lock held). */
static void reap_requests(struct otlp_exporter *e)
{
	struct otlp_request *req;
	struct otlp_result res;

	while (e->transport && (req = otlp_transport__done(e->transport, &res)))
		slot_result(e, otlp_request__owner(req), &res);
}

static struct export_slot *idle_slot(struct otlp_exporter *e)
{
	for (int i = 0; i < EXPORT_SLOTS; i++) {
		if (e->slots[i].state == SLOT_IDLE)
			return &e->slots[i];
	}
	return NULL;
}

static bool slots_busy(const struct otlp_exporter *e)
{
	for (int i = 0; i < EXPORT_SLOTS; i++) {
		if (e->slots[i].state != SLOT_IDLE)
			return true;
	}
	return false;
}

static bool slots_sending(const struct otlp_exporter *e)
{
	for (int i = 0; i < EXPORT_SLOTS; i++) {
		if (e->slots[i].state == SLOT_SENDING && e->slots[i].req)
			return true;
	}
	return false;
}

/* Batches back to the spare list for the next pushes (lock held); beyond
 * what a full queue needs, freed. */
static void recycle_batches(struct otlp_exporter *e, struct otlp_batch *b)
{
	uint32_t keep = e->cfg->max_queue_size / e->cfg->max_export_batch_size + 1;

	while (b) {
		struct otlp_batch *next = b->next;

		if (e->spare_count < keep) {
			otlp_batch__reset(b);
			b->next = e->spare;
			e->spare = b;
			e->spare_count++;
		} else {
			otlp_batch__free(b);
			free(b);
		}
		b = next;
	}
}

/* Unlinks the batches of the next request from the queue (lock held): one
 * batch, or all of them when the exporter is behind. */
static struct otlp_batch *take_batches(struct otlp_exporter *e, size_t *n)
{
	struct otlp_batch *first = e->head, *last = NULL;
	uint32_t limit = e->cfg->max_export_batch_size;

	if (slots_busy(e) && e->count > e->cfg->max_queue_size / 2)
		limit = e->count;
	*n = 0;
	for (struct otlp_batch *b = e->head; b && *n + b->n <= limit; b = b->next) {
		*n += b->n;
		last = b;
	}
	if (!last)
		return NULL;
	e->head = last->next;
	if (!e->head)
		e->tail = NULL;
	last->next = NULL;
	e->count -= (uint32_t)*n;
	if (e->pushers_waiting)
		pthread_cond_broadcast(&e->space);
	return first;
}

/* Turns the next batches into a request in slot and sends it (lock held). */
static void start_request(struct otlp_exporter *e, struct export_slot *slot)
{
	struct otlp_result res = { .retry_after_ms = -1, .hint = "" };
	struct otlp_batch *batches;
	size_t n;
	int err;

	batches = take_batches(e, &n);
	if (!batches)
		return;
	pthread_mutex_unlock(&e->lock);
	err = n ? otlp_encoder__request(e->encoder, batches, &slot->body, &slot->body_cap,
					&slot->len)
		: 0;
	pthread_mutex_lock(&e->lock);
	recycle_batches(e, batches);
	if (!n)
		return;
	slot->n = n;
	slot->attempt = 0;
	slot->deadline_ms = now_ms(e) + e->cfg->timeout_ms;
	slot->last = res;
	if (err) {
		snprintf(res.message, sizeof(res.message), "out of memory encoding %zu spans", n);
		slot_drop(e, slot, &res);
		return;
	}
	slot_send(e, slot);
}

static bool request_due(const struct otlp_exporter *e, uint64_t now)
{
	return e->count &&
	       (e->count >= e->cfg->max_export_batch_size || e->stopping || now >= e->next_export_ms);
}

/* Out of shutdown time (lock held): what is queued or still in flight is
 * lost, and counted. */
static void give_up(struct otlp_exporter *e)
{
	struct otlp_result res = { .retry_after_ms = -1, .hint = " (raise OTEL_BSP_EXPORT_TIMEOUT)" };
	bool in_flight = false;

	snprintf(res.message, sizeof(res.message), "shutdown timeout reached");
	e->stats.dropped += e->count;
	e->count = 0;
	recycle_batches(e, e->head);
	e->head = e->tail = NULL;
	for (int i = 0; i < EXPORT_SLOTS; i++) {
		struct export_slot *slot = &e->slots[i];

		if (slot->state == SLOT_IDLE)
			continue;
		if (slot->state == SLOT_SENDING)
			otlp_transport__cancel(e->transport, slot->req);
		e->stats.dropped += slot->n;
		slot_finish(slot);
		in_flight = true;
	}
	if (in_flight)
		report_failure(e, &res, true);
}

/* When the loop must look again, at the latest (lock held). */
static uint64_t next_wake(const struct otlp_exporter *e)
{
	uint64_t wake = e->next_export_ms;

	for (int i = 0; i < EXPORT_SLOTS; i++) {
		if (e->slots[i].state == SLOT_WAITING && e->slots[i].retry_at_ms < wake)
			wake = e->slots[i].retry_at_ms;
	}
	if (e->stopping && e->stop_deadline_ms < wake)
		wake = e->stop_deadline_ms;
	return wake;
}

static void *exporter_thread(void *arg)
{
	struct otlp_exporter *e = arg;
	struct export_slot *slot;
	uint64_t now, wake;

	pthread_mutex_lock(&e->lock);
	e->next_export_ms = now_ms(e) + e->cfg->schedule_delay_ms;
	for (;;) {
		reap_requests(e);
		now = now_ms(e);
		if (e->stopping && now >= e->stop_deadline_ms) {
			give_up(e);
			break;
		}
		for (int i = 0; i < EXPORT_SLOTS; i++) {
			slot = &e->slots[i];
			if (slot->state != SLOT_WAITING)
				continue;
			if (slot->retry_at_ms <= now)
				slot_send(e, slot);
			else if (e->stopping && slot->retry_at_ms >= e->stop_deadline_ms)
				slot_drop(e, slot, &slot->last); /* shutdown ends before the wait */
		}
		while (request_due(e, now_ms(e)) && (slot = idle_slot(e))) {
			start_request(e, slot);
			e->next_export_ms = now_ms(e) + e->cfg->schedule_delay_ms;
		}
		now = now_ms(e);
		if (!e->count && now >= e->next_export_ms)
			/* At least 1 ms: with OTEL_BSP_SCHEDULE_DELAY=0 this loop would
			 * spin holding the lock, and block every push. */
			e->next_export_ms = now + (e->cfg->schedule_delay_ms ?: 1);
		if (e->stopping && !e->count && !slots_busy(e))
			break;
		wake = next_wake(e);
		if (slots_sending(e)) {
			pthread_mutex_unlock(&e->lock);
			otlp_transport__wait(e->transport, wake <= now ? 0
					     : wake - now < NETWORK_WAIT_MAX_MS ? (uint32_t)(wake - now)
										: NETWORK_WAIT_MAX_MS);
			pthread_mutex_lock(&e->lock);
		} else if (wake > now && !(request_due(e, now) && idle_slot(e))) {
			wait_until(e, wake);
		}
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* An encoded span takes about 230 bytes (more with captured arguments). A
 * queue that could not fit in memory and swap would end in the OOM killer,
 * not in counted drops: refused at start. */
#define QUEUED_SPAN_BYTES 256

static bool queue_fits(uint32_t spans)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return true; /* unknown: let the allocations decide */
	return (double)spans * QUEUED_SPAN_BYTES <=
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
	if (!queue_fits(cfg->max_queue_size)) {
		fprintf(stderr, "spanprobe: out of memory for an OTLP queue of %u spans (up to %.1f "
			"GiB at about %d bytes a span, more than this machine has; lower "
			"OTEL_BSP_MAX_QUEUE_SIZE)\n", cfg->max_queue_size,
			(double)cfg->max_queue_size * QUEUED_SPAN_BYTES / (1 << 30), QUEUED_SPAN_BYTES);
		return -ENOMEM;
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
	pthread_cond_init(&e->space, &attr);
	pthread_condattr_destroy(&attr);
	e->wait_allowance_us = FULL_WAIT_MAX_US;
	e->allowance_at_us = monotonic_us();
	e->random_state = (uint32_t)now_ms(e) ^ (uint32_t)(uintptr_t)e ^ 0x9e3779b9u;
	if (!e->random_state)
		e->random_state = 1;

	err = otlp_encoder__new(cfg, &e->encoder);
	if (err)
		goto cleanup;
	if (send) {
		e->send = send;
		e->send_ctx = send_ctx;
	} else {
		err = otlp_transport__new(cfg, &e->transport);
		for (int i = 0; !err && i < EXPORT_SLOTS; i++)
			err = otlp_request__new(e->transport, &e->slots[i], &e->slots[i].req);
		if (err)
			goto cleanup;
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

/* The batch the next span goes into (lock held), or NULL without memory. */
static struct otlp_batch *tail_batch(struct otlp_exporter *e)
{
	struct otlp_batch *b = e->tail;

	if (b && b->n < e->cfg->max_export_batch_size)
		return b;
	b = e->spare;
	if (b) {
		e->spare = b->next;
		e->spare_count--;
	} else {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
	}
	otlp_batch__reset(b);
	if (e->tail)
		e->tail->next = b;
	else
		e->head = b;
	e->tail = b;
	return b;
}

/* Spans come from the ring buffer in bursts (the reader is woken per 256
 * KiB of records), faster than the exporter thread may get a CPU to move
 * them on, and a receiver may pause. Rather than drop at once, a push into
 * a full queue waits for room within its allowance (lock held); the ring
 * buffer holds what arrives meanwhile. */
static void wait_for_room(struct otlp_exporter *e)
{
	uint64_t now, deadline, max_us = FULL_WAIT_MAX_US, share = FULL_WAIT_SHARE;
	struct timespec until;

	if (e->count < e->cfg->max_queue_size || e->stopping)
		return;
	if (e->backlog) {
		if (e->backlog(e->backlog_ctx) >= BUFFERED_NO_WAIT_PCT)
			return; /* the ring is filling: read it on, dropping here */
		max_us = BUFFERED_WAIT_MAX_US;
		share = BUFFERED_WAIT_SHARE;
	}
	now = monotonic_us();
	e->wait_allowance_us += (now - e->allowance_at_us) / share;
	if (e->wait_allowance_us > max_us)
		e->wait_allowance_us = max_us;
	e->allowance_at_us = now;
	if (e->wait_allowance_us < 1000)
		return;
	deadline = now + e->wait_allowance_us;
	until.tv_sec = (time_t)(deadline / 1000000);
	until.tv_nsec = (long)(deadline % 1000000) * 1000;
	e->pushers_waiting++;
	while (e->count >= e->cfg->max_queue_size && !e->stopping) {
		pthread_cond_signal(&e->wake);
		otlp_transport__wakeup(e->transport);
		if (pthread_cond_timedwait(&e->space, &e->lock, &until) == ETIMEDOUT)
			break;
	}
	e->pushers_waiting--;
	/* Time spent waiting is taken from the allowance, and does not refill it. */
	e->allowance_at_us = monotonic_us();
	e->wait_allowance_us -= e->allowance_at_us - now < e->wait_allowance_us
					? e->allowance_at_us - now
					: e->wait_allowance_us;
}

void otlp_exporter__set_backlog(struct otlp_exporter *e, otlp_backlog_fn fn, void *ctx)
{
	if (!e)
		return;
	e->backlog = fn;
	e->backlog_ctx = ctx;
}

void otlp_exporter__push(struct otlp_exporter *e, const struct span *s)
{
	struct otlp_batch *b;
	bool full = false;

	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	wait_for_room(e);
	if (e->count >= e->cfg->max_queue_size || e->stopping || !(b = tail_batch(e)) ||
	    otlp_batch__add(b, s)) {
		e->stats.dropped++;
	} else {
		e->count++;
		/* Wake the thread only when a batch is ready; the timer covers
		 * the rest, and waking it per span would cost a syscall each. */
		full = b->n == e->cfg->max_export_batch_size;
		if (full)
			pthread_cond_signal(&e->wake);
	}
	pthread_mutex_unlock(&e->lock);
	if (full)
		otlp_transport__wakeup(e->transport);
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
	otlp_transport__wakeup(e->transport);
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

static void free_batches(struct otlp_batch *b)
{
	while (b) {
		struct otlp_batch *next = b->next;

		otlp_batch__free(b);
		free(b);
		b = next;
	}
}

void otlp_exporter__free(struct otlp_exporter *e)
{
	if (!e)
		return;
	otlp_exporter__shutdown(e);
	for (int i = 0; i < EXPORT_SLOTS; i++) {
		otlp_request__free(e->transport, e->slots[i].req);
		free(e->slots[i].body);
	}
	otlp_transport__free(e->transport);
	otlp_encoder__free(e->encoder);
	free_batches(e->head);
	free_batches(e->spare);
	pthread_cond_destroy(&e->wake);
	pthread_cond_destroy(&e->space);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
