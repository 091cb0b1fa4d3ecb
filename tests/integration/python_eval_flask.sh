#!/usr/bin/env bash
# python: probes on CPython without USDT (the evaluator path): the
# exercise's unmodified Flask app under each pyenv CPython 3.8-3.13, with -c
# and with -p; one trace per request with foo -> goo, zoo, ERROR exactly on
# the requests where the app printed the exception, zoo covering its sleep
# (tests/lib/check_demo_spans.sh, against what the app printed); -c exits
# with the app's status. 3.11+: inlining is off in the traced app while
# spanprobe runs (eval_frame read from outside) and back on after it
# detached, the app still serving.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/pyenvs.sh"
scratch
APP=$ROOT/examples/python/app.py
EVAL_FRAME=$ROOT/build/tools/cpython-eval-frame
REQUESTS=${REQUESTS:-40}

[ -x "$EVAL_FRAME" ] || { fail all "$EVAL_FRAME not built (make fixtures)"; exit 0; }

# answers PORT PID: the app answers (hang guard 20 s; it starts in ~1 s)
answers() {
	local i
	for ((i = 0; i < 400; i++)); do
		curl -sf "http://127.0.0.1:$1/" -o /dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# load PORT N: N requests, one after the other (the app's lines stay whole)
load() {
	local i ok=0
	for ((i = 0; i < $2; i++)); do curl -sf "http://127.0.0.1:$1/" -o /dev/null && ok=$((ok + 1)); done
	echo "$ok"
}

for v in $PY_VERSIONS; do
	if ! venv=$(pyenv_flask_venv "$v" 2>"$SCRATCH/venv.err"); then
		skip "py$v" "$(tail -n 1 "$SCRATCH/venv.err")"
		continue
	fi
	py=$venv/bin/python
	lib=$(libpython_of "$v")
	d=$SCRATCH/$v
	mkdir -p "$d"

	# -c: the app started under the probe; its first request is traced too
	free_port port
	PORT=$port TIME_SCALE=0.002 ANNOTATE=1 "$SPANPROBE" -v -o jsonl --output-file "$d/c.jsonl" \
		-c "$py $APP" "python:$py:app.py:foo,goo,zoo" >"$d/c.out" 2>"$d/c.err" &
	tracer=$!
	bg_track $tracer
	if ! answers "$port" $tracer; then
		fail "py$v.c.app_answers" "$(tail -n 3 "$d/c.err")"
		continue
	fi
	check "py$v.c.evaluator_path_said" grep -q "\[evaluator\].*libpython$v" "$d/c.err"
	expect_eq "py$v.c.requests_answered" "$(load "$port" $((REQUESTS - 1)))" $((REQUESTS - 1))
	kill -TERM $tracer
	wait_or_fail $tracer
	expect_eq "py$v.c.exit_status_is_the_apps_sigterm" $? 143
	grep '^tid=' "$d/c.out" >"$d/c.app" || true
	report_checks "py$v.c" "$ROOT/tests/lib/check_demo_spans.sh" jsonl "$d/c.jsonl" "$d/c.app" "$REQUESTS"

	# -p: attached to the running app, then detached while it keeps serving
	free_port port
	PORT=$port TIME_SCALE=0.002 ANNOTATE=1 "$py" "$APP" >"$d/p.out" 2>"$d/p.app.err" &
	app=$!
	bg_track $app
	if ! answers "$port" $app; then
		fail "py$v.p.app_answers" "$(tail -n 3 "$d/p.app.err")"
		continue
	fi
	# A process of the same interpreter beside it, not traced: never written to
	"$py" -c 'import time; time.sleep(3600)' &
	bystander=$!
	bg_track $bystander
	"$SPANPROBE" -v -p $app -o jsonl --output-file "$d/p.jsonl" --ready-file "$d/ready" \
		"python:$py:app.py:foo,goo,zoo" 2>"$d/p.err" &
	tracer=$!
	bg_track $tracer
	if ! wait_for_line "$d/ready" . 20; then
		fail "py$v.p.attached" "no ready file (hang guard 20 s): $(tail -n 3 "$d/p.err")"
		continue
	fi
	skip_lines=$(wc -l <"$d/p.out")
	if [ "${v#3.}" -ge 11 ]; then
		read -r _ during _ default < <("$EVAL_FRAME" $app "$lib")
		expect_eq "py$v.p.inlining_off_while_traced" "$during" "$default"
		read -r _ other _ < <("$EVAL_FRAME" $bystander "$lib")
		expect_eq "py$v.p.untraced_process_untouched" "$other" 0x0
	fi
	expect_eq "py$v.p.requests_answered" "$(load "$port" "$REQUESTS")" "$REQUESTS"
	kill -TERM $tracer
	wait_or_fail $tracer
	expect_eq "py$v.p.tracer_exit_status" $? 0
	tail -n +$((skip_lines + 1)) "$d/p.out" | grep '^tid=' >"$d/p.app" || true
	report_checks "py$v.p" "$ROOT/tests/lib/check_demo_spans.sh" jsonl "$d/p.jsonl" "$d/p.app" "$REQUESTS"
	if [ "${v#3.}" -ge 11 ]; then
		read -r _ after _ < <("$EVAL_FRAME" $app "$lib")
		expect_eq "py$v.p.inlining_restored_after_detach" "$after" 0x0
		check "py$v.p.restore_reported" grep -q "inlining turned off in 1 interpreter, restored in 1" "$d/p.err"
	fi
	check "py$v.p.app_serves_after_detach" curl -sf "http://127.0.0.1:$port/" -o /dev/null
	kill -TERM $app $bystander
	wait $app $bystander 2>/dev/null
done
exit 0 # the last wait returns the killed process's status, not a result
