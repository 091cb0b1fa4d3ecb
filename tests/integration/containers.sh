#!/usr/bin/env bash
# Container paths for real: demo-app run in its own mount and PID namespaces,
# its binary at a path that exists only inside them, traced from the host by
# that in-container path. A second "container" started later is picked up.
source "$(dirname "$0")/../lib/common.sh"
scratch
CTR_DIR=$SCRATCH/ctr # empty on the host; each container mounts its own tmpfs here
mkdir -p "$CTR_DIR"
IN_PATH=$CTR_DIR/demo-app

# start_container NAME SEED: the binary is copied into a tmpfs only that
# mount namespace sees; exec'd as PID 1 of a new PID namespace.
start_container() {
	unshare --mount --pid --fork --kill-child --propagation private sh -c \
		"mount -t tmpfs tmpfs '$CTR_DIR' && cp '$DEMO' '$IN_PATH' &&
		 exec '$IN_PATH' --requests 0 --interval 20 --seed $2 --time-scale 0.002 --annotate" \
		>"$SCRATCH/$1.app" 2>&1 &
	bg_track $!
}
# host_pid_of SEED: the host PID of the container's demo-app
host_pid_of() { pgrep -f "^$IN_PATH .*--seed $1 " | head -n 1; }
# wait_started SEED: until it runs, then have it stopped at exit (unshare
# itself ignores SIGTERM while it waits for its child)
wait_started() {
	for _ in $(seq 100); do [ -n "$(host_pid_of "$1")" ] && break; sleep 0.05; done
	bg_track "$(host_pid_of "$1")"
}

start_container first 101
wait_started 101
check "path_exists_only_inside" test ! -e "$IN_PATH"

"$SPANPROBE" -o jsonl --output-file "$SCRATCH/spans.jsonl" --error 'goo:ret<0' \
	"uprobe:$IN_PATH:foo,goo,zoo" 2>"$SCRATCH/sp.err" &
tracer=$!
bg_track $tracer
check "found_in_running_container" wait_for_line "$SCRATCH/sp.err" "tracing 3 functions" 10
wait_for_count "$SCRATCH/spans.jsonl" '"name":"foo"' 10

start_container second 202
wait_started 202
check "second_container_picked_up" wait_for_line "$SCRATCH/sp.err" "tracing $IN_PATH (/proc/.*/root$IN_PATH" 5
first_pid=$(host_pid_of 101)
second_pid=$(host_pid_of 202)
# until each container has ten traced requests
for pid in "$first_pid" "$second_pid"; do
	wait_for_count "$SCRATCH/spans.jsonl" "\"name\":\"foo\".*\"process.pid\",\"value\":{\"intValue\":\"$pid\"}" 10
done
kill -INT $tracer
wait_or_fail $tracer
expect_eq "exit_status" "$?" 0
# the two containers' files are distinct (own tmpfs): two attachments, not one
check "two_files_traced" test "$(grep -c "^spanprobe: tracing $IN_PATH" "$SCRATCH/sp.err")" -eq 1

pids=$(jq -r 'select(.name == "foo") | .attributes[] | select(.key == "process.pid") | .value.intValue' \
	"$SCRATCH/spans.jsonl" | sort -u | tr '\n' ' ')
want=$(printf '%s\n' "$first_pid" "$second_pid" | sort -u | tr '\n' ' ')
expect_eq "spans_carry_host_pids_of_both" "$pids" "$want"
check "host_pids_not_namespace_pids" test "$first_pid" != 1 -a "$second_pid" != 1

# Per container: complete foo traces nest right and errors sit on goo only.
for seed_pid in "first:$first_pid" "second:$second_pid"; do
	name=${seed_pid%%:*} pid=${seed_pid#*:}
	summary=$(jq -s -c --arg pid "$pid" '
		map(select(any(.attributes[]; .key == "process.pid" and .value.intValue == $pid))) as $mine
		| ($mine | map(select(.name == "foo" and .parentSpanId == ""))) as $all
		# the first foo may begin while the probes go in, the last one end
		# while they come out (one function probed, its callee not yet or
		# no longer): the ones between are whole
		| ($all | sort_by(.startTimeUnixNano | tonumber) | .[1:-1]) as $foos
		| {foos: ($foos | length),
		   nested: all($foos[]; .spanId as $id | .traceId as $t
			| ([$mine[] | select(.parentSpanId == $id and .traceId == $t) | .name] | sort) == ["goo", "zoo"]),
		   errors_on_goo_only: all($mine[] | select(.status.code == 2); .name == "goo"),
		   goo_errors: ([$mine[] | select(.status.code == 2)] | length)}' "$SCRATCH/spans.jsonl")
	check "$name.traced_requests" jq -e '.foos >= 8' <<<"$summary"
	check "$name.foo_has_goo_and_zoo" jq -e '.nested' <<<"$summary"
	check "$name.errors_only_on_goo" jq -e '.errors_on_goo_only and .goo_errors > 0' <<<"$summary"
done
