// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The processes traced one by one (process_choice.h): choosing by
 * selection, or the tree of -p/-c's process, in one table of processes
 * keyed by (pid, start time). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "pod_cgroup.h"
#include "probe_source.h"
#include "proc_stat.h"
#include "process_choice.h"
#include "process_choice_internal.h"
#include "process_hash.h"
#include "selection.h"

/* -p's descendants the sources hook at the start; any beyond are hooked
 * when they report themselves. */
#define HOOKED_AT_START_MAX 1024

/* A chosen process's probes, by source (probe_sources[i]): some kept
 * across its execs, some of its image (probes_of_image). */
struct chosen_probes {
	long pod;                 /* its pod in pods[], or -1 */
	struct attachment attached[PROBE_SOURCES_MAX];
};

struct traced_proc {
	struct process_link link;       /* key: (pid, start time) */
	struct chosen_probes *chosen;   /* while chosen, else NULL */
	bool counted;                   /* in chosen_total */
	bool said;                      /* -v: "not chosen: WHY" said, for said_why */
	uint32_t said_why;              /* FNV-1a of that WHY */
};

/* A pod one of whose processes was chosen (by the uid its cgroup names). */
struct pod_seen {
	char uid[37];
	size_t chosen_now; /* its processes chosen now */
	bool counted;      /* in pods_total: one was chosen (its probes in) */
};

struct process_choice {
	struct process_choice_setup setup;
	bool choosing;             /* by selection; else following the tree of root */
	bool stopped;              /* detached: nothing is chosen any more */
	/* choosing: the processes chosen and those remembered; following: the
	 * root's descendants not seen exiting */
	struct process_hash procs;
	size_t nchosen;
	size_t chosen_total;       /* processes chosen so far */
	size_t tree_seen;          /* following: processes traced so far, the root included */
	struct pod_seen *pods;
	size_t npods, pods_total;
	size_t procs_now, pods_now; /* chosen now; read by the metrics thread (atomics) */
};

static struct traced_proc *proc_of(struct process_link *l)
{
	return l ? (struct traced_proc *)((char *)l - offsetof(struct traced_proc, link)) : NULL;
}

static struct traced_proc *find(const struct process_choice *c, pid_t pid)
{
	return proc_of(process_hash__find(&c->procs, pid));
}

static const struct source_env *env(struct process_choice *c)
{
	return c->setup.env(c->setup.env_ctx);
}

int process_choice__new(const struct process_choice_setup *s, struct process_choice **out)
{
	struct process_choice *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	if (process_hash__init(&c->procs)) {
		free(c);
		return -ENOMEM;
	}
	c->setup = *s;
	c->choosing = s->selection != NULL;
	c->tree_seen = 1;
	*out = c;
	return 0;
}

/* Takes e out of the table and frees it (its probes gone already). */
static void forget(struct process_choice *c, struct traced_proc *e)
{
	process_hash__remove(&c->procs, &e->link);
	free(e);
}

/* Choosing: the remembered ones past REMEMBERED_MAX (see there). */
static void forget_remembered(struct process_choice *c)
{
	struct process_link *l, *after;

	for (l = process_hash__first(&c->procs); l; l = after) {
		struct traced_proc *e = proc_of(l);

		after = process_hash__next(&c->procs, l);
		if (!e->chosen && process_start_time(l->key.pid) != l->key.start)
			forget(c, e);
	}
	if (process_hash__count(&c->procs) - c->nchosen <= REMEMBERED_MAX / 2)
		return;
	for (l = process_hash__first(&c->procs); l; l = after) {
		after = process_hash__next(&c->procs, l);
		if (!proc_of(l)->chosen)
			forget(c, proc_of(l));
	}
}

/* A new entry for (pid, start) (none for pid), or NULL without memory. */
static struct traced_proc *add(struct process_choice *c, pid_t pid, uint64_t start)
{
	struct traced_proc *e;

