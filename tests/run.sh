#!/usr/bin/env bash
# Runs every test: unit tests (normal and ASan+UBSan builds), integration tests
# (root, real BPF) and end-to-end tests (real Collector and Jaeger). Each test
# prints PASS/FAIL/SKIP lines; this script counts them and ends with
# "N passed, N failed". With CI=true a skipped test counts as failed.
# Usage: tests/run.sh [PATTERN]   (only tests whose file name matches)
set -uo pipefail
cd "$(dirname "$0")/.."
pattern=${1:-}
source scripts/progress.sh # a line every 30 s while a suite runs
log=$(mktemp /tmp/spanprobe-tests.XXXXXX)
times=$(mktemp /tmp/spanprobe-times.XXXXXX)
trap 'rm -f "$log" "$times"' EXIT

# A suite that runs past its limit hangs: it is stopped (its whole process
# group, spanprobe and workloads too) and is a FAIL naming it. The limit is a
# hang guard, many times a suite's usual time, stretched by HANG_SCALE.
SUITE_LIMIT=${SUITE_LIMIT:-1200}
HANG_SCALE=${HANG_SCALE:-1}

run() { # run [--limit SECONDS] LABEL COMMAND...
	local limit=$SUITE_LIMIT label rc
	[ "$1" = --limit ] && { limit=$2; shift 2; }
	label=$1
	shift
	[ -n "$pattern" ] && [[ $label != *$pattern* ]] && return 0
	echo "== $label"
	local started=$SECONDS
	limit=$((limit * HANG_SCALE))
	with_progress "in $label" timeout --kill-after=30 "$limit" "$@" 2>&1 | tee -a "$log" | sed 's/^/   /'
	rc=${PIPESTATUS[0]}
	# where a run's time goes, for keeping make test short (not a limit)
	echo "$((SECONDS - started)) s $label" >>"$times"
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL $label: hang guard: still running after $limit s (stopped; HANG_SCALE=$HANG_SCALE)" |
			tee -a "$log"
	elif [ "$rc" -ne 0 ] && ! grep -q "^FAIL " <(tail -n 50 "$log"); then
		echo "FAIL $label: exited $rc without reporting a failure" | tee -a "$log"
	fi
}

# A full run makes the later suites' prerequisites (peers, images, kernels...)
# in the background while the first suites run (scripts/prepare-tests.sh).
prepare_log=$(mktemp /tmp/spanprobe-prepare.XXXXXX)
prepare_pid=
if [ -z "$pattern" ]; then
	scripts/prepare-tests.sh >"$prepare_log" 2>&1 &
	prepare_pid=$!
fi
trap 'rm -f "$log" "$times" "$prepare_log"; [ -n "$prepare_pid" ] && kill "$prepare_pid" 2>/dev/null' EXIT

# ASan+UBSan: abort on the first report so no finding is a silent pass.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in build/tests/test_*; do
	[ -x "$t" ] && run "unit/$(basename "$t")" "$t"
done
for t in build/asan/tests/test_*; do
	[ -x "$t" ] && run "unit-asan/$(basename "$t")" "$t"
done
# Suites wait for the prerequisites scripts/prepare-tests.sh makes in the
# background; on a fresh machine those that need one made late (the
# manifest checker needs the peers' Go modules; the kube suites the
# kube-apiserver, made last) run after the others of their directory, so
# the builds overlap suites instead of holding them up (deploy_manifests
# waited 8 minutes at its place in the alphabet).
# in_order DIR LATE...: DIR's suites, those named LATE last.
in_order() {
	local dir=$1 t
	shift
	for t in "$dir"/*.sh; do
		[[ " $* " == *" $(basename "$t" .sh) "* ]] || echo "$t"
	done
	for t in "$@"; do echo "$dir/$t.sh"; done
}
for t in $(in_order tests/integration deploy_manifests) \
	$(in_order tests/e2e daemonset kube_identity kube_kubeconfig kube_pod_watch kube_rbac kube_relist kube_selection); do
	[ "$t" = tests/e2e/kube_node.sh ] && continue
	[ -f "$t" ] && run "${t#tests/}" bash "$t"
done
# The kernel matrix: the no-peer tests again on 6.1 and 6.12, under QEMU.
run --limit $((3 * SUITE_LIMIT)) kernels tests/kernels/run.sh
# The single-node cluster last: its parts are built beside the suites above
# (10 minutes of a fresh machine's CPU), and its pods, running, would be
# processes the other suites' system-wide tracing sees.
run e2e/kube_node.sh bash tests/e2e/kube_node.sh

if [ -n "$prepare_pid" ]; then
	wait "$prepare_pid" 2>/dev/null
	echo "Prerequisites made beside the suites:"
	sed 's/^/   /' "$prepare_log"
fi
echo "Slowest suites (of $SECONDS s in all):"
sort -rn "$times" | head -n 8 | sed 's/^/   /'
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	echo "CI=true: $skipped skipped tests count as failures:"
	grep '^SKIP ' "$log"
	failed=$((failed + skipped))
	skipped=0
fi
if [ "$failed" -gt 0 ]; then
	echo "Failures:"
	grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
