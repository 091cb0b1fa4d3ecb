/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Calls still open when tracing stops, sent as truncated spans. */
#ifndef SPANPROBE_OPEN_CALLS_H
#define SPANPROBE_OPEN_CALLS_H

struct spanprobe_bpf;

/* Runs the stop iterator of bpf/process_events.bpf.c: every call open on
 * a thread or a goroutine goes into the ring as a truncated span ("tracing
 * stopped inside the call"). Call it after every probe is detached (no
 * frame moves any more) and before the last read of the ring. 0 or
 * -errno. */
int open_calls__end(struct spanprobe_bpf *skel);

#endif
