#!/usr/bin/env bash
# A kernel that refuses one BPF program: the feature it serves turns off
# alone, with one line naming the feature, what is lost, the program and the
# errno; everything else traces as before. SPANPROBE_TEST_REFUSE makes the
# kernel itself refuse the named programs (flags no kernel knows: EINVAL).
# A core program refused stops spanprobe with one line naming it.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/pyenvs.sh"
scratch
REQUESTS=${REFUSED_REQUESTS:-50} # the kernel matrix runs fewer
PYENV_PY=$(pyenv_prefix 3.10)/bin/python3.10
USDT_PY=/usr/bin/python3.11
LIBC=$(ldd "$DEMO" | sed -n 's/.*libc.so.6 => \([^ ]*\).*/\1/p')

# The loss each refused program names (user/tracer/object_load.c's table).
declare -A LOSS=(
	[span_exit_site]="functions that need them are not traced"
	[exception_hook]="without error status"
	[process_fork]="processes forked after the start are not traced"
	[thread_exit]="sent only when tracing stops"
	[process_exec]="calls open across an exec stay open"
	[open_calls_at_stop]="calls still running when tracing stops are not sent"
	[py_eval_entry]="Python without USDT probes is not traced"
	[py_eval_ret_insn]="Python without USDT probes is not traced"
	[py_eval_session]="untraced Python calls pay a return probe too"
	[py_code_dealloc]="every Python call also reads its code object's names"
	[py_entry]="Python with USDT probes is not traced"
	[py_return]="Python with USDT probes is not traced"
)

# one_refusal_line NAME PROG ERR: exactly one "off" line, naming PROG, its
# loss and the kernel's errno.
one_refusal_line() {
	local name=$1 prog=$2 err=$3 n
	n=$(grep -c "off: the kernel refused program $prog (Invalid argument" "$err")
	expect_eq "$name.one_line" "$n" 1
	check "$name.names_the_loss" grep -q "refused program $prog .*; .*${LOSS[$prog]}" "$err"
}

# The C demo under -c with one program refused: every span the app reports.
for prog in process_fork thread_exit process_exec open_calls_at_stop; do
	SPANPROBE_TEST_REFUSE=$prog "$SPANPROBE" -o jsonl --output-file "$SCRATCH/$prog.jsonl" \
		-c "$DEMO --requests $REQUESTS --threads 2 --seed 5 --time-scale 0.002 --annotate" \
		--error 'goo:ret<0' "uprobe:$DEMO:foo,goo,zoo" >"$SCRATCH/$prog.app" 2>"$SCRATCH/$prog.err"
	expect_eq "$prog.exit_status_is_the_commands" "$?" 0
	one_refusal_line "$prog" "$prog" "$SCRATCH/$prog.err"
	report_checks "$prog.spans" tests/lib/check_demo_spans.sh jsonl "$SCRATCH/$prog.jsonl" \
		"$SCRATCH/$prog.app" $((REQUESTS * 2))
done

# C++ through exceptions (returns seen at exit instructions, throws hooked):
# the program as untraced; without the hooks every call still one span, none
# ERROR; without the exit-site program its functions are not traced, said.
CPPX="$ROOT/build/fixtures/cpp-exceptions inside 8"
$CPPX >"$SCRATCH/cppx.plain"
cpp_case() { # cpp_case PROG
	SPANPROBE_TEST_REFUSE=$1 "$SPANPROBE" -o jsonl --output-file "$SCRATCH/$1.jsonl" -c "$CPPX" \
		"uprobe:${CPPX%% *}:descend,thrower" >"$SCRATCH/$1.out" 2>"$SCRATCH/$1.err"
	expect_eq "$1.exit_status_as_untraced" "$?" 0
	check "$1.stdout_as_untraced" cmp -s "$SCRATCH/cppx.plain" "$SCRATCH/$1.out"
	one_refusal_line "$1" "$1" "$SCRATCH/$1.err"
}
calls=$(sed -n 's/.*descend calls \([0-9]*\), thrower calls \([0-9]*\).*/\1 + \2/p' "$SCRATCH/cppx.plain")
cpp_case exception_hook
expect_eq exception_hook.one_span_per_call "$(jq -s length "$SCRATCH/exception_hook.jsonl")" "$((${calls:-0}))"
expect_eq exception_hook.no_error_status "$(jq -s '[.[] | select(.status.code == 2)] | length' \
	"$SCRATCH/exception_hook.jsonl")" 0
