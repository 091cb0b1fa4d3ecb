// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Python calls as spans, from the interpreter's USDT probes
 * python:function__entry and python:function__return (filename, funcname,
 * line). Both fire for every Python function of the process; only the
 * functions the user asked for are kept on a per-thread shadow stack, and a
 * return pops its frame and sends one struct span_event, as the uprobe side
 * does.
 *
 * Which functions are traced is decided in the kernel, once per code object:
 * the (filename, funcname) pointers the interpreter passes are the UTF-8
 * buffers of the code object's strings, stable while it lives. On the first
 * sighting the strings are read and matched against the file and function
 * globs; the verdict is cached under the pointers and a py_code_event tells
 * user space the function's name and file. Later calls cost one hash lookup.
 *
 * CPython 3.11 skips function__entry for calls made from Python code
 * (gh-98894) unless the frame runs through the tracing dispatch, which it
 * does while the `line` probe's semaphore is non-zero. User space raises that
 * semaphore with a uprobe that never fires (see user/python_probe.c), so
 * every frame start passes function__entry.
 *
 * A call left by an exception still fires function__return; the thread
 * state's current exception (curexc_type, set while unwinding, NULL on a
 * normal return or a yield) tells them apart, and its type and message go
 * with the span. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "span_event.h"
#include "span_helpers.bpf.h"
#include "python_event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* 0 traces every process running the interpreter; else only this tgid. */
const volatile __u32 target_tgid = 0;
/* Globs 0..nfile_globs-1 are matched against co_filename, the next
 * nfunc_globs against co_name; a code object is traced when one of each
 * matches. '*' and '?' only; user space adds the "*" + "/" form of a relative
 * file glob, so it matches the end of the path. */
const volatile __u32 nfile_globs = 0;
const volatile __u32 nfunc_globs = 0;
const volatile char globs[PY_MAX_GLOBS][PY_GLOB_LEN] = {};
const volatile __u32 glob_len[PY_MAX_GLOBS] = {};

/* Function ids handed out so far (id = PY_FUNC_ID_BASE + n). */
__u32 next_func_id = 0;

#define DEPTH_MASK (SPAN_MAX_DEPTH - 1)
#define FRAME(tc, i) (&(tc)->frames[({ __u32 i_ = (i); barrier_var(i_); i_ & DEPTH_MASK; })])
_Static_assert((SPAN_MAX_DEPTH & DEPTH_MASK) == 0, "SPAN_MAX_DEPTH must be a power of two");
_Static_assert((PY_MAX_GLOBS & (PY_MAX_GLOBS - 1)) == 0, "PY_MAX_GLOBS must be a power of two");

struct py_frame {
	__u64 span_id;
	__u64 start_ns;
	__u64 file_ptr; /* identify the code object, as the return sees it */
	__u64 name_ptr;
	__u32 func_id;
	__u32 pad;
};

struct py_thread {
	__u8 trace_id[16]; /* of the outermost open call */
	__u32 depth;       /* frames in use */
	__u32 overflow;    /* traced calls open beyond SPAN_MAX_DEPTH, not recorded */
	struct py_frame frames[SPAN_MAX_DEPTH];
};

/* Open Python calls per thread, in the thread's task storage: found without
 * hashing on every Python call, and freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct py_thread);
} py_threads SEC(".maps");

struct verdict_key {
	__u32 tgid;
	__u32 pad;
	__u64 file_ptr;
	__u64 name_ptr;
};

struct verdict {
	__u32 func_id; /* 0: not traced */
	__u32 pad;
	__u64 name8;   /* first bytes of the name: a freed and reused buffer is re-judged */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct verdict_key);
	__type(value, struct verdict);
} py_verdicts SEC(".maps");

/* One step of the classic wildcard match (single backtrack point), run by
 * bpf_loop: s/p walk the string and the glob; star/mark remember the last
 * '*' and where its match ends. */
struct glob_match {
	__u32 glob;   /* index in globs */
	__u32 name;   /* 1: match scratch.name, 0: scratch.file */
	__s32 s, p, star, mark;
	__s32 slen, plen;
	__u32 matched;
};

/* The strings of a code object being judged, and the match in progress (in
 * a map, not on the stack: the verifier then need not follow each value). */
