#!/usr/bin/env bash
# The exercise's Flask app under a pre-fork server, as it runs in
# production: `gunicorn -w 3 app:app`, whose master forks the workers that
# serve every request. With -c on the master, and with -p on a master started
# before spanprobe (a worker killed then and restarted by gunicorn): one trace
# per request, foo -> goo, zoo, ERROR where the app printed the exception,
# each span's process one of the workers; with -p, from the first request
# sent once spanprobe says it is ready.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/python.sh"
source "$ROOT/tests/lib/pyenvs.sh"
scratch
APP_DIR=$ROOT/examples/python
REQUESTS=${GUNICORN_REQUESTS:-30}
PY=/usr/bin/python3.11
EVAL_FRAME=$ROOT/build/tools/cpython-eval-frame
python_prereqs || exit 0

# gunicorn comes from PyPI, into a venv of the interpreter under test, made
# once and kept outside the repository: Debian's 3.11 with its own Flask,
# and pyenv's 3.10 venv with Flask (tests/lib/pyenvs.sh).
# gunicorn_venv NAME PYTHON [VENV]: prints the venv's directory
gunicorn_venv() {
	local venv=${3:-$PYENVS_DIR/$1}
	(
		flock 9
		if [ ! -x "$venv/bin/gunicorn" ]; then
			[ -n "${3:-}" ] || { rm -rf "$venv" && "$2" -m venv --system-site-packages "$venv"; } &&
				"$venv/bin/pip" install --quiet --disable-pip-version-check gunicorn
		fi
	) 9>"$PYENVS_DIR/.lock" >"$SCRATCH/pip.log" 2>&1 || return 1
	echo "$venv"
}
mkdir -p "$PYENVS_DIR"

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# requests N PORT: N requests, one at a time; prints how many answered 200
requests() {
	local ok=0
	for ((i = 0; i < $1; i++)); do
		curl -sf --max-time 30 "http://127.0.0.1:$2/" -o /dev/null && ok=$((ok + 1))
	done
	echo $ok
}
# workers MASTER: the master's children (the workers), sorted
workers() { pgrep -P "$1" | sort -n | tr '\n' ' '; }
wait_workers() { # MASTER N: until the master has N workers (hang guard 60 s)
	local i
	for ((i = 0; i < 1200 * HANG_SCALE; i++)); do
		[ "$(workers "$1" | wc -w)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_answers() { # PORT: until the server answers (hang guard 60 s)
	local i
	for ((i = 0; i < 1200 * HANG_SCALE; i++)); do
		curl -sf --max-time 5 "http://127.0.0.1:$1/health-check-404" -o /dev/null
		[ $? -ne 7 ] && return 0 # anything but "connection refused"
		sleep 0.05
	done
	return 1
}
# check_workers NAME SPANS MASTER: every span's process is a worker
check_workers() {
	local pids ws
	pids=$(jq -r '.attributes[] | select(.key == "process.pid") | .value.intValue' "$2" | sort -u)
	ws=" $(cat "$SCRATCH/$1.workers") "
	for p in $pids; do
		[[ $ws == *" $p "* ]] || { fail "$1.spans_from_workers_only" "pid $p is no worker ($ws)"; return; }
	done
	pass "$1.spans_from_workers_only"
}

# run T PYTHON VENV: both cases under one interpreter (PYI, probed)
run() {
	local T=$1 PYI=$2 VENV=$3 port master tracer before now victim restarted sent ok i
	# --- -c on the master
	port=$(free_port)
	cd "$APP_DIR" || return
	PORT=$port TIME_SCALE=0.002 ANNOTATE=1 "$SPANPROBE" -o jsonl --output-file "$SCRATCH/$T.c.jsonl" \
		-c "$VENV/bin/gunicorn -w 3 -b 127.0.0.1:$port app:app" "python:$PYI:app.py:foo,goo,zoo" \
		>"$SCRATCH/$T.c.app" 2>"$SCRATCH/$T.c.err" &
	tracer=$!
	bg_track $tracer
	if ! wait_answers $port; then
		fail "$T.c_master.serves" "gunicorn did not answer: $(tail -n 3 "$SCRATCH/$T.c.err")"
		return
	fi
	master=$(pgrep -P $tracer -f gunicorn | head -n 1)
	expect_eq "$T.c_master.all_requests_answered" "$(requests $REQUESTS $port)" $REQUESTS
	workers "$master" >"$SCRATCH/$T.c_master.workers"
	kill -TERM $tracer
	wait_or_fail $tracer
	grep "req=" "$SCRATCH/$T.c.app" >"$SCRATCH/$T.c.reqs"
	report_checks "$T.c_master" "$ROOT/tests/lib/check_demo_spans.sh" jsonl "$SCRATCH/$T.c.jsonl" "$SCRATCH/$T.c.reqs" $REQUESTS
	check_workers $T.c_master "$SCRATCH/$T.c.jsonl"
	check "$T.c_master.requests_spread_over_workers" test "$(jq -r 'select(.name == "foo") | .attributes[]
		| select(.key == "process.pid") | .value.intValue' "$SCRATCH/$T.c.jsonl" | sort -u | wc -l)" -ge 2

	# --- -p on a master started before spanprobe; one worker killed and
	# restarted by gunicorn while traced
	port=$(free_port)
	PORT=$port TIME_SCALE=0.002 ANNOTATE=1 "$VENV/bin/gunicorn" -w 3 -b 127.0.0.1:$port app:app \
		>"$SCRATCH/$T.p.app" 2>"$SCRATCH/$T.p.gunicorn" &
	master=$!
	bg_track $master
	wait_answers $port || { fail "$T.p_master.serves" "$(tail -n 3 "$SCRATCH/$T.p.gunicorn")"; return; }
	# gunicorn answers once its first worker is up; the checks below count
	# all three as spanprobe's start finds them
	wait_workers $master 3 || { fail "$T.p_master.workers_started" "workers: $(workers $master)"; return; }
	"$SPANPROBE" -p $master -o jsonl --output-file "$SCRATCH/$T.p.jsonl" --ready-file "$SCRATCH/$T.p.ready" \
		"python:$PYI:app.py:foo,goo,zoo" 2>"$SCRATCH/$T.p.err" &
	tracer=$!
	bg_track $tracer
	check "$T.p_master.ready" wait_for_line "$SCRATCH/$T.p.ready" "" 30
	if [ "$INLINES" = 1 ]; then # 3.11+: inlining already off in every worker
		local w out n=0 off=0
		for w in $(workers $master); do
			n=$((n + 1))
			out=$("$EVAL_FRAME" "$w" "$PYI" 2>&1)
			[[ $out =~ ^eval_frame\ (0x[0-9a-f]+)\ default\ (0x[0-9a-f]+) ]] &&
				[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && off=$((off + 1))
		done
		expect_eq "$T.p_master.inlining_off_in_each_worker_when_ready" "$off of $n" "3 of 3"
	fi
	# the moment it says it is ready, every worker's calls are seen: on
	# 3.11+ inlining is off in each before then, not at its first report
	sent=0 ok=0
	for ((i = 0; i < 6; i++)); do
		curl -sf --max-time 30 "http://127.0.0.1:$port/" -o /dev/null && ok=$((ok + 1))
		sent=$((sent + 1))
	done
	check "$T.p_master.started" wait_for_line "$SCRATCH/$T.p.err" "in a process and its descendants" 30
	check "$T.p_master.workers_found" grep -q "4 processes traced ($master and its descendants)" "$SCRATCH/$T.p.err"
	before=$(workers $master)
	victim=${before%% *}
	kill -KILL "$victim"
	# gunicorn starts a new worker in the dead one's place
	for ((i = 0; i < 600; i++)); do
		now=$(workers $master)
		[ "$(wc -w <<<"$now")" = 3 ] && [[ " $now " != *" $victim "* ]] && break
		sleep 0.05
	done
	echo "$before $now" >"$SCRATCH/$T.p_master.workers" # the victim served the first requests
	restarted=$(comm -13 <(tr ' ' '\n' <<<"$before" | sort) <(tr ' ' '\n' <<<"$now" | sort) | head -n 1)
	wait_answers $port
	# requests until the new worker has served some (gunicorn's workers race for
	# each connection), REQUESTS at least; 600 at most (a hang guard)
	while [ $sent -lt 600 ]; do
		curl -sf --max-time 30 "http://127.0.0.1:$port/" -o /dev/null && ok=$((ok + 1))
		sent=$((sent + 1))
		[ $sent -ge $REQUESTS ] && grep -q "^tid=$restarted " "$SCRATCH/$T.p.app" && break
	done
	expect_eq "$T.p_master.all_requests_answered" "$ok" $sent
	check "$T.p_master.restarted_worker_served" grep -q "^tid=$restarted " "$SCRATCH/$T.p.app"
	kill -INT $tracer
	wait_or_fail $tracer
	grep "req=" "$SCRATCH/$T.p.app" >"$SCRATCH/$T.p.reqs"
	report_checks "$T.p_master" "$ROOT/tests/lib/check_demo_spans.sh" jsonl "$SCRATCH/$T.p.jsonl" "$SCRATCH/$T.p.reqs" $sent
	check_workers $T.p_master "$SCRATCH/$T.p.jsonl"
	check "$T.p_master.restarted_worker_traced" grep -q "\"intValue\":\"$restarted\"" "$SCRATCH/$T.p.jsonl"
	check "$T.p_master.restart_counted" grep -q "; 5 processes traced" "$SCRATCH/$T.p.err"
	kill -TERM $master
}

if venv=$(gunicorn_venv debian-3.11 "$PY"); then
	INLINES=1 run usdt-3.11 "$PY" "$venv"
else
	fail usdt-3.11.gunicorn_installed "pip install gunicorn failed: $(tail -n 3 "$SCRATCH/pip.log")"
fi
if flask_venv=$(pyenv_flask_venv 3.10) && venv=$(gunicorn_venv 3.10 "" "$flask_venv"); then
	INLINES=0 run evaluator-3.10 "$(pyenv_prefix 3.10)/bin/python3.10" "$venv"
else
	fail evaluator-3.10.gunicorn_installed "pyenv 3.10 with Flask and gunicorn: $(tail -n 3 "$SCRATCH/pip.log")"
fi
