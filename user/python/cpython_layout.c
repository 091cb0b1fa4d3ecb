// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* CPython's layouts per minor version; see cpython_layout.h. Every value
 * below is what offsetof()/sizeof() give with that version's headers
 * (x86-64, default build); tests/integration/python_layouts.sh compiles
 * tests/tools/cpython_layout_from_headers.c against each installed version
 * and compares, so a wrong or missing value fails there. The rows are
 * bpf/python_layout.h's fields (whose comments say what each holds); NO is
 * a field the version does not have. */
#include <errno.h>
#include <string.h>

#include "cpython_layout.h"

#define NO PY_LAYOUT_ABSENT
#define NVERSIONS (CPYTHON_MAX_MINOR - CPYTHON_MIN_MINOR + 1)

/* R(field,                       3.8,   3.9,  3.10,  3.11,  3.12,  3.13) */
#define LAYOUT_ROWS(R) \
	R(eval_frame_arg,                     0,     1,     1,     1,     1,     1) \
	R(frame_code,                        32,    32,    32,    32,     0,     0) \
	R(frame_back,                        24,    24,    24,    48,     8,     8) \
	R(frame_lasti,                      104,   104,    96,    NO,    NO,    NO) \
	R(frame_stacktop,                    72,    72,    NO,    NO,    NO,    NO) \
	R(frame_state,                       NO,    NO,   108,    NO,    NO,    NO) \
	R(frame_state_suspended,             NO,    NO,    -1,    NO,    NO,    NO) \
	R(frame_owner,                       NO,    NO,    NO,    69,    70,    70) \
	R(frame_owned_by_generator,          NO,    NO,    NO,     1,     1,     1) \
	R(gen_state_from_frame,              NO,    NO,    NO,    -5,    -5,    -5) \
	R(gen_state_suspended,               NO,    NO,    NO,    -1,    -1,    -2) \
	R(gen_state_suspended_yield_from,    NO,    NO,    NO,    -1,    -1,    -1) \
	R(code_flags,                        36,    36,    36,    48,    48,    48) \
	R(code_gen_flags,                   672,   672,   672,   672,   672,   672) \
	R(code_filename,                    104,   104,   104,   112,   112,   112) \
	R(code_name,                        112,   112,   112,   120,   120,   120) \
	R(code_qualname,                     NO,    NO,    NO,   128,   128,   128) \
	R(code_firstlineno,                  40,    40,    40,    72,    68,    68) \
	R(str_length,                        16,    16,    16,    16,    16,    16) \
	R(str_state,                         32,    32,    32,    32,    32,    32) \
	R(str_compact_mask,                  32,    32,    32,    32,    32,    32) \
	R(str_ascii_mask,                    64,    64,    64,    64,    64,    64) \
	R(str_kind_mask,                     28,    28,    28,    28,    28,    28) \
	R(str_kind_shift,                     2,     2,     2,     2,     2,     2) \
	R(str_ascii_data,                    48,    48,    48,    48,    40,    40) \
	R(str_compact_data,                  72,    72,    72,    72,    56,    56) \
	R(str_utf8_length,                   48,    48,    48,    48,    40,    40) \
	R(str_utf8,                          56,    56,    56,    56,    48,    48) \
	R(tstate_interp,                     16,    16,    16,    16,    16,    16) \
	R(tstate_curexc_type,                88,    88,    88,    96,    NO,    NO) \
	R(tstate_curexc_value,               96,    96,    96,   104,    NO,    NO) \
	R(tstate_current_exception,          NO,    NO,    NO,    NO,    96,   112) \
	R(runtime_tstate_current,          1368,   568,   568,   576,    NO,    NO) \
	R(runtime_interpreters_head,         32,    32,    32,    40,    40,   632) \
	R(runtime_interpreters_main,         40,    40,    40,    48,    48,   640) \
	R(interp_next,                        0,     0,     0,     0,     0,  7264) \
	R(interp_id,                         16,    24,    24,    48,     8,  7272) \
	R(interp_eval_frame,                568,  1400,  1368,  1424,  1744,  8472) \
	R(ob_type,                            8,     8,     8,     8,     8,     8) \
	R(type_tp_name,                      24,    24,    24,    24,    24,    24) \
	R(tuple_size,                        16,    16,    16,    16,    16,    16) \
	R(tuple_item,                        24,    24,    24,    24,    24,    24) \
	R(exc_args,                          24,    24,    24,    24,    24,    24)

