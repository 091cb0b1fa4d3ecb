#!/usr/bin/env bash
# spanprobe's DaemonSet pod on a real container runtime (podman + runc): the
# pod rendered from deploy/ (its capabilities, hostPID, read-only root, mounts,
# the ConfigMap's file, the shipped seccomp profile), exporting to the real
# Collector and Jaeger in pods rendered from deploy/ too, tracing workload
# containers of the demo-app image built from deploy/docker/:
#   - three replicas of one image: one set of probes, exactly one span per call;
#   - a workload container restarted: the new process traced from its start;
#   - spanprobe stopped with the pod's grace period: flushes, exits 0, leaves no
#     BPF link behind; restarted: ready again;
#   - a second workload container started later;
#   - a container whose binary at the path is a different build;
#   - the exercise's Flask app in its image shaped like python:3.10 (CPython
#     without USDT: the evaluator probe), beside a second python3.10 container
#     of the same image: one set of probes, one span per call.
# Spans are checked against what each app printed (--annotate, ANNOTATE=1). With CI=true
# an unusable podman is a failure, not a skip.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/scripts/containers/podman-env.sh"
source "$ROOT/scripts/containers/pods.sh"
scratch

REQ=${CONTAINERS_REQUESTS:-8} # requests per workload container
PY_REQ=${CONTAINERS_PY_REQUESTS:-3} # requests to the Python app
APP_ARGS=(--interval 20 --time-scale 0.01 --annotate)
T=sptest-$$                   # prefix of every pod, container and image made here
POD_NETWORK=spanprobe-test
GATE_DIR=$SCRATCH/gate        # workloads exec demo-app once GATE exists
GATE=$GATE_DIR/open

not_usable() {
	if [ "${CI:-}" = true ]; then fail "$1" "${@:2}"; else skip "$1" "${@:2}"; fi
	exit 0
}
why=$(podman_usable) || not_usable podman_usable "$why"
mkdir -p "$GATE_DIR"
chmod 755 "$SCRATCH" "$GATE_DIR" # the workloads run as nobody
command -v bpftool >/dev/null || not_usable bpftool "bpftool is not installed"

cleanup_containers() {
	local c p
	for c in $(podman ps -a --format '{{.Names}}' | grep "^$T-"); do podman rm -f -t 5 "$c" >/dev/null 2>&1; done
	for p in $(podman pod ps --format '{{.Name}}' | grep "^$T-"); do podman pod rm -f -t 1 "$p" >/dev/null 2>&1; done
	podman rmi -f "localhost/$T/other-build" >/dev/null 2>&1
	cleanup_scratch
}
trap cleanup_containers EXIT

# --- images and peers ---------------------------------------------------
if ! scripts_out=$("$ROOT/scripts/container-images.sh" all peers 2>"$SCRATCH/images.err"); then
	fail images "$(tail -n 5 "$SCRATCH/images.err" | tr '\n' ' ')"
	exit 0
fi
pass images
eval "$(printf '%s\n' "$scripts_out" | grep -E '^(BASE|BASE_SLIM)=')"
# Another build of the same program: the Dockerfile with other compiler flags.
if (cd "$ROOT" && podman build --layers --pull=never --build-arg "DEBIAN_IMAGE=$BASE" \
	--build-arg "DEBIAN_SLIM_IMAGE=$BASE_SLIM" --build-arg "CFLAGS=-O0 -g -fno-omit-frame-pointer" \
	-f deploy/docker/demo-app.Dockerfile -t "localhost/$T/other-build" .) >"$SCRATCH/other.log" 2>&1; then
	pass other_build_image
else
	fail other_build_image "$(tail -n 5 "$SCRATCH/other.log" | tr '\n' ' ')"
	exit 0
