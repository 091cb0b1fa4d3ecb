// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "selection.h"

struct selection {
	char **exe_globs;
	size_t nexe_globs;
	selection_fn predicate;
	void *predicate_ctx;
};

struct selection *selection__new(void)
{
	return calloc(1, sizeof(struct selection));
}

int selection__add_exe(struct selection *s, const char *glob)
{
	char **grown;

	if (!glob[0]) {
		fprintf(stderr, "spanprobe: --exe needs a path or name glob (e.g. --exe '*/demo-app')\n");
		return -EINVAL;
	}
	grown = realloc(s->exe_globs, (s->nexe_globs + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->exe_globs = grown;
	s->exe_globs[s->nexe_globs] = strdup(glob);
	if (!s->exe_globs[s->nexe_globs])
		return -ENOMEM;
	s->nexe_globs++;
	return 0;
}

void selection__set_predicate(struct selection *s, selection_fn fn, void *ctx)
{
	s->predicate = fn;
	s->predicate_ctx = ctx;
}

bool selection__active(const struct selection *s)
{
	return s && (s->nexe_globs || s->predicate);
}

/* The executable's path as the process sees it ("(deleted)" cut). */
static int read_exe(pid_t pid, char *out, size_t len)
{
	static const char deleted[] = " (deleted)";
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, out, len - 1);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	if ((size_t)n > sizeof(deleted) - 1 && strcmp(out + n - (sizeof(deleted) - 1), deleted) == 0)
		out[n - (sizeof(deleted) - 1)] = '\0';
	return 0;
}

int selection__decide(const struct selection *s, pid_t pid, char *why, size_t why_len)
{
	char exe[4096];
	int err;

	err = read_exe(pid, exe, sizeof(exe));
	if (err) {
		snprintf(why, why_len, "its executable can't be read (%s)", strerror(-err));
		return err == -ENOENT || err == -ESRCH ? -ESRCH : 0;
	}
	if (s->nexe_globs) {
		const char *base = strrchr(exe, '/');
		size_t i;

		base = base ? base + 1 : exe;
		for (i = 0; i < s->nexe_globs; i++)
			if (fnmatch(s->exe_globs[i], strchr(s->exe_globs[i], '/') ? exe : base, 0) == 0)
				break;
		if (i == s->nexe_globs) {
			snprintf(why, why_len, "%s matches no --exe", exe);
			return 0;
		}
		snprintf(why, why_len, "%s matches --exe '%s'", exe, s->exe_globs[i]);
	} else {
		snprintf(why, why_len, "%s", exe);
	}
	if (s->predicate) {
		size_t used = strlen(why);

		if (used + 2 < why_len) {
			why[used++] = ';';
			why[used++] = ' ';
		}
		return s->predicate(s->predicate_ctx, pid, why + used, why_len - used);
	}
	return 1;
}

void selection__free(struct selection *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nexe_globs; i++)
		free(s->exe_globs[i]);
	free(s->exe_globs);
	free(s);
}
