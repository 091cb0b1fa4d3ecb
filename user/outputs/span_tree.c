// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Spans of a trace all come from one thread (nesting is per thread), and a
 * parent's record always follows its children's. So traces are gathered per
 * thread id and printed when the root arrives; a different trace id on the
 * same thread means the old trace lost its root (ring buffer full) and it is
 * printed as incomplete. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe_cost.h"
#include "span.h"
#include "span_tree.h"
#include "unittest.h"

#define TREE_BUCKETS 1024

struct pending_trace {
	struct pending_trace *next; /* in the bucket */
	uint32_t tid;
	uint8_t trace_id[16];
	struct span *spans;
	size_t nspans, cap;
};

struct span_tree {
	FILE *out;
	bool color;
	uint64_t printed;      /* spans printed into out so far */
	struct pending_trace *buckets[TREE_BUCKETS];
};

struct span_tree *span_tree__new(FILE *out, bool color)
{
	struct span_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->out = out;
	t->color = color;
	return t;
}

void format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
}

void format_wall_clock(uint64_t unix_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(unix_ns / 1000000000);
	struct tm tm;

	if (!localtime_r(&secs, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm)) {
		snprintf(buf, len, "%" PRIu64 " ns", unix_ns);
		return;
	}
	snprintf(buf + strlen(buf), len - strlen(buf), ".%06u",
		 (unsigned)(unix_ns % 1000000000 / 1000));
}

void span__print_probe_note(FILE *out, const struct span *s)
{
	char cost[32];

	if (s->truncated || !probe_cost__dominates(s->probe_overhead_ns,
						   s->end_unix_ns - s->start_unix_ns))
		return;
	format_duration(s->probe_overhead_ns, cost, sizeof(cost));
	fprintf(out, " (probe: ~%s of it, %s)", cost, s->probe_class);
}

static int by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->start_unix_ns != y->start_unix_ns)
		return x->start_unix_ns < y->start_unix_ns ? -1 : 1;
	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

static void print_span_line(struct span_tree *t, const struct span *s, const char *prefix,
			    const char *branch, uint64_t trace_start)
{
	char dur[32], off[32];

	char args[SPAN_ARG_MAX * (SPAN_ARG_STR_LEN * 4 + 32)];

	format_duration(s->end_unix_ns - s->start_unix_ns, dur, sizeof(dur));
	format_duration(s->start_unix_ns - trace_start, off, sizeof(off));
	span__args_text(s, args, sizeof(args));
	fprintf(t->out, "%s%s%s%s%s%s  %s", prefix, branch, s->name, s->nargs ? "(" : "", args,
		s->nargs ? ")" : "", dur);
	span__print_probe_note(t->out, s);
	fprintf(t->out, "  (+%s)", off);
	switch (s->ret_kind) {
	case SPAN_RET_NONE:
		break;
	case SPAN_RET_SIGNED:
		fprintf(t->out, "  = %" PRId64, s->ret);
		break;
	case SPAN_RET_UNSIGNED:
		fprintf(t->out, "  = %" PRIu64, (uint64_t)s->ret);
		break;
	case SPAN_RET_POINTER:
		if (s->ret)
			fprintf(t->out, "  = 0x%" PRIx64, (uint64_t)s->ret);
		else
			fprintf(t->out, "  = NULL");
		break;
	case SPAN_RET_UNKNOWN:
		fprintf(t->out, "  = %" PRId64 " (type unknown, read as int)", s->ret);
		break;
	}
	if (s->error)
		fprintf(t->out, "  %sERROR: %s%s", t->color ? "\033[31m" : "", s->status_message,
			t->color ? "\033[0m" : "");
	if (s->truncated)
		fprintf(t->out, "  %sTRUNCATED: %s%s", t->color ? "\033[33m" : "", s->lost_reason,
			t->color ? "\033[0m" : "");
	fputc('\n', t->out);
}

