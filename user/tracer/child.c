// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "child.h"

/* errno of exec'ing file: 0, ENOENT, EACCES (a directory or no x bit). */
static int can_exec(const char *file)
{
	struct stat st;

	if (stat(file, &st) != 0)
		return errno == ENOTDIR ? ENOENT : errno;
	if (S_ISDIR(st.st_mode) || access(file, X_OK) != 0)
		return EACCES;
	return 0;
}

/* execvp's search: a name with a slash as it is, else each PATH entry
 * (empty: the current directory); the first executable wins, and a file
 * found but not executable is EACCES unless a later one runs. */
static int find_command(const char *name)
{
	const char *path = getenv("PATH");
	char file[4096];
	int err = ENOENT, e;

	if (strchr(name, '/'))
		return can_exec(name);
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int n = (int)(end - p);

		snprintf(file, sizeof(file), "%.*s%s%s", n, p, n ? "/" : "", name);
		e = can_exec(file);
		if (e == 0)
			return 0;
		if (e == EACCES)
			err = EACCES;
		if (!*end)
			break;
		p = end;
	}
	return err;
}

int child__check_command(const char *cmd)
{
	wordexp_t words;
	int err;

	if (wordexp(cmd, &words, WRDE_NOCMD) != 0)
		return 0; /* child__spawn_held says what is wrong with it */
	err = words.we_wordc ? find_command(words.we_wordv[0]) : 0;
	if (err)
		fprintf(stderr, "spanprobe: can't run the -c command: %s (check its path: %s)\n",
			strerror(err), words.we_wordv[0]);
	wordfree(&words);
	return err == 0 ? 0 : err == ENOENT ? 127 : 126;
}

int child__spawn_held(struct child *c, const char *cmd, bool stdout_to_stderr)
{
	int go[2] = { -1, -1 }, exec_err[2] = { -1, -1 };
	wordexp_t words;
	int err, ret;

	c->pid = -1;
	c->go_fd = c->exec_err_fd = -1;
	ret = wordexp(cmd, &words, WRDE_NOCMD);
	if (ret || words.we_wordc == 0) {
		fprintf(stderr, "spanprobe: can't parse -c '%s' (unbalanced quotes or $(...)?)\n", cmd);
		if (!ret)
			wordfree(&words);
		return -EINVAL;
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(exec_err, O_CLOEXEC)) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't start '%s': %s\n", cmd, strerror(errno));
		goto cleanup;
	}
	c->pid = fork();
	if (c->pid < 0) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't start '%s': %s\n", cmd, strerror(errno));
		goto cleanup;
	}
	if (c->pid == 0) {
		char byte;

		close(go[1]);
		close(exec_err[0]);
		/* wait for the probes; EOF (spanprobe died) means don't run at all */
		if (read(go[0], &byte, 1) != 1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		if (stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execvp(words.we_wordv[0], words.we_wordv);
		err = errno;
		if (write(exec_err[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	c->go_fd = go[1];
	c->exec_err_fd = exec_err[0];
	go[1] = exec_err[0] = -1;
	err = 0;
cleanup:
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (exec_err[i] >= 0)
			close(exec_err[i]);
	}
	if (err)
		c->pid = -1;
	wordfree(&words);
	return err;
}

int child__release(struct child *c)
{
	int child_errno;
	ssize_t n;

	if (write(c->go_fd, "g", 1) != 1) {
		fprintf(stderr, "spanprobe: can't start the command: %s\n", strerror(errno));
		return -EIO;
	}
	close(c->go_fd);
	c->go_fd = -1;
	/* closes at a successful exec (close-on-exec), or carries exec's errno */
	n = read(c->exec_err_fd, &child_errno, sizeof(child_errno));
	close(c->exec_err_fd);
	c->exec_err_fd = -1;
	if (n == sizeof(child_errno)) {
		fprintf(stderr, "spanprobe: can't run the -c command: %s (check its path)\n",
			strerror(child_errno));
		child__reap(c, true);
		return -child_errno;
	}
	return 0;
}

bool child__reap(struct child *c, bool block)
{
	int status;
	pid_t r;

	if (c->pid <= 0)
		return true;
	do {
		r = waitpid(c->pid, &status, block ? 0 : WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	if (r < 0)
		c->exit_status = 1;
	else if (WIFEXITED(status))
		c->exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		c->exit_status = 128 + WTERMSIG(status);
	c->pid = -1;
	return true;
}

void child__terminate(struct child *c)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };

	if (c->go_fd >= 0) {
		/* never released: EOF makes it exit without running the command */
		close(c->go_fd);
		c->go_fd = -1;
	}
	if (c->exec_err_fd >= 0) {
		close(c->exec_err_fd);
		c->exec_err_fd = -1;
	}
	if (c->pid <= 0)
		return;
	kill(c->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (child__reap(c, false))
			return;
		nanosleep(&tick, NULL);
	}
	kill(c->pid, SIGKILL);
	child__reap(c, true);
}