fi
pods_deploy_check || { fail deploy_check "see above"; exit 0; }
pods_network "$POD_NETWORK" || { fail network "podman network $POD_NETWORK"; exit 0; }
P=$POD_SUBNET_PREFIX
# Addresses from the test's pid, so two runs at once don't collide.
base=$((130 + ($$ % 12) * 10)) # static: .128 and up
JAEGER_IP=$P$base COLLECTOR_IP=$P$((base + 1)) SPANPROBE_IP=$P$((base + 2))
SP_POD=$T-spanprobe
SP_CTR=$(pod_container "$SP_POD" spanprobe)

pod_render "$SCRATCH/jaeger.yaml" opentelemetry/jaeger --name "$T-jaeger" &&
	pod_render "$SCRATCH/collector.yaml" opentelemetry/otel-collector --name "$T-collector" \
		--host-alias "jaeger=$JAEGER_IP" &&
	pod_render "$SCRATCH/spanprobe.yaml" opentelemetry/spanprobe --name "$SP_POD" --node test-node \
		--host-alias "otel-collector.opentelemetry.svc.cluster.local=$COLLECTOR_IP" ||
	{ fail render "deploy-check pod failed"; exit 0; }
pod_play "$SCRATCH/jaeger.yaml" "$JAEGER_IP" 2>>"$SCRATCH/play.log" &&
	pod_play "$SCRATCH/collector.yaml" "$COLLECTOR_IP" 2>>"$SCRATCH/play.log" ||
	{ fail peers_play "$(grep -iv systemd "$SCRATCH/play.log" | tail -n 3)"; exit 0; }
JAEGER_QUERY=http://$JAEGER_IP:16686
for ((i = 0; i < 200; i++)); do
	curl -sf -o /dev/null "$JAEGER_QUERY/api/services" &&
		(exec 3<>"/dev/tcp/$COLLECTOR_IP/4317") 2>/dev/null && break
	sleep 0.1
done
check peers_ready curl -sf -o /dev/null "$JAEGER_QUERY/api/services"