	if (c->choosing && process_hash__count(&c->procs) - c->nchosen >= REMEMBERED_MAX)
		forget_remembered(c);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->link.key = (struct process_key){ .pid = pid, .start = start };
	process_hash__add(&c->procs, &e->link);
	return e;
}

/* The counts the summary and the metrics thread read. */
static void update_counts(struct process_choice *c)
{
	size_t pods = 0;

	for (size_t i = 0; i < c->npods; i++)
		pods += c->pods[i].chosen_now > 0;
	__atomic_store_n(&c->procs_now, c->nchosen, __ATOMIC_RELAXED);
	__atomic_store_n(&c->pods_now, pods, __ATOMIC_RELAXED);
}

/* The index of pod uid in pods[] (added), or -1 without memory. */
static long pod_index(struct process_choice *c, const char *uid)
{
	struct pod_seen *grown;

	for (size_t i = 0; i < c->npods; i++)
		if (strcmp(c->pods[i].uid, uid) == 0)
			return (long)i;
	grown = realloc(c->pods, (c->npods + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	c->pods = grown;
	c->pods[c->npods] = (struct pod_seen){ 0 };
	snprintf(c->pods[c->npods].uid, sizeof(c->pods[c->npods].uid), "%s", uid);
	return (long)c->npods++;
}

/* e's probes go (the last source's first, as the tracer detaches). */
static void drop_probes(struct process_choice *c, struct traced_proc *e)
{
	for (size_t s = PROBE_SOURCES_MAX; s-- > 0;)
		attachment__destroy(&e->chosen->attached[s]);
	if (e->chosen->pod >= 0)
		c->pods[e->chosen->pod].chosen_now--;
	free(e->chosen);
	e->chosen = NULL;
	c->nchosen--;
}

/* (each pod event decides every process again: the same line each time
 * would flood) */
UNITTEST bool said_before(struct process_choice *c, pid_t pid, uint64_t start, const char *why)
{
	struct traced_proc *e = find(c, pid);
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *ch = why; *ch; ch++)
		h = (h ^ (unsigned char)*ch) * 16777619u;
	if (e && e->link.key.start != start && !e->chosen) {
		forget(c, e); /* another process with that PID */
		e = NULL;
	}
	if (!e)
		e = add(c, pid, start);
	if (!e)
		return false;
	if (e->said && e->said_why == h)
		return true;
	e->said = true;
	e->said_why = h;
	return false;
}

/* Counts e once in chosen_total, however often it is chosen (a pod
 * relabelled back and forth). */
static void count_chosen(struct process_choice *c, struct traced_proc *e)
{
	if (e->counted)
		return;
	e->counted = true;
	c->chosen_total++;
}

/* Forgets e's probes and its place in the traced set; each source lets go
 * of it first (exec: its memory is another program's now). */
static void unchoose(struct process_choice *c, struct traced_proc *e, bool exec)
{
	pid_t pid = e->link.key.pid;
	__u32 key = pid;

	for (size_t i = 0; i < nprobe_sources; i++)
		if (probe_sources[i]->release_process)
			probe_sources[i]->release_process(c->setup.source_state[i], pid, exec);
	drop_probes(c, e);
	bpf_map__delete_elem(c->setup.traced_tgids, &key, sizeof(key), 0);
	update_counts(c);
}

/* Decides on pid now, and puts the probes into it alone, or takes them
 * out. A reused PID (another start time) is a new process. */
static void choose(struct process_choice *c, pid_t pid)
{
	struct traced_proc *e;
	uint64_t start;
	__u32 key = pid, parent = 0;
	struct pod_cgroup_ids ids;
	char why[512];
	int chosen, err = 0;

	/* draining at the end: nothing is attached any more */
	if (pid == getpid() || c->stopped)
		return;
	e = find(c, pid);
	start = process_start_time(pid);
	if (e && e->link.key.start != start) {
		if (e->chosen)
			unchoose(c, e, true);
		forget(c, e);
		e = NULL;
	}
	if (!start)
		return; /* gone */
	chosen = selection__decide(c->setup.selection, pid, why, sizeof(why));
	if (chosen <= 0) {
		if (e && e->chosen) {
			unchoose(c, e, false);
			fprintf(stderr, "spanprobe: process %d no longer chosen: %s\n", pid, why);
			said_before(c, pid, start, why); /* not "not chosen" next time */
		} else {
			/* a chosen process's child the kernel followed */
			bpf_map__delete_elem(c->setup.traced_tgids, &key, sizeof(key), 0);
			if (c->setup.verbose && chosen == 0 && !said_before(c, pid, start, why))
				fprintf(stderr, "spanprobe: process %d not chosen: %s\n", pid, why);
		}
		return;
	}
	if (e && e->chosen)
		return;
	if (!e)
		e = add(c, pid, start);
	if (!e || !(e->chosen = calloc(1, sizeof(*e->chosen))))
		return;
	c->nchosen++;
	e->chosen->pod = pod_cgroup__read(pid, &ids) == 0 && ids.pod_uid[0] ? pod_index(c, ids.pod_uid)
									      : -1;
	if (e->chosen->pod >= 0)
		c->pods[e->chosen->pod].chosen_now++;
	bpf_map__update_elem(c->setup.traced_tgids, &key, sizeof(key), &parent, sizeof(parent),
			     BPF_ANY);
	for (size_t i = 0; i < nprobe_sources && !err; i++) {
		int n = probe_sources[i]->attach_process
				? probe_sources[i]->attach_process(c->setup.source_state[i], env(c), pid,
								   &e->chosen->attached[i])
				: 0;

		err = n < 0 ? n : 0;
	}
	if (err) {
		unchoose(c, e, false); /* gone meanwhile, or said why */
		return;
	}
	count_chosen(c, e);
	if (e->chosen->pod >= 0 && !c->pods[e->chosen->pod].counted) {
		c->pods[e->chosen->pod].counted = true;
		c->pods_total++;
	}
	update_counts(c);
	if (c->setup.verbose)
		fprintf(stderr, "spanprobe: process %d chosen: %s\n", pid, why);
}

/* The PIDs of the processes chosen now (malloc'd), their count in *n. */
static pid_t *chosen_pids(const struct process_choice *c, size_t *n)
{
	pid_t *pids = malloc((c->nchosen ? c->nchosen : 1) * sizeof(*pids));

	*n = 0;
	for (struct process_link *l = process_hash__first(&c->procs); pids && l;
	     l = process_hash__next(&c->procs, l))
		if (proc_of(l)->chosen && *n < c->nchosen)
			pids[(*n)++] = l->key.pid;
	return pids;
}

void process_choice__decide_all(struct process_choice *c)
{
	struct dirent *d;
	size_t n;
	pid_t *pids;
	DIR *proc;

	if (!c || !c->choosing || c->stopped)
		return;
	/* the chosen first (choose may take an entry out: a list, not the table) */
	pids = chosen_pids(c, &n);
	for (size_t i = n; i > 0; i--)
		choose(c, pids[i - 1]);
	free(pids);
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((d = readdir(proc))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (!*end && pid > 0)
			choose(c, pid);
	}
	closedir(proc);
}

bool process_choice__chosen(const struct process_choice *c, pid_t pid)
{
	struct traced_proc *e = c && !c->stopped ? find(c, pid) : NULL;

	return e && e->chosen;
}

/* What the sources found at the exec goes into every chosen process
 * (attach_found). A chosen process keeps the probes that follow the
 * process across the exec; those of its image (probes_of_image) are made
 * again. Then pid is decided again (an --exe glob may no longer match). */
static void exec_chosen(struct process_choice *c, pid_t pid)
{
	struct traced_proc *e;
	bool was_chosen;

	for (struct process_link *l = process_hash__first(&c->procs); l;
	     l = process_hash__next(&c->procs, l)) {
		e = proc_of(l);
		for (size_t i = 0; e->chosen && i < nprobe_sources; i++)
			if (probe_sources[i]->attach_found)
				probe_sources[i]->attach_found(c->setup.source_state[i], env(c), l->key.pid,
							       &e->chosen->attached[i]);
	}
	e = find(c, pid);
	was_chosen = e && e->chosen;
	for (size_t i = 0; was_chosen && i < nprobe_sources; i++) {
		if (!probe_sources[i]->probes_of_image)
			continue;
		if (probe_sources[i]->release_process)
			probe_sources[i]->release_process(c->setup.source_state[i], pid, true);
		attachment__destroy(&e->chosen->attached[i]);
	}
	choose(c, pid); /* a new process gets every probe here */
	e = find(c, pid);
	for (size_t i = 0; was_chosen && e && e->chosen && i < nprobe_sources; i++) {
		const struct probe_source_ops *ops = probe_sources[i];
		struct attachment *a = &e->chosen->attached[i];

		if (!ops->probes_of_image || !ops->attach_process || a->nlinks || a->nfds)
			continue;
		if (ops->attach_process(c->setup.source_state[i], env(c), pid, a) < 0) {
			unchoose(c, e, false); /* gone meanwhile, or said why */
			return;
		}
	}
}

bool process_choice__exec(struct process_choice *c, pid_t pid)
{
	bool traced;

	if (!c || !c->choosing)
		return false;
	/* chosen before the exec: its probes stayed through it, so the new
	 * program's calls were traced even if it has ended by now */
	traced = process_choice__chosen(c, pid);
	exec_chosen(c, pid);
	return traced || process_choice__chosen(c, pid);
}

/* Following: pid joins the tree (its start time, when it still runs, tells
 * it from a later process given the PID). An entry left for the PID (its
 * exit report lost) is this process's now. */
static void tree_add(struct process_choice *c, pid_t pid, uint64_t start)
{
	struct traced_proc *e = find(c, pid);

	c->tree_seen++;
	if (e)
		e->link.key.start = start;
	else
		add(c, pid, start); /* without memory only the end-of-run report misses it */
}

void process_choice__fork(struct process_choice *c, pid_t pid, pid_t ppid)
{
	(void)ppid;
	if (!c)
		return;
	if (c->choosing)
		choose(c, pid); /* a chosen process's child: chosen too, if selection says so */
	else
		tree_add(c, pid, process_start_time(pid));
}

void process_choice__exit(struct process_choice *c, pid_t pid)
{
	struct traced_proc *e = c ? find(c, pid) : NULL;

	if (!e)
		return;
	if (e->chosen)
		unchoose(c, e, true); /* gone: nothing to write back */
	forget(c, e);
}

/* Whether the tree's process e still runs. */
static bool still_runs(const struct traced_proc *e)
{
	if (kill(e->link.key.pid, 0) != 0 && errno == ESRCH)
		return false;
	return !e->link.key.start || process_start_time(e->link.key.pid) == e->link.key.start;
}

int process_choice__add_descendants(struct process_choice *c)
{
	pid_t *pids = NULL, *ppids = NULL, root = c->setup.root;
	uint64_t *starts = NULL;
	size_t n = 0, cap = 0, added = 0, hooked = 0;
	int map_fd = bpf_map__fd(c->setup.traced_tgids), err = 0;
	struct dirent *d;
	DIR *proc = opendir("/proc");
	bool grew;

	if (!proc) {
		err = -errno;
		goto cleanup;
	}
	while ((d = readdir(proc))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		if (n == cap) {
			size_t more = cap ? 2 * cap : 256;
			pid_t *p1 = realloc(pids, more * sizeof(*p1)), *p2;
			uint64_t *s;

			if (!p1)
				break;
			pids = p1;
			p2 = realloc(ppids, more * sizeof(*p2));
			if (!p2)
				break;
			ppids = p2;
			s = realloc(starts, more * sizeof(*s));
			if (!s)
				break;
			starts = s;
			cap = more;
		}
		pids[n] = pid;
		process_parent_and_start(pid, &ppids[n], &starts[n]);
		n++;
	}
	closedir(proc);
	/* Descendants: parents already in the tree, until nothing new joins. */
	do {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			__u32 key = pids[i], value = ppids[i];

			if (pids[i] == root || ppids[i] <= 0)
				continue;
			if (ppids[i] != root && !find(c, ppids[i]))
				continue;
			if (bpf_map_update_elem(map_fd, &key, &value, BPF_NOEXIST))
				continue;
			tree_add(c, pids[i], starts[i]);
			added++;
			grew = true;
		}
	} while (grew);
	/* each source may hook them before the start is over */
	for (struct process_link *l = process_hash__first(&c->procs);
	     l && hooked < HOOKED_AT_START_MAX; l = process_hash__next(&c->procs, l)) {
		if (!still_runs(proc_of(l)))
			continue;
		hooked++;
		for (size_t s = 0; s < nprobe_sources; s++)
			if (probe_sources[s]->hook_process)
				probe_sources[s]->hook_process(c->setup.source_state[s], l->key.pid);
	}
cleanup:
	free(pids);
	free(ppids);
	free(starts);
	if (err) {
		fprintf(stderr, "spanprobe: can't read the descendants of %d: %s\n", root,
			strerror(-err));
		return err;
	}
	return (int)added;
}

