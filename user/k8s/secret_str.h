/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Copies and frees of the strings a credential is made of (the kubeconfig,
 * its exec plugin, the in-cluster token): a secret is wiped before its
 * memory goes back to the allocator. */
#ifndef SPANPROBE_SECRET_STR_H
#define SPANPROBE_SECRET_STR_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* *dst: a copy of src, or NULL for NULL; -ENOMEM when the copy failed. */
static inline int str_copy(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/* Wipes len bytes of s (NULL: nothing), then frees it. */
static inline void secret_free(char *s, size_t len)
{
	if (s)
		explicit_bzero(s, len);
	free(s);
}

/* The same for a NUL-terminated secret. */
static inline void secret_free_str(char *s)
{
	secret_free(s, s ? strlen(s) : 0);
}

#endif /* SPANPROBE_SECRET_STR_H */
