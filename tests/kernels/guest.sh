#!/usr/bin/env bash
# Runs inside a kernel-matrix VM (tests/kernels/run.sh boots it): the
# integration tests named, then, when OTLP_PORT is not "-", one OTLP export of
# a demo-app run to the Collector on the host (10.0.2.2 is the host's
# loopback). Everything lands in OUTDIR (shared with the host):
#   features.txt   what the kernel offers (build/tools/kernel-features)
#   attach.txt     which links spanprobe picked (-v --dry-run)
#   load.md        what loading the BPF object cost (bench/load_cost.sh)
#   TEST.log       each test's PASS/FAIL/SKIP lines; times.txt its duration
#   otlp.app/.err  the exported run: the app's own account and spanprobe's
#   done           written last: the guest finished
# Usage: guest.sh OUTDIR OTLP_PORT SERVICE TEST...
set -uo pipefail
out=$1 otlp_port=$2 service=$3
shift 3
cd "$(dirname "$0")/../.."
echo "start_uptime $(cut -d' ' -f1 /proc/uptime)" >"$out/times.txt"
uname -r >"$out/uname.txt"

# The Python test's app listens on 127.0.0.1.
ip link set lo up 2>/dev/null
if [ "$otlp_port" != - ]; then
	# virtme-ng's DHCP is off (see vm.sh): the address slirp expects.
	modprobe virtio_net 2>>"$out/net.log"
	for _ in $(seq 100); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
	{ ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 &&
		ip route add default via 10.0.2.2; } >>"$out/net.log" 2>&1
fi

build/tools/kernel-features >"$out/features.txt" 2>&1
build/spanprobe -v --dry-run "uprobe:build/demo-app:foo,goo,zoo" 2>&1 | grep -v '^libbpf' >"$out/attach.txt"
build/spanprobe -l "uprobe:build/demo-app:foo,goo,zoo" >>"$out/attach.txt" 2>&1
# what loading the object costs on this kernel (bench/, numbers only)
bench/load_cost.sh "$out/load.md" 2>"$out/load.err"

# Small counts: QEMU without KVM runs 10-50x slower than the hardware; the
# hang guards stretch as much (tests/lib/common.sh).
export HANG_SCALE=${HANG_SCALE:-10}
export DEMO_TRACE_REQUESTS=${DEMO_TRACE_REQUESTS:-50} REFUSED_REQUESTS=${REFUSED_REQUESTS:-10}
export PYTHON_TRACE_REQUESTS=${PYTHON_TRACE_REQUESTS:-10}
export PY_VERSIONS=${GUEST_PY_VERSIONS:-3.10 3.12} SHAPES_DYNAMIC=${SHAPES_DYNAMIC:-500}
export ATTACH_MANY_GLOB=${ATTACH_MANY_GLOB:-fn_1*}
export THREADS_MIN=${THREADS_MIN:-1100} THREADS_COLLISIONS=${THREADS_COLLISIONS:-2}
for t in "$@"; do
	start=$(date +%s.%N)
	bash "tests/integration/$t.sh" >"$out/$t.log" 2>&1
	rc=$?
	end=$(date +%s.%N)
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out/$t.log"; then
		echo "FAIL $t: exited $rc without reporting a failure" >>"$out/$t.log"
	fi
	echo "test $t $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" >>"$out/times.txt"
done

if [ "$otlp_port" != - ]; then
	start=$(date +%s.%N)
	build/spanprobe -o otlp --protocol grpc --endpoint "http://10.0.2.2:$otlp_port" \
		--service-name "$service" --error 'goo:ret<0' \
		-c "build/demo-app --requests 20 --seed 17 --time-scale 0.002 --annotate" \
		"uprobe:build/demo-app:foo,goo,zoo" >"$out/otlp.app" 2>"$out/otlp.err"
	echo "$?" >"$out/otlp.rc"
	end=$(date +%s.%N)
	echo "test otlp $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" >>"$out/times.txt"
fi
echo "end_uptime $(cut -d' ' -f1 /proc/uptime)" >>"$out/times.txt"
touch "$out/done"
