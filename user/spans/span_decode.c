// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libiberty/demangle.h>

#include "call_settings.h"
#include "elf_symbols.h"
#include "probe_cost.h"
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
	/* run-time functions grow on the reader's thread; the metrics thread
	 * reads their names under the lock */
	pthread_mutex_t dyn_lock;
	struct dyn_func *dyn; /* indexed by func_id - DYN_FUNC_ID_BASE */
	size_t ndyn;
	size_t nannounced;    /* functions announced so far */
};

_Static_assert(SPAN_ARG_MAX == ARG_MAX && SPAN_ARG_STRINGS == ARG_MAX_STRINGS &&
	       SPAN_ARG_STR_LEN >= ARG_STR_LEN + 3, "struct span holds what a record can carry");

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
	pthread_mutex_init(&d->dyn_lock, NULL);
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
	pthread_mutex_destroy(&d->dyn_lock);
	free(d);
}

static const char *lost_reason_text(uint8_t reason)
{
	switch (reason) {
	case SPAN_LOST_STACK_UNWIND: return "left without return (longjmp or unwinding)";
	case SPAN_LOST_THREAD_EXIT:  return "thread exited inside the call";
	case SPAN_LOST_EXEC:         return "the program was replaced (exec) inside the call";
	case SPAN_LOST_STOPPED:      return "tracing stopped inside the call";
	default:                     return "return not seen";
	}
}

static int add_dyn_func(struct span_decoder *d, const struct py_func_record *r)
{
	size_t idx = r->func_id - DYN_FUNC_ID_BASE;
	struct dyn_func *f;

	char *name, *file;
	int err = 0;

	if (r->func_id < DYN_FUNC_ID_BASE || idx >= MAX_DYN_FUNCS)
		return -EINVAL;
	name = strndup(r->name, sizeof(r->name));
	file = strndup(r->file, sizeof(r->file));
	if (!name || !file) {
		free(name);
		free(file);
		return -ENOMEM;
	}
	pthread_mutex_lock(&d->dyn_lock);
	if (idx >= d->ndyn) {
		size_t n = idx + 64;
		struct dyn_func *grown = realloc(d->dyn, n * sizeof(*grown));

		if (!grown) {
			free(name);
			free(file);
			err = -ENOMEM;
			goto out;
		}
		memset(grown + d->ndyn, 0, (n - d->ndyn) * sizeof(*grown));
		d->dyn = grown;
		d->ndyn = n;
	}
	f = &d->dyn[idx];
	if (!f->name)
		d->nannounced++;
	free(f->name);
	free(f->file);
	f->name = name;
	f->file = file;
	f->line = r->line;
out:
	pthread_mutex_unlock(&d->dyn_lock);
	return err;
}

size_t span_decoder__dyn_count(struct span_decoder *d)
{
	size_t n;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->dyn_lock);
	n = d->nannounced;
	pthread_mutex_unlock(&d->dyn_lock);
	return n;
}

