/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A kubeconfig user's exec credential plugin (client.authentication.k8s.io
 * v1 and v1beta1), run the way client-go runs it: the command with its args,
 * its env added to spanprobe's, KUBERNETES_EXEC_INFO describing the request
 * (never interactive: spanprobe is a daemon), stderr passed through; its
 * stdout is an ExecCredential whose status holds a bearer token or a client
 * certificate and key. The credential is kept until its expirationTimestamp
 * passes or the server answers 401. */
#ifndef SPANPROBE_EXEC_CREDENTIAL_H
#define SPANPROBE_EXEC_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define EXEC_API_V1 "client.authentication.k8s.io/v1"
#define EXEC_API_V1BETA1 "client.authentication.k8s.io/v1beta1"

struct exec_credential {
	char *token;      /* bearer token, or NULL */
	char *cert, *key; /* PEM client certificate and key, or NULL */
	time_t expires;   /* 0: no expiry given */
};

struct exec_plugin {
	char *api_version;
	char *command;
	char **args;
	size_t nargs;
	char **env; /* "NAME=VALUE" */
	size_t nenv;
	bool interactive_always; /* interactiveMode: Always, which a daemon can't honour */
	char *install_hint;
	char *exec_info; /* KUBERNETES_EXEC_INFO's JSON */
	bool have_cred;
	struct exec_credential cred;
};

/* A deep copy (the credential too), or NULL. */
struct exec_plugin *exec_plugin__copy(const struct exec_plugin *p);
/* Frees, wiping the credential. NULL is fine. */
void exec_plugin__free(struct exec_plugin *p);
/* KUBERNETES_EXEC_INFO: spec.interactive false, and with provide_cluster_info
 * spec.cluster (server, certificate-authority-data, insecure-skip-tls-verify,
 * config). 0 or -ENOMEM. */
int exec_plugin__set_exec_info(struct exec_plugin *p, bool provide_cluster_info, const char *server,
			       const char *ca_pem, size_t ca_len, bool insecure, const char *config_json);
/* The current credential in p->cred: the one kept unless it has expired
 * (or force: the server refused it), else the plugin is run again. 0, or
 * -errno with err naming the command and the cause (never the
 * credential). */
int exec_plugin__credential(struct exec_plugin *p, bool force, char *err, size_t err_len);
void exec_credential__clear(struct exec_credential *c);

#endif /* SPANPROBE_EXEC_CREDENTIAL_H */
