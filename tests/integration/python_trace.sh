#!/usr/bin/env bash
# Python from outside: the exercise's unmodified Flask app under -c, 100
# requests; its foo/goo/zoo spans checked against what the app printed (the
# same checks as the C demo-app's), goo's exceptions as ERROR. Debian's
# python3.11 has USDT probes: traced through its evaluator by default, and
# through the USDT probes with SPANPROBE_PYTHON_PATH=usdt; both runs.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/python.sh"
scratch
PY=/usr/bin/python3.11
APP=$ROOT/examples/python/app.py
REQUESTS=${PYTHON_TRACE_REQUESTS:-100} # the kernel matrix runs fewer

python_prereqs || exit 0

# trace_flask WAY PATH: one run, its checks named WAY.*; PATH the value of
# SPANPROBE_PYTHON_PATH and SAID what -v names the path.
trace_flask() {
	local way=$1 path=$2 said=$3 dir=$SCRATCH/$1 port up ok i rc events
	local TEST_NAME=$TEST_NAME.$way REQUESTS=$REQUESTS tracer
	mkdir -p "$dir"
	port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	PORT=$port SPANPROBE_PYTHON_PATH=$path TIME_SCALE=0.002 ANNOTATE=1 "$SPANPROBE" -v -o jsonl --output-file "$dir/spans.jsonl" \
		-c "$PY $APP" "python:$PY:app.py:foo,goo,zoo" >"$dir/app.out" 2>"$dir/err" &
	tracer=$!
	bg_track $tracer

	up=false
	for ((i = 0; i < 200 * HANG_SCALE; i++)); do # hang guard: 10 s
		curl -sf "http://127.0.0.1:$port/" -o /dev/null && { up=true; break; }
		kill -0 $tracer 2>/dev/null || break
		sleep 0.05
	done
	# The probe went to the app before it started: its first request is traced too.
	if ! $up; then
		fail app_answers "the app did not answer on port $port: $(tail -n 3 "$dir/err")"
		return
	fi
	ok=1
	for ((i = 1; i < REQUESTS; i++)); do
		curl -sf "http://127.0.0.1:$port/" -o /dev/null || ok=0
	done
	# The app raises one time in five, at random: a run with no error (or no
	# success) proves less, so more requests until it printed both (at most
	# 10x; the app flushes each line).
	for ((i = REQUESTS; i < 10 * REQUESTS; i++)); do
		grep -q 'Exception in goo' "$dir/app.out" && grep -q 'Goo function completed' "$dir/app.out" &&
			break
		curl -sf "http://127.0.0.1:$port/" -o /dev/null || ok=0
	done
	REQUESTS=$i
	expect_eq all_requests_answered_200 "$ok" 1

	kill -TERM $tracer
	wait_or_fail $tracer
	rc=$?
	expect_eq exit_status_is_the_apps_sigterm "$rc" 143
	check summary_line grep -q "$((3 * REQUESTS)) spans (.* errors, 0 truncated); lost 0" "$dir/err"
	report_checks flask tests/lib/check_demo_spans.sh jsonl "$dir/spans.jsonl" "$dir/app.out" $REQUESTS

	# Names and source locations come from the code objects.
	attr() { jq -r --arg k "$1" 'select(.name == "goo") | .attributes[] | select(.key == $k)
		| .value | (.stringValue // .intValue)' "$dir/spans.jsonl" | sort -u; }
	expect_eq goo.code_function_name "$(attr code.function.name)" goo
	expect_eq goo.code_file_path "$(attr code.file.path)" "$APP"
	expect_eq goo.code_line_number "$(attr code.line.number)" \
		"$(grep -n '^def goo' "$APP" | cut -d: -f1)"
	check goo_error_message_is_the_exception \
		grep -q '"message":"Exception: Error in goo: Simulated exception."' "$dir/spans.jsonl"
	# The semantic conventions' exception event on exactly the failed goo calls.
	events=$(jq -s -c '[.[] | select(.status.code == 2)] | {n: length, events: [.[] | .events[0].attributes
		| map({(.key): .value.stringValue}) | add] | unique}' "$dir/spans.jsonl")
	expect_eq goo_exception_event "$events" \
		"{\"n\":$(grep -c '^.*Exception in goo' "$dir/app.out"),\"events\":[{\"exception.type\":\"Exception\",\"exception.message\":\"Error in goo: Simulated exception.\"}]}"
	check path_said grep -q "$said.*$PY" "$dir/err"
}

trace_flask evaluator "" '\[evaluator\]'
trace_flask usdt usdt '\[USDT\]'
