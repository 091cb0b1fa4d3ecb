#!/usr/bin/env bash
# The kernel matrix (`make test-kernels`): on each pinned kernel
# (tests/kernels/kernels.list; KERNELS="6.1" picks some), booted under QEMU
# with virtme-ng, the integration tests that need no network peers, then one
# OTLP export from inside the VM to a Collector on this host, checked in
# Jaeger. Prints the tests' PASS/FAIL/SKIP lines named kernel-NAME/TEST...,
# what each kernel offers, the time it took, and ends like tests/run.sh with
# "N passed, N failed, N skipped" (with CI=true a skip counts as a failure).
# Run as root after `make` (the Makefile target builds first).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
TEST_NAME=kernels
source tests/lib/common.sh
source tests/lib/peers.sh
source tests/kernels/vm.sh
scratch

# The tests that need no network peers, in the order they run.
GUEST_TESTS=${GUEST_TESTS:-"demo_trace truncated threads attach_modes errors python_trace python_eval_shapes refused_programs"}

log=$SCRATCH/results.log
report() { tee -a "$log"; }

for f in build/spanprobe build/demo-app build/tools/kernel-features build/fixtures/many-funcs build/fixtures/thread-churn; do
	[ -x "$f" ] || { echo "FAIL kernels.setup: $f is missing: run make test-kernels" | report; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL kernels.setup: run as root (the VMs run the BPF tests as root)" | report
	exit 1
fi
if ! kernels_setup; then
	echo "FAIL kernels.setup: virtme-ng or QEMU is not usable (see above)" | report
	exit 1
fi

# One Collector feeding one Jaeger on this host, for every VM's export.
peers=0
if peers_build otlp_export >"$SCRATCH/peers.out"; then
	if jaeger_start && collector_start "$JAEGER_OTLP_GRPC"; then
		peers=1
	else
		echo "FAIL kernels.peers: the Collector or Jaeger did not start (see above)" | report
	fi
else
	report <"$SCRATCH/peers.out"
fi

matrix_start=$(date +%s)
for name in $(kernels_names); do
	k="kernel-$name"
	out=$SCRATCH/$name
	mkdir -p "$out"
	if ! kernel_fetch "$name"; then
		echo "FAIL $k.fetch: the kernel package could not be had (see above)" | report
		continue
	fi
	otlp_port=-
	service=spanprobe-kernel-$name-$$
	if [ "$peers" = 1 ]; then
		otlp_port=${COLLECTOR_GRPC##*:}
		net=1
	else
		net=0
	fi
	echo "== $k ($KERNEL_LABEL)"
	t0=$(date +%s)
	vm_run "$name" "$out" "$net" "$ROOT/tests/kernels/guest.sh" "$out" "$otlp_port" "$service" $GUEST_TESTS
	vm_ok=$?
	if [ "$vm_ok" -eq 2 ]; then
		# Not the guest's doing: the host killed QEMU. Once more.
		kernels_log "$name: QEMU was killed by this host's kernel (${VM_KILLED#*] }): a uretprobe on" \
			"a library it uses, from tracing on this host; running $name again"
		t0=$(date +%s)
		vm_run "$name" "$out" "$net" "$ROOT/tests/kernels/guest.sh" "$out" "$otlp_port" "$service" $GUEST_TESTS
		vm_ok=$?
	fi
	t1=$(date +%s)
	if [ "$vm_ok" -eq 2 ]; then
		echo "FAIL $k.guest_finished: QEMU was killed by this host's kernel twice (${VM_KILLED#*] }): stop tracing libc system-wide on this host while the matrix runs" | report
	elif [ "$vm_ok" -ne 0 ]; then
		echo "FAIL $k.guest_finished: the VM ended before the tests did; its console: $(tail -n 5 "$out/console.log" | tr '\n' ' ')" | report
	fi
	# The guest's lines, renamed kernel-NAME/TEST...
	for t in $GUEST_TESTS; do
		[ -f "$out/$t.log" ] || continue
		sed -nE "s#^(PASS|FAIL|SKIP) #\1 $k/#p" "$out/$t.log" | report
	done
	if [ "$peers" = 1 ] && [ -f "$out/otlp.rc" ]; then
		TEST_NAME=$k/otlp_export
		expect_eq exit_status "$(cat "$out/otlp.rc")" 0 | report
		cp "$out/otlp.app" "$SCRATCH/vm-$name.app"
		cp "$out/otlp.err" "$SCRATCH/vm-$name.err"
		check_in_jaeger "vm-$name" "$service" 20 | report
		TEST_NAME=kernels
	elif [ "$peers" = 1 ] && [ "$vm_ok" -eq 0 ]; then
		echo "FAIL $k/otlp_export: the guest ran no export" | report
	fi
	# What the kernel offers, which links spanprobe picked, how long it took.
	echo "   features: $(awk '$1 == "feature" { printf "%s=%s ", $2, $3 }' "$out/features.txt" 2>/dev/null)"
	sed -n 's/^| [^|]* | \([^|]*\) | \([^|]*\) | [^|]* | \([^|]*\) | \([^|]*\) |.*/   load (\1): peak \2, kernel CPU \3, attached after \4/p' \
		"$out/load.md" 2>/dev/null | grep -v '^   load (configuration)'
	[ -s "$out/load.err" ] && sed 's/^/   load: /' "$out/load.err"
	echo "   spanprobe: $(sed -n 's/^spanprobe: attached .*(\(.*\) links).*/\1 links/p' "$out/attach.txt" 2>/dev/null)"
	echo "   time: $((t1 - t0)) s in all; kernel boot to the tests $(awk '$1 == "start_uptime" { print $2 }' "$out/times.txt" 2>/dev/null) s;" \
		"$(awk '$1 == "test" { printf "%s %s s, ", $2, $3 }' "$out/times.txt" 2>/dev/null)"
	if [ -n "${KERNELS_KEEP:-}" ]; then
		mkdir -p "$KERNELS_KEEP" && cp -r "$out" "$KERNELS_KEEP/"
	fi
done
echo "matrix: $(($(date +%s) - matrix_start)) s for $(kernels_names | wc -w) kernels"

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	echo "CI=true: $skipped skipped tests count as failures"
	failed=$((failed + skipped))
	skipped=0
fi
if [ "$failed" -gt 0 ]; then
	echo "Failures:"
	grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
