#!/usr/bin/env bash
# libFuzzer (with ASan+UBSan) on the parsers that take outside input: probe
# specs and error rules, config lines, ELF/DWARF files, OTLP responses,
# Kubernetes label selectors, cgroup files and pod objects
# (tests/fuzz/). For each target, first every input in
# tests/fuzz/regressions/TARGET/ (each once crashed it) and the seed corpus
# are replayed, then it fuzzes for FUZZ_SECONDS (default 20; 60 or more by
# hand), as many targets at once as there are CPUs. New corpus entries stay
# in a scratch directory; a crashing input is kept under build/fuzz/findings/
# to be fixed and added to regressions/.
#   FUZZ_SECONDS=60 tests/integration/fuzz.sh [TARGET...]
source "$(dirname "$0")/../lib/common.sh"
scratch
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_probe_spec fuzz_config_line fuzz_elf fuzz_otlp_response fuzz_k8s)
findings=$ROOT/build/fuzz/findings
# libFuzzer reports leaks and sanitizer findings itself; a finding must not
# be lost to a core dump.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:handle_abort=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

replay() { # replay TARGET
	local t=$1 bin=$ROOT/build/fuzz/$1 inputs
	inputs=$(find "$ROOT/tests/fuzz/regressions/$t" "$ROOT/tests/fuzz/corpus/$t" -type f 2>/dev/null)
	if [ -z "$inputs" ]; then
		fail "$t.replay" "no inputs under tests/fuzz/{regressions,corpus}/$t"
		return
	fi
	# shellcheck disable=SC2086 # one argument per input file
	if "$bin" -runs=0 $inputs >"$SCRATCH/$t.replay.log" 2>&1; then
		pass "$t.replay_regressions_and_seeds"
	else
		fail "$t.replay_regressions_and_seeds" "$(grep -E 'ERROR|runtime error|Running:' "$SCRATCH/$t.replay.log" | tail -n 3)"
	fi
}

fuzz() { # fuzz TARGET: runs in the background, reported by report
	local t=$1
	mkdir -p "$SCRATCH/corpus-$t" "$SCRATCH/crash-$t"
	"$ROOT/build/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$SCRATCH/crash-$t/" \
		"$SCRATCH/corpus-$t" "$ROOT/tests/fuzz/corpus/$t" >"$SCRATCH/$t.log" 2>&1
	echo $? >"$SCRATCH/$t.rc"
}

report() { # report TARGET
	local t=$1 rc crash runs cov
	rc=$(cat "$SCRATCH/$t.rc" 2>/dev/null || echo missing)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$SCRATCH/$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$SCRATCH/$t.log" | tail -n 1)
	echo "# $t: ${runs:-?} runs in ${FUZZ_SECONDS} s, ${cov:-cov: ?} edges"
	crash=$(find "$SCRATCH/crash-$t" -type f | head -n 1)
	if [ "$rc" = 0 ] && [ -z "$crash" ]; then
		pass "$t.fuzz_${FUZZ_SECONDS}s_no_crash"
		return
	fi
	if [ -n "$crash" ]; then
		mkdir -p "$findings/$t"
		cp "$crash" "$findings/$t/"
		crash="$findings/$t/$(basename "$crash")"
	fi
	grep -E -A 12 'ERROR|runtime error' "$SCRATCH/$t.log" | head -n 20 | sed 's/^/#   /'
	fail "$t.fuzz_${FUZZ_SECONDS}s_no_crash" "exit $rc; input kept as ${crash:-(none)}; add it to tests/fuzz/regressions/$t/ once fixed"
}

for t in "${targets[@]}"; do
	if [ ! -x "$ROOT/build/fuzz/$t" ]; then
		fail "$t.built" "no build/fuzz/$t (make fixtures)"
		continue
	fi
	replay "$t"
done

# Fuzz as many targets at once as there are CPUs.
jobs_max=$(nproc 2>/dev/null || echo 2)
running=()
for t in "${targets[@]}"; do
	[ -x "$ROOT/build/fuzz/$t" ] || continue
	fuzz "$t" &
	running+=($!)
	if [ ${#running[@]} -ge "$jobs_max" ]; then
		wait "${running[0]}"
		running=("${running[@]:1}")
	fi
done
wait
for t in "${targets[@]}"; do
	[ -x "$ROOT/build/fuzz/$t" ] && report "$t"
done
