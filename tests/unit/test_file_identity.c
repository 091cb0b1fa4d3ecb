// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* file_identity: one lower-layer file seen through two overlay mounts (two
 * containers of one image) is one file, though stat shows two devices; a
 * file copied up into one mount's upper layer, or another file, is not. The
 * mounts are made in a private mount namespace of this test process. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_identity.h"
#include "unit.h"

static char dir[] = "/tmp/spanprobe-fid.XXXXXX";
static const char *skip_why; /* set: the overlay tests can't run here */

static void path_of(char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%s/%s", dir, rel);
}

static int write_file(const char *rel, const char *text)
{
	char p[256];
	int fd, ok;

	path_of(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0)
		return -errno;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -EIO;
}

static int mount_overlay(const char *name)
{
	char merged[256], opts[1024];

	snprintf(opts, sizeof(opts), "lowerdir=%s/lower,upperdir=%s/%s-upper,workdir=%s/%s-work",
		 dir, dir, name, dir, name);
	path_of(merged, sizeof(merged), name);
	return mount("overlay", merged, "overlay", 0, opts) ? -errno : 0;
}

static void setup(void)
{
	static const char *dirs[] = { "lower", "a", "a-upper", "a-work", "b", "b-upper", "b-work" };
	char p[256];

	if (!mkdtemp(dir)) {
		skip_why = "mkdtemp failed";
		return;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		path_of(p, sizeof(p), dirs[i]);
		mkdir(p, 0755);
	}
	if (write_file("lower/app", "one build\n") || write_file("lower/other", "another file\n")) {
		skip_why = "can't write the lower layer";
		return;
	}
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		skip_why = "no private mount namespace (needs root)";
		return;
	}
	if (mount_overlay("a") || mount_overlay("b"))
		skip_why = "overlayfs can't be mounted here";
}

static void id_of(const char *rel, struct file_identity *id)
{
	char p[256];

	path_of(p, sizeof(p), rel);
	CHECK_INT(file_identity__of(p, id), 0);
}

static void test_one_lower_file_through_two_mounts(void)
{
	struct file_identity a, b;

	id_of("a/app", &a);
	id_of("b/app", &b);
	CHECK(a.dev != b.dev);          /* what (st_dev, st_ino) got wrong */
	CHECK(a.overlay);
	CHECK(a.handle_len > 0);        /* the overlay's handle is used */
	CHECK(file_identity__same(&a, &b));
}

/* without the handle (a seccomp profile refusing name_to_handle_at) */
static void test_fallback_without_handle(void)
{
	struct file_identity a, b, other;

	id_of("a/app", &a);
	id_of("b/app", &b);
	id_of("a/other", &other);
	a.handle_len = b.handle_len = other.handle_len = 0;
	CHECK(file_identity__same(&a, &b));
	CHECK(!file_identity__same(&a, &other));
}

static void test_other_file_differs(void)
{
	struct file_identity a, other;

	id_of("a/app", &a);
	id_of("b/other", &other);
	CHECK(!file_identity__same(&a, &other));
}

static void test_copied_up_file_differs(void)
{
	struct file_identity a, b;
	char p[256];
	int fd;

	/* a write copies b's file up: b now runs its own inode */
	path_of(p, sizeof(p), "b/app");
	fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, "x", 1) == 1);
		close(fd);
	}
	id_of("a/app", &a);
	id_of("b/app", &b);
	CHECK(!file_identity__same(&a, &b));
}

static void test_plain_file_by_dev_and_ino(void)
{
	struct file_identity x, y;

	id_of("lower/app", &x);
	id_of("lower/../lower/app", &y);
	CHECK_INT(x.handle_len, 0);
	CHECK(!x.overlay);
	CHECK(file_identity__same(&x, &y));
}

static void test_missing_file(void)
{
	struct file_identity id;

	CHECK_INT(file_identity__of("/nonexistent/spanprobe/file", &id), -ENOENT);
}

static void cleanup(void)
{
	char cmd[512], p[256];

	path_of(p, sizeof(p), "a");
	umount(p);
	path_of(p, sizeof(p), "b");
	umount(p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "can't remove %s\n", dir);
}

int main(void)
{
	unit_prog = "test_file_identity";
	setup();
	RUN(test_missing_file);
	if (skip_why) {
		printf("SKIP %s.overlay: %s\n", unit_prog, skip_why);
	} else {
		RUN(test_one_lower_file_through_two_mounts);
		RUN(test_other_file_differs);
		RUN(test_fallback_without_handle);
		RUN(test_plain_file_by_dev_and_ino);
		RUN(test_copied_up_file_differs);
	}
	cleanup();
	return unit_exit();
}
