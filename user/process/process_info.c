// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-process resource facts read from /proc once, on a process's first
 * span, while it is most likely still alive; kept for the table's lifetime
 * in a process hash (process_hash.h), found by pid, as a span names its
 * process (a reused pid keeps the first process's facts until its
 * executable is seen to differ: acceptable for a tracing session, and it
 * keeps entries stable for the exporter). Nothing
 * is read from inside the process's root: a container writes its own
 * /etc/hostname and service-account files, and could name itself anything
 * (or, through a symlink, make spanprobe read a host file into a span). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pod_cgroup.h"
#include "proc_stat.h"
#include "process_hash.h"
#include "process_info.h"
#include "unittest.h"

#define POD_RETRY_NS 250000000ULL

/* How often an entry's executable is checked again (see still_same). */
#define EXE_CHECK_NS 1000000000ULL

struct process_entry {
	struct process_link link; /* in entries: key (pid, start time) */
	struct process_info info;
	bool pod_pending;        /* in a pod whose name is not known yet */
	uint64_t pod_tried_ns;   /* when it was last looked up */
	uint64_t checked_ns;     /* when /proc/PID/exe was last seen to match */
	struct process_entry *retired_next;
};

struct process_table {
	pthread_mutex_t lock;
	struct process_hash entries;
	struct process_entry *retired; /* replaced versions, still in callers' hands */
	pod_lookup_fn lookup;
	void *lookup_ctx;
};

/* Reads at most cap-1 bytes of a small /proc file; returns the length or a
 * negative errno. */
static ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
	ssize_t len = 0, n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			len = -errno;
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (len >= 0)
		buf[len] = '\0';
	return len;
}

/* The 64-hex-digit container id in one cgroup path, as docker
 * (/docker/<id>), systemd (docker-<id>.scope), containerd
 * (cri-containerd-<id>.scope) and CRI-O (crio-<id>.scope) write it: the
 * last run of exactly 64 hex digits in the last path component. */
UNITTEST int container_id_from_cgroup_line(const char *line, char out[65])
{
	const char *last = strrchr(line, '/');
	const char *p;
	int run = 0;

	last = last ? last + 1 : line;
	for (p = last;; p++) {
		if (*p && isxdigit((unsigned char)*p) && !isupper((unsigned char)*p)) {
			run++;
			continue;
		}
		if (run == 64) {
			memcpy(out, p - 64, 64);
			out[64] = '\0';
			return 0;
		}
		run = 0;
		if (!*p || *p == '\n')
			break;
	}
	return -ENOENT;
}

/* What parse finds in the first line of /proc/PID/cgroup it accepts. */
static char *read_from_cgroup(uint32_t pid, int (*parse)(const char *line, char *out), size_t out_len)
{
	char path[64], buf[8192], found[65];
	char *line, *save = NULL;

	if (out_len > sizeof(found))
		return NULL;
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return NULL;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (parse(line, found) == 0)
			return strdup(found);
	}
	return NULL;
}

static char *read_exe_path(uint32_t pid)
{
	static const char deleted[] = " (deleted)";
	char path[64], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	/* A replaced binary still names the file the process runs. */
	if ((size_t)n > sizeof(deleted) - 1 &&
	    strcmp(target + n - (sizeof(deleted) - 1), deleted) == 0)
		target[n - (sizeof(deleted) - 1)] = '\0';
	return strdup(target);
}

static char *read_command_line(uint32_t pid)
{
	char path[64], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_small_file(path, buf, sizeof(buf));
	if (n <= 0)
		return NULL; /* kernel threads and zombies have none */
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	buf[n] = '\0';
	return strdup(buf);
}

static char *read_exe_name(uint32_t pid, const char *exe_path)
{
	char path[64], comm[64];
	const char *slash;
	ssize_t n;

	if (exe_path) {
		slash = strrchr(exe_path, '/');
		return strdup(slash ? slash + 1 : exe_path);
	}
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	n = read_small_file(path, comm, sizeof(comm));
	if (n > 0) {
		if (comm[n - 1] == '\n')
			comm[n - 1] = '\0';
		return strdup(comm);
	}
	snprintf(comm, sizeof(comm), "pid-%u", pid);
	return strdup(comm);
}

