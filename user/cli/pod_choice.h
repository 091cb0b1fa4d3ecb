/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The command line's Kubernetes part: this node's pod watch (names the pods
 * of traced processes) and, with --namespace, --pod-selector or
 * --container, the pod test of the process selection. */
#ifndef SPANPROBE_POD_CHOICE_H
#define SPANPROBE_POD_CHOICE_H

struct options;
struct pod_watch;
struct pod_selection;
struct tracer;

struct pod_choice {
	struct pod_watch *pods;          /* NULL: no API server to ask */
	struct pod_selection *selection; /* NULL: processes are not chosen by pod */
};

/* Starts the watch (not for -l) and, when asked for, the pod selection,
 * waiting for the first list. Takes o->pod_filter. Prints one line and
 * returns a negative errno on failure. */
int pod_choice__start(struct options *o, struct pod_choice *c);
/* A pod event that changes the choice asks tracer to decide again; with
 * tracer NULL, no more (before the tracer is freed). */
void pod_choice__follow(struct pod_choice *c, struct tracer *tracer);
void pod_choice__stop(struct pod_choice *c);

#endif
