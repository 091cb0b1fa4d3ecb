// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Label selectors with the grammar and the checks of Kubernetes'
 * apimachinery (labels.Parse): the same text selects the same pods here as
 * in `kubectl get pods -l`. A requirement is one of
 *   key | !key | key (=|==|!=) value | key (in|notin) (v1, v2, ...) | key (>|<) integer
 * and requirements are joined by ','. "key in ()" means the value "". A
 * key is a qualified name ([DNS-subdomain/]name), a value at most 63
 * characters of [A-Za-z0-9._-] starting and ending alphanumeric, or empty.
 * "!=" and "notin" also select pods without the label, as in Kubernetes. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label_selector.h"

enum op {
	OP_EXISTS,
	OP_NOT_EXISTS,
	OP_EQUALS,     /* = and ==: one value */
	OP_NOT_EQUALS, /* != */
	OP_IN,
	OP_NOT_IN,
	OP_GT,
	OP_LT,
};

struct requirement {
	char *key;
	enum op op;
	char **values;
	size_t n_values;
	long long number; /* OP_GT, OP_LT */
};

struct label_selector {
	struct requirement *reqs;
	size_t n_reqs;
	char *text;
};

enum token_kind {
	TOK_END,
	TOK_IDENT,
	TOK_NOT,     /* ! */
	TOK_EQ,      /* = */
	TOK_EQ_EQ,   /* == */
	TOK_NOT_EQ,  /* != */
	TOK_GT,
	TOK_LT,
	TOK_IN,
	TOK_NOT_IN,
	TOK_OPEN,    /* ( */
	TOK_CLOSE,   /* ) */
	TOK_COMMA,
};

struct token {
	enum token_kind kind;
	const char *s; /* in the text */
	size_t len;
};

struct parser {
	const char *text;
	const char *pos;
	char *err;
	size_t err_len;
};

#define MAX_NAME 63
#define MAX_PREFIX 253

static int is_special(char c)
{
	return c == '!' || c == '=' || c == '>' || c == '<' || c == '(' || c == ')' || c == ',';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The next token; keywords only where an operator may stand (as_value: a
 * value named "in" is just a value). */
static struct token lex(struct parser *p, int as_value, int consume)
{
	const char *s = p->pos;
	struct token t = { TOK_END, NULL, 0 };

	while (is_space(*s))
		s++;
	t.s = s;
	if (!*s) {
		t.kind = TOK_END;
	} else if (s[0] == '!' && s[1] == '=') {
		t.kind = TOK_NOT_EQ, t.len = 2;
	} else if (s[0] == '=' && s[1] == '=') {
		t.kind = TOK_EQ_EQ, t.len = 2;
	} else if (is_special(*s)) {
		static const char chars[] = "!=><(),";
		static const enum token_kind kinds[] = { TOK_NOT, TOK_EQ, TOK_GT, TOK_LT,
							 TOK_OPEN, TOK_CLOSE, TOK_COMMA };

		t.kind = kinds[strchr(chars, *s) - chars];
		t.len = 1;
	} else {
		while (s[t.len] && !is_space(s[t.len]) && !is_special(s[t.len]))
			t.len++;
		t.kind = TOK_IDENT;
		if (!as_value && t.len == 2 && memcmp(s, "in", 2) == 0)
			t.kind = TOK_IN;
		else if (!as_value && t.len == 5 && memcmp(s, "notin", 5) == 0)
			t.kind = TOK_NOT_IN;
	}
	if (consume)
		p->pos = t.s + t.len;
	return t;
}

__attribute__((format(printf, 3, 4))) static int fail_at(struct parser *p, const struct token *t,
							  const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p->err, p->err_len, fmt, ap);
	va_end(ap);
	/* Where: the token itself is named in the message. */
	if (n >= 0 && (size_t)n < p->err_len) {
		if (t->kind != TOK_END)
			snprintf(p->err + n, p->err_len - n, " (position %zu)", (size_t)(t->s - p->text) + 1);
		else if (!strstr(p->err, "the end"))
			snprintf(p->err + n, p->err_len - n, " at the end");
	}
	return -EINVAL;
}