static void process_entry__free(struct process_entry *e)
{
	if (!e)
		return;
	free(e->info.exe_name);
	free(e->info.exe_path);
	free(e->info.command_line);
	free(e->info.container_id);
	free(e->info.k8s_pod_uid);
	free(e->info.k8s_pod_name);
	free(e->info.k8s_namespace);
	free(e->info.k8s_container_name);
	free(e);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Names e's pod from the API's facts; true when the pod is known. */
static bool name_pod(const struct process_table *t, struct process_entry *e)
{
	bool ok;

	e->pod_tried_ns = now_ns();
	if (!t->lookup || !e->info.k8s_pod_uid)
		return false;
	ok = t->lookup(t->lookup_ctx, e->info.k8s_pod_uid,
		       e->info.container_id ? e->info.container_id : "", &e->info.k8s_pod_name,
		       &e->info.k8s_namespace, &e->info.k8s_container_name) == 0;
#ifdef MUTANT_POD_NAME /* make test-mutants: the pod's name loses its last letter */
	if (ok && e->info.k8s_pod_name && strlen(e->info.k8s_pod_name) > 1)
		e->info.k8s_pod_name[strlen(e->info.k8s_pod_name) - 1] = 0;
#endif
	return ok;
}

/* Pod uid and container id from the kernel's cgroup path (pod_cgroup.h);
 * for a process in no pod, a container id as Docker and podman name their
 * cgroups. */
static void read_cgroup_ids(struct process_entry *e)
{
	struct pod_cgroup_ids ids;

	if (pod_cgroup__read((pid_t)e->info.pid, &ids) == 0) {
		e->info.k8s_pod_uid = strdup(ids.pod_uid);
		if (ids.container_id[0])
			e->info.container_id = strdup(ids.container_id);
		return;
	}
	e->info.container_id = read_from_cgroup(e->info.pid, container_id_from_cgroup_line, 65);
}

static struct process_entry *process_entry__read(const struct process_table *t, uint32_t pid)
{
	struct process_entry *e = calloc(1, sizeof(*e));
	pid_t parent;

	if (!e)
		return NULL;
	e->info.pid = pid;
	e->link.key.pid = (pid_t)pid;
	process_parent_and_start((pid_t)pid, &parent, &e->link.key.start);
	e->info.parent_pid = (uint32_t)parent;
	e->info.exe_path = read_exe_path(pid);
	e->info.exe_name = read_exe_name(pid, e->info.exe_path);
	e->info.command_line = read_command_line(pid);
	read_cgroup_ids(e);
	e->pod_pending = e->info.k8s_pod_uid && t->lookup && !name_pod(t, e);
	if (!e->info.exe_name) {
		process_entry__free(e);
		return NULL;
	}
	return e;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A new version of e once its pod is known (e stays valid: retired). */
static struct process_entry *process_entry__renamed(struct process_table *t, struct process_entry *e)
{
	struct process_entry *n = calloc(1, sizeof(*n));

	if (!n)
		return e;
	n->link.key = e->link.key;
	n->info.pid = e->info.pid;
	n->info.parent_pid = e->info.parent_pid;
	n->info.exe_name = dup_or_null(e->info.exe_name);
	n->info.exe_path = dup_or_null(e->info.exe_path);
	n->info.command_line = dup_or_null(e->info.command_line);
	n->info.container_id = dup_or_null(e->info.container_id);
	n->info.k8s_pod_uid = dup_or_null(e->info.k8s_pod_uid);
	if (!n->info.exe_name || !name_pod(t, n)) {
		e->pod_tried_ns = n->pod_tried_ns;
		process_entry__free(n);
		return e;
	}
	return n;
}

struct process_table *process_table__new(void)
{
	struct process_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (process_hash__init(&t->entries)) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void process_table__set_pod_lookup(struct process_table *t, pod_lookup_fn lookup, void *ctx)
{
	pthread_mutex_lock(&t->lock);
	t->lookup = lookup;
	t->lookup_ctx = ctx;
	pthread_mutex_unlock(&t->lock);
}

static struct process_entry *entry_of(struct process_link *l)
{
	return (struct process_entry *)((char *)l - offsetof(struct process_entry, link));
}

/* Takes e out of the table (lock held); it stays valid, retired. */
static void retire_locked(struct process_table *t, struct process_entry *e)
{
	process_hash__remove(&t->entries, &e->link);
	e->retired_next = t->retired;
	t->retired = e;
}

/* The entry for pid, or NULL (lock held). */
static struct process_entry *find_locked(struct process_table *t, uint32_t pid)
{
	struct process_link *l = process_hash__find(&t->entries, (pid_t)pid);

	return l ? entry_of(l) : NULL;
}

/* Unlinks pid's entry (lock held); it stays valid, retired. */
static void forget_locked(struct process_table *t, uint32_t pid)
{
	struct process_entry *e = find_locked(t, pid);

	if (e)
		retire_locked(t, e);
}

void process_table__forget(struct process_table *t, uint32_t pid)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	forget_locked(t, pid);
	pthread_mutex_unlock(&t->lock);
}

/* Does pid still run what e was read from? Asked at most every
 * EXE_CHECK_NS: an exec spanprobe was not told of, or a reused pid. An
 * entry without a path (named from its exec report after it had ended):
 * a process there now is another. */
static bool still_same(struct process_entry *e)
{
	uint64_t now = now_ns();
	char *exe;
	bool same;

	if (now - e->checked_ns < EXE_CHECK_NS)
		return true;
	exe = read_exe_path(e->info.pid);
	/* gone: keep what was read */
	same = !exe || (e->info.exe_path && strcmp(exe, e->info.exe_path) == 0);
	free(exe);
	e->checked_ns = now;
	return same;
}

/* e into the table, checked now (lock held). */
static void insert_locked(struct process_table *t, struct process_entry *e)
{
	e->checked_ns = now_ns();
	process_hash__add(&t->entries, &e->link);
}

void process_table__note_exec(struct process_table *t, uint32_t pid, const char *name)
{
	struct process_entry *e;

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	forget_locked(t, pid);
	e = process_entry__read(t, pid);
	if (e && !e->info.exe_path && name[0]) {
		/* its exe could not be read: ended already ("pid-N" otherwise) */
		char *n = strdup(name);

		if (n) {
			free(e->info.exe_name);
			e->info.exe_name = n;
		}
	}
	if (e)
		insert_locked(t, e);
	pthread_mutex_unlock(&t->lock);
}

const struct process_info *process_table__get(struct process_table *t, uint32_t pid)
{
	struct process_entry *e;

	if (!t)
		return NULL;
	pthread_mutex_lock(&t->lock);
	e = find_locked(t, pid);
	if (e && !still_same(e)) {
		retire_locked(t, e);
		e = NULL; /* read again below */
	}
	if (e) {
		struct process_entry *n;

		if (!e->pod_pending || now_ns() - e->pod_tried_ns < POD_RETRY_NS)
			goto out;
		n = process_entry__renamed(t, e);
		if (n != e) {
			retire_locked(t, e);
			process_hash__add(&t->entries, &n->link);
			e = n;
		}
		goto out;
	}
	/* Read under the lock: it happens once per process, and two threads
	 * racing on the same new pid must not both insert it. */
	e = process_entry__read(t, pid);
	if (e)
		insert_locked(t, e);
out:
	pthread_mutex_unlock(&t->lock);
	return e ? &e->info : NULL; /* NULL only when out of memory */
}

void process_table__free(struct process_table *t)
{
	struct process_entry *e, *next;

	if (!t)
		return;
	for (struct process_link *l = process_hash__first(&t->entries), *after; l; l = after) {
		after = process_hash__next(&t->entries, l);
		process_entry__free(entry_of(l));
	}
	process_hash__fini(&t->entries);
	for (e = t->retired; e; e = next) {
		next = e->retired_next;
		process_entry__free(e);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}