# --- helpers --------------------------------------------------------------
# The workload as its Deployment runs it (non-root, read-only root, no
# capabilities), held at a gate so its host PID is known before it runs.
# workload NAME IMAGE SEED [REQUESTS]
workload() {
	local name=$T-$1 image=$2 seed=$3 n=${4:-$REQ}
	podman run -d --name "$name" --network "$POD_NETWORK" --user 65534 --read-only \
		--cap-drop ALL --security-opt no-new-privileges -v "$GATE_DIR:/gate:ro" \
		--entrypoint sh "$image" -c \
		"while [ ! -e /gate/open ]; do sleep 0.02; done; exec /usr/local/bin/demo-app --requests $n --seed $seed ${APP_ARGS[*]}" \
		>/dev/null
}
host_pid() { podman inspect -f '{{.State.Pid}}' "$T-$1"; }
# holder NAME IMAGE: a container of IMAGE that only sleeps: spanprobe finds
# the image's binary in its mount namespace (when it starts, or on its exec)
holder() {
	podman run -d --name "$T-$1" --network "$POD_NETWORK" --user 65534 --read-only --cap-drop ALL \
		--entrypoint sleep "$2" infinity >/dev/null
}
open_gate() { touch "$GATE"; }
close_gate() { rm -f "$GATE"; }
# finish NAME...: each workload exited 0; saves its output as $SCRATCH/NAME.app
finish() {
	local c rc
	for c in "$@"; do
		# hang guard at far more than the usual second
		rc=$(timeout 120 podman wait "$T-$c" || echo "hang guard: not exited in 120 s")
		expect_eq "$c.exit_status" "$rc" 0
		podman logs "$T-$c" >"$SCRATCH/$c.app" 2>&1
	done
}
# sp_link_ids PID: the uprobe_multi and uretprobe_multi links spanprobe (host PID)
# holds, from its fds
sp_link_ids() {
	grep -lE 'link_type:[[:space:]]*u(ret)?probe_multi' /proc/"$1"/fdinfo/* 2>/dev/null |
		xargs -r sed -n 's/^link_id:[[:space:]]*//p' | sort -n | tr '\n' ' '
}
sp_links() { local ids; ids=$(sp_link_ids "$1"); set -- $ids; echo $#; }
# leftover_links IDS...: how many of these links the kernel still has
leftover_links() {
	local id n=0
	for id in "$@"; do bpftool link show id "$id" >/dev/null 2>&1 && n=$((n + 1)); done
	echo $n
}
# wait_log CONTAINER PATTERN SECS: its log has a line matching
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		podman logs "$1" 2>&1 | grep -q -- "$2" && return 0
		sleep 0.1
	done
	return 1
}
sp_pid() { podman inspect -f '{{.State.Pid}}' "$SP_CTR"; }
sp_ready() {
	local i
	mapfile -t ready_cmd < <(pod_ready_cmd "$SCRATCH/spanprobe.yaml")
	for ((i = 0; i < 400; i++)); do # hang guard: 40 s, ready is ~1 s
		podman exec "$SP_CTR" "${ready_cmd[@]}" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# jaeger_of PID OUT [SERVICE]: the traces of process PID (its resource's process.pid)
jaeger_of() {
	curl -sf "$JAEGER_QUERY/api/traces?service=${3:-demo-app}&limit=10000&lookback=1h" |
		jq --argjson pid "$1" '{data: [.data[] | select(any(.processes[];
			any(.tags[]; .key == "process.pid" and .value == $pid)))]}' >"$2"
}
# check_workload NAME PID REQUESTS: that process's traces in Jaeger (waiting
# for all of them) match what it printed; tids mapped from its PID namespace
# to the host's, which the spans carry (one worker thread).
check_workload() {
	local name=$1 pid=$2 n=$3 i got host_tid
	for ((i = 0; i < 120; i++)); do # hang guard: 30 s, the collector batches for 1 s
		jaeger_of "$pid" "$SCRATCH/$name.json"
		got=$(jaeger_count "$SCRATCH/$name.json")
		[ "$got" = "$n $((3 * n))" ] && break
		sleep 0.25
	done
	sleep 1 # late duplicates would land now
	jaeger_of "$pid" "$SCRATCH/$name.json"
	expect_eq "$name.jaeger_traces_spans" "$(jaeger_count "$SCRATCH/$name.json")" "$n $((3 * n))"
	host_tid=$(jq -r '[.data[].spans[].tags[] | select(.key == "thread.id") | .value] | unique | .[0]' \
		"$SCRATCH/$name.json")
	sed -E "s/^tid=[0-9]+ /tid=$host_tid /" "$SCRATCH/$name.app" >"$SCRATCH/$name.host"
	report_checks "$name" "$ROOT/tests/lib/check_demo_spans.sh" jaeger "$SCRATCH/$name.json" "$SCRATCH/$name.host" "$n"
}

# --- spanprobe's pod, exactly as the DaemonSet's template -------------------
holder holder "$DEMO_APP_IMAGE"
# podman kube play 4.3 ignores hostPID: the pod's container runs with the
# `podman run` arguments deploy-check renders from the same template.
pod_run "$SPANPROBE_IP" "$SCRATCH/sp" opentelemetry/spanprobe --name "$SP_POD" --node test-node \
	--host-alias "otel-collector.opentelemetry.svc.cluster.local=$COLLECTOR_IP" 2>>"$SCRATCH/play.log" ||
	{ fail spanprobe_run "$(tail -n 3 "$SCRATCH/play.log")"; exit 0; }
if ! sp_ready; then
	fail spanprobe_ready "$(podman logs "$SP_CTR" 2>&1 | tail -n 5 | tr '\n' ' ')"
	exit 0