/* "'x'" or "the end", for "found ..." in messages. */
static const char *found(const struct token *t, char *buf, size_t len)
{
	if (t->kind == TOK_END)
		return "the end";
	snprintf(buf, len, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
	return buf;
}

/* [A-Za-z0-9] ( [-A-Za-z0-9_.]* [A-Za-z0-9] )?, 1..63 characters */
static int valid_name(const char *s, size_t len)
{
	if (len == 0 || len > MAX_NAME || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	}
	return 1;
}

/* DNS-1123 subdomain: lowercase labels of [a-z0-9-] joined by '.', <= 253. */
static int valid_subdomain(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > MAX_PREFIX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-' || s[i - label] == '-' || label > 63)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

static int valid_key(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);

	if (!slash)
		return valid_name(s, len);
	return valid_subdomain(s, (size_t)(slash - s)) &&
	       valid_name(slash + 1, len - (size_t)(slash - s) - 1);
}

static int valid_value(const char *s, size_t len)
{
	return len == 0 || valid_name(s, len);
}

static int check_key(struct parser *p, const struct token *t)
{
	if (t->kind != TOK_IDENT) {
		char buf[64];

		return fail_at(p, t, "expected a label key, found %s", found(t, buf, sizeof(buf)));
	}
	if (!valid_key(t->s, t->len))
		return fail_at(p, t,
			       "invalid label key '%.*s' (a name of 1-63 characters [A-Za-z0-9._-], "
			       "alphanumeric at both ends, optionally after a DNS subdomain and '/')",
			       (int)(t->len > 300 ? 300 : t->len), t->s);
	return 0;
}

static int add_value(struct parser *p, struct requirement *r, const struct token *t)
{
	char **grown;

	if (t->kind == TOK_IDENT && !valid_value(t->s, t->len))
		return fail_at(p, t,
			       "invalid label value '%.*s' for '%s' (at most 63 characters [A-Za-z0-9._-], "
			       "alphanumeric at both ends, or empty)",
			       (int)(t->len > 100 ? 100 : t->len), t->s, r->key);
	grown = realloc(r->values, (r->n_values + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	r->values = grown;
	r->values[r->n_values] = strndup(t->kind == TOK_IDENT ? t->s : "", t->kind == TOK_IDENT ? t->len : 0);
	if (!r->values[r->n_values])
		return -ENOMEM;
	r->n_values++;
	return 0;
}

/* "( v1, v2 )" after in/notin; "()" is the one value "". */
static int parse_value_list(struct parser *p, struct requirement *r, const char *op)
{
	struct token t = lex(p, 1, 1);
	char buf[64];
	int err;

	if (t.kind != TOK_OPEN)
		return fail_at(p, &t, "expected '(' after '%s %s', found %s", r->key, op, found(&t, buf, sizeof(buf)));
	t = lex(p, 1, 0);
	if (t.kind == TOK_CLOSE) {
		lex(p, 1, 1);
		return add_value(p, r, &(struct token){ TOK_END, NULL, 0 });
	}
	for (;;) {
		t = lex(p, 1, 1);
		if (t.kind != TOK_IDENT)
			return fail_at(p, &t, "expected a value in the list of '%s %s', found %s", r->key, op,
				       found(&t, buf, sizeof(buf)));
		err = add_value(p, r, &t);
		if (err)
			return err;
		t = lex(p, 1, 1);
		if (t.kind == TOK_CLOSE)
			return 0;
		if (t.kind != TOK_COMMA)
			return fail_at(p, &t, "expected ',' or ')' in the list of '%s %s', found %s", r->key,
				       op, found(&t, buf, sizeof(buf)));
	}
}

/* The one value after =, ==, != (may be empty: "a=" selects a="") or an
 * integer after > and <. */
static int parse_single_value(struct parser *p, struct requirement *r, const struct token *op)
{
	struct token t = lex(p, 1, 0);
	char buf[64], *end;

	if (t.kind == TOK_END || t.kind == TOK_COMMA) {
		if (r->op == OP_GT || r->op == OP_LT)
			return fail_at(p, &t, "'%s %.*s' needs an integer, found %s", r->key, (int)op->len,
				       op->s, found(&t, buf, sizeof(buf)));
		return add_value(p, r, &(struct token){ TOK_END, NULL, 0 });
	}
	lex(p, 1, 1);
	if (t.kind != TOK_IDENT)
		return fail_at(p, &t, "expected a value after '%s%.*s', found %s", r->key, (int)op->len, op->s,
			       found(&t, buf, sizeof(buf)));
	if (r->op == OP_GT || r->op == OP_LT) {
		char num[32];

		if (t.len >= sizeof(num))
			return fail_at(p, &t, "'%s %.*s' needs an integer, found %s", r->key, (int)op->len,
				       op->s, found(&t, buf, sizeof(buf)));
		memcpy(num, t.s, t.len);
		num[t.len] = '\0';
		errno = 0;
		r->number = strtoll(num, &end, 10);
		if (errno || *end || end == num)
			return fail_at(p, &t, "'%s %.*s' needs an integer, found %s", r->key, (int)op->len,
				       op->s, found(&t, buf, sizeof(buf)));
	}
	return add_value(p, r, &t);
}

static int parse_requirement(struct parser *p, struct requirement *r)
{
	struct token t = lex(p, 0, 1), op;
	char buf[64];
	int err, negated = 0;

	if (t.kind == TOK_NOT) {
		negated = 1;
		t = lex(p, 0, 1);
	}
	err = check_key(p, &t);
	if (err)
		return err;
	r->key = strndup(t.s, t.len);
	if (!r->key)
		return -ENOMEM;
	op = lex(p, 0, 0);
	if (op.kind == TOK_END || op.kind == TOK_COMMA) {
		r->op = negated ? OP_NOT_EXISTS : OP_EXISTS;
		return 0;
	}
	if (negated)
		return fail_at(p, &op, "expected ',' or the end after '!%s' (a '!' only negates a key), found %s",
			       r->key, found(&op, buf, sizeof(buf)));
	lex(p, 0, 1);
	switch (op.kind) {
	case TOK_EQ:
	case TOK_EQ_EQ:
		r->op = OP_EQUALS;
		return parse_single_value(p, r, &op);
	case TOK_NOT_EQ:
		r->op = OP_NOT_EQUALS;
		return parse_single_value(p, r, &op);
	case TOK_GT:
		r->op = OP_GT;
		return parse_single_value(p, r, &op);
	case TOK_LT:
		r->op = OP_LT;
		return parse_single_value(p, r, &op);
	case TOK_IN:
		r->op = OP_IN;
		return parse_value_list(p, r, "in");
	case TOK_NOT_IN:
		r->op = OP_NOT_IN;
		return parse_value_list(p, r, "notin");
	default:
		return fail_at(p, &op, "expected '=', '==', '!=', 'in', 'notin', '>' or '<' after '%s', found %s",
			       r->key, found(&op, buf, sizeof(buf)));
	}
}

static void requirement__clear(struct requirement *r)
{
	for (size_t i = 0; i < r->n_values; i++)
		free(r->values[i]);
	free(r->values);
	free(r->key);
}

/* Appends s to the growing text; -ENOMEM on failure. */
static int append(char **text, size_t *len, const char *s)
{
	size_t n = strlen(s);
	char *grown = realloc(*text, *len + n + 1);

	if (!grown)
		return -ENOMEM;
	memcpy(grown + *len, s, n + 1);
	*text = grown;
	*len += n;
	return 0;
}

static int make_text(struct label_selector *sel)
{
	static const char *const ops[] = {
		[OP_EQUALS] = "=", [OP_NOT_EQUALS] = "!=", [OP_GT] = ">", [OP_LT] = "<",
		[OP_IN] = " in (", [OP_NOT_IN] = " notin (",
	};
	size_t len = 0;
	int err = append(&sel->text, &len, "");

	for (size_t i = 0; i < sel->n_reqs && !err; i++) {
		const struct requirement *r = &sel->reqs[i];

		if (i)
			err = err ?: append(&sel->text, &len, ",");
		if (r->op == OP_NOT_EXISTS)
			err = err ?: append(&sel->text, &len, "!");
		err = err ?: append(&sel->text, &len, r->key);
		if (r->op == OP_EXISTS || r->op == OP_NOT_EXISTS)
			continue;
		err = err ?: append(&sel->text, &len, ops[r->op]);
		for (size_t v = 0; v < r->n_values; v++) {
			if (v)
				err = err ?: append(&sel->text, &len, ",");
			err = err ?: append(&sel->text, &len, r->values[v]);
		}
		if (r->op == OP_IN || r->op == OP_NOT_IN)
			err = err ?: append(&sel->text, &len, ")");
	}
	return err;
}

int label_selector__parse(const char *text, struct label_selector **out, char *err_buf, size_t err_len)
{
	struct parser p = { .text = text, .pos = text, .err = err_buf, .err_len = err_len };
	struct label_selector *sel = calloc(1, sizeof(*sel));
	struct token t;
	char buf[64];
	int err = 0;

	*out = NULL;
	if (err_len)
		err_buf[0] = '\0';
	if (!sel)
		return -ENOMEM;
	if (lex(&p, 0, 0).kind == TOK_END)
		goto done; /* "" or blanks: everything */
	for (;;) {
		struct requirement *grown = realloc(sel->reqs, (sel->n_reqs + 1) * sizeof(*grown));

		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		sel->reqs = grown;
		memset(&sel->reqs[sel->n_reqs], 0, sizeof(sel->reqs[0]));
		sel->n_reqs++;
		err = parse_requirement(&p, &sel->reqs[sel->n_reqs - 1]);
		if (err)
			goto cleanup;
		t = lex(&p, 0, 1);
		if (t.kind == TOK_END)
			break;
		if (t.kind != TOK_COMMA) {
			err = fail_at(&p, &t, "expected ',' or the end after a requirement on '%s', found %s",
				      sel->reqs[sel->n_reqs - 1].key, found(&t, buf, sizeof(buf)));
			goto cleanup;
		}
	}
done:
	err = make_text(sel);
	if (err)
		goto cleanup;
	*out = sel;
	return 0;
cleanup:
	if (err == -ENOMEM && err_len)
		snprintf(err_buf, err_len, "out of memory");
	label_selector__free(sel);
	return err;
}

static const char *label_value(const struct k8s_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (labels[i].key && strcmp(labels[i].key, key) == 0)
			return labels[i].value ? labels[i].value : "";
	}
	return NULL;
}

static int in_values(const struct requirement *r, const char *value)
{
	for (size_t i = 0; i < r->n_values; i++) {
		if (strcmp(r->values[i], value) == 0)
			return 1;
	}
	return 0;
}

static bool requirement__matches(const struct requirement *r, const struct k8s_label *labels, size_t n)
{
	const char *value = label_value(labels, n, r->key);
	long long number;
	char *end;

	switch (r->op) {
	case OP_EXISTS:
		return value != NULL;
	case OP_NOT_EXISTS:
		return value == NULL;
	case OP_EQUALS:
	case OP_IN:
		return value && in_values(r, value);
	case OP_NOT_EQUALS:
	case OP_NOT_IN:
		return !value || !in_values(r, value);
	case OP_GT:
	case OP_LT:
		if (!value || !*value)
			return false;
		errno = 0;
		number = strtoll(value, &end, 10);
		if (errno || *end)
			return false;
		return r->op == OP_GT ? number > r->number : number < r->number;
	}
	return false;
}

bool label_selector__matches(const struct label_selector *sel, const struct k8s_label *labels, size_t n)
{
	if (!sel)
		return true;
	for (size_t i = 0; i < sel->n_reqs; i++) {
		if (!requirement__matches(&sel->reqs[i], labels, n))
			return false;
	}
	return true;
}

const char *label_selector__text(const struct label_selector *sel)
{
	return sel && sel->text ? sel->text : "";
}

void label_selector__free(struct label_selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n_reqs; i++)
		requirement__clear(&sel->reqs[i]);
	free(sel->reqs);
	free(sel->text);
	free(sel);
}
