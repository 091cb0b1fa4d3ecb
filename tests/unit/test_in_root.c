// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* in_root__open against a directory standing for a container's root, built
 * the way a hostile container would: absolute symlinks to a host file,
 * ".." climbing out, loops, a FIFO, a directory; a directory swapped for a
 * symlink while files are opened through it (every open is inside the root
 * or fails, never the host's file). process_ref and container_root on
 * this very process and on a child that exits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "container_root.h"
#include "in_root.h"
#include "proc_stat.h"
#include "process_ref.h"
#include "unit.h"

static char base[PATH_MAX], root[PATH_MAX], host_secret[PATH_MAX];
static int root_fd = -1;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

/* root/REL, for setting the tree up */
static const char *in(const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", root, rel);
	return buf;
}

/* What in_root__open finds at path: the file's text, or "ERR:<errno>". */
static const char *open_text(const char *path)
{
	static char buf[64];
	int fd = in_root__open(root_fd, path, NULL);
	ssize_t n;

	if (fd < 0) {
		snprintf(buf, sizeof(buf), "ERR:%d", -fd);
		return buf;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void setup(void)
{
	char dir[PATH_MAX];

	snprintf(base, sizeof(base), "/tmp/spanprobe-in-root.XXXXXX");
	CHECK(mkdtemp(base) != NULL);
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(host_secret, sizeof(host_secret), "%s/host/secret.txt", base);
	snprintf(dir, sizeof(dir), "%s/host", base);
	mkdirs(dir);
	write_file(host_secret, "HOST");
	mkdirs(in("usr/bin"));
	write_file(in("usr/bin/app"), "inside");
	/* the host path also exists inside: the container's own copy */
	snprintf(dir, sizeof(dir), "%s%s/host", root, base);
	mkdirs(dir);
	snprintf(dir, sizeof(dir), "%s%s", root, host_secret);
	write_file(dir, "inside-copy");
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(root_fd >= 0);
}

static void test_plain_and_absolute_links(void)
{
	char dots[PATH_MAX];

	CHECK_STR(open_text("/usr/bin/app"), "inside");
	CHECK_STR(open_text("usr/bin/app"), "inside");
	CHECK_INT(symlink(host_secret, in("usr/bin/abs")), 0);
	CHECK_STR(open_text("/usr/bin/abs"), "inside-copy");
	/* ".." past the root stays at the root */
	snprintf(dots, sizeof(dots), "../../../../../../../../..%s", host_secret);
	CHECK_INT(symlink(dots, in("usr/bin/dots")), 0);
	CHECK_STR(open_text("/usr/bin/dots"), "inside-copy");
	snprintf(dots, sizeof(dots), "/../../..%s", host_secret);
	CHECK_STR(open_text(dots), "inside-copy");
	/* a link to a host path that has no copy inside: not found, not the host's */
	CHECK_INT(symlink("/etc/hostname", in("usr/bin/host-only")), 0);
	CHECK_STR(open_text("/usr/bin/host-only"), "ERR:2");
	/* a directory on the way replaced by an absolute link */
	snprintf(dots, sizeof(dots), "%s/host", base);
	CHECK_INT(symlink(dots, in("usr/lib")), 0);
	CHECK_STR(open_text("/usr/lib/secret.txt"), "inside-copy");
}

static void test_refused_files(void)
{
	char text[32];

	CHECK_INT(symlink("loop-b", in("usr/bin/loop-a")), 0);
	CHECK_INT(symlink("loop-a", in("usr/bin/loop-b")), 0);
	snprintf(text, sizeof(text), "ERR:%d", ELOOP);
	CHECK_STR(open_text("/usr/bin/loop-a"), text);
	/* a FIFO must not block the open */
	CHECK_INT(mkfifo(in("usr/bin/fifo"), 0600), 0);
	snprintf(text, sizeof(text), "ERR:%d", EINVAL);
	CHECK_STR(open_text("/usr/bin/fifo"), text);
	snprintf(text, sizeof(text), "ERR:%d", EISDIR);
	CHECK_STR(open_text("/usr/bin"), text);
	CHECK_STR(open_text(""), "ERR:2");
	/* procfs files are the kernel's */
	CHECK_INT(in_root__open(IN_ROOT_HOST, "/proc/self/status", NULL), -EREMOTE);
	CHECK(strstr(in_root__strerror(-EREMOTE), "pseudo-filesystem") != NULL);
}

static atomic_bool stop_swapping;

/* Flips usr/swap between a directory holding "app" and an absolute link
 * to the host directory of the secret. */
static void *swapper(void *arg)
{
	char link_target[PATH_MAX], dir[PATH_MAX], swap[PATH_MAX];

	(void)arg;
	snprintf(link_target, sizeof(link_target), "%s/host", base);
	snprintf(dir, sizeof(dir), "%s/usr/swap-dir", root);
	snprintf(swap, sizeof(swap), "%s/usr/swap", root);
	while (!atomic_load(&stop_swapping)) {
		rename(dir, swap);
		usleep(50);
		rename(swap, dir);
		symlink(link_target, swap);
		usleep(50);
		unlink(swap);
	}
	return NULL;
}

static void test_directory_swapped_for_a_link(void)
{
	pthread_t th;
	int inside = 0, copy = 0, missing = 0, host = 0, other = 0;

	mkdirs(in("usr/swap-dir"));
	write_file(in("usr/swap-dir/secret.txt"), "inside");
	CHECK_INT(pthread_create(&th, NULL, swapper, NULL), 0);
	for (int i = 0; i < 20000; i++) {
		const char *t = open_text("/usr/swap/secret.txt");

		if (strcmp(t, "inside") == 0)
			inside++;
		else if (strcmp(t, "inside-copy") == 0)
			copy++;
		else if (strcmp(t, "HOST") == 0)
			host++;
		else if (strncmp(t, "ERR:", 4) == 0)
			missing++;
		else
			other++;
	}
	atomic_store(&stop_swapping, true);
	pthread_join(th, NULL);
	printf("  swapped directory: %d inside, %d inside copy, %d not found, %d host\n", inside,
	       copy, missing, host);
	CHECK_INT(host, 0);
	CHECK_INT(other, 0);
	CHECK(inside + copy > 0); /* the race was run through both shapes */
}

static void test_process_ref(void)
{
	struct process_ref r;
	struct container_root cr;
	uint64_t start = 0, again = 0;
	pid_t child;
	int status;

	start = process_start_time(getpid());
	CHECK(start > 0);
	/* a command name with ") " in it must not shift the fields */
	prctl(PR_SET_NAME, "x) 1 2 3 4 5");
	again = process_start_time(getpid());
	CHECK_INT(again, start);
	prctl(PR_SET_NAME, "test_in_root");
	CHECK_INT(process_ref__open(getpid(), start, &r), 0);
	CHECK_INT(process_ref__alive(&r), 0);
	process_ref__close(&r);
	CHECK_INT(process_ref__open(getpid(), start + 1, &r), -ESRCH);
	CHECK_INT(process_start_ticks_from_ns(1234567890123ULL),
		  1234567890123ULL / (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK)));

	/* a child: alive, then gone (a zombie counts as gone) */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	CHECK_INT(process_ref__open(child, 0, &r), 0);
	CHECK_INT(process_ref__alive(&r), 0);
	kill(child, SIGKILL);
	while (process_ref__alive(&r) == 0)
		usleep(1000);
	CHECK_INT(container_root__open(child, 0, &cr), -ESRCH);
	waitpid(child, &status, 0);
	CHECK_INT(process_ref__alive(&r), -ESRCH);
	process_ref__close(&r);
	CHECK_INT(process_ref__open(child, 0, &r), -ESRCH);

	/* our own root: a file of ours opens, procfs does not */
	CHECK_INT(container_root__open(getpid(), 0, &cr), 0);
	{
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		int fd;

		CHECK(n > 0);
		exe[n > 0 ? n : 0] = '\0';
		fd = container_root__open_file(&cr, exe, NULL);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
	}
	CHECK_INT(container_root__open_file(&cr, "/proc/self/status", NULL), -EREMOTE);
	CHECK_INT(container_root__check(&cr), 0);
	container_root__close(&cr);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (root_fd >= 0)
		close(root_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", base);
}

int main(void)
{
	unit_prog = "in_root";
	setup();
	RUN(test_plain_and_absolute_links);
	RUN(test_refused_files);
	RUN(test_directory_swapped_for_a_link);
	RUN(test_process_ref);
	teardown();
	return unit_exit();
}
