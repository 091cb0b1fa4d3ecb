// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probe specs follow bpftrace's form: TYPE:BINARY:FUNCS, where BINARY may
 * itself hold ':' (everything between the first and the last one). A "::"
 * is never that last separator: it belongs to a C++/Rust name in FUNCS
 * (uprobe:./app:Server::*), and a comma inside <> or () does not split
 * FUNCS (Map<int, char>::get). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "probe_spec.h"
#include "span_record.h"

void free_list(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

/* The next ',' outside <> and () (template arguments, parameter lists). */
static const char *next_comma(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '<' || *p == '(')
			depth++;
		else if ((*p == '>' || *p == ')') && depth > 0)
			depth--;
		else if (*p == ',' && depth == 0)
			return p;
	}
	return NULL;
}

/* The last ':' of text that is not half of a "::". */
static const char *last_separator(const char *text)
{
	const char *p = text + strlen(text);

	while (p > text) {
		p--;
		if (*p != ':')
			continue;
		if (p > text && p[-1] == ':') {
			p--; /* skip the pair */
			continue;
		}
		if (p[1] == ':')
			continue;
		return p;
	}
	return NULL;
}

int split_list(const char *text, char ***out, size_t *count)
{
	char **list = NULL;
	size_t n = 0;
	const char *p = text;
	int err = 0;

	*out = NULL;
	*count = 0;
	for (;;) {
		const char *comma = next_comma(p);
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char **grown;

		if (len == 0) {
			err = -EINVAL;
			goto cleanup;
		}
		grown = realloc(list, (n + 2) * sizeof(*list));
		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		list = grown;
		list[n] = strndup(p, len);
		if (!list[n]) {
			err = -ENOMEM;
			goto cleanup;
		}
		list[++n] = NULL;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = list;
	*count = n;
	return 0;
cleanup:
	if (list)
		list[n] = NULL;
	free_list(list);
	return err;
}

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int probe_spec__parse(const char *text, struct probe_spec *out, char *err, size_t errlen)
{
	const char *first = strchr(text, ':');
	const char *last = last_separator(text);
	const char *bin_start, *bin_end;
	int ret;

	memset(out, 0, sizeof(*out));
	if (has_control_chars(text)) {
		snprintf(err, errlen, "probe contains control characters");
		return -EINVAL;
	}
	if (first && first == last && strncmp(text, "python:", 7) == 0 && first[1]) {
		/* python:INTERPRETER alone: which path it takes, for -l */
		out->kind = PROBE_PYTHON;
		out->binary = strdup(first + 1);
		return out->binary ? 0 : -ENOMEM;
	}
	if (!first || !last || first == last) {
		snprintf(err, errlen,
			 "bad probe '%s': expected uprobe:BINARY:FUNCS (e.g. uprobe:./app:foo,goo)", text);
		return -EINVAL;
	}
	if (strncmp(text, "uprobe:", 7) == 0 || strncmp(text, "u:", 2) == 0) {
		out->kind = PROBE_UPROBE;
		bin_start = first + 1;
		bin_end = last;
	} else if (strncmp(text, "python:", 7) == 0) {
		/* python:INTERPRETER:FILES:FUNCS; FILES is between the last two ':' */
		const char *files = last;

		while (files > first + 1 && files[-1] != ':')
			files--;
		if (files <= first + 1) {
			snprintf(err, errlen,
				 "bad probe '%s': expected python:INTERPRETER:FILES:FUNCS "
				 "(e.g. python:/usr/bin/python3.11:app.py:foo)", text);
			return -EINVAL;
		}
		out->kind = PROBE_PYTHON;
		bin_start = first + 1;
		bin_end = files - 1;
		out->files = strndup(files, last - files);
		if (!out->files)
			return -ENOMEM;
		if (!*out->files) {
			snprintf(err, errlen, "bad probe '%s': empty FILES (use '*' for any file)", text);
			ret = -EINVAL;
			goto fail;
		}
	} else {
		snprintf(err, errlen, "bad probe '%s': unknown probe type '%.*s' (use uprobe: or python:)",
			 text, (int)(first - text), text);
		return -EINVAL;
	}
	if (bin_end <= bin_start) {
		snprintf(err, errlen, "bad probe '%s': empty BINARY", text);
		ret = -EINVAL;
		goto fail;
	}
	out->binary = strndup(bin_start, bin_end - bin_start);
	if (!out->binary) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = split_list(last + 1, &out->funcs, &out->nfuncs);
	if (ret) {
		if (ret == -EINVAL)
			snprintf(err, errlen, "bad probe '%s': empty function name in '%s'", text, last + 1);
		goto fail;
	}
	return 0;
fail:
	probe_spec__release(out);
	return ret;
}

void probe_spec__release(struct probe_spec *p)
{
	if (!p)
		return;
	free(p->binary);
	free(p->files);
	free_list(p->funcs);
	memset(p, 0, sizeof(*p));
}

static const struct {
	const char *text;
	uint8_t op;
} comparisons[] = {
	/* two-character operators first so "<=" is not read as "<" */
	{ "<=", ERR_OP_LE }, { ">=", ERR_OP_GE }, { "==", ERR_OP_EQ },
	{ "!=", ERR_OP_NE }, { "<", ERR_OP_LT },  { ">", ERR_OP_GT },
};

/* Parses "ret<0", "ret == -1", "ret!=0x10", "ret==NULL" or "NULL". */
static int parse_condition(const char *cond, struct error_rule *r)
{
	const char *p = cond;
	char *end;
	size_t i;

	while (*p == ' ')
		p++;
	if (strcmp(p, "NULL") == 0) {
		r->op = ERR_OP_EQ;
		r->null = true;
		return 0;
	}
	if (strncmp(p, "ret", 3) != 0)
		return -EINVAL;
	p += 3;
	while (*p == ' ')
		p++;
	for (i = 0; i < sizeof(comparisons) / sizeof(comparisons[0]); i++)
		if (strncmp(p, comparisons[i].text, strlen(comparisons[i].text)) == 0)
			break;
	if (i == sizeof(comparisons) / sizeof(comparisons[0]))
		return -EINVAL;
	r->op = comparisons[i].op;
	p += strlen(comparisons[i].text);
	while (*p == ' ')
		p++;
	if (strncmp(p, "NULL", 4) == 0 && (p[4] == '\0' || p[4] == ' ')) {
		if (r->op != ERR_OP_EQ && r->op != ERR_OP_NE)
			return -EINVAL;
		r->null = true;
		end = (char *)p + 4;
	} else {
		if (!*p)
			return -EINVAL;
		errno = 0;
		r->value = strtoll(p, &end, 0);
		if (errno == ERANGE) {
			/* allow unsigned 64-bit constants such as 0xffffffffffffffff */
			errno = 0;
			r->value = (int64_t)strtoull(p, &end, 0);
			if (errno || *p == '-')
				return -EINVAL;
		}
		if (end == p)
			return -EINVAL;
	}
	while (*end == ' ')
		end++;
	return *end ? -EINVAL : 0;
}

int error_rule__parse(const char *text, struct error_rule *out, char *err, size_t errlen)
{
	const char *colon = strrchr(text, ':');
	char *funcs = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!colon || colon == text || has_control_chars(text)) {
		snprintf(err, errlen,
			 "bad --error '%s': expected FUNCS:CONDITION (e.g. 'goo:ret<0', 'alloc*:NULL')",
			 text);
		return -EINVAL;
	}
	ret = parse_condition(colon + 1, out);
	if (ret) {
		snprintf(err, errlen,
			 "bad --error '%s': condition '%s' is not ret<N, ret<=N, ret==N, ret!=N, "
			 "ret>N, ret>=N or NULL", text, colon + 1);
		goto fail;
	}
	funcs = strndup(text, colon - text);
	out->text = strdup(colon + 1);
	if (!funcs || !out->text) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = split_list(funcs, &out->funcs, &out->nfuncs);
	if (ret) {
		if (ret == -EINVAL)
			snprintf(err, errlen, "bad --error '%s': empty function name", text);
		goto fail;
	}
	free(funcs);
	return 0;
fail:
	free(funcs);
	error_rule__release(out);
	return ret;
}

void error_rule__release(struct error_rule *r)
{
	if (!r)
		return;
	free_list(r->funcs);
	free(r->text);
	memset(r, 0, sizeof(*r));
}
