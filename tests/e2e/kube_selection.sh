#!/usr/bin/env bash
# Choosing workloads by pod against a real kube-apiserver (no kubelet): pods
# created in the API, their processes in kubelet-named cgroups
# (kubepods/besteffort/pod<uid>/<container>), spanprobe run with the
# DaemonSet's ServiceAccount token (deploy/'s RBAC applied) and
# --namespace demo --pod-selector app=web.
# - Two pods' worth of processes run the same C binary and the same CPython
#   (pyenv's, no USDT: the evaluator path), one pod in namespace demo, one
#   in another namespace, with the same labels: spans come from demo's only,
#   exactly as many as its processes report making; the other's calls never
#   trap (the entry probe's hit count is the chosen process's calls alone,
#   and its code carries no breakpoint byte).
# - A label change in the API detaches (the breakpoint goes, the hit count
#   stops while the process goes on calling); a new matching pod's process
#   is attached; the summary and the metrics count processes and pods.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/kube.sh"
source "$ROOT/tests/lib/pyenvs.sh"
scratch
BURST=$ROOT/build/fixtures/burst
PYV=3.10
PY311=$(pyenv_prefix 3.11)/bin/python3.11 # 3.11+ without USDT: inlining turned off where traced
EVAL_FRAME=$ROOT/build/tools/cpython-eval-frame
CALLS=3000 # burst_call calls per burst process
PYCALLS=500 # f() calls per Python process
NODE=test-node

[ -x "$BURST" ] || { fail burst_built "$BURST missing (make fixtures)"; exit 0; }
PY=$(pyenv_prefix $PYV)/bin/python$PYV
# Without CPython 3.10 only its cases are skipped; the C selection runs.
if [ ! -x "$PY" ]; then
	skip py310 "CPython $PYV is not installed (pyenv install $PYV)"
	PY=
fi
kube_suite_start
kube_apply "$ROOT/deploy/base/namespaces.yaml" && kube_apply "$ROOT/deploy/base/spanprobe-rbac.yaml" ||
	{ fail rbac_applied "see above"; exit 1; }
token=$SCRATCH/sa.token
kube_token opentelemetry spanprobe 600 >"$token" && [ -s "$token" ] || { fail token "see above"; exit 1; }
kube_create_serviceaccount demo default && kube_create_namespace elsewhere ||
	{ fail namespaces "see above"; exit 1; }

# in_pod UID NAME OUT CMD...: CMD in container NAME's cgroup of pod UID, as
# the runtime starts it (moved there before its exec); its pid in POD_PID
in_pod() {
	local uid=$1 name=$2 out=$3 root dir
	shift 3
	root=$(_kube_cgroup_root) || return 1
	dir=$root/kubepods/besteffort/pod$uid/cri-containerd-$name-$(openssl rand -hex 8)
	mkdir -p "$dir" || return 1
	KUBE_CGROUPS="$dir $KUBE_CGROUPS"
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$dir" "$@" >"$out" 2>&1 &
	POD_PID=$!
	bg_track $POD_PID
}

offset_of() { # SPEC: the probed offset -l -v prints
	printf '%d' "$("$SPANPROBE" -l -v "$1" | sed -n 's/.* offset \(0x[0-9a-f]*\) .*/\1/p' | head -n 1)"
}
# spans_of NAME PID: how many NAME spans PID made (a line still being
# written is not one yet)
spans_of() {
	jq -nR --arg n "$1" --arg pid "$2" '[inputs | fromjson? | select(.name == $n and
		any(.attributes[]; .key == "process.pid" and .value.intValue == $pid))] | length' \
		"$SCRATCH/spans.jsonl"
}
# wait_spans NAME PID N: until PID made N NAME spans (hang guard 120 s;
# spans arrive as the ring buffer is read)
wait_spans() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[ "$(spans_of "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "hang guard: $(spans_of "$1" "$2") $1 spans of $2 after 120 s, want $3" >&2
	return 1
}
metric() { # NAME-AND-LABELS-PREFIX: its value from the metrics endpoint
	curl -s "http://$METRICS/metrics" | awk -v m="$1" 'index($0, m) == 1 { print $NF }'
}
# wait_for_value METRIC VALUE: until the metric has VALUE (hang guard 60 s;
# the kernel's counts are read as they are)
wait_for_value() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(metric "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "hang guard: $1 is $(metric "$1") after 60 s, want $2" >&2
	return 1
}

