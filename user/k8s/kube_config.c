// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The API server's address and credentials, as client-go's rest.InClusterConfig
 * finds them in a pod, or as given. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_credential.h"
#include "kube_config.h"
#include "secret_str.h"

#define MAX_TOKEN (64 * 1024)

void kube_config__clear(struct kube_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->server);
	free(cfg->token_file);
	free(cfg->ca_file);
	secret_free_str(cfg->token);
	free(cfg->ca_data);
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->cert_data);
	secret_free(cfg->key_data, cfg->key_data_len);
	exec_plugin__free(cfg->exec);
	free(cfg->source);
	memset(cfg, 0, sizeof(*cfg));
}

/* A buffer of len bytes and a NUL (PEM blobs are handed to libcurl by length). */
static int copy_mem(char **dst, const char *src, size_t len)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = malloc(len + 1);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, len);
	(*dst)[len] = '\0';
	return 0;
}

int kube_config__copy(struct kube_config *dst, const struct kube_config *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->ca_data_len = src->ca_data_len;
	dst->cert_data_len = src->cert_data_len;
	dst->key_data_len = src->key_data_len;
	dst->insecure = src->insecure;
	if (str_copy(&dst->server, src->server) || str_copy(&dst->token_file, src->token_file) ||
	    str_copy(&dst->ca_file, src->ca_file) || str_copy(&dst->token, src->token) ||
	    copy_mem(&dst->ca_data, src->ca_data, src->ca_data_len) ||
	    str_copy(&dst->cert_file, src->cert_file) || str_copy(&dst->key_file, src->key_file) ||
	    copy_mem(&dst->cert_data, src->cert_data, src->cert_data_len) ||
	    copy_mem(&dst->key_data, src->key_data, src->key_data_len) || str_copy(&dst->source, src->source) ||
	    (src->exec && !(dst->exec = exec_plugin__copy(src->exec)))) {
		kube_config__clear(dst);
		return -ENOMEM;
	}
	return 0;
}

static int set_strings(struct kube_config *cfg, const char *server, const char *token_file,
		       const char *ca_file, char *err, size_t err_len)
{
	size_t len = strlen(server);

	memset(cfg, 0, sizeof(*cfg));
	while (len > 0 && server[len - 1] == '/')
		len--;
	cfg->server = strndup(server, len);
	cfg->token_file = token_file ? strdup(token_file) : NULL;
	cfg->ca_file = ca_file ? strdup(ca_file) : NULL;
	if (!cfg->server || (token_file && !cfg->token_file) || (ca_file && !cfg->ca_file)) {
		kube_config__clear(cfg);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int kube_config__in_cluster(struct kube_config *cfg, const char *sa_dir, char *err, size_t err_len)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char server[300], token[512], ca[512];

	memset(cfg, 0, sizeof(*cfg));
	if (!sa_dir)
		sa_dir = KUBE_SA_DIR;
	if (!host || !*host || !port || !*port) {
		snprintf(err, err_len,
			 "not in a Kubernetes pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset)");
		return -ENOENT;
	}
	if (strpbrk(host, "/@?#[] ") || strspn(port, "0123456789") != strlen(port)) {
		snprintf(err, err_len, "KUBERNETES_SERVICE_HOST/PORT '%s'/'%s' do not form an address", host, port);
		return -EINVAL;
	}
	/* An IPv6 service address needs brackets in a URL. */
	snprintf(server, sizeof(server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	snprintf(token, sizeof(token), "%s/token", sa_dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", sa_dir);
	if (access(token, R_OK) != 0 || access(ca, R_OK) != 0) {
		snprintf(err, err_len,
			 "no ServiceAccount credentials in %s (%s); the pod needs automountServiceAccountToken",
			 sa_dir, strerror(errno));
		return -EINVAL;
	}
	return set_strings(cfg, server, token, ca, err, err_len);
}

int kube_config__explicit(struct kube_config *cfg, const char *server, const char *token_file,
			  const char *ca_file, char *err, size_t err_len)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0) ||
	    !server[strncmp(server, "https://", 8) == 0 ? 8 : 7]) {
		snprintf(err, err_len, "the API server address '%s' is not an https:// or http:// URL",
			 server ? server : "");
		return -EINVAL;
	}
	return set_strings(cfg, server, token_file, ca_file, err, err_len);
}

int kube_config__read_token(const struct kube_config *cfg, char **out, char *err, size_t err_len)
{
	char *buf = NULL;
	ssize_t len = 0, n = 0;
	int fd, rc = 0;

	*out = NULL;
	if (!cfg->token_file)
		return 0;
	fd = open(cfg->token_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, err_len, "cannot read the token file %s: %s", cfg->token_file, strerror(errno));
		return rc;
	}
	buf = malloc(MAX_TOKEN + 1);
	if (!buf) {
		rc = -ENOMEM;
		snprintf(err, err_len, "out of memory");
		goto cleanup;
	}
	while (len < MAX_TOKEN && (n = read(fd, buf + len, MAX_TOKEN - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, err_len, "cannot read the token file %s: %s", cfg->token_file, strerror(errno));
			goto cleanup;
		}
		len += n;
	}
	if (len >= MAX_TOKEN) {
		rc = -EFBIG;
		snprintf(err, err_len, "the token file %s is larger than %d bytes", cfg->token_file, MAX_TOKEN);
		goto cleanup;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	/* A token goes into an HTTP header: no control characters. */
	for (ssize_t i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < 0x21 || buf[i] == 0x7f) {
			rc = -EINVAL;
			snprintf(err, err_len, "the token file %s holds more than one token (blank or control character)",
				 cfg->token_file);
			goto cleanup;
		}
	}
	if (len == 0) {
		rc = -EINVAL;
		snprintf(err, err_len, "the token file %s is empty", cfg->token_file);
		goto cleanup;
	}
	*out = buf;
	buf = NULL;
cleanup:
	free(buf);
	close(fd);
	return rc;
}
