#!/usr/bin/env bash
# The CPython layout table (user/python/cpython_layout.c) against each
# installed version's own headers: tests/tools/cpython_layout_from_headers.c
# is compiled with that version's include/python3.X (and internal/,
# Py_BUILD_CORE) and prints offsetof() of every field; the table's layout
# and the layout read from the version's libpython (version detection,
# decoded eval_frame offset, 3.13's _Py_DebugOffsets) must print the same.
# 3.8-3.13 must be installed (pyenv: `pyenv install 3.X`); 2.7, 3.6 and 3.7,
# when installed, must be refused with one clear line.
source "$(dirname "$0")/../lib/common.sh"
scratch
DUMP=$ROOT/build/tools/cpython-layout-dump
CC=${CC:-cc}
PYENV=${PYENV:-$(command -v pyenv || echo "$HOME/.pyenv/bin/pyenv")}

if [ ! -x "$DUMP" ]; then
	fail all "$DUMP not built (make fixtures)"
	exit 0
fi
prefix_of() { [ -x "$PYENV" ] && "$PYENV" prefix "$1" 2>/dev/null; }
libpython_of() { ls "$1"/lib/libpython"$2"*.so.1.0 2>/dev/null | head -n 1; }

for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
	prefix=$(prefix_of $v)
	inc=$prefix/include/python$v
	if [ -z "$prefix" ] || [ ! -f "$inc/Python.h" ]; then
		skip "headers_$v" "CPython $v with headers not installed (pyenv install $v)"
		continue
	fi
	if ! $CC -std=gnu11 -Wall -Wextra -Werror -I"$ROOT/bpf" -I"$inc" -I"$inc/internal" \
		"$ROOT/tests/tools/cpython_layout_from_headers.c" -o "$SCRATCH/headers-$v" \
		2>"$SCRATCH/cc-$v.err"; then
		fail "headers_$v" "the header printer does not build: $(head -n 3 "$SCRATCH/cc-$v.err")"
		continue
	fi
	if ! "$SCRATCH/headers-$v" >"$SCRATCH/headers-$v.txt"; then
		fail "headers_$v" "fields not computed: $(grep UNSET "$SCRATCH/headers-$v.txt" | tr '\n' ' ')"
		continue
	fi
	pass "headers_$v"
	"$DUMP" --table $v >"$SCRATCH/table-$v.txt" 2>&1
	if diff "$SCRATCH/headers-$v.txt" "$SCRATCH/table-$v.txt" >"$SCRATCH/diff"; then
		pass "table_$v"
	else
		fail "table_$v" "table differs from the headers (< headers, > table): $(grep '^[<>]' "$SCRATCH/diff" | tr '\n' ' ')"
	fi
	lib=$(libpython_of "$prefix" $v)
	if [ -z "$lib" ]; then
		skip "elf_$v" "no libpython$v.so.1.0 under $prefix (built without --enable-shared)"
		continue
	fi
	"$DUMP" --elf "$lib" >"$SCRATCH/elf-$v.txt" 2>"$SCRATCH/elf-$v.err"
	if diff "$SCRATCH/headers-$v.txt" "$SCRATCH/elf-$v.txt" >"$SCRATCH/diff"; then
		pass "elf_$v"
	else
		fail "elf_$v" "layout read from $lib differs from the headers: $(grep '^[<>]' "$SCRATCH/diff" | tr '\n' ' ') $(cat "$SCRATCH/elf-$v.err")"
	fi
	# where code objects are freed (the evaluator probe drops a freed object's
	# verdict there): by the symbol, and, in the same file stripped of its
	# local symbols, as PyCode_Type's tp_dealloc through its relocation
	freed_at() { sed -n "s/.*code objects freed at \(0x[0-9a-f]*\) (code_dealloc, $1).*/\1/p" "$2"; }
	by_symbol=$(freed_at "by its symbol" "$SCRATCH/elf-$v.err")
	if [ -z "$by_symbol" ] || [ "$by_symbol" = 0x0 ]; then
		fail "code_dealloc_$v" "not found by its symbol in $lib: $(cat "$SCRATCH/elf-$v.err")"
	elif ! objcopy --strip-all "$lib" "$SCRATCH/stripped.so" 2>"$SCRATCH/strip.err"; then
		fail "code_dealloc_without_symbols_$v" "objcopy: $(head -n 1 "$SCRATCH/strip.err")"
	else
		pass "code_dealloc_$v"
		"$DUMP" --elf "$SCRATCH/stripped.so" >/dev/null 2>"$SCRATCH/stripped.err"
		expect_eq "code_dealloc_without_symbols_$v" \
			"$(freed_at "as PyCode_Type's tp_dealloc" "$SCRATCH/stripped.err")" "$by_symbol"
	fi
	# a python binary that loads libpython: refused with a pointer to it
	if "$DUMP" --elf "$prefix/bin/python$v" >/dev/null 2>"$SCRATCH/bin.err"; then
		fail "binary_points_to_libpython_$v" "$prefix/bin/python$v accepted, but it has no evaluator"
	else
		check "binary_points_to_libpython_$v" grep -q "libpython3.*give that file" "$SCRATCH/bin.err"
	fi
done

# Older versions, when installed: one clear line, non-zero exit.
for v in 2.7 3.6 3.7; do
	prefix=$(prefix_of $v)
	lib=$([ -n "$prefix" ] && libpython_of "$prefix" $v)
	[ -n "$lib" ] || continue
	if "$DUMP" --elf "$lib" >/dev/null 2>"$SCRATCH/old.err"; then
		fail "refuses_$v" "$lib accepted"
	elif [ "$(wc -l <"$SCRATCH/old.err")" -eq 1 ] && grep -q "is CPython $v: not supported" "$SCRATCH/old.err"; then
		pass "refuses_$v"
	else
		fail "refuses_$v" "unexpected message: $(cat "$SCRATCH/old.err")"
	fi
done

# A distribution's build (PGO + LTO, static interpreter), when installed:
# same layout as the headers of the same minor version.
for py in /usr/bin/python3.11 /usr/bin/python3.12 /usr/bin/python3.13; do
	[ -x "$py" ] || continue
	v=${py##*python}
	[ -f "$SCRATCH/headers-$v.txt" ] || continue
	"$DUMP" --elf "$py" >"$SCRATCH/distro.txt" 2>"$SCRATCH/distro.err"
	if diff "$SCRATCH/headers-$v.txt" "$SCRATCH/distro.txt" >"$SCRATCH/diff"; then
		pass "distro_$v"
	else
		fail "distro_$v" "$py differs from $v's headers: $(grep '^[<>]' "$SCRATCH/diff" | tr '\n' ' ') $(cat "$SCRATCH/distro.err")"
	fi
done
