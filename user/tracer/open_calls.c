// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Calls still open when tracing stops. A request in progress or a sleep
 * at Ctrl-C (or a DaemonSet pod's SIGTERM) would otherwise leave its
 * children's spans pointing at a parent never sent: an incomplete trace.
 * The kernel side holds the open frames; a BPF iterator over tasks (which
 * also walks the goroutine stacks at its end) sends each as a truncated
 * span, ended at the stop. */
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "open_calls.h"
#include "spanprobe.skel.h"

/* Runs an iterator program once: reading its file runs it to the end (it
 * writes nothing there; its records go into the ring). */
static int run_iterator(struct bpf_program *prog)
{
	struct bpf_link *link;
	char buf[64];
	ssize_t n;
	int fd, err = 0;

	link = bpf_program__attach_iter(prog, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		err = -errno;
	close(fd);
out:
	bpf_link__destroy(link);
	return err;
}

int open_calls__end(struct spanprobe_bpf *skel)
{
	/* refused by this kernel (object_load.c said so at start) */
	if (bpf_program__fd(skel->progs.open_calls_at_stop) < 0)
		return 0;
	return run_iterator(skel->progs.open_calls_at_stop);
}