fi
pass spanprobe_ready
status=$(grep -E '^(CapEff|NoNewPrivs|Seccomp):' "/proc/$(sp_pid)/status" | tr -s '\t ' ' ' | tr '\n' ' ')
# BPF 39, PERFMON 38, SYS_PTRACE 19 (SYS_RESOURCE 24 too where the host can grant it)
check spanprobe_capabilities grep -Eq 'CapEff: 000000c00[01]080000' <<<"$status"
check spanprobe_seccomp_filter grep -q 'Seccomp: 2' <<<"$status"
check spanprobe_host_pid_namespace test "$(readlink "/proc/$(sp_pid)/ns/pid")" = "$(readlink /proc/self/ns/pid)"
# the shipped profile, not the runtime's: a call spanprobe never makes is refused
# (mkdir on its writable tmpfs: EPERM from the filter, not from the filesystem)
check spanprobe_seccomp_is_the_shipped_profile grep -q 'Operation not permitted' \
	<<<"$(podman exec "$SP_CTR" mkdir /run/spanprobe/x 2>&1)"
check spanprobe_no_new_privs grep -q 'NoNewPrivs: 1' <<<"$status"
check spanprobe_read_only_root grep -q 'Read-only file system' <<<"$(podman exec "$SP_CTR" touch /probe-write 2>&1)"
first_sp=$(sp_pid)

# --- three replicas of one image ---------------------------------------------
close_gate
for r in r1 r2 r3; do workload "$r" "$DEMO_APP_IMAGE" "${r#r}1"; done
declare -A pid
for r in r1 r2 r3; do pid[$r]=$(host_pid "$r"); done
open_gate
finish r1 r2 r3
for r in r1 r2 r3; do check_workload "$r" "${pid[$r]}" "$REQ"; done
expect_eq replicas.one_file_attached "$(podman logs "$SP_CTR" 2>&1 | grep -c '^spanprobe: tracing 3 functions')" 1
expect_eq replicas.two_links_for_one_file "$(sp_links "$first_sp")" 2
if [ "$(sp_links "$first_sp")" != 2 ]; then # say which links, and what spanprobe said
	for id in $(sp_link_ids "$first_sp"); do bpftool link show id "$id" 2>&1 | head -n 2 | tr '\n' ' '; echo; done
	podman logs "$SP_CTR" 2>&1 | grep '^spanprobe: ' | head -n 20
fi
first_links=$(sp_link_ids "$first_sp")

# --- a workload container restarted --------------------------------------------
# restarted_runs: the restarted container's output, "RUN ERRORS SUCCESSES" per
# run (a run starts where the request number falls back to 1)
restarted_runs() {
	podman logs "$T-restarted" 2>&1 | awk 'BEGIN { run = 0 }
		match($0, / req=[0-9]+ /) { r = substr($0, RSTART + 5, RLENGTH - 6) + 0
			if (r < last) run++; last = r }
		/Exception in goo/ { err[run]++ } /Goo function completed/ { ok[run]++ }
		END { for (i = 0; i <= run; i++) print i, err[i] + 0, ok[i] + 0 }'
}
# wait_run_mixed RUN: until run RUN has shown an error and a success, so that
# the spans of each run are checked against both (the requests are the app's,
# however slow the machine)
wait_run_mixed() {
	local i
	for ((i = 0; i < 30 * 10 * HANG_SCALE; i++)); do
		restarted_runs | awk -v r="$1" '$1 == r && $2 > 0 && $3 > 0 { f = 1 } END { exit !f }' && return 0
		sleep 0.1
	done
	return 1
}
close_gate
workload restarted "$DEMO_APP_IMAGE" 41 0 # runs until stopped
pid1=$(host_pid restarted)
open_gate
wait_run_mixed 0 || fail restarted.first_run_mixed "no error and success from the first run in $((30 * HANG_SCALE)) s"
podman restart -t 10 "$T-restarted" >/dev/null
pid2=$(host_pid restarted)
wait_run_mixed 1 || fail restarted.second_run_mixed "no error and success from the second run in $((30 * HANG_SCALE)) s"
podman stop -t 10 "$T-restarted" >/dev/null
podman logs "$T-restarted" >"$SCRATCH/restarted.all" 2>&1
check restarted.new_process test "$pid1" != "$pid2"
# The two runs' output: a run starts where the request number falls back to 1.
awk -v out1="$SCRATCH/restarted1.app" -v out2="$SCRATCH/restarted2.app" '
	match($0, / req=[0-9]+ /) { r = substr($0, RSTART + 5, RLENGTH - 6) + 0
		if (r < last) run++; last = r; print > (run ? out2 : out1) }' "$SCRATCH/restarted.all"
