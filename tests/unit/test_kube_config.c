// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kube_config: the API server's address from a pod's environment (IPv4,
 * IPv6, missing or malformed), explicit URLs, and the token file as the
 * kubelet writes it (re-read each time, one token, no blanks). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube_config.h"
#include "unit.h"

static char dir[] = "/tmp/spanprobe-kube-config.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_in_cluster(void)
{
	static const struct {
		const char *host, *port; /* NULL: unset */
		int want_err;
		const char *want_server;
	} rows[] = {
		{ "10.96.0.1", "443", 0, "https://10.96.0.1:443" },
		{ "fd00:10:96::1", "443", 0, "https://[fd00:10:96::1]:443" },
		{ NULL, "443", -ENOENT, NULL },
		{ "10.96.0.1", NULL, -ENOENT, NULL },
		{ "", "443", -ENOENT, NULL },
		{ "evil.example/x?", "443", -EINVAL, NULL },
		{ "10.96.0.1", "44a", -EINVAL, NULL },
	};
	struct kube_config cfg;
	char err[256];

	write_file("token", "tok\n");
	write_file("ca.crt", "-----BEGIN CERTIFICATE-----\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc;

		if (rows[i].host)
			setenv("KUBERNETES_SERVICE_HOST", rows[i].host, 1);
		else
			unsetenv("KUBERNETES_SERVICE_HOST");
		if (rows[i].port)
			setenv("KUBERNETES_SERVICE_PORT", rows[i].port, 1);
		else
			unsetenv("KUBERNETES_SERVICE_PORT");
		rc = kube_config__in_cluster(&cfg, dir, err, sizeof(err));
		CHECK_INT(rc, rows[i].want_err);
		if (rc == 0) {
			char want_token[300];

			snprintf(want_token, sizeof(want_token), "%s/token", dir);
			CHECK_STR(cfg.server, rows[i].want_server);
			CHECK_STR(cfg.token_file, want_token);
		}
		kube_config__clear(&cfg);
	}
	/* In a pod without its ServiceAccount files. */
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	CHECK_INT(kube_config__in_cluster(&cfg, "/nonexistent", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "no ServiceAccount credentials in /nonexistent (No such file or directory); "
		       "the pod needs automountServiceAccountToken");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static void test_explicit(void)
{
	struct kube_config cfg;
	char err[256];

	CHECK_INT(kube_config__explicit(&cfg, "https://127.0.0.1:6443/", NULL, NULL, err, sizeof(err)), 0);
	CHECK_STR(cfg.server, "https://127.0.0.1:6443");
	CHECK(cfg.token_file == NULL && cfg.ca_file == NULL);
	kube_config__clear(&cfg);
	CHECK_INT(kube_config__explicit(&cfg, "127.0.0.1:6443", NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "the API server address '127.0.0.1:6443' is not an https:// or http:// URL");
	CHECK_INT(kube_config__explicit(&cfg, "https://", NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_INT(kube_config__explicit(&cfg, NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	kube_config__clear(NULL);
}

static void test_token(void)
{
	static const struct {
		const char *content; /* NULL: no file */
		int want_err;
		const char *want;
	} rows[] = {
		{ "eyJhbGciOi.abc.def\n", 0, "eyJhbGciOi.abc.def" },
		{ "eyJhbGciOi.abc.def", 0, "eyJhbGciOi.abc.def" },
		{ "tok\r\n", 0, "tok" },
		{ "\n", -EINVAL, NULL },
		{ "", -EINVAL, NULL },
		{ "two tokens\n", -EINVAL, NULL },
		{ "tok\nInjected: header\n", -EINVAL, NULL },
		{ NULL, -ENOENT, NULL },
	};
	struct kube_config cfg;
	char err[256], path[300];

	snprintf(path, sizeof(path), "%s/t", dir);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *token = (char *)1;
		int rc;

		unlink(path);
		if (rows[i].content)
			write_file("t", rows[i].content);
		CHECK_INT(kube_config__explicit(&cfg, "https://h", path, NULL, err, sizeof(err)), 0);
		rc = kube_config__read_token(&cfg, &token, err, sizeof(err));
		CHECK_INT(rc, rows[i].want_err);
		if (rows[i].want)
			CHECK_STR(token, rows[i].want);
		else
			CHECK(token == NULL);
		free(token);
		kube_config__clear(&cfg);
	}
	/* Re-read each time: a rotated token is used at once. */
	write_file("t", "old\n");
	kube_config__explicit(&cfg, "https://h", path, NULL, err, sizeof(err));
	{
		char *a = NULL, *b = NULL;

		kube_config__read_token(&cfg, &a, err, sizeof(err));
		write_file("t", "new\n");
		kube_config__read_token(&cfg, &b, err, sizeof(err));
		CHECK_STR(a, "old");
		CHECK_STR(b, "new");
		free(a);
		free(b);
	}
	kube_config__clear(&cfg);
	/* No token file configured: no token, no error. */
	{
		char *t = (char *)1;

		kube_config__explicit(&cfg, "https://h", NULL, NULL, err, sizeof(err));
		CHECK_INT(kube_config__read_token(&cfg, &t, err, sizeof(err)), 0);
		CHECK(t == NULL);
		kube_config__clear(&cfg);
	}
	unlink(path);
}

int main(void)
{
	unit_prog = "kube_config";
	if (!mkdtemp(dir)) {
		printf("FAIL kube_config.setup: mkdtemp\n");
		return 1;
	}
	RUN(test_in_cluster);
	RUN(test_explicit);
	RUN(test_token);
	write_file("token", "");
	{
		char p[300];

		snprintf(p, sizeof(p), "%s/token", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/ca.crt", dir);
		unlink(p);
	}
	rmdir(dir);
	return unit_exit();
}
