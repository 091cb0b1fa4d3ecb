// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "container_files.h"
#include "container_root.h"
#include "in_root.h"

static void file_init(struct container_file *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->root_fd = IN_ROOT_HOST;
}

void container_file__close(struct container_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->root_fd >= 0)
		close(f->root_fd);
	f->fd = -1;
	f->root_fd = IN_ROOT_HOST;
}

const char *container_file__inside(const struct container_file *f)
{
	char prefix[64];
	int n;

	if (f->pid <= 0)
		return f->display;
	n = snprintf(prefix, sizeof(prefix), "/proc/%d/root", (int)f->pid);
	return strncmp(f->display, prefix, n) == 0 ? f->display + n : f->display;
}

void container_files__free(struct container_file *files, int n)
{
	for (int i = 0; files && i < n; i++)
		container_file__close(&files[i]);
	free(files);
}

/* f holds fd (and, for a container, a copy of its root's fd). */
static int file_fill(struct container_file *f, int fd, const struct stat *st,
		     const struct container_root *r, const char *path)
{
	f->fd = fd;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	maps_identity__of(fd, st, &f->maps);
	snprintf(f->open_path, sizeof(f->open_path), "/proc/self/fd/%d", fd);
	if (!r) {
		snprintf(f->display, sizeof(f->display), "%s", path);
		return 0;
	}
	f->pid = r->proc.pid;
	f->start_time = r->proc.start_time;
	snprintf(f->display, sizeof(f->display), "/proc/%d/root%s", (int)r->proc.pid, path);
	f->root_fd = fcntl(r->dir_fd, F_DUPFD_CLOEXEC, 0);
	if (f->root_fd < 0) {
		int err = -errno;

		f->root_fd = IN_ROOT_HOST;
		container_file__close(f);
		return err;
	}
	return 0;
}

/* The file at path in r's root, while r's process lives. */
static int lookup_in_root(const struct container_root *r, const char *path, struct container_file *out)
{
	struct stat st;
	int fd, err;

	file_init(out);
	fd = container_root__open_file(r, path, &st);
	if (fd < 0)
		return fd;
	/* the process lived through the lookup: the file is its container's */
	err = container_root__check(r);
	if (err) {
		close(fd);
		return err;
	}
	return file_fill(out, fd, &st, r, path);
}

int container_files__in_process_at(const char *path, pid_t pid, uint64_t start_time,
				   struct container_file *out)
{
	struct container_root r;
	int err;

	file_init(out);
	if (path[0] != '/')
		return -EINVAL;
	err = container_root__open(pid, start_time, &r);
	if (err)
		return err;
	err = lookup_in_root(&r, path, out);
	container_root__close(&r);
	return err;
}

int container_files__in_process(const char *path, pid_t pid, struct container_file *out)
{
	return container_files__in_process_at(path, pid, 0, out);
}

int container_files__here(const char *path, struct container_file *out)
{
	struct stat st;
	int fd;

	file_init(out);
	fd = in_root__open(IN_ROOT_HOST, path, &st);
	if (fd < 0)
		return fd;
	return file_fill(out, fd, &st, NULL, path);
}

int container_files__in_root_of(const struct container_file *base, const char *path,
				struct container_file *out)
{
	struct stat st;
	int fd;

	file_init(out);
	if (path[0] != '/')
		return -EINVAL;
	fd = in_root__open(base->root_fd, path, &st);
	if (fd < 0)
		return fd;
	out->fd = fd;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	maps_identity__of(fd, &st, &out->maps);
	out->pid = base->pid;
	out->start_time = base->start_time;
	snprintf(out->open_path, sizeof(out->open_path), "/proc/self/fd/%d", fd);
	if (base->root_fd == IN_ROOT_HOST) {
		snprintf(out->display, sizeof(out->display), "%s", path);
		return 0;
	}
	snprintf(out->display, sizeof(out->display), "/proc/%d/root%s", (int)base->pid, path);
	out->root_fd = fcntl(base->root_fd, F_DUPFD_CLOEXEC, 0);
	if (out->root_fd < 0) {
		int err = -errno;

		out->root_fd = IN_ROOT_HOST;
		container_file__close(out);
		return err;
	}
	return 0;
}

struct found {
	struct container_file *files;
	size_t n;
	struct root_key *roots;
	size_t nroots;
	int own_err;         /* our root's lookup: 0, or why the path can't be used here */
	size_t nrefused;     /* other roots where the path is there but can't be used */
	int refused_err;     /* the first one's reason, */
	pid_t refused_pid;   /* and a process of it */
};