n1=$(grep -c 'Zoo function' "$SCRATCH/restarted1.app")
n2=$(grep -c 'Zoo function' "$SCRATCH/restarted2.app")
cp "$SCRATCH/restarted1.app" "$SCRATCH/restart_before.app"
cp "$SCRATCH/restarted2.app" "$SCRATCH/restart_after.app"
check_workload restart_before "$pid1" "$n1"
check_workload restart_after "$pid2" "$n2"

# --- spanprobe stopped with the grace period, restarted --------------------------
grace=$(sed -n 's/^ *terminationGracePeriodSeconds: *//p' "$SCRATCH/spanprobe.yaml")
podman stop -t "${grace:-40}" "$SP_CTR" >/dev/null
expect_eq spanprobe_stop.exit_status "$(podman inspect -f '{{.State.ExitCode}}' "$SP_CTR")" 0
podman logs "$SP_CTR" >"$SCRATCH/sp1.log" 2>&1
check spanprobe_stop.flushed_all grep -Eq 'OTLP exported [0-9]+, dropped 0' "$SCRATCH/sp1.log"
# shellcheck disable=SC2086
expect_eq spanprobe_stop.no_leftover_links "$(leftover_links $first_links)" 0
podman start "$SP_CTR" >/dev/null
if sp_ready; then pass spanprobe_restart.ready; else fail spanprobe_restart.ready "$(podman logs "$SP_CTR" 2>&1 | tail -n 3)"; fi
second_sp=$(sp_pid)
expect_eq spanprobe_restart.links "$(sp_links "$second_sp")" 2

# --- a second workload started later; a different build at the same path -----------
holder other-holder "localhost/$T/other-build" # spanprobe attaches the other file on its exec
check other_build.attached wait_log "$SP_CTR" "tracing /usr/local/bin/demo-app (/proc/.*/root/usr/local/bin/demo-app" 10
close_gate
workload later "$DEMO_APP_IMAGE" 51
workload other "localhost/$T/other-build" 61
later_pid=$(host_pid later) other_pid=$(host_pid other)
open_gate
finish later other
check_workload later "$later_pid" "$REQ"
check_workload other "$other_pid" "$REQ"
expect_eq other_build.four_links "$(sp_links "$second_sp")" 4

# --- the exercise's Python app (python:3.10 without USDT), two containers of one image ---
# The first python3.10 container (idle, as the Deployment's load container
# between requests) gets the probes; the app's container, started after,
# shows the same libpython through its own overlay: no second set.
podman run -d --name "$T-py-idle" --network "$POD_NETWORK" --user 65534 --read-only --cap-drop ALL \
	--security-opt no-new-privileges "$PYTHON_APP_IMAGE" python3.10 -c 'import time; time.sleep(1e6)' >/dev/null
idle_pid=$(host_pid py-idle)
check python.attached wait_log "$SP_CTR" "tracing python /usr/local/bin/python3.10 (/proc/$idle_pid/root/usr/local/lib/libpython3.10.so.1.0" 30
podman run -d --name "$T-py" --network "$POD_NETWORK" --user 65534 --read-only --cap-drop ALL \
	--security-opt no-new-privileges -e ANNOTATE=1 -e TIME_SCALE=0.01 -e PORT=8080 "$PYTHON_APP_IMAGE" >/dev/null