bool span_decoder__dyn_name(struct span_decoder *d, uint32_t func_id, char *name, size_t name_len,
			    char *where, size_t where_len)
{
	size_t idx = func_id - DYN_FUNC_ID_BASE;
	bool found = false;

	if (!d || func_id < DYN_FUNC_ID_BASE)
		return false;
	pthread_mutex_lock(&d->dyn_lock);
	if (idx < d->ndyn && d->dyn[idx].name) {
		const char *file = strrchr(d->dyn[idx].file, '/');

		snprintf(name, name_len, "%s", d->dyn[idx].name);
		snprintf(where, where_len, "%s:%u", file ? file + 1 : d->dyn[idx].file,
			 d->dyn[idx].line);
		found = true;
	}
	pthread_mutex_unlock(&d->dyn_lock);
	return found;
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

#ifndef MUTANT_ARG_CUT_SHORT
#define MUTANT_ARG_CUT_SHORT 0 /* make test-mutants: 1 cuts strings a byte short */
#endif
/* Sign- or zero-extends an integer argument from its width. */
static int64_t extend(uint64_t v, uint8_t size, bool is_signed)
{
	switch (size) {
	case 1: return is_signed ? (int64_t)(int8_t)v : (int64_t)(uint8_t)v;
	case 2: return is_signed ? (int64_t)(int16_t)v : (int64_t)(uint16_t)v;
	case 4: return is_signed ? (int64_t)(int32_t)v : (int64_t)(uint32_t)v;
	default: return (int64_t)v;
	}
}

/* The arguments of a REC_SPAN_ARGS record, named and typed by the
 * function's --arg spec. */
static void decode_args(struct span *s, const struct traced_func *f, const struct captured_args *a)
{
	const struct func_args *fa = &f->args;
	size_t n = a->nargs < fa->spec.nargs ? a->nargs : fa->spec.nargs;

	for (size_t i = 0; i < n && i < ARG_MAX; i++) {
		const struct arg_slot *slot = &fa->spec.slot[i];
		struct span_arg *out = &s->args[i];
		char *text;

		out->name = fa->names[i];
		out->attr_key = fa->attr_keys[i];
		out->type = slot->type;
		out->flags = a->flags[i];
		out->str = -1;
		out->value = extend(a->value[i], slot->size, slot->type == ARG_T_INT);
		if (slot->type != ARG_T_STR && slot->type != ARG_T_PSTR)
			continue;
		out->str = slot->str & 1;
		out->value = (int64_t)a->value[i];
		text = s->arg_str[out->str];
		if (out->flags & ARG_F_NULL)
			snprintf(text, SPAN_ARG_STR_LEN, "NULL");
		else if (out->flags & ARG_F_PTR_FAULT)
			snprintf(text, SPAN_ARG_STR_LEN, "<unreadable char ** at 0x%" PRIx64 ">",
				 (uint64_t)a->value[i]);
		else if (out->flags & ARG_F_FAULT)
			snprintf(text, SPAN_ARG_STR_LEN, "<unreadable at %s0x%" PRIx64 ">",
				 slot->type == ARG_T_PSTR ? "*" : "", (uint64_t)a->value[i]);
		else if (out->flags & ARG_F_TRUNCATED)
			snprintf(text, SPAN_ARG_STR_LEN, "%.*s...", ARG_STR_LEN - 1 - MUTANT_ARG_CUT_SHORT,
				 a->str[out->str]);
		else
			snprintf(text, SPAN_ARG_STR_LEN, "%.*s", ARG_STR_LEN - 1, a->str[out->str]);
	}
	s->nargs = (uint8_t)n;
}

#ifdef MUTANT
/* make test-mutants: one deliberate fault per build (-DMUTANT -DMUTANT_<NAME>),
 * for the tests to catch; true drops the span. Never in a normal build. */
static bool span_mutant(struct span *s, bool python)
{
	static unsigned n;
	static uint64_t prev_parent;
	static uint8_t prev_trace[16];

	(void)s; (void)n; (void)python; (void)prev_parent; (void)prev_trace;
#ifdef MUTANT_SWAP_PARENT /* a child takes the previous child's parent */
	uint64_t p = s->parent_span_id;
	if (p) {
		if (prev_parent)
			s->parent_span_id = prev_parent;
		prev_parent = p;
	}
#endif
#ifdef MUTANT_LOSE_ERROR /* every 10th error lost */
	if (s->error && ++n % 10 == 0)
		s->error = false;
#endif
#ifdef MUTANT_DURATION_UNIT /* a span over 1 ms ends 1 ms early */
	if (s->end_unix_ns - s->start_unix_ns > 1000000)
		s->end_unix_ns -= 1000000;
#endif
#ifdef MUTANT_TID_IS_PID /* the thread id is the process id */
	s->tid = s->pid;
#endif
#ifdef MUTANT_TRACE_ID_SHARED /* every 20th root joins the previous root's trace */
	if (!s->parent_span_id) {
		if (++n % 20 == 0)
			memcpy(s->trace_id, prev_trace, sizeof(prev_trace));
		memcpy(prev_trace, s->trace_id, sizeof(prev_trace));
	}
#endif
#ifdef MUTANT_PYTHON_FRAME_SKIPPED /* every 7th Python call left out */
	if (python && ++n % 7 == 0)
		return true;
#endif
	return false;
}
#endif

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
#ifdef MUTANT
	if (span_mutant(s, e->func_id >= DYN_FUNC_ID_BASE))
		return 0; /* make test-mutants (tests/mutants/): a span left out */
#endif
	if (f) {
		s->ret_signed = f->rule.ret_signed;
		s->ret = (int64_t)e->ret;
		struct probe_cost cost;

		/* no return value: truncated, left by an exception, or ended by a
		 * tail jump out (the value is the untraced callee's) */
		s->ret_kind = ret_kind(f, s->truncated || x || (e->flags & SPAN_F_NO_RETURN));
		s->has_ret = s->ret_kind != SPAN_RET_NONE;
		probe_cost__of(f, &cost);
		s->probe_class = cost.cls;
		s->probe_overhead_ns = cost.overhead_ns;
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
	case REC_SPAN_ARGS: {
		const struct span_args_record *r = data;
		int n;

		if (h->size != sizeof(*r))
			return -EINVAL;
		n = decode_span(d, &r->span, NULL, s);
		if (n == 1 && r->span.func_id < d->table->nfuncs)
			decode_args(s, &d->table->funcs[r->span.func_id], &r->args);
		return n;
	}
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

		*out = (struct control_event){ h->kind, (int)r->pid, 0, r->start_boottime, "" };
		memcpy(out->comm, r->comm, sizeof(out->comm) - 1);
	} else if ((h->kind == REC_FORK || h->kind == REC_EXIT) &&
		   h->size == sizeof(struct proc_record)) {
		const struct proc_record *r = data;

		*out = (struct control_event){ h->kind, (int)r->pid, (int)r->ppid, 0, "" };
	} else {
		return -EINVAL;
	}
	return out->pid > 0 && out->ppid >= 0 ? 0 : -EINVAL;
}
