// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kubeconfig files read with libyaml's document loader (anchors and aliases
 * resolved by it), merged and resolved as client-go's clientcmd does for the
 * fields spanprobe uses. Every error names the file it is about and what to
 * change; none quotes a token or key. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "base64.h"
#include "exec_credential.h"
#include "kubeconfig.h"
#include "unittest.h"

#define MAX_FILES 32
#define MAX_PEM (1u << 20)

struct kc_file {
	char *path;
	char *dir; /* absolute: relative paths in the file are relative to it */
	yaml_document_t doc;
	bool loaded; /* doc holds a document (an empty file holds none) */
};

struct kc {
	struct kc_file files[MAX_FILES];
	size_t nfiles;
	const char *label; /* the file, or $KUBECONFIG's list, for messages */
	char *err;
	size_t err_len;
};

static int failf(struct kc *kc, const char *file, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int failf(struct kc *kc, const char *file, int rc, const char *fmt, ...)
{
	int n = snprintf(kc->err, kc->err_len, "kubeconfig %s: ", file ? file : kc->label);
	va_list ap;

	if (n >= 0 && (size_t)n < kc->err_len) {
		va_start(ap, fmt);
		vsnprintf(kc->err + n, kc->err_len - n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* --- YAML navigation --- */

static yaml_node_t *root_of(struct kc_file *f)
{
	return f->loaded ? yaml_document_get_root_node(&f->doc) : NULL;
}

static yaml_node_t *map_get(struct kc_file *f, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&f->doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&f->doc, p->value);
	}
	return NULL;
}

/* A scalar's text; NULL when absent, not a scalar, or empty (client-go
 * treats an empty string as unset). */
static const char *map_str(struct kc_file *f, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = map_get(f, map, key);

	if (!n || n->type != YAML_SCALAR_NODE || !n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static bool map_bool(struct kc_file *f, yaml_node_t *map, const char *key)
{
	const char *v = map_str(f, map, key);

	return v && (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

/* The `inner` mapping of the entry called name in list `list` (clusters,
 * users, contexts) of the first file that defines it; *file its file. */
static yaml_node_t *named_entry(struct kc *kc, const char *list, const char *inner, const char *name,
				struct kc_file **file)
{
	for (size_t i = 0; i < kc->nfiles; i++) {
		struct kc_file *f = &kc->files[i];
		yaml_node_t *seq = map_get(f, root_of(f), list);

		if (!seq || seq->type != YAML_SEQUENCE_NODE)
			continue;
		for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
			yaml_node_t *entry = yaml_document_get_node(&f->doc, *it);
			const char *n = map_str(f, entry, "name");

			if (n && strcmp(n, name) == 0) {
				yaml_node_t *v = map_get(f, entry, inner);

				*file = f;
				/* "user: {}" and a bare "user:" both define it, empty. */
				return v ? v : entry;
			}
		}
	}
	return NULL;
}

/* --- files --- */

static int load_file(struct kc *kc, const char *path)
{
	struct kc_file *f = &kc->files[kc->nfiles];
	yaml_parser_t parser;
	FILE *in;
	char *slash, cwd[4096];
	int rc = 0;

	memset(f, 0, sizeof(*f));
	in = fopen(path, "re");
	if (!in)
		return failf(kc, path, -errno, "cannot read it: %s", strerror(errno));
	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		f->path = strdup(path);
	else if (asprintf(&f->path, "%s/%s", cwd, path) < 0)
		f->path = NULL;
	if (!f->path || !(f->dir = strdup(f->path))) {
		fclose(in);
		free(f->path);
		return failf(kc, path, -ENOMEM, "out of memory");
	}
	slash = strrchr(f->dir, '/');
	if (slash == f->dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, in);
	if (!yaml_parser_load(&parser, &f->doc)) {
		rc = failf(kc, path, -EINVAL, "not valid YAML: %s at line %zu column %zu (fix the file, or point "
			   "KUBECONFIG at another)", parser.problem ? parser.problem : "parse error",
			   parser.problem_mark.line + 1, parser.problem_mark.column + 1);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&f->doc);

		f->loaded = true;
		if (root && root->type != YAML_MAPPING_NODE)
			rc = failf(kc, path, -EINVAL, "not a kubeconfig: its top level is not a mapping (kubectl "
				   "config view shows what one holds)");
	}
	yaml_parser_delete(&parser);
	fclose(in);
	kc->nfiles++; /* kc_free frees what was made */
	return rc;
}

static void kc_free(struct kc *kc)
{
	for (size_t i = 0; i < kc->nfiles; i++) {
		if (kc->files[i].loaded)
			yaml_document_delete(&kc->files[i].doc);
		free(kc->files[i].path);
		free(kc->files[i].dir);
	}
	kc->nfiles = 0;
}

/* The files to read: $KUBECONFIG's that exist (client-go skips the
 * others), or ~/.kube/config when it exists. -ENOENT: none to use. */
static int load_files(struct kc *kc, const char *env, const char *home)
{
	char path[4096];
	int rc;

	if (!env || !*env) {
		if (!home || !*home)
			return -ENOENT;
		snprintf(path, sizeof(path), "%s/.kube/config", home);
		if (access(path, F_OK) != 0)
			return -ENOENT;
		kc->label = NULL;
		rc = load_file(kc, path);
		/* Messages name this file; it outlives kc's label use. */
		kc->label = kc->files[0].path ? kc->files[0].path : "~/.kube/config";
		return rc;
	}
	kc->label = env;
	for (const char *p = env; *p;) {
		size_t len = strcspn(p, ":");

		/* (A file listed twice changes nothing: the first wins anyway.) */
		snprintf(path, sizeof(path), "%.*s", (int)len, p);
		p += len + (p[len] == ':');
		if (!len || access(path, F_OK) != 0)
			continue;
		if (kc->nfiles == MAX_FILES)
			return failf(kc, NULL, -E2BIG, "KUBECONFIG lists more than %d files", MAX_FILES);
		rc = load_file(kc, path);
		if (rc)
			return rc;
	}
	if (!kc->nfiles)
		return failf(kc, NULL, -ENOENT, "none of the files KUBECONFIG lists exists (set KUBECONFIG to "
			     "your kubeconfig, or unset it for ~/.kube/config)");
	return 0;
}

/* --- fields --- */

/* A path as client-go resolves it: relative to the directory of the file
 * that holds it. */
static char *resolve_path(const struct kc_file *f, const char *path)
{
	char *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s%s%s", f->dir, f->dir[strlen(f->dir) - 1] == '/' ? "" : "/", path) < 0)
		return NULL;
	return out;
}

/* A file that must be readable now: its resolved path in *out. */
static int readable_path(struct kc *kc, struct kc_file *f, const char *what, const char *owner,
			 const char *path, char **out)
{
	int fd;

	*out = resolve_path(f, path);
	if (!*out)
		return failf(kc, f->path, -ENOMEM, "out of memory");
	fd = open(*out, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failf(kc, f->path, -errno, "%s: cannot read %s %s: %s (fix the path; a relative one is "
			     "relative to this file's directory)", owner, what, *out, strerror(errno));
	close(fd);
	return 0;
}

static int decode_data(struct kc *kc, struct kc_file *f, const char *what, const char *owner,
		       const char *text, char **out, size_t *out_len)
{
	int rc = base64__decode(text, out, out_len);

	if (rc == -ENOMEM)
		return failf(kc, f->path, rc, "out of memory");
	if (rc || !*out_len)
		return failf(kc, f->path, -EINVAL, "%s: %s is not base64 (kubectl config set --raw, or "
			     "base64 -w0 of the PEM file)", owner, what);
	return 0;
}

static int read_pem(const char *path, char **out, size_t *len)
{
	FILE *in = fopen(path, "re");
	size_t n;

	*out = NULL;
	if (!in)
		return -errno;
	*out = malloc(MAX_PEM + 1);
	n = *out ? fread(*out, 1, MAX_PEM, in) : 0;
	fclose(in);
	if (!*out)
		return -ENOMEM;
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

static int read_cluster(struct kc *kc, struct kc_file *f, yaml_node_t *c, const char *owner,
			struct kube_config *cfg)
{
	const char *server = map_str(f, c, "server");
	const char *ca = map_str(f, c, "certificate-authority");
	const char *ca_data = map_str(f, c, "certificate-authority-data");
	size_t len;
	int rc;

	if (!server)
		return failf(kc, f->path, -EINVAL, "%s has no server (set its server: https://HOST:PORT)", owner);
	if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
		return failf(kc, f->path, -EINVAL, "%s: server '%s' is not an https:// or http:// URL", owner, server);
	len = strlen(server);
	while (len > 0 && server[len - 1] == '/')
		len--;
	if (!(cfg->server = strndup(server, len)))
		return failf(kc, f->path, -ENOMEM, "out of memory");
	cfg->insecure = map_bool(f, c, "insecure-skip-tls-verify");
	if (cfg->insecure && (ca || ca_data))
		return failf(kc, f->path, -EINVAL, "%s: insecure-skip-tls-verify with a certificate-authority "
			     "(client-go refuses both: keep one)", owner);
	/* The -data form wins over the path, as in client-go. */
	if (ca_data)
		return decode_data(kc, f, "certificate-authority-data", owner, ca_data, &cfg->ca_data,
				   &cfg->ca_data_len);
	if (ca) {
		rc = readable_path(kc, f, "certificate-authority", owner, ca, &cfg->ca_file);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_exec(struct kc *kc, struct kc_file *f, yaml_node_t *e, const char *owner,
		     struct kube_config *cfg)
{
	const char *version = map_str(f, e, "apiVersion"), *command = map_str(f, e, "command");
	const char *mode = map_str(f, e, "interactiveMode"), *hint = map_str(f, e, "installHint");
	yaml_node_t *args = map_get(f, e, "args"), *env = map_get(f, e, "env");
	struct exec_plugin *p;
	char *ca_pem = NULL;
	size_t ca_len = 0;
	int rc;

	if (!version || (strcmp(version, EXEC_API_V1) != 0 && strcmp(version, EXEC_API_V1BETA1) != 0))
		return failf(kc, f->path, -EINVAL, "%s: exec apiVersion '%s' is not one spanprobe speaks (use %s "
			     "or %s)", owner, version ? version : "", EXEC_API_V1, EXEC_API_V1BETA1);
	if (!command)
		return failf(kc, f->path, -EINVAL, "%s: exec has no command", owner);
	if (!mode && strcmp(version, EXEC_API_V1) == 0)
		return failf(kc, f->path, -EINVAL, "%s: exec interactiveMode must be set for %s (Never or "
			     "IfAvailable)", owner, EXEC_API_V1);
	if (mode && strcmp(mode, "Never") && strcmp(mode, "IfAvailable") && strcmp(mode, "Always"))
		return failf(kc, f->path, -EINVAL, "%s: exec interactiveMode '%s' is none of Never, IfAvailable, "
			     "Always", owner, mode);
	p = cfg->exec = calloc(1, sizeof(*p));
	if (!p)
		return failf(kc, f->path, -ENOMEM, "out of memory");
	p->interactive_always = mode && strcmp(mode, "Always") == 0;
	p->api_version = strdup(version);
	/* client-go: a relative command with a '/' is relative to the file;
	 * a bare name is looked up in PATH. */
	p->command = strchr(command, '/') ? resolve_path(f, command) : strdup(command);
	if (hint && (p->install_hint = strdup(hint)))
		for (char *c = p->install_hint; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' '; /* one line */
	if (!p->api_version || !p->command || (hint && !p->install_hint))
		return failf(kc, f->path, -ENOMEM, "out of memory");
	if (args && args->type == YAML_SEQUENCE_NODE) {
		size_t n = args->data.sequence.items.top - args->data.sequence.items.start;

		p->args = calloc(n ? n : 1, sizeof(char *));
		if (!p->args)
			return failf(kc, f->path, -ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *a = yaml_document_get_node(&f->doc, args->data.sequence.items.start[i]);

			if (!a || a->type != YAML_SCALAR_NODE)
				return failf(kc, f->path, -EINVAL, "%s: exec args must be strings", owner);
			if (!(p->args[p->nargs++] = strdup((const char *)a->data.scalar.value)))
				return failf(kc, f->path, -ENOMEM, "out of memory");
		}
	}
	if (env && env->type == YAML_SEQUENCE_NODE) {
		size_t n = env->data.sequence.items.top - env->data.sequence.items.start;

		p->env = calloc(n ? n : 1, sizeof(char *));
		if (!p->env)
			return failf(kc, f->path, -ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *v = yaml_document_get_node(&f->doc, env->data.sequence.items.start[i]);
			const char *name = map_str(f, v, "name"), *value = map_str(f, v, "value");

			if (!name || strchr(name, '='))
				return failf(kc, f->path, -EINVAL, "%s: an exec env entry has no valid name", owner);
			if (asprintf(&p->env[p->nenv], "%s=%s", name, value ? value : "") < 0)
				return failf(kc, f->path, -ENOMEM, "out of memory");
			p->nenv++;
		}
	}
	if (cfg->ca_file && map_bool(f, e, "provideClusterInfo") && (rc = read_pem(cfg->ca_file, &ca_pem, &ca_len)))
		return failf(kc, f->path, rc, "cannot read %s: %s", cfg->ca_file, strerror(-rc));
	rc = exec_plugin__set_exec_info(p, map_bool(f, e, "provideClusterInfo"), cfg->server,
					ca_pem ? ca_pem : cfg->ca_data, ca_pem ? ca_len : cfg->ca_data_len,
					cfg->insecure, NULL);
	free(ca_pem);
	return rc ? failf(kc, f->path, rc, "out of memory") : 0;
}

static int read_user(struct kc *kc, struct kc_file *f, yaml_node_t *u, const char *owner,
		     struct kube_config *cfg)
{
	const char *token = map_str(f, u, "token"), *token_file = map_str(f, u, "tokenFile");
	const char *cert = map_str(f, u, "client-certificate"), *key = map_str(f, u, "client-key");
	const char *cert_data = map_str(f, u, "client-certificate-data");
	const char *key_data = map_str(f, u, "client-key-data");
	yaml_node_t *exec = map_get(f, u, "exec"), *provider = map_get(f, u, "auth-provider");
	int rc;

	if (provider)
		return failf(kc, f->path, -ENOTSUP, "%s uses an auth-provider, which client-go dropped too (use the "
			     "provider's exec credential plugin: kubectl's docs name each)", owner);
	if (map_str(f, u, "username") || map_str(f, u, "password"))
		return failf(kc, f->path, -ENOTSUP, "%s uses a username and password, which spanprobe does not send "
			     "(use a token, a client certificate or an exec plugin)", owner);
	if ((cert || cert_data) != (key || key_data))
		return failf(kc, f->path, -EINVAL, "%s has a client %s without its %s", owner,
			     cert || cert_data ? "certificate" : "key", cert || cert_data ? "client-key" :
			     "client-certificate");
	/* tokenFile is re-read on each request (it may be rotated); it wins
	 * over token as in client-go, where it replaces it once read. */
	if (token_file)
		rc = readable_path(kc, f, "tokenFile", owner, token_file, &cfg->token_file);
	else
		rc = token && !(cfg->token = strdup(token)) ? failf(kc, f->path, -ENOMEM, "out of memory") : 0;
	if (rc)
		return rc;
	if (cert_data)
		rc = decode_data(kc, f, "client-certificate-data", owner, cert_data, &cfg->cert_data,
				 &cfg->cert_data_len);
	else if (cert)
		rc = readable_path(kc, f, "client-certificate", owner, cert, &cfg->cert_file);
	if (!rc && key_data)
		rc = decode_data(kc, f, "client-key-data", owner, key_data, &cfg->key_data, &cfg->key_data_len);
	else if (!rc && key)
		rc = readable_path(kc, f, "client-key", owner, key, &cfg->key_file);
	if (!rc && exec)
		rc = read_exec(kc, f, exec, owner, cfg);
	return rc;
}

/* The context's cluster and user into cfg. */
static int resolve(struct kc *kc, const char *context, struct kube_config *cfg)
{
	struct kc_file *cf = NULL, *cluster_file = NULL, *user_file = NULL;
	yaml_node_t *ctx, *cluster, *user = NULL;
	const char *cluster_name, *user_name;
	char owner[300];
	int rc;

	for (size_t i = 0; !context && i < kc->nfiles; i++)
		context = map_str(&kc->files[i], root_of(&kc->files[i]), "current-context");
	if (!context)
		return failf(kc, NULL, -EINVAL, "no current-context (kubectl config use-context NAME, or "
			     "--kube-context NAME)");
	ctx = named_entry(kc, "contexts", "context", context, &cf);
	if (!ctx)
		return failf(kc, NULL, -EINVAL, "context \"%s\" is not defined (kubectl config get-contexts "
			     "lists those that are)", context);
	kc->label = cf->path;
	cluster_name = map_str(cf, ctx, "cluster");
	user_name = map_str(cf, ctx, "user");
	if (!cluster_name)
		return failf(kc, cf->path, -EINVAL, "context \"%s\" names no cluster (set its cluster:)", context);
	cluster = named_entry(kc, "clusters", "cluster", cluster_name, &cluster_file);
	if (!cluster)
		return failf(kc, cf->path, -EINVAL, "context \"%s\" names cluster \"%s\" which it does not define "
			     "(add it under clusters:, or change the context's cluster)", context, cluster_name);
	if (user_name && !(user = named_entry(kc, "users", "user", user_name, &user_file)))
		return failf(kc, cf->path, -EINVAL, "context \"%s\" names user \"%s\" which it does not define "
			     "(add it under users:, or change the context's user)", context, user_name);
	if (!(cfg->source = strdup(cf->path)))
		return failf(kc, cf->path, -ENOMEM, "out of memory");
	snprintf(owner, sizeof(owner), "cluster \"%s\"", cluster_name);
	rc = read_cluster(kc, cluster_file, cluster, owner, cfg);
	if (rc || !user)
		return rc;
	snprintf(owner, sizeof(owner), "user \"%s\"", user_name);
	return read_user(kc, user_file, user, owner, cfg);
}

int kubeconfig__load_from(const char *kubeconfig_env, const char *home, const char *context,
			  struct kube_config *cfg, char *err, size_t err_len)
{
	struct kc kc = { .err = err, .err_len = err_len };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	err[0] = '\0';
	rc = load_files(&kc, kubeconfig_env, home);
	if (!rc)
		rc = resolve(&kc, context && *context ? context : NULL, cfg);
	kc_free(&kc);
	if (rc)
		kube_config__clear(cfg);
	return rc;
}

int kubeconfig__load(const char *context, struct kube_config *cfg, char *err, size_t err_len)
{
	return kubeconfig__load_from(getenv("KUBECONFIG"), getenv("HOME"), context, cfg, err, err_len);
}
