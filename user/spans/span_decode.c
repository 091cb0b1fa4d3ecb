// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libiberty/demangle.h>

#include "elf_symbols.h"
#include "probe_table.h"
#include "process_info.h"
#include "span.h"
#include "span_decode.h"

/* A function announced at run time (a Python code object). */
struct dyn_func {
	char *name;
	char *file;
	uint32_t line;
};

struct span_decoder {
	const struct probe_table *table;
	int64_t mono_to_real;
	struct process_table *procs;
	struct dyn_func *dyn; /* indexed by func_id - DYN_FUNC_ID_BASE */
	size_t ndyn;
};

/* Most run-time functions one run keeps names for. */
#define MAX_DYN_FUNCS (1u << 24)

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

struct span_decoder *span_decoder__new(const struct probe_table *table, int64_t mono_to_real_ns,
				       struct process_table *procs)
{
	struct span_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->table = table;
	d->mono_to_real = mono_to_real_ns;
	d->procs = procs;
	return d;
}

void span_decoder__free(struct span_decoder *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ndyn; i++) {
		free(d->dyn[i].name);
		free(d->dyn[i].file);
	}
	free(d->dyn);
	free(d);
}

static const char *lost_reason_text(uint8_t reason)
{
	switch (reason) {
	case SPAN_LOST_STACK_UNWIND: return "left without return (longjmp or unwinding)";
	case SPAN_LOST_THREAD_EXIT:  return "thread exited inside the call";
	default:                     return "return not seen";
	}
}