void process_choice__counts(const struct process_choice *c, struct selection_counts *out)
{
	if (!c)
		return;
	out->procs_now = __atomic_load_n(&c->procs_now, __ATOMIC_RELAXED);
	out->pods_now = __atomic_load_n(&c->pods_now, __ATOMIC_RELAXED);
	out->procs_total = c->chosen_total;
	out->pods_total = c->pods_total;
}

size_t process_choice__traced_so_far(const struct process_choice *c)
{
	if (!c)
		return 0;
	if (c->choosing)
		return c->chosen_total;
	/* one process needs no count */
	return c->tree_seen > 1 ? c->tree_seen : 0;
}

void process_choice__say_start(const struct process_choice *c, FILE *to)
{
	if (!c)
		return;
	if (c->choosing)
		fprintf(to, "spanprobe: %zu processes chosen now; new ones are decided as they start\n",
			c->nchosen);
	else if (c->tree_seen > 1)
		fprintf(to, "spanprobe: %zu processes traced (%d and its descendants)\n", c->tree_seen,
			c->setup.root);
}

/* The root is gone (or tracing stopped) while descendants run on: they are
 * not waited for (unlike strace -f), but named. */
void process_choice__say_still_running(const struct process_choice *c, FILE *to)
{
	pid_t pids[8];
	size_t n = 0;

	if (!c || c->choosing)
		return;
	for (struct process_link *l = process_hash__first(&c->procs); l;
	     l = process_hash__next(&c->procs, l)) {
		if (!still_runs(proc_of(l)))
			continue;
		if (n < sizeof(pids) / sizeof(pids[0]))
			pids[n] = l->key.pid;
		n++;
	}
	if (!n)
		return;
	fprintf(to, "spanprobe: %zu traced process%s still running, no longer traced:", n,
		n == 1 ? " is" : "es are");
	for (size_t i = 0; i < n && i < sizeof(pids) / sizeof(pids[0]); i++)
		fprintf(to, " %d", pids[i]);
	fprintf(to, "%s\n", n > sizeof(pids) / sizeof(pids[0]) ? " ..." : "");
}

/* Every entry goes, chosen ones' probes with them. */
static void forget_all(struct process_choice *c)
{
	struct process_link *l, *after;

	for (l = process_hash__first(&c->procs); l; l = after) {
		struct traced_proc *e = proc_of(l);

		after = process_hash__next(&c->procs, l);
		if (e->chosen)
			drop_probes(c, e);
		forget(c, e);
	}
}

void process_choice__stop(struct process_choice *c)
{
	if (!c || !c->choosing)
		return;
	forget_all(c);
	c->stopped = true;
}

void process_choice__free(struct process_choice *c)
{
	if (!c)
		return;
	forget_all(c);
	process_hash__fini(&c->procs);
	free(c->pods);
	free(c);
}
