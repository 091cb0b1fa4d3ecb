#!/usr/bin/env bash
# The ASan+UBSan build of spanprobe (make SANITIZE=1) through a real run: the
# demo traced with every output, a signal stop, and a startup error. Any
# sanitizer report (leaks included) fails the test.
source "$(dirname "$0")/../lib/common.sh"
scratch
ASAN_SP=$ROOT/build/asan/spanprobe
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99

if [ ! -x "$ASAN_SP" ]; then
	fail build "no $ASAN_SP (make SANITIZE=1 build/asan/spanprobe)"
	exit 0
fi
no_reports() { ! grep -Eq "Sanitizer|runtime error" "$1"; }

"$ASAN_SP" -c "$DEMO --requests 60 --threads 2 --seed 4 --time-scale 0.002 --annotate" \
	-o jsonl -o tree --output-file "$SCRATCH/out" --error 'goo:ret<0' \
	"uprobe:$DEMO:foo,goo,zoo" >"$SCRATCH/app" 2>"$SCRATCH/err"
expect_eq "demo_run.exit_status" "$?" 0
check "demo_run.no_sanitizer_reports" no_reports "$SCRATCH/err"
grep '^{' "$SCRATCH/out" >"$SCRATCH/spans.jsonl"
report_checks "demo_run" tests/lib/check_demo_spans.sh jsonl "$SCRATCH/spans.jsonl" "$SCRATCH/app" 120

# OTLP to a closed port, stopped by SIGTERM: shutdown paths and frees.
OTEL_BSP_EXPORT_TIMEOUT=1000 "$ASAN_SP" -o otlp --endpoint http://127.0.0.1:9 \
	"uprobe:$DEMO:foo,goo,zoo" 2>"$SCRATCH/otlp.err" &
sp=$!
wait_for_line "$SCRATCH/otlp.err" "tracing" 20
"$DEMO" --requests 20 --time-scale 0.001 >/dev/null
kill -TERM $sp
wait_or_fail $sp
expect_eq "otlp_sigterm.exit_status" "$?" 0
check "otlp_sigterm.no_sanitizer_reports" no_reports "$SCRATCH/otlp.err"

# Error paths free what they made.
"$ASAN_SP" --error 'nosuch:ret<0' "uprobe:$DEMO:foo" 2>"$SCRATCH/e1.err"
expect_eq "error_path.exit_status" "$?" 1
check "error_path.no_sanitizer_reports" no_reports "$SCRATCH/e1.err"
"$ASAN_SP" -l -v "uprobe:$DEMO:*" >/dev/null 2>"$SCRATCH/e2.err"
check "list.no_sanitizer_reports" no_reports "$SCRATCH/e2.err"
