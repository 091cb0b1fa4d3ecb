/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The exporter's seams, for its unit tests: how a batch is sent, and the
 * clock its batching and deadlines run on. */
#ifndef SPANPROBE_OTLP_EXPORTER_INTERNAL_H
#define SPANPROBE_OTLP_EXPORTER_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_exporter.h"

struct otlp_result;

/* How a batch is sent; the transport in the product, a fake in unit tests. */
typedef void (*otlp_send_fn)(void *ctx, const uint8_t *body, size_t len, uint32_t timeout_ms,
			     struct otlp_result *res);

/* Time as the exporter sees it: now, in ms, and a wait on its condition
 * variable (lock held) until a time or a signal. The product's is
 * CLOCK_MONOTONIC; a test's can be virtual, so deadlines are checked without
 * waiting for them. */
struct otlp_clock {
	uint64_t (*now_ms)(void *ctx);
	void (*wait_until)(void *ctx, pthread_cond_t *cond, pthread_mutex_t *lock,
			   uint64_t deadline_ms);
	void *ctx;
};

/* send NULL: the real transport; clock NULL: CLOCK_MONOTONIC. */
int otlp_exporter__new_with(const struct otlp_config *cfg, otlp_send_fn send, void *send_ctx,
			    const struct otlp_clock *clock, struct otlp_exporter **out);

#endif
