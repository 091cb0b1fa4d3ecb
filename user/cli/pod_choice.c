// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The pod watch and the pod selection, started from the options. */
#include <errno.h>
#include <stdio.h>

#include "node_pods.h"
#include "options.h"
#include "pod_choice.h"
#include "pod_selection.h"
#include "selection.h"
#include "tracer.h"

/* The first decisions read the pods as listed: wait for the list (a
 * process of a pod not listed yet is decided again once it is). */
#define POD_LIST_WAIT_MS 10000

/* --namespace, --pod-selector, --container: processes are chosen by their
 * pod, an extra test of the selection (made here when no --exe made one). */
static int make_pod_selection(struct options *o, struct pod_selection **out)
{
	*out = NULL;
	if (!o->pod_filter || o->list)
		return 0;
	if (!o->selection && !(o->selection = selection__new()))
		return -ENOMEM;
	*out = pod_selection__new(o->pod_filter);
	if (!*out)
		return -ENOMEM;
	o->pod_filter = NULL; /* the pod selection's now */
	selection__set_predicate(o->selection, pod_selection__decide, *out);
	return 0;
}

static void wait_for_pods(struct pod_watch *pods)
{
	char why[512];

	if (pod_watch__wait_synced(pods, POD_LIST_WAIT_MS, why, sizeof(why)))
		fprintf(stderr, "spanprobe: warning: this node's pods are not listed yet (%s); their "
			"processes are chosen once they are\n", why);
}

int pod_choice__start(struct options *o, struct pod_choice *c)
{
	struct pod_selection *sel;
	int err;

	c->pods = NULL;
	c->selection = NULL;
	if (make_pod_selection(o, &c->selection)) {
		fprintf(stderr, "spanprobe: out of memory\n");
		return -ENOMEM;
	}
	if (o->list)
		return 0;
	sel = c->selection;
	err = node_pods__start(&(struct node_pods_opts){
				       .node_name = o->node_name, .api_url = o->kube_api,
				       .token_file = o->kube_token_file,
				       .ca_file = o->kube_ca_file, .context = o->kube_context,
				       .verbose = o->verbose,
				       .needed_by = sel ? o->pod_option : NULL,
				       .on_pod = sel ? pod_selection__pod_event : NULL,
				       .on_synced = sel ? pod_selection__synced : NULL,
				       .ctx = sel,
			       },
			       &c->pods);
	if (err)
		return err;
	if (sel) {
		pod_selection__set_watch(sel, c->pods);
		wait_for_pods(c->pods);
	}
	return 0;
}

static void request_rescan(void *tracer)
{
	tracer__request_rescan(tracer);
}

void pod_choice__follow(struct pod_choice *c, struct tracer *tracer)
{
	if (c->selection)
		pod_selection__on_change(c->selection, tracer ? request_rescan : NULL, tracer);
}

void pod_choice__stop(struct pod_choice *c)
{
	pod_watch__stop(c->pods);
	pod_selection__free(c->selection);
	c->pods = NULL;
	c->selection = NULL;
}
