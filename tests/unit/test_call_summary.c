// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The latency histogram's bucket rule (the same code the kernel runs), the
 * percentiles read from it, and the summary's text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "call_settings.h"
#include "call_summary.h"
#include "unit.h"

/* Every value lands in the bucket whose range holds it, buckets are in
 * order and contiguous, and each spans at most 1/4 of its low end. */
static void test_buckets(void)
{
	static const uint64_t values[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 1000, 1023, 1024,
					   999999, 1000000, 5000000000ull, (1ull << 42) - 1,
					   1ull << 42, UINT64_MAX };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint64_t v = values[i];
		uint32_t b = hist_bucket(v);

		CHECK(b < HIST_BUCKETS);
		CHECK(hist_bucket_low(b) <= v);
		if (b + 1 < HIST_BUCKETS)
			CHECK(v < hist_bucket_low(b + 1));
	}
	for (uint32_t b = 0; b + 1 < HIST_BUCKETS; b++) {
		uint64_t lo = hist_bucket_low(b), hi = hist_bucket_low(b + 1);

		CHECK(lo < hi);
		CHECK_INT(hist_bucket(lo), b);
		CHECK_INT(hist_bucket(hi - 1), b);
		if (b >= HIST_SUB)
			CHECK((hi - lo) * 4 <= lo);
	}
	CHECK_INT(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
}

static void fill(struct call_stats *s, const uint64_t *v, size_t n)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		s->calls++;
		s->total_ns += v[i];
		s->self_ns += v[i];
		if (v[i] > s->max_ns)
			s->max_ns = v[i];
		if (!s->min_ns || v[i] < s->min_ns)
			s->min_ns = v[i];
		s->hist[hist_bucket(v[i])]++;
	}
}

/* Percentiles are within 12.5% of the exact ones and never outside
 * [min, max]. */
static void test_quantiles(void)
{
	uint64_t v[1000];
	struct call_stats s;

	for (size_t i = 0; i < 1000; i++)
		v[i] = 1000 + 997 * i; /* 1 us .. ~1 ms, sorted */
	fill(&s, v, 1000);
	for (int q = 1; q <= 99; q++) {
		uint64_t exact = v[(size_t)(q * 10) - 1], got = call_stats__quantile(&s, q / 100.0);

		CHECK(got * 8 >= exact * 7 && got * 8 <= exact * 9);
	}
	CHECK_INT(call_stats__quantile(&s, 1.0), s.max_ns);
	fill(&s, (uint64_t[]){ 42 }, 1);
	CHECK_INT(call_stats__quantile(&s, 0.5), 42);
	memset(&s, 0, sizeof(s));
	CHECK_INT(call_stats__quantile(&s, 0.5), 0);
}

static void test_summary_text(void)
{
	struct func_stats fs[3] = {};
	uint64_t fast[] = { 900, 1100, 1000 }, slow[] = { 5000000, 7000000 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	snprintf(fs[0].name, sizeof(fs[0].name), "goo");
	fs[0].probe_class = "emulated";
	fs[0].probe_overhead_ns = 700;
	fill(&fs[0].s, fast, 3);
	fs[0].s.errors = 1;
	snprintf(fs[1].name, sizeof(fs[1].name), "zoo");
	fs[1].probe_class = "nop5";
	fill(&fs[1].s, slow, 2);
	snprintf(fs[2].name, sizeof(fs[2].name), "rare");
	fs[2].probe_class = "single-step";
	fill(&fs[2].s, (uint64_t[]){ 10 }, 1);
	call_summary__print(f, fs, 3, 2);
	fclose(f);
	CHECK(strstr(out, "3 functions called, the 2 with the most total time") != NULL);
	CHECK(strstr(out, "\nzoo ") < strstr(out, "\ngoo ")); /* by total time */
	CHECK(strstr(out, "\nrare") == NULL);                 /* beyond --top */
	CHECK(strstr(out, "@zoo_ns:\n[4M, 8M)") != NULL);     /* bpftrace's hist() form */
	CHECK(strstr(out, "*") != NULL);                      /* goo: the probe's cost dominates */
	free(out);
}

int main(void)
{
	unit_prog = "call_summary";
	RUN(test_buckets);
	RUN(test_quantiles);
	RUN(test_summary_text);
	return unit_exit();
}