static bool seen_file(const struct found *s, const struct container_file *f)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->files[i].dev == f->dev && s->files[i].ino == f->ino)
			return true;
	return false;
}

static bool seen_root(const struct found *s, const struct root_key *k)
{
	for (size_t i = 0; i < s->nroots; i++)
		if (root_key__same(&s->roots[i], k))
			return true;
	return false;
}

static int add_root(struct found *s, const struct root_key *k)
{
	struct root_key *grown = realloc(s->roots, (s->nroots + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	s->roots = grown;
	s->roots[s->nroots++] = *k;
	return 0;
}

/* Keeps f (taking its descriptors) unless the same file is there already. */
static int add_file(struct found *s, struct container_file *f)
{
	struct container_file *grown;

	if (seen_file(s, f)) {
		container_file__close(f);
		return 0;
	}
	grown = realloc(s->files, (s->n + 1) * sizeof(*grown));
	if (!grown) {
		container_file__close(f);
		return -ENOMEM;
	}
	s->files = grown;
	s->files[s->n++] = *f;
	return 0;
}

/* A path that is there but can't be used, as opposed to not there. */
static bool refused(int err)
{
	return err != -ENOENT && err != -ENOTDIR && err != -ENAMETOOLONG && err != -ESRCH &&
	       err != -ENOMEM;
}

/* The path is there in another root but can't be used: noted, and said
 * in one line for all of them once the search is over (a node runs many
 * containers of one image). */
static void note_refused(struct found *s, pid_t pid, int err)
{
	if (!s->nrefused++) {
		s->refused_err = err;
		s->refused_pid = pid;
	}
}

/* Said unless nothing was found anywhere and our own root refuses the path
 * too: the caller's one error line then says it all. */
static void warn_refused(const struct found *s, const char *path)
{
	if (!s->nrefused || (!s->n && s->own_err && s->own_err != -ENOENT && s->own_err != -ENOTDIR))
		return;
	if (s->nrefused == 1)
		fprintf(stderr, "spanprobe: warning: %s in the root of process %d: %s (looked up "
			"inside that container; a link leaving it is followed only within it); not "
			"traced there\n", path, (int)s->refused_pid, in_root__strerror(s->refused_err));
	else
		fprintf(stderr, "spanprobe: warning: %s in the roots of %zu processes (process %d "
			"among them): %s (looked up inside each container; a link leaving it is "
			"followed only within it); not traced there\n", path, s->nrefused,
			(int)s->refused_pid, in_root__strerror(s->refused_err));
}

/* Our own root: the path as spanprobe's user means it, symlinks and all. */
static int search_own_root(struct found *s, const char *path)
{
	struct container_file f;
	struct stat st;
	int fd;

	file_init(&f);
	fd = in_root__open(IN_ROOT_HOST, path, &st);
	if (fd < 0) {
		s->own_err = fd;
		return 0; /* the caller says why when nothing is found anywhere */
	}
	file_fill(&f, fd, &st, NULL, path);
	return add_file(s, &f);
}

/* Without CAP_SYS_PTRACE the roots of other users' processes (every
 * container's) can't be opened: said once, or spanprobe would look ready
 * and trace nothing. */
/* May trace (CAP_BPF or CAP_SYS_ADMIN: without, the privilege check says
 * what is missing) but not look into other processes (CAP_SYS_PTRACE)? */
static bool lacks_only_sys_ptrace(void)
{
	unsigned long long eff = 0;
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false; /* can't tell: say nothing */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff & (1ULL << 39 | 1ULL << 21)) /* CAP_BPF, CAP_SYS_ADMIN */ &&
	       !(eff & (1ULL << 19)); /* CAP_SYS_PTRACE */
}

static void warn_denied(size_t denied)
{
	static bool warned;

	/* with CAP_SYS_PTRACE a refusal is the process's own doing (another
	 * user namespace's init, say), not something to grant */
	if (!denied || warned || !lacks_only_sys_ptrace())
		return;
	warned = true;
	fprintf(stderr, "spanprobe: warning: no access to the root directory of %zu processes "
		"(/proc/PID/root: permission denied): paths inside their containers are not "
		"searched (grant CAP_SYS_PTRACE)\n", denied);
}

/* Every other root of a live process, each looked at once, however many
 * processes share it; a chroot inside a container is a root of its own. */
static int search_other_roots(struct found *s, const char *path)
{
	struct container_root r;
	struct container_file f;
	struct root_key own;
	struct dirent *de;
	size_t denied = 0;
	DIR *proc;
	int err = 0;

	if (root_key__of(getpid(), &own) == 0 && (err = add_root(s, &own)))
		return err;
	proc = opendir("/proc");
	if (!proc)
		return 0; /* no /proc: our root is all we can see */
	while ((de = readdir(proc)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		int open_err = container_root__open(atoi(de->d_name), 0, &r);

		if (open_err == -EPERM)
			denied++;
		if (open_err)
			continue; /* gone, a kernel thread's, or not ours to look into */
		if (seen_root(s, &r.key)) {
			container_root__close(&r);
			continue;
		}
		err = lookup_in_root(&r, path, &f);
		if (err == -ESRCH) {
			/* gone meanwhile: another process may still show that root */
			container_root__close(&r);
			err = 0;
			continue;
		}
		if (err == 0)
			err = add_file(s, &f);
		else if (refused(err))
			note_refused(s, r.proc.pid, err);
		if (err != -ENOMEM)
			err = add_root(s, &r.key);
		container_root__close(&r);
		if (err == -ENOMEM)
			break;
		err = 0;
	}
	closedir(proc);
	warn_denied(denied);
	return err;
}

int container_files__find(const char *path, pid_t pid, struct container_file **out)
{
	struct found s = { 0 };
	struct container_file f;
	int err;

	*out = NULL;
	if (path[0] != '/')
		return -EINVAL;
	if (pid > 0) {
		err = container_files__in_process(path, pid, &f);
		if (err == -ENOENT || err == -ENOTDIR)
			return 0;
		if (err)
			return err;
		err = add_file(&s, &f);
	} else {
		err = search_own_root(&s, path);
		if (!err)
			err = search_other_roots(&s, path);
		if (!err)
			warn_refused(&s, path);
	}
	free(s.roots);
	if (err) {
		container_files__free(s.files, (int)s.n);
		return err;
	}
	*out = s.files;
	return (int)s.n;
}

bool container_files__shares_our_root(pid_t pid)
{
	struct root_key ours, theirs;

	return root_key__of(getpid(), &ours) == 0 && root_key__of(pid, &theirs) == 0 &&
	       root_key__same(&ours, &theirs);
}

/* A maps path as the process sees it: the kernel writes it relative to
 * our root, so a root that is a directory of ours (a chroot) shows as a
 * prefix to take off. */
static const char *path_in_root(const char *path, const char *root_prefix)
{
	size_t n = strlen(root_prefix);

	if (n > 1 && strncmp(path, root_prefix, n) == 0 && path[n] == '/')
		return path + n;
	return path;
}

int container_files__mapped(pid_t pid, uint64_t start_time,
			    bool (*match)(const char *path, void *ctx), void *ctx,
			    struct container_file *out)
{
	char maps[64], line[PATH_MAX + 128], prefix[PATH_MAX];
	struct container_root r;
	FILE *f = NULL;
	ssize_t n;
	int err;

	file_init(out);
	err = container_root__open(pid, start_time, &r);
	if (err)
		return err;
	snprintf(maps, sizeof(maps), "/proc/%d/root", (int)pid);
	n = readlink(maps, prefix, sizeof(prefix) - 1);
	prefix[n > 0 ? n : 0] = '\0';
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	err = f ? -ENOENT : -ESRCH;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long ino;
		unsigned int maj, min;
		const char *path;
		struct maps_identity id;
		struct stat st;
		int pos = 0, fd;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%*llx-%*llx %*s %*llx %x:%x %llu %n", &maj, &min, &ino, &pos) < 3 ||
		    !pos || line[pos] != '/')
			continue;
		path = path_in_root(line + pos, prefix);
		if (!match(path, ctx))
			continue;
		fd = container_root__open_file(&r, path, &st);
		if (fd < 0)
			continue;
		maps_identity__of(fd, &st, &id);
		if (!maps_identity__is(&id, maj, min, ino)) {
			close(fd); /* another file at that path by now */
			continue;
		}
		err = container_root__check(&r);
		if (err) {
			close(fd);
			break;
		}
		err = file_fill(out, fd, &st, &r, path);
		break;
	}
	if (f)
		fclose(f);
	container_root__close(&r);
	return err;
}
