// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Drives spanprobe's Kubernetes modules (user/k8s) against a real API
 * server for the end-to-end tests: the pod watch of one node, the pod
 * filter, and process -> pod resolution through the process's cgroup.
 *   kube-watch --node NODE (--server URL [--token-file F] [--ca-file F] | --in-cluster)
 *              [--namespace NS]... [--pod-selector SEL] [--container NAME]...
 *              [--watch-timeout S] [--once MS]
 * Prints one line per fact, flushed at once:
 *   ADDED|UPDATED|DELETED NS/NAME uid=UID phase=P labels=k=v,... containers=name:id12,...
 *   SELECTED NS/NAME: why            NOT_SELECTED NS/NAME: why   (after each event)
 *   SYNCED lists=N watches=N expired=N pods=N
 *   ERROR message
 * and reads commands from stdin, one a line:
 *   resolve PID   -> PROCESS PID uid=UID container=ID pod=NS/NAME container_name=C SELECTED|NOT_SELECTED: why
 *                    (or PROCESS PID none: why)
 *   stats         -> STATS lists=N watches=N expired=N errors=N events=N bookmarks=N pods=N
 *   quit          (or the end of stdin: daemons the test starts later may
 *                 hold its writing end)
 * then prints STOPPED. With --once MS: waits for the first
 * list to complete or fail (MS is a hang guard), prints the pods and exits 0,
 * or prints the error and exits 1. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_pod.h"
#include "kube_config.h"
#include "pod_cgroup.h"
#include "pod_filter.h"
#include "pod_watch.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pod_filter *filter;
static struct pod_watch *watch;
static volatile int errors_seen; /* --once: the first error ends the wait */

static void print_pod(const char *what, const struct k8s_pod *pod)
{
	flockfile(stdout);
	printf("%s %s/%s uid=%s phase=%s labels=", what, pod->namespace, pod->name, pod->uid, pod->phase);
	for (size_t i = 0; i < pod->n_labels; i++)
		printf("%s%s=%s", i ? "," : "", pod->labels[i].key, pod->labels[i].value);
	printf(" containers=");
	for (size_t i = 0; i < pod->n_containers; i++)
		printf("%s%s:%.12s", i ? "," : "", pod->containers[i].name,
		       pod->containers[i].id[0] ? pod->containers[i].id : "-");
	printf("\n");
	funlockfile(stdout);
}

