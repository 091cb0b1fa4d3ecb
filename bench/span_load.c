// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Span load for the pipeline benchmark: T threads each call load_target()
 * M times, so a tracer of load_target sees T*M spans as fast as the uprobe
 * lets the threads go.
 *
 * Usage: span-load THREADS CALLS_PER_THREAD [CALLS_PER_SECOND_PER_THREAD]
 * With a rate, each thread paces itself to it (in steps of 1,000 calls): a
 * steady load instead of a burst.
 * Prints "ready PID" and waits for SIGUSR1 (so the tracer attaches first),
 * runs, prints "done calls N seconds S", then waits for a second SIGUSR1
 * (at most 60 s) before exiting, so the tracer can drain while the process
 * is still there. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) long load_target(long x)
{
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

static long calls_per_thread;
static long rate_per_thread; /* 0: as fast as possible */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	double start = now_s();
	long acc = 0;

	(void)arg;
	for (long i = 0; i < calls_per_thread; i++) {
		acc = load_target(acc);
		if (rate_per_thread && (i + 1) % 1000 == 0) {
			double ahead = (double)(i + 1) / rate_per_thread - (now_s() - start);

			if (ahead > 0) {
				struct timespec ts = { (time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9) };

				nanosleep(&ts, NULL);
			}
		}
	}
	return (void *)acc;
}

int main(int argc, char **argv)
{
	struct timespec limit = { .tv_sec = 60 };
	pthread_t *threads = NULL;
	long nthreads, total = 0;
	int sig, err = 0, exit_code = 1;
	sigset_t set;
	double t0;

	if ((argc != 3 && argc != 4) || (nthreads = strtol(argv[1], NULL, 10)) <= 0 || nthreads > 256 ||
	    (calls_per_thread = strtol(argv[2], NULL, 10)) <= 0 ||
	    (argc == 4 && (rate_per_thread = strtol(argv[3], NULL, 10)) < 0)) {
		fprintf(stderr, "usage: %s THREADS(1..256) CALLS_PER_THREAD [CALLS_PER_SECOND_PER_THREAD]\n",
			argv[0]);
		return 2;
	}
	threads = calloc(nthreads, sizeof(*threads));
	if (!threads) {
		fprintf(stderr, "span-load: out of memory\n");
		goto cleanup;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL); /* threads inherit the mask */
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	sigwait(&set, &sig);

	t0 = now_s();
	for (long i = 0; i < nthreads; i++) {
		err = pthread_create(&threads[i], NULL, worker, NULL);
		if (err) {
			fprintf(stderr, "span-load: can't start thread %ld: %s\n", i, strerror(err));
			nthreads = i;
			break;
		}
	}
	for (long i = 0; i < nthreads; i++) {
		void *acc;

		pthread_join(threads[i], &acc);
		total += (long)acc;
	}
	printf("done calls %ld seconds %.3f\n", total, now_s() - t0);
	fflush(stdout);
	if (err)
		goto cleanup;
	/* Stay until told to go, so the tracer drains with us still running. */
	if (sigtimedwait(&set, NULL, &limit) < 0 && errno != EAGAIN)
		fprintf(stderr, "span-load: waiting for SIGUSR1 failed: %s\n", strerror(errno));
	exit_code = 0;

cleanup:
	free(threads);
	return exit_code;
}