check exception_hook.calls_counted test "$((${calls:-0}))" -gt 0
cpp_case span_exit_site
expect_eq span_exit_site.not_traced "$(jq -s length "$SCRATCH/span_exit_site.jsonl")" 0
check span_exit_site.skip_named grep -q "whose program the kernel refused (descend" "$SCRATCH/span_exit_site.err"

# Python: with its path refused, the C functions the same process calls are
# traced still (os.getpid is libc's getpid), its Python functions not; the
# control run traces both. The script prints how many calls it made.
cat >"$SCRATCH/calls.py" <<'EOF'
import os
def work():
    return os.getpid()
n = 0
for _ in range(300):
    work()
    n += 1
print("calls", n, flush=True)
EOF
# python_case NAME PY REFUSE WANT [ENV...]: spans of work and getpid against
# the script's count; WANT: traced (Python spans = calls) or lost (none).
# The refusal line named is REFUSE's last program.
python_case() {
	local name=$1 py=$2 refuse=$3 want=$4 calls work getpid
	shift 4
	if [ ! -x "$py" ]; then
		skip "$name" "$py not installed (scripts/install-deps.sh test)"
		return
	fi
	env "$@" SPANPROBE_TEST_REFUSE="$refuse" "$SPANPROBE" -o jsonl --output-file "$SCRATCH/$name.jsonl" \
		-c "$py $SCRATCH/calls.py" "python:$py:calls.py:work" "uprobe:$LIBC:getpid" \
		>"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"
	expect_eq "$name.exit_status_is_the_commands" "$?" 0
	calls=$(sed -n 's/^calls \([0-9]*\)$/\1/p' "$SCRATCH/$name.out")
	check "$name.script_ran" test "${calls:-0}" -gt 0
	work=$(jq -r 'select(.name == "work") | .name' "$SCRATCH/$name.jsonl" | wc -l)
	getpid=$(jq -r 'select(.name == "getpid") | .name' "$SCRATCH/$name.jsonl" | wc -l)
	# getpid runs outside work too (the interpreter's start): at least one per call
	check "$name.c_function_traced" test "$getpid" -ge "${calls:-1}"
	[ -n "$refuse" ] && one_refusal_line "$name" "${refuse##*,}" "$SCRATCH/$name.err"
	if [ "$want" = lost ]; then
		expect_eq "$name.python_not_traced" "$work" 0
	else
		expect_eq "$name.python_traced" "$work" "${calls:-missing}"
	fi
}
# The evaluator's programs: a uprobe session where the kernel has them
# (6.13+), whose refusal falls back to return instructions; else the entry
# and return-instruction programs.
python_case eval_control "$PYENV_PY" "" traced
# code_dealloc's probe: without it each call's verdict is checked by names
python_case eval_code_dealloc "$PYENV_PY" py_code_dealloc traced
if [ -x "$PYENV_PY" ] && "$SPANPROBE" --dry-run "python:$PYENV_PY:calls.py:work" 2>&1 | grep -q '+ uprobe session'; then
	python_case eval_session "$PYENV_PY" py_eval_session traced
	python_case eval_entry "$PYENV_PY" py_eval_session,py_eval_entry lost
else
	python_case eval_entry "$PYENV_PY" py_eval_entry lost
	python_case eval_return "$PYENV_PY" py_eval_ret_insn lost
fi
# USDT (Debian's 3.11), which takes the evaluator path unless told otherwise
python_case usdt_control "$USDT_PY" "" traced SPANPROBE_PYTHON_PATH=usdt
python_case usdt_entry "$USDT_PY" py_entry lost SPANPROBE_PYTHON_PATH=usdt
python_case usdt_return "$USDT_PY" py_return lost SPANPROBE_PYTHON_PATH=usdt

# Core programs: one line naming the program and what it serves, exit 1.
for prog in span_enter span_exit; do
	SPANPROBE_TEST_REFUSE=$prog timeout $((30 * HANG_SCALE)) "$SPANPROBE" -c "$DEMO --requests 1" \
		"uprobe:$DEMO:foo" >/dev/null 2>"$SCRATCH/$prog.err"
	expect_eq "$prog.exit_status" "$?" 1
	check "$prog.names_program" grep -q "the kernel refused program $prog (function" "$SCRATCH/$prog.err"
	expect_eq "$prog.one_line" "$(grep -c '^spanprobe: ' "$SCRATCH/$prog.err")" 1
	check "$prog.not_a_privilege_message" bash -c "! grep -q 'run as root' '$SCRATCH/$prog.err'"
done
