// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probe specs, error rules and config lines: table-driven, bad input included. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/types.h>

#include "config_file.h"
#include "probe_spec.h"
#include "span_record.h"
#include "unit.h"

static void test_probe_specs(void)
{
	static const struct {
		const char *text;
		int err;
		enum probe_kind kind;
		const char *binary, *files, *funcs; /* funcs joined with '|' */
	} cases[] = {
		{ "uprobe:./app:foo", 0, PROBE_UPROBE, "./app", NULL, "foo" },
		{ "uprobe:/usr/bin/app:foo,goo,zoo", 0, PROBE_UPROBE, "/usr/bin/app", NULL, "foo|goo|zoo" },
		{ "u:libc:malloc", 0, PROBE_UPROBE, "libc", NULL, "malloc" },
		{ "uprobe:./app:http_*", 0, PROBE_UPROBE, "./app", NULL, "http_*" },
		{ "uprobe:/odd:dir/app:f", 0, PROBE_UPROBE, "/odd:dir/app", NULL, "f" },
		/* C++/Rust names: "::" is never the separator; commas in <> or () don't split */
		{ "uprobe:./app:Server::*", 0, PROBE_UPROBE, "./app", NULL, "Server::*" },
		{ "uprobe:./app:ns::Server::handle,main", 0, PROBE_UPROBE, "./app", NULL,
		  "ns::Server::handle|main" },
		{ "uprobe:./app:Map<int, char>::get,f(int, long)", 0, PROBE_UPROBE, "./app", NULL,
		  "Map<int, char>::get|f(int, long)" },
		{ "uprobe:/odd:dir/app:a::b", 0, PROBE_UPROBE, "/odd:dir/app", NULL, "a::b" },
		{ "uprobe:./app:::", -EINVAL, 0, NULL, NULL, NULL },
		{ "uprobe:./app::", -EINVAL, 0, NULL, NULL, NULL },
		{ "python:/usr/bin/python3.11:app.py:foo,goo", 0, PROBE_PYTHON, "/usr/bin/python3.11", "app.py", "foo|goo" },
		{ "python:/usr/bin/python3.11:*:f", 0, PROBE_PYTHON, "/usr/bin/python3.11", "*", "f" },
		{ "uprobe:./app", -EINVAL, 0, NULL, NULL, NULL },
		{ "uprobe:./app:", -EINVAL, 0, NULL, NULL, NULL },
		{ "uprobe:./app:foo,,goo", -EINVAL, 0, NULL, NULL, NULL },
		{ "uprobe::foo", -EINVAL, 0, NULL, NULL, NULL },
		{ "kprobe:do_sys_open:x", -EINVAL, 0, NULL, NULL, NULL },
		{ "foo", -EINVAL, 0, NULL, NULL, NULL },
		{ "", -EINVAL, 0, NULL, NULL, NULL },
		{ "python:/usr/bin/python3:foo", -EINVAL, 0, NULL, NULL, NULL },
		{ "uprobe:./a\x01pp:foo", -EINVAL, 0, NULL, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct probe_spec p;
		char err[256] = "", joined[256] = "";
		int ret = probe_spec__parse(cases[i].text, &p, err, sizeof(err));

		CHECK_INT(ret, cases[i].err);
		if (ret) {
			CHECK(err[0] != '\0'); /* every failure explains itself */
			continue;
		}
		CHECK_INT(p.kind, cases[i].kind);
		CHECK_STR(p.binary, cases[i].binary);
		if (cases[i].files)
			CHECK_STR(p.files, cases[i].files);
		for (size_t k = 0; k < p.nfuncs; k++) {
			strcat(joined, k ? "|" : "");
			strcat(joined, p.funcs[k]);
		}
		CHECK_STR(joined, cases[i].funcs);
		probe_spec__release(&p);
	}
}

static void test_error_rules(void)
{
	static const struct {
		const char *text;
		int err;
		uint8_t op;
		int64_t value;
		int null;
		size_t nfuncs;
	} cases[] = {
		{ "goo:ret<0", 0, ERR_OP_LT, 0, 0, 1 },
		{ "goo:ret<=-1", 0, ERR_OP_LE, -1, 0, 1 },
		{ "goo,zoo:ret==-22", 0, ERR_OP_EQ, -22, 0, 2 },
		{ "f*:ret != 0", 0, ERR_OP_NE, 0, 0, 1 },
		{ "f:ret>0x10", 0, ERR_OP_GT, 16, 0, 1 },
		{ "f:ret>=100", 0, ERR_OP_GE, 100, 0, 1 },
		{ "alloc*:NULL", 0, ERR_OP_EQ, 0, 1, 1 },
		{ "alloc:ret==NULL", 0, ERR_OP_EQ, 0, 1, 1 },
		{ "f:ret==0xffffffffffffffff", 0, ERR_OP_EQ, -1, 0, 1 },
		{ "goo:ret<<0", -EINVAL, 0, 0, 0, 0 },
		{ "goo:ret<", -EINVAL, 0, 0, 0, 0 },
		{ "goo:ret<abc", -EINVAL, 0, 0, 0, 0 },
		{ "goo:ret<0 junk", -EINVAL, 0, 0, 0, 0 },
		{ "goo:rax<0", -EINVAL, 0, 0, 0, 0 },
		{ "goo:ret<NULL", -EINVAL, 0, 0, 0, 0 },
		{ "goo:ret<99999999999999999999", -EINVAL, 0, 0, 0, 0 },
		{ ":ret<0", -EINVAL, 0, 0, 0, 0 },
		{ "ret<0", -EINVAL, 0, 0, 0, 0 },
		{ "goo,:ret<0", -EINVAL, 0, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error_rule r;
		char err[256] = "";
		int ret = error_rule__parse(cases[i].text, &r, err, sizeof(err));

		CHECK_INT(ret, cases[i].err);
		if (ret) {
			CHECK(err[0] != '\0');
			continue;
		}
		CHECK_INT(r.op, cases[i].op);
		CHECK_INT(r.value, cases[i].value);
		CHECK_INT(r.null, cases[i].null);
		CHECK_INT(r.nfuncs, cases[i].nfuncs);
		error_rule__release(&r);
	}
}

static void test_config_lines(void)
{
	static const struct {
		const char *line;
		int err, nwords;
		const char *w0, *w1;
	} cases[] = {
		{ "# comment", 0, 0, NULL, NULL },
		{ "   ", 0, 0, NULL, NULL },
		{ "probe uprobe:/app:foo", 0, 1, "uprobe:/app:foo", NULL },
		{ "error = goo:ret<0\n", 0, 2, "--error", "goo:ret<0" },
		{ "  output\totlp  ", 0, 2, "--output", "otlp" },
		{ "service-name=demo app", 0, 2, "--service-name", "demo app" },
		{ "dry-run", 0, 1, "--dry-run", NULL },
		{ "dry-run yes", -EINVAL, 0, NULL, NULL },
		{ "output", -EINVAL, 0, NULL, NULL },
		{ "bogus 1", -EINVAL, 0, NULL, NULL },
		{ "--output otlp", -EINVAL, 0, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *words[2];
		const char *why = NULL;
		int n = -1;
		int ret = config_line__parse(cases[i].line, words, &n, &why);

		CHECK_INT(ret, cases[i].err);
		if (ret) {
			CHECK(why != NULL);
			continue;
		}
		CHECK_INT(n, cases[i].nwords);
		if (n > 0)
			CHECK_STR(words[0], cases[i].w0);
		if (n > 1)
			CHECK_STR(words[1], cases[i].w1);
		for (int k = 0; k < n; k++)
			free(words[k]);
	}
}

static void test_config_expand(void)
{
	char path[] = "/tmp/spanprobe-conf-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *argv[] = { "spanprobe", "-v", "--config", path, "-o", "tree", NULL };
	char **out;
	int outc;

	fputs("probe uprobe:/app:foo\nerror goo:ret<0\noutput otlp\n", f);
	fclose(f);
	CHECK_INT(config_file__expand(6, argv, &outc, &out), 0);
	CHECK_INT(outc, 9);
	if (outc == 9) {
		/* file's options where --config stood; the command line around them */
		CHECK_STR(out[1], "-v");
		CHECK_STR(out[2], "uprobe:/app:foo");
		CHECK_STR(out[3], "--error");
		CHECK_STR(out[6], "otlp");
		CHECK_STR(out[8], "tree");
		CHECK(out[9] == NULL);
	}
	config_file__free_argv(outc, out, argv);
	unlink(path);

	/* no --config: argv itself */
	CHECK_INT(config_file__expand(2, argv, &outc, &out), 0);
	CHECK(out == argv);
	char *missing[] = { "spanprobe", "--config=/nonexistent/x.conf", NULL };
	CHECK_INT(config_file__expand(2, missing, &outc, &out), -ENOENT);
}

int main(void)
{
	unit_prog = "probe_spec";
	RUN(test_probe_specs);
	RUN(test_error_rules);
	RUN(test_config_lines);
	RUN(test_config_expand);
	return unit_exit();
}
