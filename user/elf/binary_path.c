// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Resolving a probe's BINARY: PATH for programs, the loader's directories
 * (LD_LIBRARY_PATH, ld.so.conf with its includes, the multiarch defaults)
 * for libraries, with or without "lib" and a version suffix. */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binary_path.h"

const char *const loader_default_dirs[] = {
	"/lib/" LOADER_MULTIARCH, "/usr/lib/" LOADER_MULTIARCH, "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};
const size_t loader_default_ndirs = sizeof(loader_default_dirs) / sizeof(loader_default_dirs[0]);

#define MAX_LIB_DIRS 64

struct dir_list {
	char *dirs[MAX_LIB_DIRS];
	size_t n;
};

static void dir_list__add(struct dir_list *l, const char *dir, size_t len)
{
	size_t i;

	if (len == 0 || dir[0] != '/' || l->n == MAX_LIB_DIRS)
		return;
	for (i = 0; i < l->n; i++)
		if (strlen(l->dirs[i]) == len && strncmp(l->dirs[i], dir, len) == 0)
			return;
	l->dirs[l->n] = strndup(dir, len);
	if (l->dirs[l->n])
		l->n++;
}

/* Reads an ld.so.conf-style file: directory lines and "include GLOB". */
static void read_ld_so_conf(struct dir_list *l, const char *path, int depth)
{
	char line[PATH_MAX];
	FILE *f;

	if (depth > 2)
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		end = strchr(p, '#');
		if (end)
			*end = '\0';
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (strncmp(p, "include", 7) == 0 && isspace((unsigned char)p[7])) {
			glob_t g;
			size_t i;

			p += 8;
			while (isspace((unsigned char)*p))
				p++;
			if (glob(p, 0, NULL, &g) == 0) {
				for (i = 0; i < g.gl_pathc; i++)
					read_ld_so_conf(l, g.gl_pathv[i], depth + 1);
			}
			globfree(&g);
			continue;
		}
		dir_list__add(l, p, strlen(p));
	}
	fclose(f);
}

static void dir_list__free(struct dir_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->dirs[i]);
	l->n = 0;
}

static bool is_elf_file(const char *path)
{
	unsigned char magic[4];
	struct stat st;
	bool ok;
	int fd;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, ELFMAG, SELFMAG) == 0;
	close(fd);
	return ok;
}

static int copy_realpath(const char *path, char *out, size_t out_len)
{
	char *real = realpath(path, NULL);
	int err = 0;

	if (!real)
		return -errno;
	if (strlen(real) >= out_len)
		err = -ENAMETOOLONG;
	else
		strcpy(out, real);
	free(real);
	return err;
}

static bool find_on_path(const char *name, char *found, size_t found_len)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		size_t len;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if ((size_t)snprintf(found, found_len, "%.*s/%s", (int)(len ? len : 1),
				     len ? p : ".", name) < found_len &&
		    stat(found, &st) == 0 && S_ISREG(st.st_mode) && access(found, X_OK) == 0)
			return true;
		if (!*end)
			return false;
	}
}

/* The highest version among dir/NAME.so* and dir/libNAME.so* ELF files. */
static bool find_versioned(const char *dir, const char *name, char *found, size_t found_len)
{
	static const char *const patterns[] = { "%s/%s.so*", "%s/lib%s.so*" };
	const char *best = NULL;
	glob_t g[2];
	bool have[2] = { false, false }, ok = false;
	char pattern[PATH_MAX];
	size_t i, j;

	for (i = 0; i < 2; i++) {
		if ((size_t)snprintf(pattern, sizeof(pattern), patterns[i], dir, name) >=
		    sizeof(pattern))
			continue;
		have[i] = glob(pattern, 0, NULL, &g[i]) == 0;
		if (!have[i])
			continue;
		for (j = 0; j < g[i].gl_pathc; j++) {
			const char *c = g[i].gl_pathv[j];

			if (best && strverscmp(strrchr(c, '/'), strrchr(best, '/')) <= 0)
				continue;
			if (is_elf_file(c))
				best = c;
		}
	}
	if (best && strlen(best) < found_len) {
		strcpy(found, best);
		ok = true;
	}
	for (i = 0; i < 2; i++)
		if (have[i])
			globfree(&g[i]);
	return ok;
}

int resolve_binary_path(const char *name, char *out, size_t out_len)
{
	struct dir_list dirs = { .n = 0 };
	char found[PATH_MAX];
	const char *env, *p, *end;
	size_t i;
	int err = -ENOENT;

	if (!name || !*name || !out || out_len == 0)
		return -EINVAL;
	if (strchr(name, '/'))
		return copy_realpath(name, out, out_len);
	if (find_on_path(name, found, sizeof(found)))
		return copy_realpath(found, out, out_len);

	env = getenv("LD_LIBRARY_PATH");
	for (p = env; p && *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ":;");
		dir_list__add(&dirs, p, (size_t)(end - p));
	}
	read_ld_so_conf(&dirs, "/etc/ld.so.conf", 0);
	for (i = 0; i < loader_default_ndirs; i++)
		dir_list__add(&dirs, loader_default_dirs[i], strlen(loader_default_dirs[i]));

	for (i = 0; i < dirs.n; i++) {
		if ((size_t)snprintf(found, sizeof(found), "%s/%s", dirs.dirs[i], name) <
			    sizeof(found) &&
		    is_elf_file(found)) {
			err = copy_realpath(found, out, out_len);
			goto cleanup;
		}
	}
	if (strpbrk(name, "*?[\\"))
		goto cleanup; /* no globbing on a name that is itself a pattern */
	for (i = 0; i < dirs.n; i++) {
		if (find_versioned(dirs.dirs[i], name, found, sizeof(found))) {
			err = copy_realpath(found, out, out_len);
			goto cleanup;
		}
	}
cleanup:
	dir_list__free(&dirs);
	return err;
}