/* Every field of the list has a row: the compiler counts them. */
#define COUNT_FIELD(name) +1
#define COUNT_ROW(name, ...) +1
_Static_assert(0 PY_LAYOUT_FIELDS(COUNT_FIELD) == 0 LAYOUT_ROWS(COUNT_ROW),
	       "a field of bpf/python_layout.h has no row here, or a row no field");

static void fill_table(struct py_layout t[NVERSIONS])
{
	for (int i = 0; i < NVERSIONS; i++)
		t[i].version = 0x0300 | (CPYTHON_MIN_MINOR + i);
#define FILL_ROW(name, v38, v39, v310, v311, v312, v313)                       \
	t[0].name = v38;                                                       \
	t[1].name = v39;                                                       \
	t[2].name = v310;                                                      \
	t[3].name = v311;                                                      \
	t[4].name = v312;                                                      \
	t[5].name = v313;
	LAYOUT_ROWS(FILL_ROW)
#undef FILL_ROW
}
_Static_assert(NVERSIONS == 6, "one column per version in LAYOUT_ROWS");

const char *cpython_layout__unsupported(unsigned major, unsigned minor)
{
	if (major == 2)
		return "Python 2 has another interpreter altogether (the evaluator path covers "
		       "CPython 3.8 to 3.13)";
	if (major != 3)
		return "not a CPython version this spanprobe knows (3.8 to 3.13)";
	if (minor < CPYTHON_MIN_MINOR)
		return "the evaluator path covers CPython 3.8 to 3.13 (3.7 and older are past "
		       "their end of life; a build with USDT probes, --with-dtrace, still works)";
	if (minor > CPYTHON_MAX_MINOR)
		return "the evaluator path covers CPython 3.8 to 3.13; newer versions change the "
		       "frame layout (3.14 tags the code pointer) and are not checked yet";
	return NULL;
}

int cpython_layout__table(unsigned major, unsigned minor, struct py_layout *out)
{
	struct py_layout t[NVERSIONS];

	if (cpython_layout__unsupported(major, minor))
		return -ENOTSUP;
	fill_table(t);
	*out = t[minor - CPYTHON_MIN_MINOR];
	return 0;
}

/* 3.13's _Py_DebugOffsets (Include/internal/pycore_runtime.h), the first
 * member of _PyRuntime: every member a uint64_t. Only its first part, up
 * to what is read here; 3.14 inserts members, so its layout is another. */
struct debug_offsets_313 {
	char cookie[8];
	uint64_t version;
	uint64_t free_threaded;
	struct {
		uint64_t size, finalizing, interpreters_head;
	} runtime_state;
	struct {
		uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
			ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
			gil_runtime_state_locked, gil_runtime_state_holder;
	} interpreter_state;
	struct {
		uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
			datastack_chunk, status;
	} thread_state;
	struct {
		uint64_t size, previous, executable, instr_ptr, localsplus, owner;
	} interpreter_frame;
	struct {
		uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
			localsplusnames, localspluskinds, co_code_adaptive;
	} code_object;
	struct {
		uint64_t size, ob_type;
	} pyobject;
	struct {
		uint64_t size, tp_name, tp_repr, tp_flags;
	} type_object;
	struct {
		uint64_t size, ob_item, ob_size;
	} tuple_object;
	struct {
		uint64_t size, ob_item, ob_size;
	} list_object;
	struct {
		uint64_t size, ma_keys, ma_values;
	} dict_object;
	struct {
		uint64_t size, ob_fval;
	} float_object;
	struct {
		uint64_t size, lv_tag, ob_digit;
	} long_object;
	struct {
		uint64_t size, ob_size, ob_sval;
	} bytes_object;
	struct {
		uint64_t size, state, length, asciiobject_size;
	} unicode_object;
};

