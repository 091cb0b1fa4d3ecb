// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Runs an exec credential plugin and reads its ExecCredential, as client-go's
 * plugin/pkg/client/auth/exec does. The plugin runs on the pod watch's
 * thread, so it is started with posix_spawn (no fork of a threaded process)
 * and a default signal mask, and given a bound: a plugin that hangs must
 * not hold the watch forever. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "exec_credential.h"
#include "exec_credential_internal.h"
#include "secret_str.h"

extern char **environ;

#define MAX_OUTPUT (1u << 20)
#define PLUGIN_TIMEOUT_MS 60000 /* cloud plugins answer in a second or two */

void exec_credential__clear(struct exec_credential *c)
{
	secret_free_str(c->token);
	secret_free_str(c->cert);
	secret_free_str(c->key);
	memset(c, 0, sizeof(*c));
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void exec_plugin__free(struct exec_plugin *p)
{
	if (!p)
		return;
	free(p->api_version);
	free(p->command);
	free_strv(p->args, p->nargs);
	free_strv(p->env, p->nenv);
	free(p->install_hint);
	free(p->exec_info);
	exec_credential__clear(&p->cred);
	free(p);
}

static int dup_strv(char ***dst, char *const *src, size_t n)
{
	*dst = n ? calloc(n, sizeof(char *)) : NULL;
	if (n && !*dst)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (str_copy(&(*dst)[i], src[i]))
			return -ENOMEM;
	return 0;
}

struct exec_plugin *exec_plugin__copy(const struct exec_plugin *p)
{
	struct exec_plugin *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nargs = p->nargs;
	c->nenv = p->nenv;
	c->interactive_always = p->interactive_always;
	c->have_cred = p->have_cred;
	c->cred.expires = p->cred.expires;
	if (str_copy(&c->api_version, p->api_version) || str_copy(&c->command, p->command) ||
	    dup_strv(&c->args, p->args, p->nargs) || dup_strv(&c->env, p->env, p->nenv) ||
	    str_copy(&c->install_hint, p->install_hint) || str_copy(&c->exec_info, p->exec_info) ||
	    str_copy(&c->cred.token, p->cred.token) || str_copy(&c->cred.cert, p->cred.cert) ||
	    str_copy(&c->cred.key, p->cred.key)) {
		exec_plugin__free(c);
		return NULL;
	}
	return c;
}

int exec_plugin__set_exec_info(struct exec_plugin *p, bool provide_cluster_info, const char *server,
			       const char *ca_pem, size_t ca_len, bool insecure, const char *config_json)
{
	struct json_object *root = json_object_new_object(), *spec = json_object_new_object();
	char *ca64 = NULL;
	int rc = -ENOMEM;

	if (!root || !spec)
		goto cleanup;
	json_object_object_add(root, "kind", json_object_new_string("ExecCredential"));
	json_object_object_add(root, "apiVersion", json_object_new_string(p->api_version));
	json_object_object_add(root, "spec", spec);
	if (provide_cluster_info) {
		struct json_object *cluster = json_object_new_object();

		if (!cluster)
			goto cleanup;
		json_object_object_add(spec, "cluster", cluster);
		json_object_object_add(cluster, "server", json_object_new_string(server));
		/* Go's []byte in JSON: base64 of the PEM, whichever form gave it. */
		if (ca_pem && ca_len) {
			ca64 = base64__encode(ca_pem, ca_len);
			if (!ca64)
				goto cleanup;
			json_object_object_add(cluster, "certificate-authority-data", json_object_new_string(ca64));
		}
		if (insecure)
			json_object_object_add(cluster, "insecure-skip-tls-verify", json_object_new_boolean(1));
		if (config_json)
			json_object_object_add(cluster, "config", json_tokener_parse(config_json));
	}
	json_object_object_add(spec, "interactive", json_object_new_boolean(0));
	free(p->exec_info);
	p->exec_info = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = p->exec_info ? 0 : -ENOMEM;
cleanup:
	if (root)
		json_object_put(root);
	else
		json_object_put(spec);
	free(ca64);
	return rc;
}

/* RFC 3339 ("2026-01-02T15:04:05Z", fractions, "+01:00"), as Go writes
 * metav1.Time; 0 when it is not one. */
UNITTEST time_t parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	long offset = 0;
	time_t t;

	if (!p)
		return 0;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int h = atoi(p + 1), m = atoi(p + 4);

		offset = (h * 3600L + m * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return 0;
	}
	if (*p)
		return 0;
	t = timegm(&tm);
	return t == (time_t)-1 ? 0 : t - offset;
}

