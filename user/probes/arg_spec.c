// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arg_spec.h"
#include "elf_symbols.h"
#include "probe_spec.h"

_Static_assert(ARG_MAX == sizeof(((struct arg_spec *)0)->slot) / sizeof(struct arg_slot),
	       "arg_spec holds ARG_MAX slots");

static const struct {
	const char *name;
	uint8_t type, size;
} arg_types[] = {
	{ "int", ARG_T_INT, 0 },     { "int8", ARG_T_INT, 1 },   { "int16", ARG_T_INT, 2 },
	{ "int32", ARG_T_INT, 4 },   { "int64", ARG_T_INT, 8 },  { "uint", ARG_T_UINT, 0 },
	{ "uint8", ARG_T_UINT, 1 },  { "uint16", ARG_T_UINT, 2 }, { "uint32", ARG_T_UINT, 4 },
	{ "uint64", ARG_T_UINT, 8 }, { "hex", ARG_T_HEX, 0 },    { "string", ARG_T_STR, 0 },
	{ "str", ARG_T_STR, 0 },     { "char*", ARG_T_STR, 0 },  { "pstring", ARG_T_PSTR, 0 },
	{ "char**", ARG_T_PSTR, 0 },
};

const char *arg_type__name(uint8_t type, uint8_t size)
{
	for (size_t i = 0; i < sizeof(arg_types) / sizeof(arg_types[0]); i++)
		if (arg_types[i].type == type && arg_types[i].size == size)
			return arg_types[i].name;
	switch (type) {
	case ARG_T_INT: return "int";
	case ARG_T_UINT: return "uint";
	case ARG_T_HEX: return "hex";
	case ARG_T_STR: return "string";
	case ARG_T_PSTR: return "pstring";
	default: return "?";
	}
}

static bool is_identifier(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* "argN" with N in 0..ARG_MAX-1: N; "argN" beyond: -2; else -1. */
static int arg_index(const char *s)
{
	char *end;
	long n;

	if (strncmp(s, "arg", 3) != 0 || !isdigit((unsigned char)s[3]))
		return -1;
	n = strtol(s + 3, &end, 10);
	if (*end)
		return -1;
	return n >= 0 && n < ARG_MAX ? (int)n : -2;
}

static int parse_item(const char *text, struct arg_item *it, char *err, size_t errlen,
		      const char *whole)
{
	const char *eq = strchr(text, '=');
	char *name = eq ? strndup(text, eq - text) : strdup(text);
	size_t i;
	int idx;

	if (!name)
		return -ENOMEM;
	it->name = name;
	if (!is_identifier(name)) {
		snprintf(err, errlen, "bad --arg '%s': '%s' is not argN nor a parameter name", whole,
			 name);
		return -EINVAL;
	}
	idx = arg_index(name);
	if (idx == -2) {
		snprintf(err, errlen, "bad --arg '%s': %s is not in a register (arg0..arg%d: rdi, "
			 "rsi, rdx, rcx, r8, r9)", whole, name, ARG_MAX - 1);
		return -EINVAL;
	}
	it->index = idx;
	if (asprintf(&it->attr_key, "spanprobe.arg.%s", name) < 0) {
		it->attr_key = NULL;
		return -ENOMEM;
	}
	if (!eq)
		return 0;
	for (i = 0; i < sizeof(arg_types) / sizeof(arg_types[0]); i++)
		if (strcmp(eq + 1, arg_types[i].name) == 0)
			break;
	if (i == sizeof(arg_types) / sizeof(arg_types[0])) {
		snprintf(err, errlen, "bad --arg '%s': unknown type '%s' (use int, uint, int8..int64, "
			 "uint8..uint64, hex, string or pstring)", whole, eq + 1);
		return -EINVAL;
	}
	it->type = arg_types[i].type;
	it->size = arg_types[i].size;
	return 0;
}

int arg_rule__parse(const char *text, struct arg_rule *out, char *err, size_t errlen)
{
	const char *colon = strrchr(text, ':');
	char *funcs = NULL, **items = NULL;
	size_t nitems = 0, nstr = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	for (const char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(err, errlen, "bad --arg: it contains control characters");
			return -EINVAL;
		}
	if (!colon || colon == text || !colon[1] || colon[-1] == ':') {
		snprintf(err, errlen, "bad --arg '%s': expected FUNCS:ARG[=TYPE],... (e.g. "
			 "'sqlite3_prepare_v2:arg1=string', 'open:pathname')", text);
		return -EINVAL;
	}
	out->text = strdup(text);
	funcs = strndup(text, colon - text);
	if (!out->text || !funcs) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = split_list(funcs, &out->funcs, &out->nfuncs);
	if (ret) {
		if (ret == -EINVAL)
			snprintf(err, errlen, "bad --arg '%s': empty function name", text);
		goto fail;
	}
	ret = split_list(colon + 1, &items, &nitems);
	if (ret) {
		if (ret == -EINVAL)
			snprintf(err, errlen, "bad --arg '%s': empty argument in '%s'", text, colon + 1);
		goto fail;
	}
	if (nitems > ARG_MAX) {
		snprintf(err, errlen, "bad --arg '%s': at most %d arguments a function", text, ARG_MAX);
		ret = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < nitems; i++) {
		ret = parse_item(items[i], &out->items[i], err, errlen, text);
		out->nitems = i + 1;
		if (ret)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->items[j].name, out->items[i].name) == 0) {
				snprintf(err, errlen, "bad --arg '%s': %s named twice", text,
					 out->items[i].name);
				ret = -EINVAL;
				goto fail;
			}
		nstr += out->items[i].type == ARG_T_STR || out->items[i].type == ARG_T_PSTR;
	}
	if (nstr > ARG_MAX_STRINGS) {
		snprintf(err, errlen, "bad --arg '%s': at most %d string arguments a function", text,
			 ARG_MAX_STRINGS);
		ret = -EINVAL;
		goto fail;
	}
	free_list(items);
	free(funcs);
	return 0;
