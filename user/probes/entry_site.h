/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where a traced function's entry probe sits: at its first instruction
 * (past endbr64 when cheaper), or at the cheaper instruction a few bytes in
 * that its code offers (struct body_entry), when the way its return is
 * seen and its --arg allow. */
#ifndef SPANPROBE_ENTRY_SITE_H
#define SPANPROBE_ENTRY_SITE_H

#include <stdbool.h>
#include <stdint.h>

#include "probe_table.h"

struct entry_site {
	uint64_t offset;        /* file offset probed */
	uint64_t code_start;    /* file offset of the code's first byte (an ifunc: its
				 * implementation's): offset - code_start is "+0x9" */
	enum attach_cost cost;
	uint32_t sp_delta;      /* the entry's sp = the site's + sp_delta (in the cookie) */
	bool moved;             /* past the first instructions (body_entry) */
	const char *why;        /* static text: why there (-l -v) */
	const char *why_not;    /* !moved: why the cheaper site is not used, or NULL */
};

void entry_site__of(const struct traced_func *f, struct entry_site *out);
/* The cookie of f's entry probe: its id, Go, and the sp correction. */
uint64_t entry_site__cookie(const struct traced_func *f);

#endif
