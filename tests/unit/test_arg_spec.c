// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --arg specs: parsing (table-driven, bad input included) and resolving
 * against a function's DWARF parameters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "arg_spec.h"
#include "elf_symbols.h"
#include "unit.h"

static void test_parse(void)
{
	static const struct {
		const char *text;
		int err;
		const char *funcs;  /* joined with '|' */
		const char *items;  /* "name:index:type:size|..." */
	} cases[] = {
		{ "sqlite3_prepare_v2:arg1=string", 0, "sqlite3_prepare_v2", "arg1:1:4:0" },
		{ "open:pathname", 0, "open", "pathname:-1:0:0" },
		{ "f,g:arg0=int,arg5=uint64", 0, "f|g", "arg0:0:1:0|arg5:5:2:8" },
		{ "f:arg2=hex,x=int16,y=char**", 0, "f", "arg2:2:3:0|x:-1:1:2|y:-1:5:0" },
		{ "ns::Server::handle:arg0=hex", 0, "ns::Server::handle", "arg0:0:3:0" },
		{ "f:a=str,b=char*", 0, "f", "a:-1:4:0|b:-1:4:0" },
		{ "f:arg6=int", -EINVAL, NULL, NULL },            /* on the stack */
		{ "f:arg1=float", -EINVAL, NULL, NULL },          /* unknown type */
		{ "f:arg1=", -EINVAL, NULL, NULL },
		{ "f:", -EINVAL, NULL, NULL },
		{ ":arg1", -EINVAL, NULL, NULL },
		{ "f", -EINVAL, NULL, NULL },
		{ "", -EINVAL, NULL, NULL },
		{ "f:arg1,,arg2", -EINVAL, NULL, NULL },
		{ "f,,g:arg1", -EINVAL, NULL, NULL },
		{ "f:1x", -EINVAL, NULL, NULL },                  /* not a name */
		{ "f:a-b", -EINVAL, NULL, NULL },
		{ "f:arg1,arg1", -EINVAL, NULL, NULL },           /* twice */
		{ "f:a=string,b=string,c=pstring", -EINVAL, NULL, NULL }, /* three strings */
		{ "f:a,b,c,d,e,g,h", -EINVAL, NULL, NULL },       /* seven */
		{ "f:a\x01", -EINVAL, NULL, NULL },
		{ "f::arg1", -EINVAL, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arg_rule r;
		char err[512] = "", funcs[256] = "", items[256] = "";
		int ret = arg_rule__parse(cases[i].text, &r, err, sizeof(err));

		CHECK_INT(ret, cases[i].err);
		if (ret) {
			CHECK(err[0] != '\0');
			continue;
		}
		for (size_t k = 0; k < r.nfuncs; k++)
			snprintf(funcs + strlen(funcs), sizeof(funcs) - strlen(funcs), "%s%s",
				 k ? "|" : "", r.funcs[k]);
		for (size_t k = 0; k < r.nitems; k++)
			snprintf(items + strlen(items), sizeof(items) - strlen(items), "%s%s:%d:%u:%u",
				 k ? "|" : "", r.items[k].name, r.items[k].index, r.items[k].type,
				 r.items[k].size);
		CHECK_STR(funcs, cases[i].funcs);
		CHECK_STR(items, cases[i].items);
		CHECK(strncmp(r.items[0].attr_key, "spanprobe.arg.", 14) == 0);
		arg_rule__release(&r);
	}
}

/* int run_query(void *db, const char *sql, int nbytes, double w, char **v, long n) */
static struct func_param params[] = {
	{ "db", PARAM_POINTER, 8, false },
	{ "sql", PARAM_STRING, 8, false },
	{ "nbytes", PARAM_INT, 4, true },
	{ "w", PARAM_OTHER, 0, false },
	{ "v", PARAM_STRING_PTR, 8, false },
	{ "flags", PARAM_INT, 2, false },
	{ "seventh", PARAM_INT, 8, true },
};

static void test_resolve(void)
{
	static struct func_symbol sym = { .name = "run_query", .params_known = true, .params = params,
				   .nparams = sizeof(params) / sizeof(params[0]) };
	static struct func_symbol no_dwarf = { .name = "stripped" };
	static const struct {
		const struct func_symbol *sym;
		const char *text;
		int err;
		const char *want; /* "reg:type:size:str|..." */
	} cases[] = {
		{ &sym, "f:sql,nbytes", 0, "1:4:8:0|2:1:4:0" },
		{ &sym, "f:db", 0, "0:3:8:0" },                  /* other pointers: hex */
		{ &sym, "f:nbytes=hex", 0, "2:3:8:0" },          /* as written wins */
		{ &sym, "f:nbytes=uint", 0, "2:2:4:0" },         /* its width from DWARF */
		{ &sym, "f:arg1,arg2", 0, "1:4:8:0|2:1:4:0" },   /* argN takes DWARF's type */
		{ &sym, "f:arg3=int", 0, "3:1:4:0" },            /* argN is the register, as told */
		{ &sym, "f:sql,arg0=string", 0, "1:4:8:0|0:4:8:1" },
		{ &sym, "f:w", -EINVAL, NULL },                  /* a double */
		{ &sym, "f:v", -EINVAL, NULL },                  /* after a double: can't locate */
		{ &sym, "f:nosuch", -EINVAL, NULL },
		{ &sym, "f:seventh", -EINVAL, NULL },            /* on the stack */
		{ &no_dwarf, "f:arg1=string,arg2", -EINVAL, NULL }, /* arg2's type unknown */
		{ &no_dwarf, "f:arg1=string,arg2=int", 0, "1:4:8:0|2:1:4:0" },
		{ &no_dwarf, "f:arg0=uint", 0, "0:2:4:0" },      /* C's int without DWARF */
		{ &no_dwarf, "f:sql", -EINVAL, NULL },           /* a name needs DWARF */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arg_rule r;
		struct func_args fa;
		char err[512] = "", got[128] = "";
		int ret;

		CHECK_INT(arg_rule__parse(cases[i].text, &r, err, sizeof(err)), 0);
		ret = arg_rule__resolve(&r, cases[i].sym, &fa, err, sizeof(err));
		CHECK_INT(ret, cases[i].err);
		if (ret) {
			CHECK(strstr(err, cases[i].sym->name) != NULL); /* names the function */
		} else {
			for (size_t k = 0; k < fa.spec.nargs; k++)
				snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u:%u:%u:%u",
					 k ? "|" : "", fa.spec.slot[k].reg, fa.spec.slot[k].type,
					 fa.spec.slot[k].size, fa.spec.slot[k].str);
			CHECK_STR(got, cases[i].want);
			CHECK(fa.names[0] == r.items[0].name);
		}
		arg_rule__release(&r);
	}
}

int main(void)
{
	unit_prog = "arg_spec";
	RUN(test_parse);
	RUN(test_resolve);
	return unit_exit();
}