size_t cpython_layout__debug_offsets_size(void)
{
	return sizeof(struct debug_offsets_313);
}

/* An offset inside a structure of `size` bytes (a hostile or corrupt file
 * could publish anything). */
static int take(__s32 *field, uint64_t off, uint64_t size)
{
	if (off >= size || size > (1u << 20))
		return -EINVAL;
	*field = (__s32)off;
	return 0;
}

int cpython_layout__apply_debug_offsets(struct py_layout *l, const void *runtime, size_t len,
					uint32_t py_version_hex, bool *free_threaded)
{
	struct debug_offsets_313 d;
	struct py_layout n = *l;
	int err = 0;

	*free_threaded = false;
	if (len < sizeof(d))
		return -ENOENT;
	memcpy(&d, runtime, sizeof(d));
	if (memcmp(d.cookie, "xdebugpy", sizeof(d.cookie)))
		return -ENOENT;
	if ((d.version >> 16) != 0x030d || (py_version_hex >> 16) != 0x030d)
		return -EINVAL;
	if (d.free_threaded) {
		*free_threaded = true;
		return -ENOTSUP;
	}
	err = err ?: take(&n.frame_code, d.interpreter_frame.executable, d.interpreter_frame.size);
	err = err ?: take(&n.frame_back, d.interpreter_frame.previous, d.interpreter_frame.size);
	err = err ?: take(&n.frame_owner, d.interpreter_frame.owner, d.interpreter_frame.size);
	err = err ?: take(&n.code_filename, d.code_object.filename, d.code_object.size);
	err = err ?: take(&n.code_name, d.code_object.name, d.code_object.size);
	err = err ?: take(&n.code_qualname, d.code_object.qualname, d.code_object.size);
	err = err ?: take(&n.code_firstlineno, d.code_object.firstlineno, d.code_object.size);
	err = err ?: take(&n.str_state, d.unicode_object.state, d.unicode_object.size);
	err = err ?: take(&n.str_length, d.unicode_object.length, d.unicode_object.size);
	err = err ?: take(&n.str_ascii_data, d.unicode_object.asciiobject_size,
			  d.unicode_object.size + 1);
	err = err ?: take(&n.tstate_interp, d.thread_state.interp, d.thread_state.size);
	err = err ?: take(&n.runtime_interpreters_head, d.runtime_state.interpreters_head,
			  d.runtime_state.size);
	err = err ?: take(&n.interp_next, d.interpreter_state.next, d.interpreter_state.size);
	err = err ?: take(&n.interp_id, d.interpreter_state.id, d.interpreter_state.size);
	err = err ?: take(&n.ob_type, d.pyobject.ob_type, d.pyobject.size);
	err = err ?: take(&n.type_tp_name, d.type_object.tp_name, d.type_object.size);
	err = err ?: take(&n.tuple_item, d.tuple_object.ob_item, d.tuple_object.size + 1);
	err = err ?: take(&n.tuple_size, d.tuple_object.ob_size, d.tuple_object.size);
	if (err)
		return err;
	*l = n;
	return 0;
}

void cpython_layout__print(const struct py_layout *l, FILE *f)
{
	fprintf(f, "version 0x%04x\n", l->version);
#define PRINT_FIELD(name)                                                      \
	if (l->name == PY_LAYOUT_ABSENT)                                       \
		fprintf(f, #name " absent\n");                                 \
	else                                                                   \
		fprintf(f, #name " %d\n", l->name);
	PY_LAYOUT_FIELDS(PRINT_FIELD)
#undef PRINT_FIELD
}