struct scratch {
	char file[PY_FILE_LEN];
	char name[PY_NAME_LEN];
	struct glob_match m;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} py_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PY_MAX_INTERPS);
	__type(key, __u32);
	__type(value, struct py_interp_info);
} py_interps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} py_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} py_stats SEC(".maps");

static __always_inline void count(__u32 stat)
{
	count_in(&py_stats, stat);
}

static long glob_step(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&py_scratch, &zero);
	struct glob_match *m;
	char pc = 0, c;
	__u32 g;

	if (!sc)
		return 1;
	m = &sc->m;
	g = m->glob & (PY_MAX_GLOBS - 1);
	if (m->p >= 0 && m->p < m->plen)
		pc = globs[g][m->p & (PY_GLOB_LEN - 1)];
	if (m->s >= 0 && m->s < m->slen) {
		c = m->name ? sc->name[m->s & (PY_NAME_LEN - 1)] : sc->file[m->s & (PY_FILE_LEN - 1)];
		if (m->p < m->plen && pc != '*' && (pc == '?' || pc == c)) {
			m->s++;
			m->p++;
		} else if (m->p < m->plen && pc == '*') {
			m->star = m->p++;
			m->mark = m->s;
		} else if (m->star >= 0) {
			m->p = m->star + 1;
			m->s = ++m->mark;
		} else {
			return 1; /* no match */
		}
		return 0;
	}
	if (m->p < m->plen && pc == '*') {
		m->p++;
		return 0;
	}
	m->matched = m->p == m->plen;
	return 1;
}

/* Does scratch's file (name) match one of globs [first, first + n)? */
static __always_inline bool match_any(struct scratch *sc, __u32 first, __u32 n, bool name,
				      __s32 slen)
{
	for (__u32 i = 0; i < PY_MAX_GLOBS; i++) {
		struct glob_match *m = &sc->m;
		__u32 g = first + i;

		if (i >= n || g >= PY_MAX_GLOBS)
			break;
		__builtin_memset(m, 0, sizeof(*m));
		m->glob = g;
		m->name = name;
		m->star = -1;
		m->slen = slen;
		m->plen = glob_len[g & (PY_MAX_GLOBS - 1)];
		/* enough for the worst backtracking of a 256-byte path */
		bpf_loop(PY_FILE_LEN * PY_GLOB_LEN + PY_GLOB_LEN + 2, glob_step, NULL, 0);
		if (m->matched)
			return true;
	}
	return false;
}

/* First sighting of a (file, name) pair in a process: judge it, remember the
 * verdict, and announce a traced function to user space. Returns its id, or
 * 0 when it is not traced (or could not be announced: judged again next time). */
static __always_inline __u32 judge_code(const struct verdict_key *k, __u64 name8, __u32 line)
{
	struct verdict v = { .name8 = name8 };
	struct py_code_event *e;
	struct scratch *sc;
	__u32 zero = 0;
	long flen, nlen;

	sc = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!sc)
		return 0;
	flen = bpf_probe_read_user_str(sc->file, sizeof(sc->file), (void *)k->file_ptr);
	nlen = bpf_probe_read_user_str(sc->name, sizeof(sc->name), (void *)k->name_ptr);
	if (flen <= 0 || nlen <= 0)
		return 0;
	if (!match_any(sc, 0, nfile_globs, false, flen - 1) ||
	    !match_any(sc, nfile_globs, nfunc_globs, true, nlen - 1)) {
		bpf_map_update_elem(&py_verdicts, k, &v, BPF_ANY);
		return 0;
	}
	/* Reserve before publishing the verdict: a span of this function from
	 * another thread can then only follow this record in the ring. */
	e = bpf_ringbuf_reserve(&py_events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_DROPS);
		return 0;
	}
	v.func_id = PY_FUNC_ID_BASE + __sync_fetch_and_add(&next_func_id, 1);
	e->kind = PY_REC_CODE;
	e->func_id = v.func_id;
	e->pid = k->tgid;
	e->line = line;
	__builtin_memcpy(e->file, sc->file, sizeof(e->file));
	__builtin_memcpy(e->name, sc->name, sizeof(e->name));
	bpf_map_update_elem(&py_verdicts, k, &v, BPF_ANY);
	bpf_ringbuf_submit(e, 0);
	return v.func_id;
}