static const char *field_str(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The ExecCredential a plugin printed into out. -EBADMSG with err (which
 * never quotes the output: it holds secrets). */
UNITTEST int parse_exec_credential(const char *text, const char *api_version, struct exec_credential *out,
				   char *err, size_t err_len)
{
	struct json_object *root = json_tokener_parse(text), *status = NULL;
	const char *kind, *version, *token, *cert, *key, *expiry;
	int rc = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(err, err_len, "its output is not a JSON object");
		goto cleanup;
	}
	kind = field_str(root, "kind");
	version = field_str(root, "apiVersion");
	if (!kind || strcmp(kind, "ExecCredential") != 0) {
		snprintf(err, err_len, "its output is not an ExecCredential (kind %s)", kind ? kind : "missing");
		goto cleanup;
	}
	if (!version || strcmp(version, api_version) != 0) {
		snprintf(err, err_len, "it answered apiVersion %s where the kubeconfig asks for %s",
			 version ? version : "(none)", api_version);
		goto cleanup;
	}
	if (!json_object_object_get_ex(root, "status", &status) || !json_object_is_type(status, json_type_object)) {
		snprintf(err, err_len, "its ExecCredential has no status");
		goto cleanup;
	}
	token = field_str(status, "token");
	cert = field_str(status, "clientCertificateData");
	key = field_str(status, "clientKeyData");
	expiry = field_str(status, "expirationTimestamp");
	if ((cert && *cert) != (key && *key)) {
		snprintf(err, err_len, "its ExecCredential has a client %s without its %s", cert && *cert ? "certificate" : "key",
			 cert && *cert ? "key" : "certificate");
		goto cleanup;
	}
	if (!(token && *token) && !(cert && *cert)) {
		snprintf(err, err_len, "its ExecCredential holds neither a token nor a client certificate");
		goto cleanup;
	}
	if (expiry && *expiry && !(out->expires = parse_rfc3339(expiry))) {
		snprintf(err, err_len, "its expirationTimestamp '%s' is not an RFC 3339 time", expiry);
		goto cleanup;
	}
	rc = -ENOMEM;
	if (str_copy(&out->token, token && *token ? token : NULL) ||
	    str_copy(&out->cert, cert && *cert ? cert : NULL) ||
	    str_copy(&out->key, key && *key ? key : NULL)) {
		snprintf(err, err_len, "out of memory");
		exec_credential__clear(out);
		goto cleanup;
	}
	rc = 0;
cleanup:
	json_object_put(root);
	return rc;
}

/* spanprobe's environment, then the plugin's env, then KUBERNETES_EXEC_INFO:
 * a later name replaces an earlier one, as Go's exec.Cmd does. */
