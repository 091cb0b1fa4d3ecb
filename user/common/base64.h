/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Standard base64 (RFC 4648, with padding), as kubeconfig's *-data fields
 * and the ExecCredential's cluster information carry certificates; gRPC's
 * binary headers, with or without padding. */
#ifndef SPANPROBE_BASE64_H
#define SPANPROBE_BASE64_H

#include <stddef.h>

/* Decodes text (blanks and newlines between groups are skipped, as a
 * YAML block scalar may fold them in) into a malloc'ed buffer with a
 * terminating NUL not counted in *out_len. -EINVAL when it is not base64,
 * -ENOMEM. */
int base64__decode(const char *text, char **out, size_t *out_len);
/* The same, also without padding and in the URL-safe alphabet ('-', '_'),
 * as gRPC's -bin headers come. */
int base64__decode_lenient(const char *text, char **out, size_t *out_len);
/* Encodes len bytes into a malloc'ed NUL-terminated string, or NULL. */
char *base64__encode(const void *data, size_t len);

#endif /* SPANPROBE_BASE64_H */
