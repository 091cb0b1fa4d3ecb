/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which pods' processes are traced: namespaces (any of them), a label
 * selector and a container name, all of which must hold. No criterion:
 * every pod is selected. */
#ifndef SPANPROBE_POD_FILTER_H
#define SPANPROBE_POD_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s_pod.h"

struct pod_filter;

struct pod_filter *pod_filter__new(void);
/* --namespace NS (repeatable). -EINVAL with err for a name Kubernetes
 * would refuse (a DNS label: 1-63 of [a-z0-9-], alphanumeric at the ends). */
int pod_filter__add_namespace(struct pod_filter *f, const char *ns, char *err, size_t err_len);
/* --pod-selector TEXT (once). -EINVAL with err naming the problem. */
int pod_filter__set_selector(struct pod_filter *f, const char *text, char *err, size_t err_len);
/* --container NAME (repeatable: any of them). -EINVAL with err for a name
 * Kubernetes would refuse (a DNS label). */
int pod_filter__add_container(struct pod_filter *f, const char *name, char *err, size_t err_len);
/* Whether any criterion is set. */
bool pod_filter__active(const struct pod_filter *f);
/* Whether the process in container container_id (from its cgroup; "" for
 * none) of pod is selected. why gets one line for -v: what matched or the
 * first criterion that failed. pod NULL (a process in no known pod) is
 * never selected while a criterion is set. */
bool pod_filter__selects(const struct pod_filter *f, const struct k8s_pod *pod, const char *container_id,
			 char *why, size_t why_len);
/* Whether pod's namespace and labels pass (its containers not looked at):
 * a change of such a pod can change which processes are chosen. */
bool pod_filter__may_select(const struct pod_filter *f, const struct k8s_pod *pod);
void pod_filter__free(struct pod_filter *f);

#endif /* SPANPROBE_POD_FILTER_H */
