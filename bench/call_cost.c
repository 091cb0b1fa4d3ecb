// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What one call of a traced function costs: calls bench_target() N times in
 * a tight loop and prints the mean nanoseconds per call.
 *
 * Built several ways (bench/bench.mk) so bench_target() starts with each kind
 * of entry a uprobe meets: an ordinary -O2 instruction, push %rbp, a 5-byte
 * nop, endbr64; push %rbp. The code is the same; only the prologue differs.
 *
 * Usage: call-cost N [tail]
 * With "tail" the loop calls bench_tail() instead, which leaves by a tail
 * call (jmp) to bench_callee(): the exit a return-by-exit-site probes there
 * is an emulated jmp, not a single-stepped ret.
 * Prints "ready PID" and waits for SIGUSR1 (or SIGCONT), so a tracer can
 * attach first; then "ns_per_call X calls N probed yes|no ... best_chunk_ns B"
 * (B: the fastest 1,000 calls, per call). `probed` says
 * whether the function's first 8 bytes changed since start: a uprobe writes
 * its breakpoint (or, optimized, a call) into the traced process's text.
 * With CALL_COST_HOLD set in the environment it then waits for SIGUSR1
 * again before exiting, so the tracer (whose BPF programs' run-time
 * statistics are read then) is still attached. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The traced function: small, never inlined, its result kept. */
__attribute__((noinline)) int bench_target(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

__attribute__((noinline)) int bench_callee(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

/* A tail call: compiles to jmp bench_callee. */
__attribute__((noinline)) int bench_tail(int x)
{
	return bench_callee(x);
}

#define CHUNK 1000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Reads the function's first bytes through a volatile pointer, so the
 * compiler cannot assume the text never changes. */
static void read_text(int (*fn)(int), uint8_t out[8])
{
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)fn;

	for (int i = 0; i < 8; i++)
		out[i] = p[i];
}

static int wait_for_go(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCONT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	return -sigwait(&set, &sig);
}

int main(int argc, char **argv)
{
	uint8_t before[8], after[8];
	int (*volatile fn)(int) = bench_target;
	long calls;
	double t0, t1, best = -1;
	int acc = 0, err;

	if (argc < 2 || argc > 3 || (calls = strtol(argv[1], NULL, 10)) <= 0 ||
	    (argc == 3 && strcmp(argv[2], "tail") != 0)) {
		fprintf(stderr, "usage: %s CALLS [tail]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		fn = bench_tail;
	read_text(fn, before);
	err = wait_for_go();
	if (err) {
		fprintf(stderr, "call-cost: waiting for SIGUSR1 failed: %s\n", strerror(-err));
		return 1;
	}
	read_text(fn, after);

	for (int i = 0; i < 1000; i++) /* warm up: page in, fill caches */
		acc = fn == bench_target ? bench_target(acc) : bench_tail(acc);
	/* In chunks of CHUNK calls, the fastest chunk kept too: the cost of a
	 * call when nothing else (other processes, the tracer's reader on this
	 * CPU) got in the way, much steadier than the mean on a shared
	 * machine. The clock is read once per chunk. */
	t0 = now_ns();
	for (long done = 0; done < calls;) {
		long n = calls - done < CHUNK ? calls - done : CHUNK;
		double c0 = now_ns(), c1;

		if (fn == bench_target)
			for (long i = 0; i < n; i++)
				acc = bench_target(acc);
		else
			for (long i = 0; i < n; i++)
				acc = bench_tail(acc);
		c1 = now_ns();
		if (n == CHUNK && (best < 0 || (c1 - c0) / n < best))
			best = (c1 - c0) / n;
		done += n;
	}
	t1 = now_ns();

	printf("ns_per_call %.2f calls %ld probed %s acc %d best_chunk_ns %.2f\n", (t1 - t0) / calls,
	       calls, memcmp(before, after, sizeof(before)) ? "yes" : "no", acc,
	       best < 0 ? (t1 - t0) / calls : best);
	fflush(stdout);
	if (getenv("CALL_COST_HOLD")) {
		err = wait_for_go();
		if (err) {
			fprintf(stderr, "call-cost: waiting for SIGUSR1 failed: %s\n", strerror(-err));
			return 1;
		}
	}
	return 0;
}
