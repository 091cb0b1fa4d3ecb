// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The pod selection of issue "choose workloads the Kubernetes way": a pod's
 * namespace, its labels and the name of the container a process runs in,
 * all as the API server reports them (never as the container says). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label_selector.h"
#include "pod_filter.h"

struct pod_filter {
	char **namespaces;
	size_t n_namespaces;
	char **containers;
	size_t n_containers;
	struct label_selector *selector;
};

struct pod_filter *pod_filter__new(void)
{
	return calloc(1, sizeof(struct pod_filter));
}

void pod_filter__free(struct pod_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_namespaces; i++)
		free(f->namespaces[i]);
	for (size_t i = 0; i < f->n_containers; i++)
		free(f->containers[i]);
	free(f->namespaces);
	free(f->containers);
	label_selector__free(f->selector);
	free(f);
}

/* RFC 1123 label: namespaces and container names are these. */
static bool dns_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	}
	return true;
}

static int add_name(char ***list, size_t *n, const char *what, const char *name, char *err, size_t err_len)
{
	char **grown;

	if (!dns_label(name)) {
		snprintf(err, err_len,
			 "'%s' is not a Kubernetes %s name (1-63 lowercase letters, digits and '-', "
			 "a letter or digit at both ends)", name, what);
		return -EINVAL;
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*list)[i], name) == 0)
			return 0;
	}
	grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	*list = grown;
	(*list)[*n] = strdup(name);
	if (!(*list)[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int pod_filter__add_namespace(struct pod_filter *f, const char *ns, char *err, size_t err_len)
{
	return add_name(&f->namespaces, &f->n_namespaces, "namespace", ns, err, err_len);
}

int pod_filter__add_container(struct pod_filter *f, const char *name, char *err, size_t err_len)
{
	return add_name(&f->containers, &f->n_containers, "container", name, err, err_len);
}

int pod_filter__set_selector(struct pod_filter *f, const char *text, char *err, size_t err_len)
{
	struct label_selector *sel;
	char why[384];
	int rc;

	if (f->selector) {
		snprintf(err, err_len, "only one pod selector may be given (join requirements with ',')");
		return -EINVAL;
	}
	rc = label_selector__parse(text, &sel, why, sizeof(why));
	if (rc) {
		snprintf(err, err_len, "invalid pod selector '%s': %s", text, why);
		return rc;
	}
	f->selector = sel;
	return 0;
}

bool pod_filter__active(const struct pod_filter *f)
{
	return f && (f->n_namespaces || f->n_containers || f->selector);
}

static bool in_list(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], s) == 0)
			return true;
	}
	return false;
}

bool pod_filter__may_select(const struct pod_filter *f, const struct k8s_pod *pod)
{
	if (!pod_filter__active(f))
		return true;
	if (!pod)
		return false;
	if (f->n_namespaces && !in_list(f->namespaces, f->n_namespaces, pod->namespace))
		return false;
	return !f->selector || label_selector__matches(f->selector, pod->labels, pod->n_labels);
}

/* " (namespace demo, labels match 'app=web', container app)": the criteria
 * a selected process passed, for -v. */
static void say_passed(const struct pod_filter *f, const struct k8s_pod *pod,
		       const struct k8s_container *c, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (f->n_namespaces)
		n += snprintf(buf + n, len - n, "%snamespace %s", n ? ", " : " (", pod->namespace);
	if (f->selector && n < len)
		n += snprintf(buf + n, len - n, "%slabels match '%s'", n ? ", " : " (",
			      label_selector__text(f->selector));
	if (f->n_containers && c && n < len)
		n += snprintf(buf + n, len - n, "%scontainer %s", n ? ", " : " (", c->name);
	if (n && n < len)
		snprintf(buf + n, len - n, ")");
}

bool pod_filter__selects(const struct pod_filter *f, const struct k8s_pod *pod, const char *container_id,
			 char *why, size_t why_len)
{
	const struct k8s_container *c;
	char passed[320];

	if (!pod_filter__active(f)) {
		snprintf(why, why_len, "no pod selection: every process is chosen");
		return true;
	}
	if (!pod) {
		snprintf(why, why_len, "in no pod of this node known to the API server");
		return false;
	}
	if (f->n_namespaces && !in_list(f->namespaces, f->n_namespaces, pod->namespace)) {
		snprintf(why, why_len, "pod %s/%s: namespace %s not selected", pod->namespace, pod->name,
			 pod->namespace);
		return false;
	}
	if (f->selector && !label_selector__matches(f->selector, pod->labels, pod->n_labels)) {
		snprintf(why, why_len, "pod %s/%s: labels do not match '%s'", pod->namespace, pod->name,
			 label_selector__text(f->selector));
		return false;
	}
	c = k8s_pod__container_by_id(pod, container_id);
	if (f->n_containers) {
		if (!c) {
			snprintf(why, why_len, "pod %s/%s: the process's container %.12s is not one the API reports",
				 pod->namespace, pod->name, container_id && *container_id ? container_id : "(none)");
			return false;
		}
		if (!in_list(f->containers, f->n_containers, c->name)) {
			snprintf(why, why_len, "pod %s/%s: container %s not selected", pod->namespace, pod->name,
				 c->name);
			return false;
		}
	}
	say_passed(f, pod, c, passed, sizeof(passed));
	snprintf(why, why_len, "pod %s/%s%s%s selected%s", pod->namespace, pod->name, c ? " container " : "",
		 c ? c->name : "", passed);
	return true;
}
