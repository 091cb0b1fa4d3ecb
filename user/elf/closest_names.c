// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* "did you mean": the names of a binary closest to one that matched
 * nothing, by edit distance over linkage names, demangled names (with and
 * without parameters) and aliases. */
#include <stdlib.h>
#include <string.h>

#include "elf_internal.h"

#define MAX_NAME 256

size_t name_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t rows[3][MAX_NAME + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	if (la > MAX_NAME || lb > MAX_NAME)
		return limit + 1;
	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		size_t best = i, *t;

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > limit)
			return limit + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

struct candidate {
	const char *name;
	size_t dist;
};

static void consider(struct candidate *best, size_t max, size_t *n, const char *shown,
		     const char *compared, const char *want, size_t limit)
{
	size_t d, i;

	if (!compared)
		return;
	d = name_distance(want, compared, limit);
	if (d > limit)
		return;
	for (i = 0; i < *n; i++) {
		if (best[i].name == shown || strcmp(best[i].name, shown) == 0) {
			if (d < best[i].dist)
				best[i].dist = d;
			return;
		}
	}
	if (*n == max && d >= best[max - 1].dist)
		return;
	i = *n < max ? (*n)++ : max - 1;
	best[i] = (struct candidate){ shown, d };
	/* keep best[] sorted by distance */
	for (; i > 0 && best[i].dist < best[i - 1].dist; i--) {
		struct candidate t = best[i];

		best[i] = best[i - 1];
		best[i - 1] = t;
	}
}

size_t elf_binary__closest_names(const struct elf_binary *b, const char *name, const char **out,
				 size_t max)
{
	struct candidate best[8];
	size_t limit, n = 0, len;

	if (!b || !name || !out || max == 0)
		return 0;
	if (max > 8)
		max = 8;
	len = strlen(name);
	/* a typo or two in a short name, a third of a long one */
	limit = len < 6 ? 1 : len < 12 ? 2 : len / 4;
	for (size_t i = 0; i < b->nsyms; i++) {
		const struct sym_entry *e = &b->syms[i];
		const struct func_symbol *s = &e->pub;

		if (e->cold)
			continue;
		consider(best, max, &n, s->name, s->linkage_name, name, limit);
		if (s->name != s->linkage_name)
			consider(best, max, &n, s->name, s->name, name, limit);
		consider(best, max, &n, s->name, e->plain, name, limit);
		for (size_t k = 0; k < s->naliases; k++)
			consider(best, max, &n, s->aliases[k], s->aliases[k], name, limit);
	}
	/* only the closest: sqlite3_step for sqlite3_stpe, not also sqlite3_sleep */
	for (size_t i = 0; i < n; i++) {
		if (best[i].dist > best[0].dist)
			return i;
		out[i] = best[i].name;
	}
	return n;
}
