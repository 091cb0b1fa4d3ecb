// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* label_selector: the Kubernetes selector syntax, what each operator
 * selects (as `kubectl get -l` does), and one clear error per bad input. */
#include <errno.h>
#include <stdlib.h>

#include "label_selector.h"
#include "unit.h"

/* Labels written "k=v;k=v" for the tables. */
static size_t parse_labels(const char *text, struct k8s_label *out, size_t cap, char *store)
{
	size_t n = 0;
	char *save = NULL, *item;

	strcpy(store, text);
	for (item = strtok_r(store, ";", &save); item && n < cap; item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');

		out[n].key = item;
		out[n].value = eq ? (*eq = '\0', eq + 1) : (char *)"";
		n++;
	}
	return n;
}

static void test_parse_normalizes(void)
{
	static const struct {
		const char *text, *want;
	} rows[] = {
		{ "", "" },
		{ "   ", "" },
		{ "app=frontend", "app=frontend" },
		{ "app==frontend", "app=frontend" },
		{ " app = frontend , tier != db ", "app=frontend,tier!=db" },
		{ "tier in (web, api)", "tier in (web,api)" },
		{ "tier notin (db)", "tier notin (db)" },
		{ "tier in ()", "tier in ()" },
		{ "canary", "canary" },
		{ "!canary", "!canary" },
		{ "! canary,app", "!canary,app" },
		{ "replicas>3,replicas<10", "replicas>3,replicas<10" },
		{ "app=", "app=" },
		{ "app.kubernetes.io/name=spanprobe", "app.kubernetes.io/name=spanprobe" },
		{ "a=in", "a=in" }, /* a value may be a keyword */
		{ "x in (in,notin)", "x in (in,notin)" },
		{ "A_b.c-D=Va.l_u-E", "A_b.c-D=Va.l_u-E" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct label_selector *sel = NULL;
		char err[256];
		int rc = label_selector__parse(rows[i].text, &sel, err, sizeof(err));

		if (rc) {
			printf("  '%s': unexpected error: %s\n", rows[i].text, err);
			unit_failed_checks++;
			continue;
		}
		CHECK_STR(label_selector__text(sel), rows[i].want);
		label_selector__free(sel);
	}
}

static void test_parse_errors(void)
{
	static const struct {
		const char *text, *want; /* want: the whole message */
	} rows[] = {
		{ "app in (web", "expected ',' or ')' in the list of 'app in', found the end" },
		{ "app in web", "expected '(' after 'app in', found 'web' (position 8)" },
		{ "app in (a b)", "expected ',' or ')' in the list of 'app in', found 'b' (position 11)" },
		{ "app in (,)", "expected a value in the list of 'app in', found ',' (position 9)" },
		{ "app notin", "expected '(' after 'app notin', found the end" },
		{ "=web", "expected a label key, found '=' (position 1)" },
		{ ",app", "expected a label key, found ',' (position 1)" },
		{ "app,", "expected a label key, found the end" },
		{ "app=a,,b", "expected a label key, found ',' (position 7)" },
		{ "app=web tier=db", "expected ',' or the end after a requirement on 'app', found 'tier' (position 9)" },
		{ "app foo", "expected '=', '==', '!=', 'in', 'notin', '>' or '<' after 'app', found 'foo' (position 5)" },
		{ "app!web", "expected '=', '==', '!=', 'in', 'notin', '>' or '<' after 'app', found '!' (position 4)" },
		{ "!app=web", "expected ',' or the end after '!app' (a '!' only negates a key), found '=' (position 5)" },
		{ "app=(web)", "expected a value after 'app=', found '(' (position 5)" },
		{ "n>x", "'n >' needs an integer, found 'x' (position 3)" },
		{ "n<", "'n <' needs an integer, found the end" },
		{ "n>1.5", "'n >' needs an integer, found '1.5' (position 3)" },
		{ "in=a", "expected a label key, found 'in' (position 1)" },
		{ "-app=web", "invalid label key '-app' (a name of 1-63 characters [A-Za-z0-9._-], alphanumeric at both ends, optionally after a DNS subdomain and '/') (position 1)" },
		{ "Example.COM/app=web", "invalid label key 'Example.COM/app' (a name of 1-63 characters [A-Za-z0-9._-], alphanumeric at both ends, optionally after a DNS subdomain and '/') (position 1)" },
		{ "a/b/c", "invalid label key 'a/b/c' (a name of 1-63 characters [A-Za-z0-9._-], alphanumeric at both ends, optionally after a DNS subdomain and '/') (position 1)" },
		{ "app=web-", "invalid label value 'web-' for 'app' (at most 63 characters [A-Za-z0-9._-], alphanumeric at both ends, or empty) (position 5)" },
		{ "app in (ok,b@d)", "invalid label value 'b@d' for 'app' (at most 63 characters [A-Za-z0-9._-], alphanumeric at both ends, or empty) (position 12)" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct label_selector *sel = (struct label_selector *)1;
		char err[512];
		int rc = label_selector__parse(rows[i].text, &sel, err, sizeof(err));

		CHECK_INT(rc, -EINVAL);
		CHECK(sel == NULL);
		CHECK_STR(err, rows[i].want);
		label_selector__free(sel);
	}
}

static void test_lengths(void)
{
	char text[400], err[512];
	struct label_selector *sel = NULL;

	/* name part: 63 ok, 64 not */
	memset(text, 'a', 63);
	strcpy(text + 63, "=x");
	CHECK_INT(label_selector__parse(text, &sel, err, sizeof(err)), 0);
	label_selector__free(sel);
	memset(text, 'a', 64);
	strcpy(text + 64, "=x");
	CHECK_INT(label_selector__parse(text, &sel, err, sizeof(err)), -EINVAL);
	/* value: 63 ok, 64 not */
	strcpy(text, "k=");
	memset(text + 2, 'v', 63);
	text[65] = '\0';
	CHECK_INT(label_selector__parse(text, &sel, err, sizeof(err)), 0);
	label_selector__free(sel);
	strcpy(text, "k=");
	memset(text + 2, 'v', 64);
	text[66] = '\0';
	CHECK_INT(label_selector__parse(text, &sel, err, sizeof(err)), -EINVAL);
	/* a tiny error buffer is cut, not overrun */
	CHECK_INT(label_selector__parse("app in", &sel, err, 8), -EINVAL);
	CHECK_INT((long long)strlen(err), 7);
}

static void test_matches(void)
{
	static const struct {
		const char *selector, *labels;
		bool want;
	} rows[] = {
		{ "", "", true },
		{ "", "app=web", true },
		{ "app=web", "app=web", true },
		{ "app=web", "app=api", false },
		{ "app=web", "", false },
		{ "app==web", "tier=x;app=web", true },
		{ "app!=web", "app=api", true },
		{ "app!=web", "", true }, /* a missing label is "not web" */
		{ "app!=web", "app=web", false },
		{ "app in (web,api)", "app=api", true },
		{ "app in (web,api)", "app=db", false },
		{ "app in (web,api)", "", false },
		{ "app notin (web,api)", "app=db", true },
		{ "app notin (web,api)", "", true },
		{ "app notin (web,api)", "app=web", false },
		{ "app in ()", "app=", true },
		{ "app in ()", "app=x", false },
		{ "app=", "app=", true },
		{ "app=", "", false },
		{ "canary", "canary=", true },
		{ "canary", "canary=false", true },
		{ "canary", "app=web", false },
		{ "!canary", "app=web", true },
		{ "!canary", "canary=no", false },
		{ "n>3", "n=4", true },
		{ "n>3", "n=3", false },
		{ "n>3", "n=abc", false },
		{ "n>3", "", false },
		{ "n<3", "n=-1", true },
		{ "n<3", "n=", false },
		{ "app=web,tier in (fe),!canary", "app=web;tier=fe", true },
		{ "app=web,tier in (fe),!canary", "app=web;tier=fe;canary=1", false },
		{ "app=web,tier in (fe),!canary", "app=web;tier=be", false },
		{ "app=Web", "app=web", false }, /* values are case-sensitive */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct label_selector *sel = NULL;
		struct k8s_label labels[8];
		char err[256], store[256];
		size_t n = parse_labels(rows[i].labels, labels, 8, store);

		if (label_selector__parse(rows[i].selector, &sel, err, sizeof(err))) {
			printf("  '%s': %s\n", rows[i].selector, err);
			unit_failed_checks++;
			continue;
		}
		if (label_selector__matches(sel, labels, n) != rows[i].want) {
			printf("  '%s' on '%s': want %s\n", rows[i].selector, rows[i].labels,
			       rows[i].want ? "match" : "no match");
			unit_failed_checks++;
		}
		label_selector__free(sel);
	}
	CHECK(label_selector__matches(NULL, NULL, 0)); /* no selector: everything */
}

int main(void)
{
	unit_prog = "label_selector";
	RUN(test_parse_normalizes);
	RUN(test_parse_errors);
	RUN(test_lengths);
	RUN(test_matches);
	return unit_exit();
}
