// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Pod uid and container id from the cgroup paths the kubelet and the
 * container runtimes create:
 *   cgroupfs driver  /kubepods[/besteffort|/burstable]/pod<uid>/<container>
 *   systemd driver   /kubepods.slice[/kubepods-<qos>.slice]
 *                    /kubepods[-<qos>]-pod<uid, '-' as '_'>.slice/<container>
 * (a kubelet with another --cgroup-root puts a prefix before "kubepods", e.g.
 * kind's /kubelet.slice/kubelet-kubepods.slice/...), where <container> is
 *   <id>                          containerd and Docker, cgroupfs
 *   crio-<id>                     CRI-O, cgroupfs
 *   cri-containerd-<id>.scope     containerd, systemd
 *   crio-<id>.scope               CRI-O, systemd
 *   docker-<id>.scope             Docker (cri-dockerd), systemd
 *   crio-conmon-<id>[.scope]      CRI-O's monitor process: in no container.
 * A reader in a cgroup namespace sees paths outside it as leading "/..".
 *
 * The path is the kernel's, but a process allowed to create cgroups (a
 * container with a writable cgroupfs, a user's delegated systemd subtree)
 * can make one named like a pod's below its own. So the outermost pod
 * component counts, its container is the component right below it, and a
 * path in systemd's user.slice (where unprivileged users get delegation)
 * never names a pod. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pod_cgroup.h"

struct component {
	const char *s;
	size_t len;
};

#define MAX_COMPONENTS 64
#define UID_LEN 36
#define ID_LEN 64

static bool component_is(const struct component *c, const char *word)
{
	return c->len == strlen(word) && memcmp(c->s, word, c->len) == 0;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A canonical lowercase uuid whose four separators are sep ('-' in cgroupfs
 * names, '_' in systemd unit names, which reserve '-' for nesting). */
static bool parse_uid(const char *s, size_t len, char sep, char out[37])
{
	if (len != UID_LEN)
		return false;
	for (size_t i = 0; i < UID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != sep : !is_lower_hex(s[i]))
			return false;
		out[i] = dash ? '-' : s[i];
	}
	out[UID_LEN] = '\0';
	return true;
}

static bool is_container_id(const char *s, size_t len)
{
	if (len != ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_lower_hex(s[i]))
			return false;
	}
	return true;
}

/* cgroupfs: "pod<uid>" right below "kubepods" or "kubepods/<qos>" (either
 * may be hidden behind the "/.." of the reader's cgroup namespace). */
static bool cgroupfs_pod(const struct component *c, int i, char uid[37])
{
	if (!has_prefix(c[i].s, c[i].len, "pod") ||
	    !parse_uid(c[i].s + 3, c[i].len - 3, '-', uid) || i == 0)
		return false;
	if (component_is(&c[i - 1], "kubepods") || component_is(&c[i - 1], ".."))
		return true;
	return i >= 2 && (component_is(&c[i - 2], "kubepods") || component_is(&c[i - 2], "..")) &&
	       (component_is(&c[i - 1], "besteffort") || component_is(&c[i - 1], "burstable"));
}

/* systemd: "<P>kubepods[-<qos>]-pod<uid>.slice" inside its parent slice
 * "<P>kubepods[-<qos>].slice" (systemd nests slices by name), or right
 * below a "/.." the reader's cgroup namespace hides the parent behind. */
