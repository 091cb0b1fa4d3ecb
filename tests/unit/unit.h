/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal unit-test harness: each test prints "PASS name", "FAIL name:
 * why" or (its prerequisite missing, UNIT_SKIP) "SKIP name: why", one of
 * them; tests/run.sh counts those lines. main() = RUN(test_a); RUN(test_b);
 * return unit_exit(); */
#ifndef SPANPROBE_UNIT_H
#define SPANPROBE_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_tests_failed;
static const char *unit_prog = "unit";
static int unit_skipped;

/* The running test lacks a prerequisite: its one SKIP line (no PASS after). */
#define UNIT_SKIP(test, ...)                                                       \
	do {                                                                       \
		printf("SKIP %s.%s: ", unit_prog, test);                           \
		printf(__VA_ARGS__);                                               \
		printf("\n");                                                      \
		unit_skipped = 1;                                                  \
	} while (0)

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stdout, "  check failed %s:%d: %s\n", __FILE__,    \
				__LINE__, #cond);                                  \
			unit_failed_checks++;                                      \
		}                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                       \
	do {                                                                       \
		const char *g_ = (got), *w_ = (want);                              \
		if (!g_ || !w_ || strcmp(g_, w_) != 0) {                           \
			fprintf(stdout, "  check failed %s:%d: %s == \"%s\", got \"%s\"\n", \
				__FILE__, __LINE__, #got, w_ ? w_ : "(null)",      \
				g_ ? g_ : "(null)");                               \
			unit_failed_checks++;                                      \
		}                                                                  \
	} while (0)

#define CHECK_INT(got, want)                                                       \
	do {                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);           \
		if (g_ != w_) {                                                    \
			fprintf(stdout, "  check failed %s:%d: %s == %lld, got %lld\n", \
				__FILE__, __LINE__, #got, w_, g_);                 \
			unit_failed_checks++;                                      \
		}                                                                  \
	} while (0)

#define RUN(fn)                                                                    \
	do {                                                                       \
		int before_ = unit_failed_checks;                                  \
		unit_skipped = 0;                                                  \
		fn();                                                              \
		if (unit_failed_checks == before_) {                               \
			if (!unit_skipped)                                         \
				printf("PASS %s.%s\n", unit_prog, #fn);            \
		} else {                                                           \
			printf("FAIL %s.%s\n", unit_prog, #fn);                    \
			unit_tests_failed++;                                       \
		}                                                                  \
		fflush(stdout);                                                    \
	} while (0)

static inline int unit_exit(void) { return unit_tests_failed ? 1 : 0; }

#endif