static char **plugin_environ(const struct exec_plugin *p)
{
	size_t n = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + p->nenv + 2, sizeof(char *));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t name_len = strcspn(environ[i], "=");
		bool replaced = strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;

		for (size_t j = 0; j < p->nenv && !replaced; j++)
			replaced = strncmp(p->env[j], environ[i], name_len + 1) == 0;
		if (!replaced)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < p->nenv; j++)
		envp[k++] = p->env[j];
	return envp; /* the caller adds KUBERNETES_EXEC_INFO at envp[k] */
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Runs the plugin; its stdout (malloc'ed) in *out. */
static int run_plugin(const struct exec_plugin *p, char **out, char *err, size_t err_len)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char **argv = NULL, **envp = NULL, *info = NULL, *buf = NULL;
	int fds[2] = { -1, -1 }, rc, status = 0;
	size_t len = 0, k = 0;
	long long deadline = now_ms() + PLUGIN_TIMEOUT_MS;
	pid_t pid = -1;
	sigset_t none, defaults;

	*out = NULL;
	rc = -ENOMEM;
	argv = calloc(p->nargs + 2, sizeof(char *));
	envp = plugin_environ(p);
	buf = malloc(MAX_OUTPUT + 1);
	if (!argv || !envp || !buf || asprintf(&info, "KUBERNETES_EXEC_INFO=%s", p->exec_info ? p->exec_info : "") < 0) {
		info = NULL;
		snprintf(err, err_len, "out of memory");
		goto cleanup;
	}
	while (envp[k])
		k++;
	envp[k] = info;
	argv[0] = p->command;
	for (size_t i = 0; i < p->nargs; i++)
		argv[i + 1] = p->args[i];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, err_len, "cannot make a pipe: %s", strerror(errno));
		goto cleanup;
	}
	/* Never interactive: stdin is /dev/null; stderr is spanprobe's, so the
	 * plugin's own messages reach the user as kubectl shows them. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGTERM);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, p->command, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[1]);
	fds[1] = -1;
	if (rc) {
		snprintf(err, err_len, "cannot be run: %s", strerror(rc));
		rc = -rc;
		pid = -1;
		goto cleanup;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			rc = -ETIMEDOUT;
			snprintf(err, err_len, "no credential within %d s", PLUGIN_TIMEOUT_MS / 1000);
			goto cleanup;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			rc = -errno;
			snprintf(err, err_len, "poll: %s", strerror(errno));
			goto cleanup;
		}
		n = read(fds[0], buf + len, MAX_OUTPUT - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += n;
		if (len == MAX_OUTPUT) {
			kill(pid, SIGKILL);
			rc = -EFBIG;
			snprintf(err, err_len, "it printed more than %u bytes", MAX_OUTPUT);
			goto cleanup;
		}
	}
	buf[len] = '\0';
	rc = 0;
cleanup:
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			rc = -EIO;
			if (WIFEXITED(status))
				snprintf(err, err_len, "it exited with status %d", WEXITSTATUS(status));
			else
				snprintf(err, err_len, "it was killed by signal %d", WTERMSIG(status));
		}
	}
	if (rc == 0) {
		*out = buf;
		buf = NULL;
	}
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(argv);
	free(envp);
	free(info);
	return rc;
}

int exec_plugin__credential(struct exec_plugin *p, bool force, char *err, size_t err_len)
{
	char *output = NULL, why[256];
	struct exec_credential cred;
	int rc;

	if (p->have_cred && !force && !(p->cred.expires && time(NULL) >= p->cred.expires))
		return 0;
	if (p->interactive_always) {
		snprintf(err, err_len, "exec plugin %s: interactiveMode Always needs a terminal, which spanprobe "
			 "never has (set interactiveMode: IfAvailable or Never)", p->command);
		return -EINVAL;
	}
	rc = run_plugin(p, &output, why, sizeof(why));
	if (!rc) {
		rc = parse_exec_credential(output, p->api_version, &cred, why, sizeof(why));
		explicit_bzero(output, strlen(output));
		free(output);
	}
	if (rc) {
		snprintf(err, err_len, "exec plugin %s: %s%s%s", p->command, why, p->install_hint ? "; " : "",
			 p->install_hint ? p->install_hint : "");
		return rc;
	}
	exec_credential__clear(&p->cred);
	p->cred = cred;
	p->have_cred = true;
	return 0;
}
