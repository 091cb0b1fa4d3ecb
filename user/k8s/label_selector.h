/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kubernetes label selectors, the syntax of `kubectl get -l`:
 *   a=b  a==b  a!=b  a in (x,y)  a notin (x)  a  !a  a>3  a<3
 * requirements joined by ',' (AND). Parsed once into a matcher. */
#ifndef SPANPROBE_LABEL_SELECTOR_H
#define SPANPROBE_LABEL_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

struct k8s_label {
	char *key;
	char *value;
};

struct label_selector;

/* Parses text ("" selects everything). On error returns -EINVAL and writes
 * one line naming the problem and where into err (err_len bytes), e.g.
 * "expected '(' after 'in' at 'x' (position 8)". -ENOMEM when out of memory. */
int label_selector__parse(const char *text, struct label_selector **out, char *err, size_t err_len);
/* Whether a pod with these labels is selected. */
bool label_selector__matches(const struct label_selector *sel, const struct k8s_label *labels,
			     size_t n_labels);
/* The selector as text, normalized ("a=b,c in (x,y)"), for -v and errors. */
const char *label_selector__text(const struct label_selector *sel);
void label_selector__free(struct label_selector *sel);

#endif /* SPANPROBE_LABEL_SELECTOR_H */
