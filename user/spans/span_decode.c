// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "elf_symbols.h"
#include "probe_table.h"
#include "process_info.h"
#include "span.h"
#include "span_decode.h"

int64_t monotonic_to_realtime_offset(void)
{
	struct timespec mono, real, mono2;

	/* Read MONOTONIC on both sides of REALTIME and take the midpoint. */
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono2);
	int64_t m = ((int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec +
		     (int64_t)mono2.tv_sec * 1000000000 + mono2.tv_nsec) / 2;
	return (int64_t)real.tv_sec * 1000000000 + real.tv_nsec - m;
}

static const char *lost_reason_text(uint8_t reason)
{
	switch (reason) {
	case SPAN_LOST_STACK_UNWIND: return "left without return (longjmp or unwinding)";
	case SPAN_LOST_THREAD_EXIT:  return "thread exited inside the call";
	default:                     return "return not seen";
	}
}

int span__from_event(struct span *s, const struct span_event *e, const struct probe_table *t,
		     int64_t mono_to_real_ns, struct process_table *procs)
{
	const struct traced_func *f;

	if (e->func_id >= t->nfuncs)
		return -ENOENT;
	f = &t->funcs[e->func_id];

	memset(s, 0, sizeof(*s));
	memcpy(s->trace_id, e->trace_id, sizeof(s->trace_id));
	s->span_id = e->span_id;
	s->parent_span_id = e->parent_span_id;
	s->start_unix_ns = e->start_ns + mono_to_real_ns;
	s->end_unix_ns = e->end_ns + mono_to_real_ns;
	s->pid = e->pid;
	s->tid = e->tid;
	s->depth = e->depth;
	s->name = f->sym->name;
	s->code_file = f->sym->decl_file;
	s->code_line = f->sym->decl_line;
	s->ret_signed = f->rule.ret_signed;
	s->ret = (int64_t)e->ret;
	s->truncated = e->flags & SPAN_F_TRUNCATED;
	s->has_ret = !s->truncated && !(f->sym->ret_known && f->sym->ret_void);
	s->error = e->flags & SPAN_F_ERROR;
	if (s->truncated)
		s->lost_reason = lost_reason_text(e->lost_reason);
	if (s->error) {
		if (s->ret_signed)
			snprintf(s->status_message, sizeof(s->status_message),
				 "%s returned %" PRId64 " (error rule %s)", s->name, s->ret,
				 f->rule_text ? f->rule_text : "?");
		else
			snprintf(s->status_message, sizeof(s->status_message),
				 "%s returned %" PRIu64 " (error rule %s)", s->name, (uint64_t)s->ret,
				 f->rule_text ? f->rule_text : "?");
	}
	s->proc = procs ? process_table__get(procs, e->pid) : NULL;
	return 0;
}