static bool systemd_pod(const struct component *c, int i, char uid[37])
{
	static const char suffix[] = ".slice";
	const size_t suffix_len = sizeof(suffix) - 1;
	const char *s = c[i].s;
	size_t len = c[i].len, base;
	const char *kp;

	if (!has_suffix(s, len, suffix) || len < 4 + UID_LEN + suffix_len)
		return false;
	base = len - suffix_len - UID_LEN - 4; /* where "-pod" must start */
	if (memcmp(s + base, "-pod", 4) != 0 || !parse_uid(s + base + 4, UID_LEN, '_', uid))
		return false;
	/* The unit name before "-pod" ends in "kubepods" or "kubepods-<qos>". */
	kp = memmem(s, base, "kubepods", 8);
	if (!kp)
		return false;
	{
		const char *rest = kp + 8;
		size_t rest_len = (size_t)(s + base - rest);

		if (!(rest_len == 0 || (rest_len == 11 && memcmp(rest, "-besteffort", 11) == 0) ||
		      (rest_len == 10 && memcmp(rest, "-burstable", 10) == 0)))
			return false;
	}
	if (i == 0)
		return false;
	if (component_is(&c[i - 1], ".."))
		return true;
	return c[i - 1].len == base + suffix_len && memcmp(c[i - 1].s, s, base) == 0 &&
	       memcmp(c[i - 1].s + base, suffix, suffix_len) == 0;
}

/* The container id in the component below the pod's; false for the
 * runtime's own processes and for names no runtime writes. */
static bool container_of(const struct component *c, char id[65])
{
	static const char *const prefixes[] = { "cri-containerd-", "crio-", "docker-", "" };
	const char *s = c->s;
	size_t len = c->len;

	if (has_suffix(s, len, ".scope"))
		len -= 6;
	if (has_prefix(s, len, "crio-conmon-"))
		return false;
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		size_t n = strlen(prefixes[p]);

		if (has_prefix(s, len, prefixes[p]) && is_container_id(s + n, len - n)) {
			memcpy(id, s + n, ID_LEN);
			id[ID_LEN] = '\0';
			return true;
		}
	}
	return false;
}

/* One cgroup path: 0 (pod found), -ENOENT (none). */
static int parse_path(const char *path, size_t path_len, struct pod_cgroup_ids *out)
{
	struct component c[MAX_COMPONENTS];
	const char *p = path, *end = path + path_len;
	int n = 0, first = 0;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash ? slash : end;

		if (stop > p) {
			if (n == MAX_COMPONENTS)
				return -ENOENT; /* deeper than any kubelet path */
			c[n].s = p;
			c[n].len = (size_t)(stop - p);
			n++;
		}
		p = stop + 1;
	}
	while (first < n && component_is(&c[first], ".."))
		first++;
	if (first < n && component_is(&c[first], "user.slice"))
		return -ENOENT;
	for (int i = first; i < n; i++) {
		if (!cgroupfs_pod(c, i, out->pod_uid) && !systemd_pod(c, i, out->pod_uid))
			continue;
		if (i + 1 < n && !container_of(&c[i + 1], out->container_id))
			out->container_id[0] = '\0';
		return 0;
	}
	out->pod_uid[0] = '\0';
	return -ENOENT;
}

int pod_cgroup__parse(const char *text, struct pod_cgroup_ids *out)
{
	struct pod_cgroup_ids line_ids;
	bool found = false;
	const char *line = text;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		/* "ID:CONTROLLERS:PATH"; the path itself may hold ':'. */
		const char *c1 = memchr(line, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;

		if (c2 && parse_path(c2 + 1, len - (size_t)(c2 + 1 - line), &line_ids) == 0) {
			if (!found) {
				*out = line_ids;
				found = true;
			} else if (strcmp(out->pod_uid, line_ids.pod_uid) != 0 ||
				   (out->container_id[0] && line_ids.container_id[0] &&
				    strcmp(out->container_id, line_ids.container_id) != 0)) {
				memset(out, 0, sizeof(*out));
				return -EINVAL;
			} else if (!out->container_id[0]) {
				memcpy(out->container_id, line_ids.container_id, sizeof(out->container_id));
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return found ? 0 : -ENOENT;
}

int pod_cgroup__read(pid_t pid, struct pod_cgroup_ids *out)
{
	char path[64], buf[16384];
	ssize_t len = 0, n;
	int fd, err;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((size_t)len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	buf[len] = '\0';
	return pod_cgroup__parse(buf, out);
}
