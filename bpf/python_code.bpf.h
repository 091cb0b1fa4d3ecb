/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which Python functions are traced, decided in the kernel once per code
 * object, for every Python probe source. A code object is named by the
 * addresses of its file and function name strings (stable while it lives);
 * on the first sighting in a process the strings are read and matched
 * against the FILES and FUNCS globs, the verdict is cached under the
 * addresses, and a traced function is announced to user space with a
 * REC_PY_FUNC record carrying a new function id. Later calls cost one hash
 * lookup. */
#ifndef SPANPROBE_PYTHON_CODE_BPF_H
#define SPANPROBE_PYTHON_CODE_BPF_H

#include "shadow_stack.bpf.h"
#include "python_settings.h"

_Static_assert((PY_MAX_GLOBS & (PY_MAX_GLOBS - 1)) == 0, "PY_MAX_GLOBS must be a power of two");

/* Globs 0..nfile_globs-1 are matched against the file name, the next
 * nfunc_globs against the function name; a code object is traced when one of
 * each matches. '*' and '?' only; user space adds the "*" + "/" form of a
 * relative file glob, so it matches the end of the path. */
const volatile __u32 nfile_globs __weak = 0;
const volatile __u32 nfunc_globs __weak = 0;
const volatile char globs[PY_MAX_GLOBS][PY_GLOB_LEN] __weak = {};
const volatile __u32 glob_len[PY_MAX_GLOBS] __weak = {};

/* Function ids handed out so far (id = DYN_FUNC_ID_BASE + n). */
__u32 next_func_id __weak = 0;

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
} py_verdicts SEC(".maps") __weak;

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
struct py_scratch {
	char file[PY_FILE_LEN];
	char name[PY_NAME_LEN];
	struct glob_match m;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_scratch);
} py_scratch SEC(".maps") __weak;

static long glob_step(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct py_scratch *sc = bpf_map_lookup_elem(&py_scratch, &zero);
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
static __always_inline bool match_any(struct py_scratch *sc, __u32 first, __u32 n, bool name,
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
 * verdict, and announce a traced function to user space. The strings' bytes
 * are read from file_str and name_str (USDT: the key's own pointers; the
 * evaluator: the characters inside the str objects the key names). Returns
 * its id, or 0 when it is not traced (or could not be announced: judged
 * again next time). */
static __always_inline __u32 judge_code(const struct verdict_key *k, __u64 file_str,
					__u64 name_str, __u64 name8, __u32 line)
{
	struct verdict v = { .name8 = name8 };
	struct py_func_record *e;
	struct py_scratch *sc;
	__u32 zero = 0;
	long flen, nlen;

	sc = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!sc)
		return 0;
	flen = bpf_probe_read_user_str(sc->file, sizeof(sc->file), (void *)file_str);
	nlen = bpf_probe_read_user_str(sc->name, sizeof(sc->name), (void *)name_str);
	if (flen <= 0 || nlen <= 0)
		return 0;
	if (!match_any(sc, 0, nfile_globs, false, flen - 1) ||
	    !match_any(sc, nfile_globs, nfunc_globs, true, nlen - 1)) {
		bpf_map_update_elem(&py_verdicts, k, &v, BPF_ANY);
		return 0;
	}
	/* Reserve before publishing the verdict: a span of this function from
	 * another thread can then only follow this record in the ring. */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_DROPS);
		return 0;
	}
	v.func_id = DYN_FUNC_ID_BASE + __sync_fetch_and_add(&next_func_id, 1);
	e->hdr.kind = REC_PY_FUNC;
	e->hdr.size = sizeof(*e);
	e->hdr.pad = 0;
	e->func_id = v.func_id;
	e->pid = k->tgid;
	e->line = line;
	e->pad = 0;
	__builtin_memcpy(e->file, sc->file, sizeof(e->file));
	__builtin_memcpy(e->name, sc->name, sizeof(e->name));
	bpf_map_update_elem(&py_verdicts, k, &v, BPF_ANY);
	bpf_ringbuf_submit(e, 0);
	return v.func_id;
}

/* The cached verdict of a code object: its function id (0: not traced), or
 * -1 when it was never judged. name8: the first bytes of its name. */
static __always_inline __s64 py_code_cached(const struct verdict_key *k, __u64 name8)
{
	struct verdict *v = bpf_map_lookup_elem(&py_verdicts, k);

	return v && v->name8 == name8 ? (__s64)v->func_id : -1;
}

/* The function id of a code object whose strings are at the key's pointers
 * (0: not traced); judged on first sight when `judge`. */
static __always_inline __u32 py_code_id(const struct verdict_key *k, __u32 line, bool judge)
{
	__u64 name8 = 0;
	__s64 id;

	bpf_probe_read_user(&name8, sizeof(name8), (void *)k->name_ptr);
	id = py_code_cached(k, name8);
	if (id >= 0)
		return id;
	return judge ? judge_code(k, k->file_ptr, k->name_ptr, name8, line) : 0;
}

/* Opens a frame for a traced Python call; sp is the C stack pointer where
 * the probe fired. Calls inlined in one C frame (3.11+) share it, so only
 * frames strictly below it are unwound as dead. */
static __always_inline void py_call_enter(struct thread_calls *tc, __u32 func_id, __u64 sp,
					  __u64 key0, __u64 key1, __u64 pid_tgid)
{
	__u64 now = bpf_ktime_get_ns();

	count(STAT_PY_CALLS);
	if (tc->overflow) {
		tc->overflow++;
		count(STAT_DEPTH_DROPS);
		return;
	}
	shadow_stack__unwind(tc, sp, false, pid_tgid, now, SPAN_LOST_STACK_UNWIND);
	if (!shadow_stack__push(tc, func_id, sp, key0, key1, now))
		tc->overflow++;
}

#endif /* SPANPROBE_PYTHON_CODE_BPF_H */
