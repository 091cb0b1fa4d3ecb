#!/usr/bin/env bash
# The exercise's Flask app under a pre-fork server, as it runs in
# production: `gunicorn -w 3 app:app`, whose master forks the workers that
# serve every request. With -c on the master, and with -p on a master started
# before spanprobe (a worker killed then and restarted by gunicorn): one trace
# per request, foo -> goo, zoo, ERROR where the app printed the exception,
# each span's process one of the workers.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/python.sh"
scratch
PY=/usr/bin/python3.11
APP_DIR=$ROOT/examples/python
REQUESTS=30

python_prereqs || exit 0
# gunicorn comes from PyPI, into a venv of the interpreter under test (its
# Flask is Debian's), made once and kept outside the repository.
VENV=${SPANPROBE_PYENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/spanprobe-pyenvs}/debian-3.11
if [ ! -x "$VENV/bin/gunicorn" ]; then
	rm -rf "$VENV"
	if ! { "$PY" -m venv --system-site-packages "$VENV" &&
		"$VENV/bin/pip" install --quiet --disable-pip-version-check gunicorn; } >"$SCRATCH/pip.log" 2>&1; then
		fail gunicorn_installed "pip install gunicorn failed: $(tail -n 3 "$SCRATCH/pip.log")"
		exit 0
	fi
fi

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
wait_answers() { # PORT: until the server answers (hang guard 60 s)
	for ((i = 0; i < 1200; i++)); do
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

# --- -c on the master
port=$(free_port)
cd "$APP_DIR" || exit 1
PORT=$port TIME_SCALE=0.002 ANNOTATE=1 "$SPANPROBE" -o jsonl --output-file "$SCRATCH/c.jsonl" \
	-c "$VENV/bin/gunicorn -w 3 -b 127.0.0.1:$port app:app" "python:$PY:app.py:foo,goo,zoo" \
	>"$SCRATCH/c.app" 2>"$SCRATCH/c.err" &
tracer=$!
bg_track $tracer
if ! wait_answers $port; then
	fail "c_master.serves" "gunicorn did not answer: $(tail -n 3 "$SCRATCH/c.err")"
	exit 0
fi
master=$(pgrep -P $tracer -f gunicorn | head -n 1)
expect_eq "c_master.all_requests_answered" "$(requests $REQUESTS $port)" $REQUESTS
workers "$master" >"$SCRATCH/c_master.workers"
kill -TERM $tracer
wait $tracer
grep "req=" "$SCRATCH/c.app" >"$SCRATCH/c.reqs"
"$ROOT/tests/lib/check_demo_spans.sh" jsonl "$SCRATCH/c.jsonl" "$SCRATCH/c.reqs" $REQUESTS | report_checks "c_master"
check_workers c_master "$SCRATCH/c.jsonl"
check "c_master.requests_spread_over_workers" test "$(jq -r 'select(.name == "foo") | .attributes[]
	| select(.key == "process.pid") | .value.intValue' "$SCRATCH/c.jsonl" | sort -u | wc -l)" -ge 2

# --- -p on a master started before spanprobe; one worker killed and
# restarted by gunicorn while traced
port=$(free_port)
PORT=$port TIME_SCALE=0.002 ANNOTATE=1 "$VENV/bin/gunicorn" -w 3 -b 127.0.0.1:$port app:app \
	>"$SCRATCH/p.app" 2>"$SCRATCH/p.gunicorn" &
master=$!
bg_track $master
wait_answers $port || { fail "p_master.serves" "$(tail -n 3 "$SCRATCH/p.gunicorn")"; exit 0; }
"$SPANPROBE" -p $master -o jsonl --output-file "$SCRATCH/p.jsonl" "python:$PY:app.py:foo,goo,zoo" \
	2>"$SCRATCH/p.err" &
tracer=$!
bg_track $tracer
check "p_master.started" wait_for_line "$SCRATCH/p.err" "in a process and its descendants" 30
check "p_master.workers_found" grep -q "4 processes traced ($master and its descendants)" "$SCRATCH/p.err"
before=$(workers $master)
victim=${before%% *}
kill -KILL "$victim"
# gunicorn starts a new worker in the dead one's place
for ((i = 0; i < 600; i++)); do
	now=$(workers $master)
	[ "$(wc -w <<<"$now")" = 3 ] && [[ " $now " != *" $victim "* ]] && break
	sleep 0.05
done
echo "$now" >"$SCRATCH/p_master.workers"
restarted=$(comm -13 <(tr ' ' '\n' <<<"$before" | sort) <(tr ' ' '\n' <<<"$now" | sort) | head -n 1)
wait_answers $port
# requests until the new worker has served some (gunicorn's workers race for
# each connection), REQUESTS at least; 600 at most (a hang guard)
sent=0 ok=0
while [ $sent -lt 600 ]; do
	curl -sf --max-time 30 "http://127.0.0.1:$port/" -o /dev/null && ok=$((ok + 1))
	sent=$((sent + 1))
	[ $sent -ge $REQUESTS ] && grep -q "^tid=$restarted " "$SCRATCH/p.app" && break
done
expect_eq "p_master.all_requests_answered" "$ok" $sent
check "p_master.restarted_worker_served" grep -q "^tid=$restarted " "$SCRATCH/p.app"
kill -INT $tracer
wait $tracer
grep "req=" "$SCRATCH/p.app" >"$SCRATCH/p.reqs"
"$ROOT/tests/lib/check_demo_spans.sh" jsonl "$SCRATCH/p.jsonl" "$SCRATCH/p.reqs" $sent | report_checks "p_master"
check_workers p_master "$SCRATCH/p.jsonl"
check "p_master.restarted_worker_traced" grep -q "\"intValue\":\"$restarted\"" "$SCRATCH/p.jsonl"
check "p_master.restart_counted" grep -q "; 5 processes traced" "$SCRATCH/p.err"
kill -TERM $master
