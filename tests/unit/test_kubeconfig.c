// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kubeconfig: contexts (current and named), paths relative to the file
 * that holds them, -data base64, a context naming what no file defines, bad
 * YAML, KUBECONFIG lists merged as client-go merges them; exec plugins:
 * the stanza, the ExecCredential, a real run with env and expiry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "exec_credential.h"
#include "exec_credential_internal.h"
#include "kube_config.h"
#include "kubeconfig.h"
#include "unit.h"

static char dir[] = "/tmp/spanprobe-kubeconfig.XXXXXX";

static const char *at(const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

#define PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
/* base64 of PEM */
static char *pem64;

static const char two_contexts[] = "apiVersion: v1\n"
				   "kind: Config\n"
				   "current-context: prod\n"
				   "clusters:\n"
				   "- name: prod-cluster\n"
				   "  cluster:\n"
				   "    server: https://prod.example:6443/\n"
				   "    certificate-authority: certs/ca.pem\n"
				   "- name: dev-cluster\n"
				   "  cluster: {server: 'http://127.0.0.1:8080', insecure-skip-tls-verify: true}\n"
				   "users:\n"
				   "- name: alice\n"
				   "  user:\n"
				   "    token: s3cret\n"
				   "- name: bob\n"
				   "  user:\n"
				   "    tokenFile: bob.token\n"
				   "contexts:\n"
				   "- name: prod\n"
				   "  context: {cluster: prod-cluster, user: alice, namespace: web}\n"
				   "- name: dev\n"
				   "  context: {cluster: dev-cluster, user: bob}\n";

static void test_contexts(void)
{
	struct kube_config cfg;
	char err[512];

	mkdir(at("certs"), 0700);
	write_file("certs/ca.pem", PEM);
	write_file("bob.token", "tok\n");
	write_file("two", two_contexts);
	/* the current context */
	CHECK_INT(kubeconfig__load_from(at("two"), NULL, NULL, &cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.server, "https://prod.example:6443");
	CHECK_STR(cfg.token, "s3cret");
	CHECK(cfg.token_file == NULL);
	CHECK_STR(cfg.ca_file, at("certs/ca.pem")); /* relative to the file's directory */
	CHECK_STR(cfg.source, at("two"));
	CHECK(!cfg.insecure);
	kube_config__clear(&cfg);
	/* --kube-context */
	CHECK_INT(kubeconfig__load_from(at("two"), NULL, "dev", &cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.server, "http://127.0.0.1:8080");
	CHECK_STR(cfg.token_file, at("bob.token"));
	CHECK(cfg.token == NULL && cfg.ca_file == NULL && cfg.insecure);
	kube_config__clear(&cfg);
	/* a context not defined */
	CHECK_INT(kubeconfig__load_from(at("two"), NULL, "stage", &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "context \"stage\" is not defined") != NULL);
	CHECK(cfg.server == NULL);
}

static void test_relative_paths(void)
{
	struct kube_config cfg;
	char err[512], want[600];

	mkdir(at("sub"), 0700);
	write_file("sub/ca.pem", PEM);
	write_file("sub/kc", "current-context: c\n"
			     "clusters: [{name: k, cluster: {server: 'https://h:1', certificate-authority: ca.pem}}]\n"
			     "users: [{name: u, user: {client-certificate: ../certs/ca.pem, client-key: /etc/hostname}}]\n"
			     "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
	CHECK_INT(kubeconfig__load_from(at("sub/kc"), NULL, NULL, &cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.ca_file, at("sub/ca.pem"));
	snprintf(want, sizeof(want), "%s/sub/../certs/ca.pem", dir);
	CHECK_STR(cfg.cert_file, want);
	CHECK_STR(cfg.key_file, "/etc/hostname");
	kube_config__clear(&cfg);
	/* a CA that is not there: the file, the owner and the path it tried */
	write_file("sub/kc2", "current-context: c\n"
			      "clusters: [{name: k, cluster: {server: 'https://h:1', certificate-authority: no-ca.pem}}]\n"
			      "contexts: [{name: c, context: {cluster: k}}]\n");
	CHECK_INT(kubeconfig__load_from(at("sub/kc2"), NULL, NULL, &cfg, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "kubeconfig %s: cluster \"k\": cannot read certificate-authority %s: No such file "
		 "or directory", at("sub/kc2"), at("sub/no-ca.pem"));
	CHECK(strncmp(err, want, strlen(want)) == 0);
}

static void test_data_fields(void)
{
	struct kube_config cfg;
	char err[512], text[2048];

	snprintf(text, sizeof(text),
		 "current-context: c\n"
		 "clusters: [{name: k, cluster: {server: 'https://h:1', certificate-authority-data: %s}}]\n"
		 "users:\n- name: u\n  user:\n    client-certificate-data: %s\n    client-key-data: a2V5\n"
		 "contexts: [{name: c, context: {cluster: k, user: u}}]\n", pem64, pem64);
	write_file("data", text);
	CHECK_INT(kubeconfig__load_from(at("data"), NULL, NULL, &cfg, err, sizeof(err)), 0);
	CHECK_INT(cfg.ca_data_len, strlen(PEM));
	CHECK_STR(cfg.ca_data, PEM);
	CHECK_STR(cfg.cert_data, PEM);
	CHECK_INT(cfg.key_data_len, 3);
	CHECK_STR(cfg.key_data, "key");
	CHECK(cfg.ca_file == NULL && cfg.cert_file == NULL);
	kube_config__clear(&cfg);
	write_file("bad64", "current-context: c\n"
			    "clusters: [{name: k, cluster: {server: 'https://h:1', certificate-authority-data: 'not*base64'}}]\n"
			    "contexts: [{name: c, context: {cluster: k}}]\n");
	CHECK_INT(kubeconfig__load_from(at("bad64"), NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "certificate-authority-data is not base64") != NULL);
	/* base64 itself */
	{
		static const struct { const char *in; int rc; const char *out; } rows[] = {
			{ "aGVsbG8=", 0, "hello" }, { "aGVs\nbG8h", 0, "hello!" }, { "aA==", 0, "h" },
			{ "aGVsbG8", -EINVAL, NULL }, { "a", -EINVAL, NULL }, { "aA==aA==", -EINVAL, NULL },
			{ "a-b_", -EINVAL, NULL },
		};
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			char *out = NULL;
			size_t len;

			CHECK_INT(base64__decode(rows[i].in, &out, &len), rows[i].rc);
			if (rows[i].out)
				CHECK_STR(out, rows[i].out);
			free(out);
		}
	}
}

static void test_missing_entries(void)
{
	struct kube_config cfg;
	char err[512], want[700];

	write_file("nouser", "current-context: x\n"
			     "clusters: [{name: k, cluster: {server: 'https://h:1'}}]\n"
			     "contexts: [{name: x, context: {cluster: k, user: y}}]\n");
	CHECK_INT(kubeconfig__load_from(at("nouser"), NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "kubeconfig %s: context \"x\" names user \"y\" which it does not define (add it "
		 "under users:, or change the context's user)", at("nouser"));
	CHECK_STR(err, want);
	write_file("nocurrent", "clusters: [{name: k, cluster: {server: 'https://h:1'}}]\n");
	CHECK_INT(kubeconfig__load_from(at("nocurrent"), NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "no current-context") != NULL);
	write_file("noserver", "current-context: c\nclusters: [{name: k, cluster: {}}]\n"
			       "contexts: [{name: c, context: {cluster: k}}]\n");
	CHECK_INT(kubeconfig__load_from(at("noserver"), NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "cluster \"k\" has no server") != NULL);
	write_file("provider", "current-context: c\nclusters: [{name: k, cluster: {server: 'https://h:1'}}]\n"
			       "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"
			       "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
	CHECK_INT(kubeconfig__load_from(at("provider"), NULL, NULL, &cfg, err, sizeof(err)), -ENOTSUP);
	CHECK(strstr(err, "auth-provider") != NULL);
	/* no kubeconfig at all: not an error, nothing said */
	CHECK_INT(kubeconfig__load_from(NULL, dir, NULL, &cfg, err, sizeof(err)), -ENOENT);
	CHECK_STR(err, "");
	/* ~/.kube/config when it exists */
	mkdir(at(".kube"), 0700);
	write_file(".kube/config", two_contexts);
	write_file(".kube/bob.token", "tok\n");
	CHECK_INT(kubeconfig__load_from("", dir, "dev", &cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.token_file, at(".kube/bob.token"));
	kube_config__clear(&cfg);
	unlink(at(".kube/config"));
}

static void test_bad_yaml(void)
{
	struct kube_config cfg;
	char err[512], want[600];

	write_file("bad.yaml", "current-context: c\nclusters:\n  - name: [unclosed\n");
	CHECK_INT(kubeconfig__load_from(at("bad.yaml"), NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "kubeconfig %s: not valid YAML: ", at("bad.yaml"));
	CHECK(strncmp(err, want, strlen(want)) == 0);
	CHECK(strstr(err, " at line ") != NULL);
	write_file("list.yaml", "- a\n- b\n");
	CHECK_INT(kubeconfig__load_from(at("list.yaml"), NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "top level is not a mapping") != NULL);
}

static void test_kubeconfig_lists(void)
{
	struct kube_config cfg;
	char err[512], env[2048];

	/* a: users only, and a cluster "k" that b defines too (a's wins) */
	write_file("a", "clusters: [{name: k, cluster: {server: 'https://from-a:1'}}]\n"
			"users: [{name: u, user: {token: from-a}}]\n");
	/* b: the current context, and a current-context that c's does not override */
	write_file("b", "current-context: c1\n"
			"clusters: [{name: k, cluster: {server: 'https://from-b:1'}}, {name: k2, cluster: {server: 'https://k2:1'}}]\n"
			"contexts: [{name: c1, context: {cluster: k, user: u}}]\n");
	write_file("c", "current-context: c2\ncontexts: [{name: c2, context: {cluster: k2, user: u}}]\n");
	snprintf(env, sizeof(env), "%s::%s:%s:%s", at("missing"), at("a"), at("b"), at("c"));
	CHECK_INT(kubeconfig__load_from(env, NULL, NULL, &cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.server, "https://from-a:1");
	CHECK_STR(cfg.token, "from-a");
	CHECK_STR(cfg.source, at("b")); /* the file of the context */
	kube_config__clear(&cfg);
	CHECK_INT(kubeconfig__load_from(env, NULL, "c2", &cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.server, "https://k2:1");
	kube_config__clear(&cfg);
	/* c first: its current-context wins */
	snprintf(env, sizeof(env), "%s:%s:%s", at("c"), at("a"), at("b"));
	CHECK_INT(kubeconfig__load_from(env, NULL, NULL, &cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.server, "https://k2:1");
	kube_config__clear(&cfg);
	/* none of the files exists: said, naming the list */
	snprintf(env, sizeof(env), "%s:%s", at("missing"), at("missing2"));
	CHECK_INT(kubeconfig__load_from(env, NULL, NULL, &cfg, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "none of the files KUBECONFIG lists exists") != NULL);
	/* a broken file in the list names that file */
	snprintf(env, sizeof(env), "%s:%s", at("a"), at("bad.yaml"));
	CHECK_INT(kubeconfig__load_from(env, NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, at("bad.yaml")) != NULL);
}

static void test_exec_stanza(void)
{
	struct kube_config cfg;
	char err[512];

	write_file("exec", "current-context: c\nclusters: [{name: k, cluster: {server: 'https://h:1'}}]\n"
			   "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
			   "users:\n- name: u\n  user:\n    exec:\n"
			   "      apiVersion: client.authentication.k8s.io/v1\n"
			   "      command: ./bin/plugin\n      args: [get-token, --x=1]\n"
			   "      env: [{name: A, value: b}]\n      interactiveMode: Never\n");
	CHECK_INT(kubeconfig__load_from(at("exec"), NULL, NULL, &cfg, err, sizeof(err)), 0);
	CHECK(cfg.exec != NULL);
	if (cfg.exec) {
		char want[600];

		snprintf(want, sizeof(want), "%s/./bin/plugin", dir);
		CHECK_STR(cfg.exec->command, want);
		CHECK_INT(cfg.exec->nargs, 2);
		CHECK_STR(cfg.exec->args[1], "--x=1");
		CHECK_STR(cfg.exec->env[0], "A=b");
		CHECK_STR(cfg.exec->exec_info, "{\"kind\":\"ExecCredential\",\"apiVersion\":"
			  "\"client.authentication.k8s.io/v1\",\"spec\":{\"interactive\":false}}");
	}
	kube_config__clear(&cfg);
	write_file("exec2", "current-context: c\nclusters: [{name: k, cluster: {server: 'https://h:1'}}]\n"
			    "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
			    "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: p}}}]\n");
	CHECK_INT(kubeconfig__load_from(at("exec2"), NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "interactiveMode must be set") != NULL);
}

static void test_exec_credential_parse(void)
{
	static const struct {
		const char *json;
		int rc;
		const char *token;
		time_t expires;
	} rows[] = {
		{ "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" EXEC_API_V1 "\",\"status\":{\"token\":\"t1\"}}", 0, "t1", 0 },
		{ "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" EXEC_API_V1 "\",\"status\":{\"token\":\"t2\","
		  "\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}", 0, "t2", 1893553445 },
		{ "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" EXEC_API_V1 "\",\"status\":{\"clientCertificateData\":"
		  "\"C\",\"clientKeyData\":\"K\"}}", 0, NULL, 0 },
		{ "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" EXEC_API_V1BETA1 "\",\"status\":{\"token\":\"t\"}}",
		  -EBADMSG, NULL, 0 },
		{ "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" EXEC_API_V1 "\",\"status\":{\"clientCertificateData\":\"C\"}}",
		  -EBADMSG, NULL, 0 },
		{ "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" EXEC_API_V1 "\",\"status\":{}}", -EBADMSG, NULL, 0 },
		{ "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" EXEC_API_V1 "\"}", -EBADMSG, NULL, 0 },
		{ "token: x", -EBADMSG, NULL, 0 },
	};
	struct exec_credential c;
	char err[256];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_INT(parse_exec_credential(rows[i].json, EXEC_API_V1, &c, err, sizeof(err)), rows[i].rc);
		if (rows[i].rc == 0 && rows[i].token)
			CHECK_STR(c.token, rows[i].token);
		if (rows[i].rc == 0)
			CHECK_INT(c.expires, rows[i].expires);
		exec_credential__clear(&c);
	}
	CHECK_INT(parse_rfc3339("2030-01-02T04:04:05.123+01:00"), 1893553445);
	CHECK_INT(parse_rfc3339("2030-01-02 03:04:05"), 0);
}

/* A real plugin: its env and KUBERNETES_EXEC_INFO reach it; the credential
 * is kept while it lasts, fetched again once expired or when forced. */
static void test_exec_run(void)
{
	struct exec_plugin p = { 0 };
	char *args[] = { (char *)"arg1" }, *env[] = { (char *)"PLUGIN_SUFFIX=sfx" }, err[512], script[1024];
	FILE *f;

	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "n=$(($(cat %s/runs 2>/dev/null || echo 0) + 1)); echo $n >%s/runs\n"
		 "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 3;; esac\n"
		 "exp=\"\"; [ \"$1\" = arg1 ] && [ $n -eq 1 ] && exp=',\"expirationTimestamp\":\"2000-01-01T00:00:00Z\"'\n"
		 "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"%s\",\"status\":{\"token\":\"tok-%%s-%%s\"%%s}}' "
		 "$n \"$PLUGIN_SUFFIX\" \"$exp\"\n", dir, dir, EXEC_API_V1);
	f = fopen(at("plugin.sh"), "w");
	if (!f) {
		CHECK(f != NULL);
		return;
	}
	fputs(script, f);
	fclose(f);
	chmod(at("plugin.sh"), 0755);
	p.api_version = (char *)EXEC_API_V1;
	p.command = (char *)at("plugin.sh");
	p.args = args;
	p.nargs = 1;
	p.env = env;
	p.nenv = 1;
	p.exec_info = (char *)"{\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}";
	CHECK_INT(exec_plugin__credential(&p, false, err, sizeof(err)), 0);
	CHECK_STR(p.cred.token, "tok-1-sfx");
	/* it expired in 2000: run again */
	CHECK_INT(exec_plugin__credential(&p, false, err, sizeof(err)), 0);
	CHECK_STR(p.cred.token, "tok-2-sfx");
	/* no expiry: kept */
	CHECK_INT(exec_plugin__credential(&p, false, err, sizeof(err)), 0);
	CHECK_STR(p.cred.token, "tok-2-sfx");
	/* a 401: forced */
	CHECK_INT(exec_plugin__credential(&p, true, err, sizeof(err)), 0);
	CHECK_STR(p.cred.token, "tok-3-sfx");
	exec_credential__clear(&p.cred);
	/* a plugin that fails: its command and status, never its output */
	p.have_cred = false;
	p.exec_info = (char *)"{}";
	CHECK_INT(exec_plugin__credential(&p, false, err, sizeof(err)), -EIO);
	CHECK(strstr(err, "exited with status 3") != NULL);
	p.command = (char *)"/nonexistent/plugin";
	CHECK_INT(exec_plugin__credential(&p, false, err, sizeof(err)), -ENOENT);
	CHECK_STR(err, "exec plugin /nonexistent/plugin: cannot be run: No such file or directory");
}

int main(void)
{
	unit_prog = "kubeconfig";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	pem64 = base64__encode(PEM, strlen(PEM));
	RUN(test_contexts);
	RUN(test_relative_paths);
	RUN(test_data_fields);
	RUN(test_missing_entries);
	RUN(test_bad_yaml);
	RUN(test_kubeconfig_lists);
	RUN(test_exec_stanza);
	RUN(test_exec_credential_parse);
	RUN(test_exec_run);
	free(pem64);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return unit_exit();
}
