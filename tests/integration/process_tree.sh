#!/usr/bin/env bash
# -c and -p follow the process tree: a shell wrapper's child, a -p process's
# children (those it had and those it starts), a pre-fork server's workers
# (gunicorn, a restarted worker included). --no-follow keeps one process;
# an unrelated process running the same binary is never traced.
source "$(dirname "$0")/../lib/common.sh"
scratch
P="uprobe:$DEMO:foo,goo,zoo"
# pids_in FILE: the process.pid of every foo span, sorted, unique
pids_in() {
	jq -r 'select(.name == "foo") | .attributes[] | select(.key == "process.pid") | .value.intValue' "$1" |
		sort -u | tr '\n' ' '
}

# --- a shell wrapper: the app it runs is traced, every call
"$SPANPROBE" -o jsonl --output-file "$SCRATCH/wrap.jsonl" --error 'goo:ret<0' \
	-c "sh -c '$DEMO --requests 20 --seed 11 --time-scale 0.002 --annotate; true'" "$P" \
	>"$SCRATCH/wrap.app" 2>"$SCRATCH/wrap.err"
expect_eq "shell_wrapper.exit_status" "$?" 0
report_checks "shell_wrapper" tests/lib/check_demo_spans.sh jsonl "$SCRATCH/wrap.jsonl" "$SCRATCH/wrap.app" 20
check "shell_wrapper.processes_counted" grep -q "; 2 processes traced" "$SCRATCH/wrap.err"

# --- --no-follow: the shell alone, which runs none of the probed code
"$SPANPROBE" --no-follow -o jsonl --output-file "$SCRATCH/nofollow.jsonl" \
	-c "sh -c '$DEMO --requests 5 --seed 12 --time-scale 0; true'" "$P" >/dev/null 2>"$SCRATCH/nofollow.err"
expect_eq "no_follow.no_spans" "$(summary_spans "$SCRATCH/nofollow.err")" 0
expect_eq "no_follow.the_calls_happened_untraced" \
	"$(sed -n 's/^spanprobe: hits per function: //p' "$SCRATCH/nofollow.err")" "foo 0, goo 0, zoo 0"

# --- -p on a parent that already has a child and starts more; an unrelated
# demo-app runs beside it all along and is never traced
"$DEMO" --requests 0 --interval 5 --seed 13 --time-scale 0.002 >/dev/null &
unrelated=$!
bg_track $unrelated
mkfifo "$SCRATCH/go"
# the parent: one child now, then (when told) two more, one after the other
sh -c "'$DEMO' --requests 0 --interval 5 --seed 14 --time-scale 0.002 --annotate >'$SCRATCH/first.app' &
       read x <'$SCRATCH/go'
       '$DEMO' --requests 15 --seed 15 --time-scale 0.002 --annotate >'$SCRATCH/second.app'
       '$DEMO' --requests 15 --seed 16 --time-scale 0.002 --annotate >'$SCRATCH/third.app'
       kill \$! ; wait" &
parent=$!
bg_track $parent
wait_for_line "$SCRATCH/first.app" "req=" 10
first=$(pgrep -P $parent -f "seed 14")
"$SPANPROBE" -p $parent -o jsonl --output-file "$SCRATCH/tree.jsonl" --error 'goo:ret<0' "$P" \
	2>"$SCRATCH/tree.err" &
tracer=$!
bg_track $tracer
check "pid_tree.started" wait_for_line "$SCRATCH/tree.err" "tracing 3 functions in a process and its descendants" 30
check "pid_tree.existing_child_counted" grep -q "2 processes traced ($parent and its descendants)" "$SCRATCH/tree.err"
echo go >"$SCRATCH/go"
# the parent ends once both later children have run (hang guard: 60 s)
wait_exit $parent 60 || fail "pid_tree.parent_ends" "hang guard: the parent still runs after 60 s"
wait_exit $tracer 60 || { fail "pid_tree.spanprobe_exits_with_the_parent" "still running 60 s later"; kill -INT $tracer; }
grep "req=" "$SCRATCH/second.app" "$SCRATCH/third.app" -h >"$SCRATCH/later.app"
jq -c --arg a "$first" 'select(all(.attributes[]; .key != "process.pid" or .value.intValue != $a))' \
	"$SCRATCH/tree.jsonl" >"$SCRATCH/later.jsonl"
report_checks "pid_tree.started_later" tests/lib/check_demo_spans.sh jsonl "$SCRATCH/later.jsonl" "$SCRATCH/later.app" 30
check "pid_tree.existing_child_traced" grep -q "\"intValue\":\"$first\"" "$SCRATCH/tree.jsonl"
check "pid_tree.unrelated_never_traced" test -z "$(grep "\"intValue\":\"$unrelated\"" "$SCRATCH/tree.jsonl")"
check "pid_tree.processes_counted" grep -q "; 4 processes traced" "$SCRATCH/tree.err"
kill $unrelated 2>/dev/null
