// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Calls still open when tracing stops. A request in progress or a sleep
 * at Ctrl-C (or a DaemonSet pod's SIGTERM) would otherwise leave its
 * children's spans pointing at a parent never sent: an incomplete trace.
 * The kernel side holds the open frames; a BPF iterator over tasks (and
 * one over the goroutine stacks) sends each as a truncated span, ended at
 * the stop. */
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "open_calls.h"
#include "spanprobe.skel.h"

/* Runs an iterator program once: reading its file runs it to the end (it
 * writes nothing there; its records go into the ring). */
static int run_iterator(struct bpf_program *prog, union bpf_iter_link_info *info)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	struct bpf_link *link;
	char buf[64];
	ssize_t n;
	int fd, err = 0;

	if (info) {
		opts.link_info = info;
		opts.link_info_len = sizeof(*info);
	}
	link = bpf_program__attach_iter(prog, &opts);
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
	union bpf_iter_link_info go = { .map.map_fd = bpf_map__fd(skel->maps.go_stacks) };
	int err = run_iterator(skel->progs.open_calls_at_stop, NULL);

	if (!err)
		err = run_iterator(skel->progs.go_calls_at_stop, &go);
	return err;
}
