/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* spanprobe's config file: the command line, one long option a line, so a
 * ConfigMap and a terminal say the same things the same way:
 *     # comment
 *     probe uprobe:/usr/local/bin/demo-app:foo,goo,zoo
 *     error = goo:ret<0
 *     output otlp
 *     dry-run
 */
#ifndef SPANPROBE_CONFIG_FILE_H
#define SPANPROBE_CONFIG_FILE_H

#include <stddef.h>

/* Replaces "--config FILE" (or --config=FILE) in argv by the options the file
 * holds, in place; options after it on the command line still apply after
 * the file's. *out_argv is malloc'd (strings too) unless it is argv itself
 * (no --config). Prints "FILE:LINE: why" and returns -EINVAL on a bad line. */
int config_file__expand(int argc, char **argv, int *out_argc, char ***out_argv);
void config_file__free_argv(int argc, char **argv, char **orig_argv);

/* Turns one config line into zero, one or two argv words (exposed for tests). */
int config_line__parse(const char *line, char **words, int *nwords, const char **why);

#endif