static int add_dyn_func(struct span_decoder *d, const struct py_func_record *r)
{
	size_t idx = r->func_id - DYN_FUNC_ID_BASE;
	struct dyn_func *f;

	if (r->func_id < DYN_FUNC_ID_BASE || idx >= MAX_DYN_FUNCS)
		return -EINVAL;
	if (idx >= d->ndyn) {
		size_t n = idx + 64;
		struct dyn_func *grown = realloc(d->dyn, n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		memset(grown + d->ndyn, 0, (n - d->ndyn) * sizeof(*grown));
		d->dyn = grown;
		d->ndyn = n;
	}
	f = &d->dyn[idx];
	free(f->name);
	free(f->file);
	f->name = strndup(r->name, sizeof(r->name));
	f->file = strndup(r->file, sizeof(r->file));
	f->line = r->line;
	return f->name && f->file ? 0 : -ENOMEM;
}

/* Name, source location and return-value rule of a span's function. */
static int name_span(const struct span_decoder *d, const struct span_record *e, struct span *s,
		     const struct traced_func **uprobe_func)
{
	*uprobe_func = NULL;
	if (e->func_id >= DYN_FUNC_ID_BASE) {
		size_t idx = e->func_id - DYN_FUNC_ID_BASE;

		if (idx >= d->ndyn || !d->dyn[idx].name)
			return -ENOENT;
		s->name = d->dyn[idx].name;
		s->code_file = d->dyn[idx].file;
		s->code_line = d->dyn[idx].line;
		return 0;
	}
	if (!d->table || e->func_id >= d->table->nfuncs)
		return -ENOENT;
	*uprobe_func = &d->table->funcs[e->func_id];
	s->name = (*uprobe_func)->sym->name;
	s->code_file = (*uprobe_func)->sym->decl_file;
	s->code_line = (*uprobe_func)->sym->decl_line;
	return 0;
}

/* Go error types whose text is their first field (a string): the BPF side
 * read it for any pointer type, only these keep it. */
static bool go_text_in_first_field(const char *type)
{
	static const char *const types[] = { "*errors.errorString", "*fmt.wrapError",
					     "*fmt.wrapErrors" };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

/* What was thrown, as the language writes it: a C++ type_info name
 * ("St13runtime_error") demangled ("std::runtime_error"). */
static void exception_type(struct span *s, const struct exception_record *x)
{
	char raw[EXC_TYPE_LEN + 1];
	char *plain = NULL;

	snprintf(raw, sizeof(raw), "%.*s", (int)sizeof(x->type), x->type);
	if ((x->span.flags & SPAN_F_EXC_CXX) && raw[0])
		plain = cplus_demangle(raw, DMGL_TYPES | DMGL_PARAMS | DMGL_ANSI);
	snprintf(s->exception_type, sizeof(s->exception_type), "%s", plain ? plain : raw);
	free(plain);
}

static enum span_ret_kind ret_kind(const struct traced_func *f, bool truncated)
{
	const struct func_symbol *sym = f->sym;

	if (truncated || (sym->ret_known && sym->ret_void))
		return SPAN_RET_NONE;
	if (!sym->ret_known)
		return SPAN_RET_UNKNOWN;
	if (sym->ret_pointer)
		return SPAN_RET_POINTER;
	return f->rule.ret_signed ? SPAN_RET_SIGNED : SPAN_RET_UNSIGNED;
}

static void describe_error(struct span *s, const struct traced_func *f,
			   const struct exception_record *x)
{
	if (x) {
		exception_type(s, x);
		snprintf(s->exception_message, sizeof(s->exception_message), "%.*s",
			 (int)sizeof(x->message), x->message);
		if ((x->span.flags & SPAN_F_EXC_GO_PTR) && !go_text_in_first_field(s->exception_type))
			s->exception_message[0] = 0;
		if (s->exception_type[0] && s->exception_message[0])
			snprintf(s->status_message, sizeof(s->status_message), "%s: %s",
				 s->exception_type, s->exception_message);
		else if (s->exception_type[0])
			snprintf(s->status_message, sizeof(s->status_message), "%s",
				 s->exception_type);
		else
			snprintf(s->status_message, sizeof(s->status_message),
				 "%s left by an exception", s->name);
		return;
	}
	if (s->ret_kind == SPAN_RET_POINTER)
		snprintf(s->status_message, sizeof(s->status_message),
			 "%s returned %s (error rule %s)", s->name, s->ret ? "a pointer" : "NULL",
			 f && f->rule_text ? f->rule_text : "?");
	else if (s->ret_signed)
		snprintf(s->status_message, sizeof(s->status_message),
			 "%s returned %" PRId64 " (error rule %s)", s->name, s->ret,
			 f && f->rule_text ? f->rule_text : "?");
	else
		snprintf(s->status_message, sizeof(s->status_message),
			 "%s returned %" PRIu64 " (error rule %s)", s->name, (uint64_t)s->ret,
			 f && f->rule_text ? f->rule_text : "?");
}

static int decode_span(struct span_decoder *d, const struct span_record *e,
		       const struct exception_record *x, struct span *s)
{
	const struct traced_func *f;
	int err;

	memset(s, 0, sizeof(*s));
	err = name_span(d, e, s, &f);
	if (err)
		return err;
	memcpy(s->trace_id, e->trace_id, sizeof(s->trace_id));
	s->span_id = e->span_id;
	s->parent_span_id = e->parent_span_id;
	s->start_unix_ns = e->start_ns + d->mono_to_real;
	s->end_unix_ns = e->end_ns + d->mono_to_real;
	s->pid = e->pid;
	s->tid = e->tid;
	s->depth = e->depth;
	s->truncated = e->flags & SPAN_F_TRUNCATED;
	s->error = e->flags & SPAN_F_ERROR;
	if (f) {
		s->ret_signed = f->rule.ret_signed;
		s->ret = (int64_t)e->ret;
		/* no return value: truncated, left by an exception, or ended by a
		 * tail jump out (the value is the untraced callee's) */
		s->ret_kind = ret_kind(f, s->truncated || x || (e->flags & SPAN_F_NO_RETURN));
		s->has_ret = s->ret_kind != SPAN_RET_NONE;
	}
	if (s->truncated)
		s->lost_reason = lost_reason_text(e->lost_reason);
	if (s->error)
		describe_error(s, f, x);
	s->proc = d->procs ? process_table__get(d->procs, e->pid) : NULL;
	return 1;
}

int span_decoder__decode(struct span_decoder *d, const void *data, size_t size, struct span *s)
{
	const struct record_header *h = data;

	if (size < sizeof(*h) || h->size > size)
		return -EINVAL;
	switch (h->kind) {
	case REC_SPAN:
		if (h->size != sizeof(struct span_record))
			return -EINVAL;
		return decode_span(d, data, NULL, s);
	case REC_SPAN_EXCEPTION:
		if (h->size != sizeof(struct exception_record))
			return -EINVAL;
		return decode_span(d, data, data, s);
	case REC_PY_FUNC:
		if (h->size != sizeof(struct py_func_record))
			return -EINVAL;
		return add_dyn_func(d, data);
	default:
		return -EINVAL;
	}
}

int span_decoder__control(const void *data, size_t size, struct control_event *out)
{
	const struct record_header *h = data;

	if (size < sizeof(*h) || h->size > size)
		return -EINVAL;
	if ((h->kind == REC_EXEC || h->kind == REC_PY_UNHOOKED) &&
	    h->size == sizeof(struct exec_record)) {
		const struct exec_record *r = data;

		*out = (struct control_event){ h->kind, (int)r->pid, 0 };
	} else if ((h->kind == REC_FORK || h->kind == REC_EXIT) &&
		   h->size == sizeof(struct proc_record)) {
		const struct proc_record *r = data;

		*out = (struct control_event){ h->kind, (int)r->pid, (int)r->ppid };
	} else {
		return -EINVAL;
	}
	return out->pid > 0 && out->ppid >= 0 ? 0 : -EINVAL;
}
