// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "option_table.h"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int config_line__parse(const char *line, char **words, int *nwords, const char **why)
{
	char *copy = strdup(line), *s, *key, *value = NULL;
	const struct option_def *def;
	bool is_probe, takes_value;
	size_t keylen;
	int err = 0;

	*nwords = 0;
	words[0] = words[1] = NULL;
	if (!copy)
		return -ENOMEM;
	s = trim(copy);
	if (*s == '\0' || *s == '#')
		goto cleanup;
	key = s;
	keylen = strcspn(s, " \t=");
	if (key[keylen]) {
		value = key + keylen + 1;
		key[keylen] = '\0';
		value = trim(value);
		if (*value == '=')
			value = trim(value + 1);
		if (*value == '\0')
			value = NULL;
	}
	def = option_def__find(key);
	is_probe = strcmp(key, CONFIG_PROBE_KEY) == 0;
	if (!is_probe && (!def || def->cli_only)) {
		static char unknown[600];

		snprintf(unknown, sizeof(unknown), "unknown key (one of: %s)", option_def__config_keys());
		*why = unknown;
		err = -EINVAL;
		goto cleanup;
	}
	takes_value = is_probe || def->arg;
	if (takes_value != (value != NULL)) {
		*why = takes_value ? "this key needs a value" : "this key takes no value";
		err = -EINVAL;
		goto cleanup;
	}
	if (is_probe) {
		words[(*nwords)++] = strdup(value);
	} else {
		if (asprintf(&words[(*nwords)++], "--%s", key) < 0)
			words[*nwords - 1] = NULL;
		if (value)
			words[(*nwords)++] = strdup(value);
	}
	for (int k = 0; k < *nwords; k++)
		if (!words[k])
			err = -ENOMEM;
cleanup:
	if (err) {
		for (int k = 0; k < *nwords; k++)
			free(words[k]);
		*nwords = 0;
	}
	free(copy);
	return err;
}

static int push_word(char ***argv, int *argc, char *word)
{
	char **grown = realloc(*argv, (*argc + 2) * sizeof(**argv));

	if (!grown) {
		free(word);
		return -ENOMEM;
	}
	*argv = grown;
	(*argv)[(*argc)++] = word;
	(*argv)[*argc] = NULL;
	return 0;
}

static int read_config(const char *path, char ***argv, int *argc)
{
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, err = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't read config %s: %s\n", path, strerror(errno));
		return err;
	}
	while (getline(&line, &cap, f) > 0) {
		char *words[2];
		const char *why = "";
		int n;

		lineno++;
		err = config_line__parse(line, words, &n, &why);
		if (err) {
			if (err == -EINVAL)
				fprintf(stderr, "spanprobe: %s:%d: %s\n", path, lineno, why);
			goto cleanup;
		}
		for (int k = 0; k < n && !err; k++)
			err = push_word(argv, argc, words[k]);
		if (err)
			goto cleanup;
	}
cleanup:
	free(line);
	fclose(f);
	return err;
}

int config_file__expand(int argc, char **argv, int *out_argc, char ***out_argv)
{
	char **expanded = NULL;
	int n = 0, err = 0;
	bool found = false;

	*out_argc = argc;
	*out_argv = argv;
	for (int i = 0; i < argc; i++) {
		const char *path = NULL;

		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		if (path) {
			found = true;
			err = read_config(path, &expanded, &n);
			if (err)
				goto cleanup;
			continue;
		}
		err = push_word(&expanded, &n, strdup(argv[i]));
		if (err)
			goto cleanup;
	}
	if (!found) {
		err = 0;
		goto cleanup;
	}
	/* words after a "--" are kept as they are */
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") != 0)
			continue;
		for (; i < argc && !err; i++)
			err = push_word(&expanded, &n, strdup(argv[i]));
		break;
	}
	if (err)
		goto cleanup;
	*out_argc = n;
	*out_argv = expanded;
	return 0;
cleanup:
	config_file__free_argv(n, expanded, NULL);
	return err;
}

void config_file__free_argv(int argc, char **argv, char **orig_argv)
{
	if (!argv || argv == orig_argv)
		return;
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}
