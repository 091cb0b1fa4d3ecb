// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* demo-app: the SRE exercise's workload in C, with no tracing code at all.
 * Each request calls foo(), which calls goo() (fails about one call in five)
 * and then zoo() (sleeps a random 0-5 s, times --time-scale).
 *
 * --annotate prefixes each line with "tid=T req=N " and adds the sleep zoo
 * drew, so tests can check traced spans against what the app really did. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static long requests_per_thread; /* 0: until stopped */
static unsigned long seed;
static double time_scale = 1.0;
static int nthreads = 1;
static long interval_ms;
static bool annotate;
static volatile sig_atomic_t stopping;

/* What one thread knows of its current request, for --annotate. */
struct request {
	unsigned int rng;
	long tid;
	long number;
};

static void say(const struct request *r, const char *extra, const char *line)
{
	if (annotate)
		printf("tid=%ld req=%ld %s%s\n", r->tid, r->number, extra, line);
	else
		printf("%s\n", line);
}

/* Returns 0, or -1 for the simulated exception (about one call in five). */
__attribute__((noinline)) int goo(struct request *r)
{
	if (rand_r(&r->rng) % 5 == 0)
		return -1;
	say(r, "", "Goo function completed.");
	return 0;
}

__attribute__((noinline)) void zoo(struct request *r)
{
	double seconds = 5.0 * rand_r(&r->rng) / RAND_MAX * time_scale;
	struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
	char extra[64];

	while (nanosleep(&ts, &ts) && errno == EINTR && !stopping)
		;
	snprintf(extra, sizeof(extra), "zoo_sleep_us=%.0f ", seconds * 1e6);
	say(r, extra, "Zoo function completed.");
}

__attribute__((noinline)) void foo(struct request *r)
{
	if (goo(r) < 0)
		say(r, "", "Exception in goo: Error in goo: Simulated exception.");
	zoo(r);
}

static void *request_loop(void *arg)
{
	struct request r = { .rng = (unsigned int)(seed + (unsigned long)arg * 7919) };
	struct timespec pause = { interval_ms / 1000, (interval_ms % 1000) * 1000000 };

	r.tid = syscall(SYS_gettid);
	for (r.number = 1; !stopping && (!requests_per_thread || r.number <= requests_per_thread);
	     r.number++) {
		foo(&r);
		fflush(stdout);
		if (interval_ms)
			nanosleep(&pause, NULL);
	}
	return NULL;
}

static void stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: demo-app [--requests N] [--seed S] [--time-scale F] [--threads T]\n"
		    "                [--interval MS] [--annotate]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "requests", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "time-scale", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'T' },
		{ "interval", required_argument, NULL, 'i' },
		{ "annotate", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	pthread_t *threads;
	char *end;
	int c;

	seed = (unsigned long)time(NULL) ^ (unsigned long)getpid();
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'n': requests_per_thread = strtol(optarg, &end, 10); break;
		case 's': seed = strtoul(optarg, &end, 10); break;
		case 't': time_scale = strtod(optarg, &end); break;
		case 'T': nthreads = (int)strtol(optarg, &end, 10); break;
		case 'i': interval_ms = strtol(optarg, &end, 10); break;
		case 'a': annotate = true; continue;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (errno || *end || requests_per_thread < 0 || time_scale < 0 || nthreads < 1 ||
		    interval_ms < 0) {
			fprintf(stderr, "demo-app: bad value '%s'\n", optarg);
			return 2;
		}
	}
	signal(SIGINT, stop);
	signal(SIGTERM, stop);

	threads = calloc(nthreads, sizeof(*threads));
	if (!threads)
		return 1;
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&threads[i], NULL, request_loop, (void *)i)) {
			fprintf(stderr, "demo-app: can't start thread %ld\n", i);
			return 1;
		}
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	return 0;
}
