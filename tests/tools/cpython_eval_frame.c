// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reads interp->eval_frame of a running CPython's main interpreter from
 * outside, for the tests that check spanprobe turned inlining off while
 * tracing (3.11+: the field holds _PyEval_EvalFrameDefault) and back on
 * after (NULL). With "off", turns inlining off itself, for bench/ to
 * measure that alone (and "on" back).
 * usage: cpython-eval-frame PID LIBPYTHON [off|on]
 * prints "eval_frame 0x... default 0x...", exits 1 on an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpython_binary.h"
#include "cpython_hook.h"

int main(int argc, char **argv)
{
	struct cpython_binary b;
	struct maps_identity file;
	struct cpython_hook h;
	uint64_t value = 0;
	struct stat st;
	int err, fd;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: cpython-eval-frame PID LIBPYTHON [off|on]\n");
		return 2;
	}
	if (cpython_binary__inspect(argv[2], NULL, &b))
		return 1;
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		return 1;
	maps_identity__of(fd, &st, &file);
	close(fd);
	err = cpython_hook__find(&h, atoi(argv[1]), &b, &file);
	if (!err && argc == 4 && strcmp(argv[3], "off") == 0)
		err = cpython_hook__install(&h) < 0 ? -EIO : 0;
	if (!err && argc == 4 && strcmp(argv[3], "on") == 0) {
		cpython_hook__install(&h); /* takes the value as its own, then puts NULL back */
		err = cpython_hook__restore(&h) < 0 ? -EIO : 0;
	}
	if (!err)
		err = cpython_hook__read_main(&h, &value);
	if (err) {
		fprintf(stderr, "cpython-eval-frame: process %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	printf("eval_frame 0x%llx default 0x%llx\n", (unsigned long long)value,
	       (unsigned long long)h.eval_func);
	return 0;
}
