// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chosen_procs.h"

struct chosen_procs {
	struct chosen_proc **procs;
	size_t n, cap;
};

struct chosen_procs *chosen_procs__new(void)
{
	return calloc(1, sizeof(struct chosen_procs));
}

struct chosen_proc *chosen_procs__find(struct chosen_procs *c, pid_t pid)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->procs[i]->pid == pid)
			return c->procs[i];
	return NULL;
}

struct chosen_proc *chosen_procs__add(struct chosen_procs *c, pid_t pid, uint64_t start_time)
{
	struct chosen_proc *p;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct chosen_proc **grown = realloc(c->procs, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		c->procs = grown;
		c->cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->start_time = start_time;
	c->procs[c->n++] = p;
	return p;
}

void chosen_procs__remove(struct chosen_procs *c, pid_t pid)
{
	for (size_t i = 0; c && i < c->n; i++) {
		if (c->procs[i]->pid != pid)
			continue;
		/* the last source's first, as the tracer detaches */
		for (size_t s = PROBE_SOURCES_MAX; s-- > 0;)
			attachment__destroy(&c->procs[i]->attached[s]);
		free(c->procs[i]);
		c->procs[i] = c->procs[--c->n];
		return;
	}
}

size_t chosen_procs__count(const struct chosen_procs *c)
{
	return c ? c->n : 0;
}

size_t chosen_procs__pods(const struct chosen_procs *c)
{
	size_t pods = 0;

	/* a node runs tens of pods: quadratic is fine */
	for (size_t i = 0; c && i < c->n; i++) {
		size_t j;

		if (!c->procs[i]->pod_uid[0])
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(c->procs[j]->pod_uid, c->procs[i]->pod_uid) == 0)
				break;
		pods += j == i;
	}
	return pods;
}

struct chosen_proc *chosen_procs__at(struct chosen_procs *c, size_t i)
{
	return c && i < c->n ? c->procs[i] : NULL;
}

void chosen_procs__free(struct chosen_procs *c)
{
	if (!c)
		return;
	while (c->n)
		chosen_procs__remove(c, c->procs[0]->pid);
	free(c->procs);
	free(c);
}
