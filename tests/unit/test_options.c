// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The option table is the one list of options: every long option is a
 * config-file key (but --config and -l), the config file's error names every
 * key, and the README documents every option. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "option_table.h"
#include "unit.h"

static void test_every_option_is_a_config_key(void)
{
	for (size_t i = 0; i < option_defs_count; i++) {
		const struct option_def *d = &option_defs[i];
		char line[128], *words[2];
		const char *why = "";
		int n = 0, rc;

		snprintf(line, sizeof(line), "%s%s", d->name, d->arg ? " x" : "");
		rc = config_line__parse(line, words, &n, &why);
		if (d->cli_only) {
			CHECK_INT(rc, -22 /* -EINVAL */);
			continue;
		}
		CHECK_INT(rc, 0);
		CHECK_INT(n, d->arg ? 2 : 1);
		if (n >= 1) {
			CHECK(strncmp(words[0], "--", 2) == 0 && strcmp(words[0] + 2, d->name) == 0);
			CHECK(strstr(option_def__config_keys(), d->name) != NULL);
		}
		for (int k = 0; k < n; k++)
			free(words[k]);
	}
}

static void test_unknown_key_lists_every_key(void)
{
	char *words[2];
	const char *why = "";
	int n = 0;

	CHECK_INT(config_line__parse("bogus 1", words, &n, &why), -22);
	CHECK(strstr(why, "unknown key") != NULL);
	for (size_t i = 0; i < option_defs_count; i++)
		if (!option_defs[i].cli_only)
			CHECK(strstr(why, option_defs[i].name) != NULL);
	CHECK(strstr(why, CONFIG_PROBE_KEY) != NULL);
}

static void test_readme_documents_every_option(void)
{
	FILE *f = fopen("README.md", "r");
	char *text = NULL;
	size_t len = 0;

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(getdelim(&text, &len, '\0', f) > 0);
	fclose(f);
	for (size_t i = 0; text && i < option_defs_count; i++) {
		char want[64];

		snprintf(want, sizeof(want), "--%s", option_defs[i].name);
		if (!strstr(text, want)) {
			printf("  README.md does not mention %s\n", want);
			CHECK(strstr(text, want) != NULL);
		}
	}
	free(text);
}

int main(void)
{
	unit_prog = "options";
	RUN(test_every_option_is_a_config_key);
	RUN(test_unknown_key_lists_every_key);
	RUN(test_readme_documents_every_option);
	return unit_exit();
}