/* Prints the children of parent_id among spans[0..n), sorted by start. */
static void print_children(struct span_tree *t, const struct span *spans, size_t n,
			   uint64_t parent_id, const char *prefix, uint64_t trace_start, int level)
{
	char deeper[256];
	size_t last = n;

	if (level > 64)
		return;
	for (size_t i = 0; i < n; i++)
		if (spans[i].parent_span_id == parent_id)
			last = i;
	for (size_t i = 0; i < n; i++) {
		if (spans[i].parent_span_id != parent_id)
			continue;
		print_span_line(t, &spans[i], prefix, i == last ? "└─ " : "├─ ", trace_start);
		snprintf(deeper, sizeof(deeper), "%s%s", prefix, i == last ? "   " : "│  ");
		print_children(t, spans, n, spans[i].span_id, deeper, trace_start, level + 1);
	}
}

static bool has_span(const struct span *spans, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (spans[i].span_id == id)
			return true;
	return false;
}

static void print_trace(struct span_tree *t, struct pending_trace *p, bool complete)
{
	char trace_hex[33], when[48];
	uint64_t start;

	if (!p->nspans)
		return;
	t->printed += p->nspans;
	qsort(p->spans, p->nspans, sizeof(*p->spans), by_start);
	start = p->spans[0].start_unix_ns;
	span__trace_id_hex(&p->spans[0], trace_hex);
	format_wall_clock(start, when, sizeof(when));
	fprintf(t->out, "trace %s  pid %u  tid %u  at %s%s\n", trace_hex, p->spans[0].pid, p->tid,
		when, complete ? "" : "  (incomplete: its root was not seen)");
	/* Roots, and spans whose parent record was lost, start their own subtree. */
	for (size_t i = 0; i < p->nspans; i++) {
		const struct span *s = &p->spans[i];

		if (s->parent_span_id && has_span(p->spans, p->nspans, s->parent_span_id))
			continue;
		print_span_line(t, s, "", "", start);
		print_children(t, p->spans, p->nspans, s->span_id, "", start, 1);
	}
	fflush(t->out);
}

static void pending__free(struct pending_trace *p)
{
	if (!p)
		return;
	free(p->spans);
	free(p);
}

int span_tree__add(struct span_tree *t, const struct span *s)
{
	struct pending_trace **slot = &t->buckets[s->tid % TREE_BUCKETS];
	struct pending_trace *p;

	for (p = *slot; p && p->tid != s->tid; p = p->next)
		slot = &p->next;
	if (p && memcmp(p->trace_id, s->trace_id, sizeof(p->trace_id)) != 0) {
		print_trace(t, p, false);
		p->nspans = 0;
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->tid = s->tid;
		p->next = t->buckets[s->tid % TREE_BUCKETS];
		t->buckets[s->tid % TREE_BUCKETS] = p;
		slot = &t->buckets[s->tid % TREE_BUCKETS];
	}
	memcpy(p->trace_id, s->trace_id, sizeof(p->trace_id));
	if (p->nspans == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct span *grown = realloc(p->spans, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		p->spans = grown;
		p->cap = cap;
	}
	p->spans[p->nspans++] = *s;
	if (s->parent_span_id == 0) {
		print_trace(t, p, true);
		/* unlink: a finished thread should not keep memory */
		for (slot = &t->buckets[s->tid % TREE_BUCKETS]; *slot != p; slot = &(*slot)->next)
			;
		*slot = p->next;
		pending__free(p);
	}
	return 0;
}

/* Empties every bucket, printing what was pending when print is set. */
static void drop_pending(struct span_tree *t, bool print)
{
	for (size_t b = 0; b < TREE_BUCKETS; b++) {
		struct pending_trace *p = t->buckets[b];

		while (p) {
			struct pending_trace *next = p->next;

			if (print)
				print_trace(t, p, false);
			pending__free(p);
			p = next;
		}
		t->buckets[b] = NULL;
	}
}

void span_tree__flush(struct span_tree *t)
{
	if (t)
		drop_pending(t, true);
}

uint64_t span_tree__printed(const struct span_tree *t)
{
	return t->printed;
}

void span_tree__free(struct span_tree *t)
{
	if (!t)
		return;
	drop_pending(t, false);
	free(t);
}