py_pid=$(host_pid py)
# It listens on 127.0.0.1 only (as the exercise wrote it): requests from its
# network namespace. Flask says when it listens (hang guard: 30 s, ~2 s here).
if wait_log "$T-py" "Running on http://127.0.0.1:8080" 30; then
	for ((i = 0; i < PY_REQ; i++)); do
		nsenter -t "$py_pid" -n curl -sf -o /dev/null http://127.0.0.1:8080/ || fail python.request "$i"
	done
else
	fail python.listening "$(podman logs "$T-py" 2>&1 | tail -n 3 | tr '\n' ' ')"
fi
podman logs "$T-py" 2>/dev/null >"$SCRATCH/py.app"
expect_eq python.requests_served "$(grep -c zoo_sleep_us= "$SCRATCH/py.app")" "$PY_REQ"
for ((i = 0; i < 120; i++)); do # hang guard: 30 s, the collector batches for 1 s
	jaeger_of "$py_pid" "$SCRATCH/py.json" python3.10
	[ "$(jaeger_count "$SCRATCH/py.json")" = "$PY_REQ $((3 * PY_REQ))" ] && break
	sleep 0.25
done
sleep 1 # late duplicates would land now
jaeger_of "$py_pid" "$SCRATCH/py.json" python3.10
expect_eq python.jaeger_traces_spans "$(jaeger_count "$SCRATCH/py.json")" "$PY_REQ $((3 * PY_REQ))"
# Each trace in start order: "ERR names-with-parents zoo_duration", against
# the app's requests in order: 1 where it printed the exception.
jq -r '[.data[] | (.spans | map({(.spanID): .operationName}) | add) as $name
	| {start: ([.spans[].startTime] | min),
	   shape: ([.spans[] | .operationName + "<" + ($name[(.references // [])[0].spanID // ""] // "")] | sort | join(",")),
	   err: ([.spans[] | select(any(.tags[]; .key == "error" and .value == true)) | .operationName]
		| if length == 0 then "-" else join(",") end),
	   zoo: ([.spans[] | select(.operationName == "zoo") | .duration][0])}]
	| sort_by(.start) | .[] | "\(.shape) \(.err) \(.zoo)"' "$SCRATCH/py.json" >"$SCRATCH/py.traces"
expect_eq python.foo_root_goo_zoo_under_it "$(cut -d' ' -f1 "$SCRATCH/py.traces" | sort -u)" "foo<,goo<foo,zoo<foo"
expect_eq python.error_on_goo_where_the_app_printed_it "$(awk '{print ($2 == "goo")}' "$SCRATCH/py.traces" | tr -d '\n')" \
	"$(awk '/Exception in goo/ {e = 1} /zoo_sleep_us=/ {printf "%d", e; e = 0}' "$SCRATCH/py.app")"
expect_eq python.zoo_lasts_at_least_its_sleep "$(paste -d' ' <(cut -d' ' -f3 "$SCRATCH/py.traces") \
	<(sed -n 's/.*zoo_sleep_us=\([0-9]*\).*/\1/p' "$SCRATCH/py.app") | awk '$1 < $2 {n++} END {print n + 0}')" 0
expect_eq python.one_set_of_probes "$(podman logs "$SP_CTR" 2>&1 | grep -c "tracing python /usr/local/bin/python3.10 (/proc/\($idle_pid\|$py_pid\)/")" 1
podman rm -f -t 0 "$T-py" "$T-py-idle" >/dev/null 2>&1
second_links=$(sp_link_ids "$second_sp") # the Python file's links too

podman stop -t "${grace:-40}" "$SP_CTR" >/dev/null
expect_eq spanprobe_final_stop.exit_status "$(podman inspect -f '{{.State.ExitCode}}' "$SP_CTR")" 0
# shellcheck disable=SC2086
expect_eq spanprobe_final_stop.no_leftover_links "$(leftover_links $second_links)" 0
