// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "proc_stat.h"
#include "process_tree.h"

struct process_tree {
	pid_t root;
	pid_t *live;      /* descendants not seen exiting */
	size_t nlive, cap;
	size_t seen;
};

struct process_tree *process_tree__new(pid_t root)
{
	struct process_tree *pt = calloc(1, sizeof(*pt));

	if (pt) {
		pt->root = root;
		pt->seen = 1;
	}
	return pt;
}

static void add_live(struct process_tree *pt, pid_t pid)
{
	for (size_t i = 0; i < pt->nlive; i++)
		if (pt->live[i] == pid)
			return;
	if (pt->nlive == pt->cap) {
		size_t cap = pt->cap ? 2 * pt->cap : 16;
		pid_t *grown = realloc(pt->live, cap * sizeof(*grown));

		if (!grown)
			return; /* only the end-of-run report misses it */
		pt->live = grown;
		pt->cap = cap;
	}
	pt->live[pt->nlive++] = pid;
}

void process_tree__fork(struct process_tree *pt, pid_t pid, pid_t ppid)
{
	(void)ppid;
	if (!pt)
		return;
	pt->seen++;
	add_live(pt, pid);
}

void process_tree__exit(struct process_tree *pt, pid_t pid)
{
	if (!pt)
		return;
	for (size_t i = 0; i < pt->nlive; i++)
		if (pt->live[i] == pid) {
			pt->live[i] = pt->live[--pt->nlive];
			return;
		}
}

int process_tree__add_existing(struct process_tree *pt, int map_fd)
{
	pid_t *pids = NULL, *ppids = NULL;
	size_t n = 0, cap = 0, added = 0;
	struct dirent *d;
	DIR *proc = opendir("/proc");
	bool grew;

	if (!proc)
		return -errno;
	while ((d = readdir(proc))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		if (n == cap) {
			size_t c = cap ? 2 * cap : 256;
			pid_t *p1 = realloc(pids, c * sizeof(*p1)), *p2;

			if (!p1)
				break;
			pids = p1;
			p2 = realloc(ppids, c * sizeof(*p2));
			if (!p2)
				break;
			ppids = p2;
			cap = c;
		}
		pids[n] = pid;
		ppids[n] = process_parent_pid(pid);
		n++;
	}
	closedir(proc);
	/* Descendants: parents already in the tree, until nothing new joins. */
	do {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			bool parent_in = ppids[i] == pt->root;
			__u32 key = pids[i], value = ppids[i];

			if (pids[i] == pt->root || ppids[i] <= 0)
				continue;
			for (size_t k = 0; !parent_in && k < pt->nlive; k++)
				parent_in = pt->live[k] == ppids[i];
			if (!parent_in || bpf_map_update_elem(map_fd, &key, &value, BPF_NOEXIST))
				continue;
			process_tree__fork(pt, pids[i], ppids[i]);
			added++;
			grew = true;
		}
	} while (grew);
	free(pids);
	free(ppids);
	return added;
}

size_t process_tree__seen(const struct process_tree *pt)
{
	return pt ? pt->seen : 0;
}

size_t process_tree__running(const struct process_tree *pt, pid_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; pt && i < pt->nlive; i++) {
		if (kill(pt->live[i], 0) != 0 && errno == ESRCH)
			continue;
		if (n < max)
			out[n] = pt->live[i];
		n++;
	}
	return n;
}

void process_tree__free(struct process_tree *pt)
{
	if (!pt)
		return;
	free(pt->live);
	free(pt);
}