static void on_pod(void *ctx, enum pod_event ev, const struct k8s_pod *pod, const struct k8s_pod *old)
{
	static const char *const names[] = { "ADDED", "UPDATED", "DELETED" };
	char why[512];
	bool selected;

	(void)ctx;
	(void)old;
	pthread_mutex_lock(&out_lock);
	print_pod(names[ev], pod);
	if (ev != POD_DELETED && pod_filter__active(filter)) {
		/* The pod's first container, as a process in it would be. */
		selected = pod_filter__selects(filter, pod, pod->n_containers ? pod->containers[0].id : "", why,
					       sizeof(why));
		printf("%s %s/%s: %s\n", selected ? "SELECTED" : "NOT_SELECTED", pod->namespace, pod->name, why);
	}
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void on_synced(void *ctx)
{
	struct pod_watch_stats st;

	(void)ctx;
	/* Called on the watch thread before pod_watch__start returned to main
	 * is possible only after the thread exists; watch is set by then. */
	pod_watch__stats(watch, &st);
	pthread_mutex_lock(&out_lock);
	printf("SYNCED lists=%lu watches=%lu expired=%lu pods=%zu\n", st.lists, st.watches, st.expired, st.pods);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void on_error(void *ctx, const char *message)
{
	(void)ctx;
	__atomic_store_n(&errors_seen, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&out_lock);
	printf("ERROR %s\n", message);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void resolve(long pid)
{
	struct pod_cgroup_ids ids;
	struct k8s_pod *pod;
	const struct k8s_container *c;
	char why[512];
	bool selected;
	int err = pod_cgroup__read((pid_t)pid, &ids);

	pthread_mutex_lock(&out_lock);
	if (err) {
		printf("PROCESS %ld none: %s\n", pid, err == -ENOENT ? "in no pod's cgroup" : strerror(-err));
		goto out;
	}
	pod = pod_watch__lookup(watch, ids.pod_uid);
	c = k8s_pod__container_by_id(pod, ids.container_id);
	selected = pod_filter__selects(filter, pod, ids.container_id, why, sizeof(why));
	printf("PROCESS %ld uid=%s container=%.12s pod=%s%s%s container_name=%s %s: %s\n", pid, ids.pod_uid,
	       ids.container_id[0] ? ids.container_id : "-", pod ? pod->namespace : "-", pod ? "/" : "",
	       pod ? pod->name : "", c ? c->name : "-", selected ? "SELECTED" : "NOT_SELECTED", why);
	k8s_pod__put(pod);
out:
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void usage(void)
{
	fprintf(stderr, "usage: kube-watch --node NODE (--server URL [--token-file F] [--ca-file F] | --in-cluster)\n"
			"                  [--namespace NS]... [--pod-selector SEL] [--container NAME]...\n"
			"                  [--watch-timeout S] [--once MS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },	   { "server", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' }, { "ca-file", required_argument, NULL, 'c' },
		{ "in-cluster", no_argument, NULL, 'i' },	   { "namespace", required_argument, NULL, 'N' },
		{ "pod-selector", required_argument, NULL, 'l' }, { "container", required_argument, NULL, 'C' },
		{ "watch-timeout", required_argument, NULL, 'w' }, { "once", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *node = NULL, *server = NULL, *token_file = NULL, *ca_file = NULL;
	struct pod_watch_opts wopts = { 0 };
	struct kube_config kube;
	struct pod_watch_stats st;
	bool in_cluster = false;
	long once_ms = -1;
	char err[512], line[128];
	int opt, rc;

	filter = pod_filter__new();
	if (!filter)
		return 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		rc = 0;
		switch (opt) {
		case 'n': node = optarg; break;
		case 's': server = optarg; break;
		case 't': token_file = optarg; break;
		case 'c': ca_file = optarg; break;
		case 'i': in_cluster = true; break;
		case 'N': rc = pod_filter__add_namespace(filter, optarg, err, sizeof(err)); break;
		case 'l': rc = pod_filter__set_selector(filter, optarg, err, sizeof(err)); break;
		case 'C': rc = pod_filter__add_container(filter, optarg, err, sizeof(err)); break;
		case 'w': wopts.watch_timeout_s = (unsigned)atoi(optarg); break;
		case 'o': once_ms = atol(optarg); break;
		default: usage();
		}
		if (rc) {
			fprintf(stderr, "kube-watch: %s\n", err);
			return 2;
		}
	}
	if (!node || (!server && !in_cluster))
		usage();
	rc = in_cluster ? kube_config__in_cluster(&kube, NULL, err, sizeof(err))
			: kube_config__explicit(&kube, server, token_file, ca_file, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "kube-watch: %s\n", err);
		return 2;
	}
	wopts.kube = &kube;
	wopts.node_name = node;
	wopts.backoff_min_ms = 200;
	wopts.backoff_max_ms = 2000;
	wopts.cb = (struct pod_watch_callbacks){ .on_pod = on_pod, .on_synced = on_synced, .on_error = on_error };
	/* on_synced reads `watch`: hold the output lock until it is set. */
	pthread_mutex_lock(&out_lock);
	rc = pod_watch__start(&wopts, &watch);
	pthread_mutex_unlock(&out_lock);
	kube_config__clear(&kube);
	if (rc) {
		fprintf(stderr, "kube-watch: cannot start the watch: %s\n", strerror(-rc));
		return 2;
	}
	if (once_ms >= 0) {
		/* Until the list completes or fails once: waits for a condition,
		 * once_ms is only the hang guard. */
		for (long waited = 0;; waited += 20) {
			rc = pod_watch__wait_synced(watch, 20, err, sizeof(err));
			if (rc == 0 || __atomic_load_n(&errors_seen, __ATOMIC_ACQUIRE) || waited >= once_ms)
				break;
		}
		if (rc && __atomic_load_n(&errors_seen, __ATOMIC_ACQUIRE))
			printf("FAILED: %s\n", err);
		else if (rc)
			printf("FAILED (hang guard: no list within %ld ms): %s\n", once_ms, err);
		pod_watch__stop(watch);
		pod_filter__free(filter);
		return rc ? 1 : 0;
	}
	while (fgets(line, sizeof(line), stdin)) {
		long pid;

		if (sscanf(line, "resolve %ld", &pid) == 1) {
			resolve(pid);
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		} else if (strncmp(line, "stats", 5) == 0) {
			pod_watch__stats(watch, &st);
			pthread_mutex_lock(&out_lock);
			printf("STATS lists=%lu watches=%lu expired=%lu errors=%lu events=%lu bookmarks=%lu pods=%zu\n",
			       st.lists, st.watches, st.expired, st.errors, st.events, st.bookmarks, st.pods);
			fflush(stdout);
			pthread_mutex_unlock(&out_lock);
		}
	}
	pod_watch__stop(watch);
	pod_filter__free(filter);
	printf("STOPPED\n");
	return 0;
}
