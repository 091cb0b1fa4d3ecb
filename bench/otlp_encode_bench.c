// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* How many spans per second the OTLP encoder turns into protobuf on one
 * core: batches of 512 realistic spans (two processes, file/line known,
 * every tenth an error), encoded again and again for about two seconds.
 * Build (after `make build/obj/otlp_encode.o` and the proto objects):
 *   clang-19 -O2 -std=gnu11 -D_GNU_SOURCE -Iuser/otlp -Iuser/spans -Iuser/common -Ibuild/proto bench/otlp_encode_bench.c \
 *     build/obj/otlp_encode.o build/proto-obj/opentelemetry/proto/ * /v1/ *.o \
 *     build/proto-obj/opentelemetry/proto/collector/trace/v1/ *.o -lprotobuf-c \
 *     -o build/otlp_encode_bench
 * (no blanks around the '*'s: they are apart here only to keep this comment
 * closed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otlp_encode.h"
#include "otlp_exporter.h"
#include "process_info.h"
#include "span.h"

#define BATCH 512

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	struct process_info procs[2] = {
		{ .pid = 100, .exe_name = "demo-app", .exe_path = "/usr/local/bin/demo-app",
		  .command_line = "demo-app --work 10" },
		{ .pid = 200, .exe_name = "worker", .exe_path = "/usr/bin/worker", .command_line = "worker -n 4" },
	};
	struct otlp_config cfg = { .host_name = "bench-host" };
	static struct span spans[BATCH];
	struct otlp_encoder *enc = NULL;
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, total = 0;
	double start, elapsed;

	for (int i = 0; i < BATCH; i++) {
		struct span *s = &spans[i];

		memset(s->trace_id, i + 1, sizeof(s->trace_id));
		s->span_id = 0x1000 + i;
		s->parent_span_id = i % 4 ? 0x1000 + i - 1 : 0;
		s->start_unix_ns = 1700000000000000000ull + i * 1000;
		s->end_unix_ns = s->start_unix_ns + 500;
		s->pid = i % 2 ? 200 : 100;
		s->tid = s->pid + i % 3;
		s->name = i % 2 ? "process_request" : "parse_config";
		s->code_file = "/src/demo-app.c";
		s->code_line = 40 + i % 50;
		s->has_ret = true;
		s->ret = i % 10 ? 0 : -1;
		s->error = i % 10 == 0;
		if (s->error)
			snprintf(s->status_message, sizeof(s->status_message), "%s returned -1", s->name);
		s->proc = &procs[i % 2];
	}
	if (otlp_encoder__new(&cfg, &enc))
		return 1;
	start = now_s();
	do {
		for (int k = 0; k < 100; k++) {
			if (otlp_encoder__encode(enc, spans, BATCH, &buf, &cap, &len))
				return 1;
			total += BATCH;
		}
		elapsed = now_s() - start;
	} while (elapsed < 2.0);
	printf("otlp_encode: %zu spans in %.2f s = %.0f spans/s on one core (%zu bytes per %d-span "
	       "request, %.0f bytes/span)\n",
	       total, elapsed, total / elapsed, len, BATCH, (double)len / BATCH);
	otlp_encoder__free(enc);
	free(buf);
	return 0;
}