UID_A=$(kube_create_pod demo web-a $NODE '{"app":"web"}') || { fail pod_a "see above"; exit 1; }
UID_B=$(kube_create_pod elsewhere web-b $NODE '{"app":"web"}') || { fail pod_b "see above"; exit 1; }

# Both pods' processes wait for the ready file spanprobe makes once attached:
# every call they report is made with the probes in place.
GO=$SCRATCH/ready
# The C processes wait for one more file, made once their code is looked at.
GO_C=$SCRATCH/go-c
in_pod "$UID_A" app "$SCRATCH/burst-a.out" "$BURST" 1 $CALLS "$GO_C" && BURST_A=$POD_PID
in_pod "$UID_B" app "$SCRATCH/burst-b.out" "$BURST" 1 $CALLS "$GO_C" && BURST_B=$POD_PID
PY_A= PY_B=
if [ -n "$PY" ]; then
	in_pod "$UID_A" py "$SCRATCH/py-a.out" "$PY" "$ROOT/tests/fixtures/py_count_calls.py" "$GO" $PYCALLS &&
		PY_A=$POD_PID
	in_pod "$UID_B" py "$SCRATCH/py-b.out" "$PY" "$ROOT/tests/fixtures/py_count_calls.py" "$GO" $PYCALLS &&
		PY_B=$POD_PID
	wait_for_line "$SCRATCH/py-a.out" warm 120 && wait_for_line "$SCRATCH/py-b.out" warm 120 ||
		{ fail python_started "hang guard (120 s, usually 1 s): $(cat "$SCRATCH"/py-*.out)"; exit 1; }
fi
# started exactly as the two pods' processes, before spanprobe
for p in $BURST_A $BURST_B $PY_A $PY_B; do
	kill -0 "$p" 2>/dev/null || { fail workloads_started "process $p exited early"; exit 1; }
done
burst_off=$(offset_of "uprobe:$BURST:burst_call")
untraced_byte=$(od -An -tx1 -j "$burst_off" -N 1 "$BURST" | tr -d ' ')

# Python started while spanprobe runs, through a shell of the pod that is
# chosen first and then execs it: its probes are made for the new image.
# 3.11 (no USDT), so the chosen process also gets its inlining turned off,
# and the unchosen one keeps it.
PY311_SPEC=
if [ -x "$PY311" ] && [ -x "$EVAL_FRAME" ]; then
	cat >"$SCRATCH/py_gate.py" <<'PY'
import os, sys, time
def f():
    return 1
