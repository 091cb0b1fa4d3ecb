// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "container_files.h"

static int stat_file(const char *open_path, pid_t pid, struct container_file *out)
{
	struct stat st;

	if (stat(open_path, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	snprintf(out->open_path, sizeof(out->open_path), "%s", open_path);
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->pid = pid;
	return 0;
}

int container_files__in_process(const char *path, pid_t pid, struct container_file *out)
{
	char open_path[PATH_MAX];

	if (snprintf(open_path, sizeof(open_path), "/proc/%d/root%s", pid, path) >= (int)sizeof(open_path))
		return -ENAMETOOLONG;
	return stat_file(open_path, pid, out);
}

static bool seen_file(const struct container_file *files, size_t n, const struct container_file *f)
{
	for (size_t i = 0; i < n; i++)
		if (files[i].dev == f->dev && files[i].ino == f->ino)
			return true;
	return false;
}

static bool seen_ns(const ino_t *list, size_t n, ino_t ns)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == ns)
			return true;
	return false;
}

static int push(struct container_file **files, size_t *n, const struct container_file *f)
{
	struct container_file *grown;

	if (seen_file(*files, *n, f))
		return 0;
	grown = realloc(*files, (*n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	*files = grown;
	(*files)[(*n)++] = *f;
	return 0;
}

int container_files__find(const char *path, pid_t pid, struct container_file **out)
{
	struct container_file *files = NULL, f;
	ino_t *namespaces = NULL;
	size_t nfiles = 0, nns = 0;
	struct dirent *de;
	struct stat st;
	DIR *proc = NULL;
	int err = 0;

	*out = NULL;
	if (path[0] != '/')
		return -EINVAL;
	if (pid > 0) {
		if (container_files__in_process(path, pid, &f) == 0)
			err = push(&files, &nfiles, &f);
		goto done;
	}
	if (stat_file(path, 0, &f) == 0 && (err = push(&files, &nfiles, &f)))
		goto done;
	/* our own mount namespace was just searched */
	if (stat("/proc/self/ns/mnt", &st) == 0) {
		namespaces = malloc(sizeof(*namespaces));
		if (!namespaces) {
			err = -ENOMEM;
			goto done;
		}
		namespaces[nns++] = st.st_ino;
	}
	proc = opendir("/proc");
	if (!proc)
		goto done; /* no /proc: our namespace is all we can see */
	while ((de = readdir(proc)) != NULL) {
		char ns_path[64];
		ino_t *grown;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(ns_path, sizeof(ns_path), "/proc/%s/ns/mnt", de->d_name);
		if (stat(ns_path, &st) != 0 || seen_ns(namespaces, nns, st.st_ino))
			continue;
		grown = realloc(namespaces, (nns + 1) * sizeof(*grown));
		if (!grown) {
			err = -ENOMEM;
			goto done;
		}
		namespaces = grown;
		namespaces[nns++] = st.st_ino;
		if (container_files__in_process(path, atoi(de->d_name), &f) == 0 &&
		    (err = push(&files, &nfiles, &f)))
			goto done;
	}
done:
	if (proc)
		closedir(proc);
	free(namespaces);
	if (err) {
		free(files);
		return err;
	}
	*out = files;
	return (int)nfiles;
}