static __always_inline __u32 code_id(const struct verdict_key *k, __u32 line, bool judge)
{
	struct verdict *v;
	__u64 name8 = 0;

	bpf_probe_read_user(&name8, sizeof(name8), (void *)k->name_ptr);
	v = bpf_map_lookup_elem(&py_verdicts, k);
	if (v && v->name8 == name8)
		return v->func_id;
	return judge ? judge_code(k, name8, line) : 0;
}

/* The exception a frame is being left by, from the interpreter's thread
 * state; fills type and message when it can. False: a normal return. */
static __always_inline bool read_exception(struct pt_regs *ctx, struct py_error_span *out)
{
	__u32 idx = (__u32)bpf_usdt_cookie(ctx);
	const struct py_interp_info *in = bpf_map_lookup_elem(&py_interps, &idx);
	__u64 bias, tstate = 0, type = 0, value = 0, vtype = 0, obj = 0, args = 0, n = 0, p = 0;
	__u32 state = 0, tname = 0;

	if (!in || !in->tstate_addr)
		return false;
	/* the load bias of a PIE or shared library is page aligned */
	bias = (PT_REGS_IP(ctx) - in->return_probe_addr) & ~0xfffULL;
	if (bpf_probe_read_user(&tstate, sizeof(tstate), (void *)(in->tstate_addr + bias)) || !tstate)
		return false;
	if (bpf_probe_read_user(&type, sizeof(type), (void *)(tstate + in->curexc_type_off)) || !type)
		return false;
	if (!out)
		return true;
	/* PyTypeObject.tp_name: after ob_refcnt, ob_type, ob_size */
	if (!bpf_probe_read_user(&p, sizeof(p), (void *)(type + 24)))
		bpf_probe_read_user_str(out->exc_type, sizeof(out->exc_type), (void *)p);

	/* The value is the exception instance (raised from Python), or still
	 * the bare message str (set from C, not yet normalised). */
	bpf_probe_read_user(&value, sizeof(value), (void *)(tstate + in->curexc_value_off));
	if (!value || bpf_probe_read_user(&vtype, sizeof(vtype), (void *)(value + 8)))
		return true;
	obj = value;
	if (vtype == type) {
		if (bpf_probe_read_user(&args, sizeof(args), (void *)(value + in->exc_args_off)) || !args)
			return true;
		/* a tuple: ob_size at 16, items from 24 */
		if (bpf_probe_read_user(&n, sizeof(n), (void *)(args + 16)) || n < 1 ||
		    bpf_probe_read_user(&obj, sizeof(obj), (void *)(args + 24)) || !obj)
			return true;
	}
	/* a str? its type's tp_name is "str" */
	if (bpf_probe_read_user(&vtype, sizeof(vtype), (void *)(obj + 8)) ||
	    bpf_probe_read_user(&p, sizeof(p), (void *)(vtype + 24)) ||
	    bpf_probe_read_user(&tname, sizeof(tname), (void *)p) ||
	    tname != ('s' | 't' << 8 | 'r' << 16))
		return true;
	/* compact (bit 5) and ASCII (bit 6): the characters follow the header */
	if (bpf_probe_read_user(&state, sizeof(state), (void *)(obj + in->str_state_off)) ||
	    (state & 0x60) != 0x60)
		return true;
	bpf_probe_read_user_str(out->exc_message, sizeof(out->exc_message),
				(void *)(obj + in->str_data_off));
	return true;
}

static __always_inline void fill_span(struct span_event *e, struct py_thread *tc, __u32 idx,
				      __u64 pid_tgid, __u64 end_ns, __u8 flags, __u8 lost_reason)
{
	struct py_frame *f = FRAME(tc, idx);

	fill_span_event(e, tc->trace_id, f->span_id, idx > 0 ? FRAME(tc, idx - 1)->span_id : 0,
			f->start_ns, end_ns, pid_tgid, f->func_id, idx, flags, lost_reason);
}

static __always_inline void emit_span(struct py_thread *tc, __u32 idx, __u64 pid_tgid,
				      __u64 end_ns, __u8 flags, __u8 lost_reason)
{
	struct span_event *e;

	if (idx >= SPAN_MAX_DEPTH)
		return;
	e = bpf_ringbuf_reserve(&py_events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_DROPS);
		return;
	}
	fill_span(e, tc, idx, pid_tgid, end_ns, flags, lost_reason);
	bpf_ringbuf_submit(e, wakeup_flag(&py_events, sizeof(*e)));
}