print("waiting", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
for _ in range(int(sys.argv[2])):
    f()
print("done", flush=True)
time.sleep(0.5)
PY
	PY311_SPEC=python:$PY311:py_gate.py:f
else
	skip py311 "CPython 3.11 (pyenv install 3.11) or $EVAL_FRAME (make fixtures) is missing"
fi

free_port mport || exit 1
METRICS=127.0.0.1:$mport
"$SPANPROBE" -v -o jsonl --output-file "$SCRATCH/spans.jsonl" --ready-file "$GO" --metrics-addr "$METRICS" \
	--node-name $NODE --kube-api "$KUBE_API" --kube-token-file "$token" --kube-ca-file "$KUBE_CA" \
	--namespace demo --pod-selector app=web \
	"uprobe:$BURST:burst_call" ${PY:+"python:$PY:py_count_calls.py:f"} "uprobe:$DEMO:foo" \
	${PY311_SPEC:+"$PY311_SPEC"} 2>"$SCRATCH/sp.err" &
sp=$!
bg_track $sp
# hang guard: attached in a few seconds here
check attached wait_for_line "$GO" . 120
check chosen_a_said_why grep -q "process $BURST_A chosen: .*pod demo/web-a selected (namespace demo, labels match 'app=web')" "$SCRATCH/sp.err"
check unchosen_b_said_why grep -q "process $BURST_B not chosen: .*pod elsewhere/web-b: namespace elsewhere not selected" "$SCRATCH/sp.err"
expect_eq breakpoint_in_chosen "$(code_byte $BURST_A "$BURST" $burst_off)" cc
expect_eq no_breakpoint_in_unchosen "$(code_byte $BURST_B "$BURST" $burst_off)" "$untraced_byte"
touch "$GO_C"

# the workloads' own counts (hang guard: a second's work here)
for f in burst-a burst-b; do wait_for_line "$SCRATCH/$f.out" "^calls " 120; done
made_a=$(sed -n 's/^calls //p' "$SCRATCH/burst-a.out")
made_b=$(sed -n 's/^calls //p' "$SCRATCH/burst-b.out")
expect_eq workloads_report_their_calls "$made_a $made_b" "$CALLS $CALLS"
check hits_are_the_chosen_calls_alone wait_for_value "spanprobe_probe_hits_total{function=\"burst_call\"" "$made_a"
wait_spans burst_call $BURST_A "$made_a"
expect_eq c_spans_from_chosen "$(spans_of burst_call $BURST_A)" "$made_a"
expect_eq c_no_spans_from_unchosen "$(spans_of burst_call $BURST_B)" 0
if [ -n "$PY" ]; then
	check chosen_py_a grep -q "process $PY_A chosen: .*pod demo/web-a selected" "$SCRATCH/sp.err"
	check unchosen_py_b grep -q "process $PY_B not chosen: .*pod elsewhere/web-b: namespace elsewhere not selected" "$SCRATCH/sp.err"
	for f in py-a py-b; do wait_for_line "$SCRATCH/$f.out" "^done" 120; done
	wait_spans f $PY_A $PYCALLS
	expect_eq python_spans_from_chosen "$(spans_of f $PY_A)" $PYCALLS
	expect_eq python_no_spans_from_unchosen "$(spans_of f $PY_B)" 0
fi
if [ -n "$PY311_SPEC" ]; then
	GO_PY=$SCRATCH/go-py
	in_pod "$UID_A" py311 "$SCRATCH/py311-a.out" sh -c 'sleep 0.2 && exec "$@"' sh \
		"$PY311" "$SCRATCH/py_gate.py" "$GO_PY" $PYCALLS && PY311_A=$POD_PID
	in_pod "$UID_B" py311 "$SCRATCH/py311-b.out" "$PY311" "$SCRATCH/py_gate.py" "$GO_PY" $PYCALLS &&
		PY311_B=$POD_PID
	check py311.exec_into_python_attached wait_for_line "$SCRATCH/sp.err" \
		"python: process $PY311_A (CPython 3.11.*inlining off" 120
	wait_for_line "$SCRATCH/py311-a.out" waiting 120 && wait_for_line "$SCRATCH/py311-b.out" waiting 120
	lib=$(libpython_of 3.11)
	read -r _ chosen_ef _ default_ef < <("$EVAL_FRAME" $PY311_A "$lib")
	read -r _ unchosen_ef _ < <("$EVAL_FRAME" $PY311_B "$lib")
	expect_eq py311.inlining_off_in_chosen "$chosen_ef" "$default_ef"
	expect_eq py311.inlining_untouched_in_unchosen "$unchosen_ef" 0x0
	touch "$GO_PY"
	wait_for_line "$SCRATCH/py311-a.out" done 120 && wait_for_line "$SCRATCH/py311-b.out" done 120
	wait_spans f $PY311_A $PYCALLS
	expect_eq py311.spans_from_chosen "$(spans_of f $PY311_A)" $PYCALLS
	expect_eq py311.no_spans_from_unchosen "$(spans_of f $PY311_B)" 0
	wait $PY311_A $PY311_B
fi
# Those processes ended: nothing is traced now.
check nothing_traced_once_they_end wait_for_value spanprobe_processes_traced 0

# A label change detaches: a long-running process of pod web-a, chosen as it
# starts, then web-a relabelled in the API while it goes on calling foo.
foo_off=$(offset_of "uprobe:$DEMO:foo")
foo_byte=$(od -An -tx1 -j "$foo_off" -N 1 "$DEMO" | tr -d ' ')
in_pod "$UID_A" web "$SCRATCH/app-a.out" "$DEMO" --requests 0 --interval 5 --seed 31 --time-scale 0.002 \
	--annotate && APP_A=$POD_PID
check started_process_chosen wait_for_line "$SCRATCH/sp.err" "process $APP_A chosen: .*pod demo/web-a" 60
wait_spans foo $APP_A 5
check counted_one_process wait_for_value spanprobe_processes_traced 1
check counted_one_pod wait_for_value spanprobe_pods_traced 1
kube_label_pod demo web-a app=off || fail relabel "see above"
check relabel_detaches wait_for_line "$SCRATCH/sp.err" "process $APP_A no longer chosen: .*labels do not match" 60
hits=$(metric 'spanprobe_probe_hits_total{function="foo"')
expect_eq relabelled_has_no_breakpoint "$(code_byte $APP_A "$DEMO" $foo_off)" "$foo_byte"
n=$(grep -c 'req=' "$SCRATCH/app-a.out")
wait_for_count "$SCRATCH/app-a.out" 'req=' $((n + 20)) 120
expect_eq relabelled_calls_not_hit "$(metric 'spanprobe_probe_hits_total{function="foo"')" "$hits"
expect_eq relabelled_not_counted "$(metric spanprobe_processes_traced)" 0

# Labelled back: the running process is chosen again from the pod's event.
kube_label_pod demo web-a app=web || fail relabel_back "see above"
check relabel_back_attaches wait_for_count "$SCRATCH/sp.err" "process $APP_A chosen: .*pod demo/web-a" 2 60
wait_spans foo $APP_A $(($(spans_of foo $APP_A) + 5))
expect_eq relabelled_back_has_the_breakpoint "$(code_byte $APP_A "$DEMO" $foo_off)" cc
# A new matching pod: its process is attached.
UID_C=$(kube_create_pod demo web-c $NODE '{"app":"web","tier":"b"}') || { fail pod_c "see above"; exit 1; }
in_pod "$UID_C" web "$SCRATCH/app-c.out" "$DEMO" --requests 0 --interval 5 --seed 32 --time-scale 0.002 \
	--annotate && APP_C=$POD_PID
check new_pod_attached wait_for_line "$SCRATCH/sp.err" "process $APP_C chosen: .*pod demo/web-c" 60
wait_spans foo $APP_C 5
check new_pod_spans test "$(spans_of foo $APP_C)" -ge 5
check counted_two_pods wait_for_value spanprobe_pods_traced 2
kill -INT $sp
wait_exit $sp 60 || fail exits "hang guard: spanprobe still runs 60 s after SIGINT"
expect_eq exit_status "$WAIT_STATUS" 0
# burst, python and demo-app of web-a (once, though chosen twice), demo-app of
# web-c; with 3.11, its shell, the shell's sleep (a child: chosen too)
procs=3
[ -n "$PY" ] && procs=4
[ -n "${PY311_A:-}" ] && procs=$((procs + 2))
check summary_counts grep -q "; $procs processes and 2 pods traced" "$SCRATCH/sp.err"
check no_api_errors bash -c "test -s '$SCRATCH/sp.err' && ! grep -q 'Kubernetes API' '$SCRATCH/sp.err'"

# Without a pod watch, a pod selection is one line naming the fix.
"$SPANPROBE" --namespace demo "uprobe:$DEMO:foo" 2>"$SCRATCH/nowatch.err"
check no_watch_refused test $? -ne 0 -a "$(wc -l <"$SCRATCH/nowatch.err")" -eq 1
check no_watch_says_fix grep -q -- "--namespace chooses pods from the Kubernetes API: give --kube-api" "$SCRATCH/nowatch.err"
"$SPANPROBE" --pod-selector 'app in (' "uprobe:$DEMO:foo" 2>"$SCRATCH/badsel.err"
check bad_selector_refused test $? -eq 64 -a "$(wc -l <"$SCRATCH/badsel.err")" -eq 1
exit 0