fail:
	free_list(items);
	free(funcs);
	arg_rule__release(out);
	return ret;
}

void arg_rule__release(struct arg_rule *r)
{
	if (!r)
		return;
	free_list(r->funcs);
	for (size_t i = 0; i < r->nitems; i++) {
		free(r->items[i].name);
		free(r->items[i].attr_key);
	}
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* The DWARF parameter an item names (by name or position), or NULL. */
static const struct func_param *param_of(const struct func_symbol *sym, const struct arg_item *it,
					 size_t *pos)
{
	if (!sym->params_known)
		return NULL;
	for (size_t i = 0; i < sym->nparams; i++) {
		const struct func_param *p = &sym->params[i];

		if (it->index >= 0 ? (size_t)it->index == i : p->name && strcmp(p->name, it->name) == 0) {
			*pos = i;
			return p;
		}
	}
	return NULL;
}

/* The type and size an item is read as: as written, else from DWARF. */
static int item_type(const struct arg_item *it, const struct func_param *p, const char *fn,
		     uint8_t *type, uint8_t *size, char *err, size_t errlen)
{
	*type = it->type;
	*size = it->size;
	if (!*type) {
		if (!p) {
			snprintf(err, errlen, "--arg: %s of %s: its type is unknown (no DWARF); give "
				 "one, e.g. %s=int or %s=string", it->name, fn, it->name, it->name);
			return -EINVAL;
		}
		switch (p->kind) {
		case PARAM_INT:
			*type = p->is_signed ? ARG_T_INT : ARG_T_UINT;
			*size = p->size;
			break;
		case PARAM_POINTER:
			*type = ARG_T_HEX;
			*size = 8;
			break;
		case PARAM_STRING:
			*type = ARG_T_STR;
			break;
		case PARAM_STRING_PTR:
			*type = ARG_T_PSTR;
			break;
		default:
			snprintf(err, errlen, "--arg: %s of %s is a float, struct or wider value, not "
				 "in a general register", it->name, fn);
			return -EINVAL;
		}
	}
	if (!*size && (*type == ARG_T_INT || *type == ARG_T_UINT))
		*size = p && p->kind == PARAM_INT ? p->size : 4; /* C's int without DWARF */
	if (!*size)
		*size = 8;
	return 0;
}

int arg_rule__resolve(const struct arg_rule *r, const struct func_symbol *sym,
		      struct func_args *out, char *err, size_t errlen)
{
	uint8_t nstr = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->nitems; i++) {
		const struct arg_item *it = &r->items[i];
		const struct func_param *p;
		struct arg_slot *s = &out->spec.slot[i];
		size_t pos = 0;
		int err_;

		p = param_of(sym, it, &pos);
		if (it->index < 0) {
			if (!sym->params_known) {
				snprintf(err, errlen, "--arg: %s has no DWARF, so its parameter '%s' "
					 "can't be found (name it argN=TYPE instead)", sym->name,
					 it->name);
				return -EINVAL;
			}
			if (!p) {
				snprintf(err, errlen, "--arg: %s has no parameter named '%s'%s",
					 sym->name, it->name, sym->nparams ? "" : " (it has none)");
				return -EINVAL;
			}
			if (pos >= ARG_MAX) {
				snprintf(err, errlen, "--arg: %s of %s is parameter %zu, passed on the "
					 "stack (only the first %d, in registers, can be captured)",
					 it->name, sym->name, pos, ARG_MAX);
				return -EINVAL;
			}
			/* a float or struct before it shifts the registers */
			for (size_t k = 0; k < pos; k++)
				if (sym->params[k].kind == PARAM_OTHER) {
					snprintf(err, errlen, "--arg: %s of %s can't be located: a float, "
						 "struct or wide parameter comes before it (use argN if "
						 "you know its register)", it->name, sym->name);
					return -EINVAL;
				}
		}
		err_ = item_type(it, p, sym->name, &s->type, &s->size, err, errlen);
		if (err_)
			return err_;
		s->reg = it->index >= 0 ? (uint8_t)it->index : (uint8_t)pos;
		if (s->type == ARG_T_STR || s->type == ARG_T_PSTR) {
			if (nstr >= ARG_MAX_STRINGS) {
				snprintf(err, errlen, "--arg: %s: at most %d string arguments a function",
					 sym->name, ARG_MAX_STRINGS);
				return -EINVAL;
			}
			s->str = nstr++;
		}
		out->names[i] = it->name;
		out->attr_keys[i] = it->attr_key;
	}
	out->spec.nargs = (uint8_t)r->nitems;
	return 0;
}
