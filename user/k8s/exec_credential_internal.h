/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* exec_credential.c's parsers, for its unit tests (UNITTEST: static in
 * the product). */
#ifndef SPANPROBE_EXEC_CREDENTIAL_INTERNAL_H
#define SPANPROBE_EXEC_CREDENTIAL_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include "exec_credential.h"
#include "unittest.h"

/* An RFC 3339 time as Go writes metav1.Time; 0 when it is not one. */
UNITTEST time_t parse_rfc3339(const char *s);
/* The ExecCredential a plugin printed, checked against api_version;
 * -EBADMSG with err (never quoting the output: it holds secrets). */
UNITTEST int parse_exec_credential(const char *text, const char *api_version, struct exec_credential *out,
				   char *err, size_t err_len);

#endif /* SPANPROBE_EXEC_CREDENTIAL_INTERNAL_H */
