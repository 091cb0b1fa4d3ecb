// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Finding the libpython an interpreter loads; see libpython_path.h. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "binary_path.h"
#include "in_root.h"
#include "libpython_path.h"

/* Where the official images and distributions' ld.so.conf send the loader
 * before its own directories: /usr/local/lib holds their libpython. */
static const char *const local_lib_dirs[] = { "/usr/local/lib", "/usr/local/lib64" };
#define NLOCAL (sizeof(local_lib_dirs) / sizeof(local_lib_dirs[0]))

bool libpython__is_name(const char *base)
{
	/* libpython3.<minor>[suffix].so[...] */
	return strncmp(base, "libpython3.", 11) == 0 && base[11] >= '0' && base[11] <= '9' &&
	       strstr(base, ".so") != NULL;
}

/* dir (a run path entry, $ORIGIN expanded) + "/" + name */
static int try_dir(const char *dir, size_t dir_len, const char *origin, const char *name,
		   const struct container_file *exe, struct container_file *out)
{
	char path[PATH_MAX];
	int n;

	if (dir_len >= 7 && strncmp(dir, "$ORIGIN", 7) == 0)
		n = snprintf(path, sizeof(path), "%s%.*s/%s", origin, (int)(dir_len - 7), dir + 7, name);
	else if (dir_len >= 9 && strncmp(dir, "${ORIGIN}", 9) == 0)
		n = snprintf(path, sizeof(path), "%s%.*s/%s", origin, (int)(dir_len - 9), dir + 9, name);
	else
		n = snprintf(path, sizeof(path), "%.*s/%s", (int)dir_len, dir, name);
	if (n <= 0 || n >= (int)sizeof(path) || path[0] != '/')
		return -ENOENT;
	/* in the root exe was found in: ours, or its container's, where the
	 * container's links stay inside (in_root.h) */
	return container_files__in_root_of(exe, path, out);
}

/* Each ':'-separated entry of a run path. */
static int try_run_path(const char *run_path, const char *origin, const char *name,
			const struct container_file *exe, struct container_file *out)
{
	const char *p = run_path;

	while (p && *p) {
		const char *end = strchrnul(p, ':');

		if (end > p && try_dir(p, end - p, origin, name, exe, out) == 0)
			return 0;
		p = *end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int libpython__find_needed(const struct container_file *exe, const char *inside_path,
			   char *needed, size_t needed_len, struct container_file *out)
{
	char origin[PATH_MAX], run_path[PATH_MAX] = "", rpath[PATH_MAX] = "";
	Elf_Scn *scn = NULL;
	Elf *elf = NULL;
	GElf_Shdr sh;
	char *slash;
	int fd, err = -ENOENT;

	needed[0] = 0;
	snprintf(origin, sizeof(origin), "%s", inside_path);
	slash = strrchr(origin, '/');
	if (slash)
		*(slash == origin ? slash + 1 : slash) = 0;
	elf_version(EV_CURRENT);
	fd = open(exe->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *s;

			if (!gelf_getdyn(data, i, &dyn))
				continue;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH && dyn.d_tag != DT_RPATH)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED && !needed[0] && libpython__is_name(s) &&
			    !strchr(s, '/'))
				snprintf(needed, needed_len, "%s", s);
			else if (dyn.d_tag == DT_RUNPATH)
				snprintf(run_path, sizeof(run_path), "%s", s);
			else if (dyn.d_tag == DT_RPATH)
				snprintf(rpath, sizeof(rpath), "%s", s);
		}
	}
	if (!needed[0])
		goto cleanup;
	/* DT_RPATH counts only without DT_RUNPATH, as for the loader */
	if (try_run_path(run_path[0] ? run_path : rpath, origin, needed, exe, out) == 0) {
		err = 0;
		goto cleanup;
	}
	for (size_t i = 0; i < NLOCAL + loader_default_ndirs; i++) {
		const char *dir = i < NLOCAL ? local_lib_dirs[i] : loader_default_dirs[i - NLOCAL];

		if (try_dir(dir, strlen(dir), origin, needed, exe, out) == 0) {
			err = 0;
			goto cleanup;
		}
	}
cleanup:
	elf_end(elf);
	close(fd);
	return err;
}

/* A mapped file's path names a libpython3.X.so (not a file since deleted). */
static bool names_libpython(const char *path, void *ctx)
{
	(void)ctx;
	return !strstr(path, " (deleted)") && libpython__is_name(strrchr(path, '/') + 1);
}

int libpython__find_mapped(pid_t pid, char *inside_path, size_t len, struct container_file *out)
{
	int err;

	err = container_files__mapped(pid, 0, names_libpython, NULL, out);
	if (err)
		return err == -EPERM ? -EACCES : err;
	snprintf(inside_path, len, "%s", container_file__inside(out));
	if (!container_files__shares_our_root(pid))
		return 0;
	/* a process of our own root: its paths mean what they mean here */
	snprintf(out->display, sizeof(out->display), "%s", inside_path);
	if (out->root_fd >= 0)
		close(out->root_fd);
	out->root_fd = IN_ROOT_HOST;
	out->pid = 0;
	out->start_time = 0;
	return 0;
}
