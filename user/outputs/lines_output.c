// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lines_output.h"
#include "span.h"
#include "span_tree.h"

/* Local time of day with microseconds, as ltrace -tt prints it. */
static void time_of_day(uint64_t unix_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(unix_ns / 1000000000);
	struct tm tm;

	if (!localtime_r(&secs, &tm) || !strftime(buf, len, "%H:%M:%S", &tm)) {
		snprintf(buf, len, "%" PRIu64, unix_ns / 1000000000);
		return;
	}
	snprintf(buf + strlen(buf), len - strlen(buf), ".%06u",
		 (unsigned)(unix_ns % 1000000000 / 1000));
}

static void print_ret(FILE *out, const struct span *s)
{
	switch (s->ret_kind) {
	case SPAN_RET_NONE:
		break;
	case SPAN_RET_SIGNED:
	case SPAN_RET_UNKNOWN:
		fprintf(out, " = %" PRId64, s->ret);
		break;
	case SPAN_RET_UNSIGNED:
		fprintf(out, " = %" PRIu64, (uint64_t)s->ret);
		break;
	case SPAN_RET_POINTER:
		if (s->ret)
			fprintf(out, " = 0x%" PRIx64, (uint64_t)s->ret);
		else
			fprintf(out, " = NULL");
		break;
	}
}

int lines_output__write(FILE *out, const struct span *s, bool color)
{
	size_t args_len = SPAN_ARG_MAX * (SPAN_ARG_STR_LEN * 4 + 32);
	char when[32], dur[32], *args = malloc(args_len);

	if (!args)
		return -ENOMEM;
	time_of_day(s->start_unix_ns, when, sizeof(when));
	format_duration(s->end_unix_ns - s->start_unix_ns, dur, sizeof(dur));
	span__args_text(s, args, args_len);
	fprintf(out, "%s %u/%u %*s%s(%s)", when, s->pid, s->tid, (int)(2 * (s->depth > 64 ? 64 : s->depth)),
		"", s->name, args);
	print_ret(out, s);
	fprintf(out, "  %s", dur);
	span__print_probe_note(out, s);
	if (s->error)
		fprintf(out, "  %sERROR: %s%s", color ? "\033[31m" : "", s->status_message,
			color ? "\033[0m" : "");
	if (s->truncated)
		fprintf(out, "  %sTRUNCATED: %s%s", color ? "\033[33m" : "", s->lost_reason,
			color ? "\033[0m" : "");
	fputc('\n', out);
	free(args);
	return ferror(out) ? -EIO : 0;
}
