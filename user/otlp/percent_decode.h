/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* RFC 3986 percent-decoding, for OTEL_* header and resource values and
 * gRPC's grpc-message. */
#ifndef SPANPROBE_PERCENT_DECODE_H
#define SPANPROBE_PERCENT_DECODE_H

#include <stddef.h>

/* Decodes len bytes of in into a new NUL-terminated string in *out.
 * Returns 0, -EINVAL on a '%' not followed by two hex digits or one that
 * decodes to NUL, or -ENOMEM. */
int percent_decode(const char *in, size_t len, char **out);

#endif