static __always_inline void emit_error_span(struct pt_regs *ctx, struct py_thread *tc, __u32 idx,
					    __u64 pid_tgid, __u64 end_ns)
{
	struct py_error_span *e;

	if (idx >= SPAN_MAX_DEPTH)
		return;
	e = bpf_ringbuf_reserve(&py_events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_DROPS);
		return;
	}
	fill_span(&e->span, tc, idx, pid_tgid, end_ns, SPAN_F_ERROR, SPAN_LOST_NONE);
	e->exc_type[0] = 0;
	e->exc_message[0] = 0;
	read_exception(ctx, e);
	bpf_ringbuf_submit(e, wakeup_flag(&py_events, sizeof(*e)));
}

SEC("usdt")
int BPF_USDT(py_entry, void *file, void *name, int line)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct verdict_key k = { .tgid = pid_tgid >> 32, .file_ptr = (__u64)file,
				 .name_ptr = (__u64)name };
	struct py_thread *tc;
	struct py_frame *f;
	__u32 func_id, d;

	if (target_tgid && k.tgid != target_tgid)
		return 0;
	func_id = code_id(&k, line, true);
	if (!func_id)
		return 0;
	count(STAT_CALLS);

	/* created zeroed (depth 0) on the thread's first traced call */
	tc = bpf_task_storage_get(&py_threads, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tc) {
		count(STAT_STACK_DROPS);
		return 0;
	}
	d = tc->depth;
	if (d >= SPAN_MAX_DEPTH || tc->overflow) {
		tc->overflow++;
		count(STAT_DEPTH_DROPS);
		return 0;
	}
	if (d == 0) {
		*(__u64 *)&tc->trace_id[0] = random_u64();
		*(__u64 *)&tc->trace_id[8] = random_u64();
	}
	f = FRAME(tc, d);
	f->span_id = random_u64() | 1; /* never 0: 0 means "no parent" */
	f->file_ptr = k.file_ptr;
	f->name_ptr = k.name_ptr;
	f->func_id = func_id;
	f->start_ns = bpf_ktime_get_ns();
	tc->depth = d + 1;
	return 0;
}

SEC("usdt")
int BPF_USDT(py_return, void *file, void *name, int line)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct verdict_key k = { .tgid = pid_tgid >> 32, .file_ptr = (__u64)file,
				 .name_ptr = (__u64)name };
	struct py_thread *tc;
	struct py_frame *f;
	__u64 now;
	__u32 d;

	if (target_tgid && k.tgid != target_tgid)
		return 0;
	/* Most returns are of untraced functions with nothing open: one lookup. */
	tc = bpf_task_storage_get(&py_threads, bpf_get_current_task_btf(), NULL, 0);
	if (!tc)
		return 0;
	if (tc->overflow) {
		/* traced calls return in LIFO order: this one was not recorded */
		if (code_id(&k, line, false))
			tc->overflow--;
		return 0;
	}
	d = tc->depth;
	if (d == 0 || d > SPAN_MAX_DEPTH)
		return 0;
	f = FRAME(tc, d - 1);
	if (f->file_ptr != k.file_ptr || f->name_ptr != k.name_ptr)
		return 0; /* an untraced function, or a return whose entry was not seen */
	now = bpf_ktime_get_ns();
	if (read_exception(ctx, NULL))
		emit_error_span(ctx, tc, d - 1, pid_tgid, now);
	else
		emit_span(tc, d - 1, pid_tgid, now, 0, SPAN_LOST_NONE);
	tc->depth = d - 1;
	return 0;
}

/* Raises the `line` semaphore (see the top comment); attached where it never
 * runs, so this body is only a placeholder. */
SEC("uprobe")
int py_line_semaphore(struct pt_regs *ctx)
{
	return 0;
}

/* A thread exiting with open Python calls: send them as truncated. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(py_thread_exit, struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();
	struct py_thread *tc;

	tc = bpf_task_storage_get(&py_threads, task, NULL, 0);
	if (!tc)
		return 0;
	for (int i = 0; i < SPAN_MAX_DEPTH; i++) {
		__u32 d = tc->depth;

		if (d == 0 || d > SPAN_MAX_DEPTH)
			break;
		emit_span(tc, d - 1, pid_tgid, now, SPAN_F_TRUNCATED, SPAN_LOST_THREAD_EXIT);
		tc->depth = d - 1;
	}
	return 0; /* the storage goes with the task */
}
