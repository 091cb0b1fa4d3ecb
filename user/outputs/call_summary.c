// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "call_summary.h"
#include "probe_cost.h"

void format_short_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
}

uint64_t call_stats__quantile(const struct call_stats *s, double q)
{
	uint64_t want, seen = 0, v;

	if (!s->calls)
		return 0;
	if (q >= 1.0)
		return s->max_ns;
	want = (uint64_t)(q * (double)s->calls + 0.999999);
	if (want < 1)
		want = 1;
	for (uint32_t b = 0; b < HIST_BUCKETS; b++) {
		seen += s->hist[b];
		if (seen < want)
			continue;
		v = hist_bucket_low(b);
		if (b + 1 < HIST_BUCKETS && b >= HIST_SUB)
			v += (hist_bucket_low(b + 1) - v) / 2;
		if (v < s->min_ns)
			v = s->min_ns;
		if (v > s->max_ns)
			v = s->max_ns;
		return v;
	}
	return s->max_ns;
}

static int by_total(const void *a, const void *b)
{
	const struct func_stats *x = a, *y = b;

	if (x->s.total_ns != y->s.total_ns)
		return x->s.total_ns < y->s.total_ns ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* A power of two as bpftrace's hist() labels it: 512, 1K, 2M, 4G. */
static void format_pow2(uint64_t v, char *buf, size_t len)
{
	if (v >= 1ULL << 30)
		snprintf(buf, len, "%" PRIu64 "G", v >> 30);
	else if (v >= 1ULL << 20)
		snprintf(buf, len, "%" PRIu64 "M", v >> 20);
	else if (v >= 1ULL << 10)
		snprintf(buf, len, "%" PRIu64 "K", v >> 10);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

/* The histogram in powers of two, as bpftrace's hist() prints it: only the
 * range that holds calls. */
static void print_hist(FILE *to, const struct func_stats *f)
{
	uint64_t pow2[66] = { 0 }, top = 0;
	int lo = -1, hi = -1;

	for (uint32_t b = 0; b < HIST_BUCKETS; b++) {
		uint64_t low = hist_bucket_low(b);
		int p = 0;

		if (!f->s.hist[b])
			continue;
		while (p < 64 && (1ULL << (p + 1)) <= low)
			p++;
		p = low ? p + 1 : 0; /* slot 0: [0, 1); slot p: [2^(p-1), 2^p) */
		pow2[p] += f->s.hist[b];
	}
	for (int p = 0; p < 66; p++) {
		if (!pow2[p])
			continue;
		if (lo < 0)
			lo = p;
		hi = p;
		if (pow2[p] > top)
			top = pow2[p];
	}
	if (lo < 0)
		return;
	fprintf(to, "\n@%s_ns:\n", f->name);
	for (int p = lo; p <= hi; p++) {
		char from[24], upto[24], range[56];
		int bar = top ? (int)((pow2[p] * 52 + top - 1) / top) : 0;

		if (p == 0)
			snprintf(from, sizeof(from), "0");
		else
			format_pow2(1ULL << (p - 1), from, sizeof(from));
		format_pow2(p == 0 ? 1 : 1ULL << p, upto, sizeof(upto));
		snprintf(range, sizeof(range), "[%s, %s)", from, upto);
		fprintf(to, "%-20s %8" PRIu64 " |%-52.*s|\n", range, pow2[p], bar,
			"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	}
}

void call_summary__print(FILE *to, struct func_stats *fs, size_t n, unsigned top)
{
	size_t shown = top && top < n ? top : n;
	size_t width = 8, dominated = 0;

	qsort(fs, n, sizeof(*fs), by_total);
	fprintf(to, "\nspanprobe summary: %zu function%s called", n, n == 1 ? "" : "s");
	if (shown < n)
		fprintf(to, ", the %zu with the most total time (--top N)", shown);
	fprintf(to, "; counted in the kernel: every call, whatever was sent\n");
	if (!n)
		return;
	for (size_t i = 0; i < shown; i++)
		if (strlen(fs[i].name) > width)
			width = strlen(fs[i].name) > 40 ? 40 : strlen(fs[i].name);
	fprintf(to, "%-*s %10s %8s %6s %10s %10s %10s %10s %10s %10s  %s\n", (int)width, "function",
		"calls", "errors", "trunc", "total", "self", "p50", "p90", "p99", "max", "probe");
	for (size_t i = 0; i < shown; i++) {
		const struct func_stats *f = &fs[i];
		char total[16], self[16], p50[16], p90[16], p99[16], max[16];
		uint64_t median = call_stats__quantile(&f->s, 0.5);
		bool dom = f->s.calls && probe_cost__dominates(f->probe_overhead_ns, median);

		format_short_duration(f->s.total_ns, total, sizeof(total));
		format_short_duration(f->s.self_ns, self, sizeof(self));
		format_short_duration(median, p50, sizeof(p50));
		format_short_duration(call_stats__quantile(&f->s, 0.9), p90, sizeof(p90));
		format_short_duration(call_stats__quantile(&f->s, 0.99), p99, sizeof(p99));
		format_short_duration(f->s.max_ns, max, sizeof(max));
		fprintf(to, "%-*.*s %10" PRIu64 " %8" PRIu64 " %6" PRIu64 " %10s %10s %9s%s %10s %10s "
			"%10s  %s\n", (int)width, (int)width, f->name, (uint64_t)f->s.calls,
			(uint64_t)f->s.errors, (uint64_t)f->s.truncated, total, self, p50,
			dom ? "*" : " ", p90, p99, max, f->probe_class ? f->probe_class : "");
		dominated += dom;
	}
	fprintf(to, "percentiles within 12.5%% (log2 histograms, 4 buckets per power of two); "
		    "truncated calls are not in the times\n");
	if (dominated)
		fprintf(to, "* most of this duration is the probes' own cost (measured on empty "
			    "functions: about 9 us a call single-stepped, 0.7 us emulated, 0.55 us "
			    "nop5)\n");
	for (size_t i = 0; i < shown; i++)
		print_hist(to, &fs[i]);
	fflush(to);
}
