/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A Prometheus text endpoint (off by default; --metrics-addr HOST:PORT) on its
 * own thread, so the ring-buffer loop never serves a scrape. */
#ifndef SPANPROBE_METRICS_SERVER_H
#define SPANPROBE_METRICS_SERVER_H

#include <stdio.h>

/* Writes the current metrics, Prometheus text format, to out. Called on the
 * server's thread. */
typedef void (*metrics_collect_fn)(void *ctx, FILE *out);

struct metrics_server;

/* addr is HOST:PORT (HOST an IPv4 address; 127.0.0.1 keeps it local). Port 0
 * picks a free one (see metrics_server__port). Prints one line and returns a
 * negative errno when it can't listen. */
int metrics_server__start(const char *addr, metrics_collect_fn collect, void *ctx,
			  struct metrics_server **out);
int metrics_server__port(const struct metrics_server *s);
void metrics_server__stop(struct metrics_server *s);

#endif
