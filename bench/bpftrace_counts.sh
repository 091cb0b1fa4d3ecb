#!/usr/bin/env bash
# Calls per function counted by spanprobe and by bpftrace on the same
# process, for three Debian libraries: libsqlite3 (the sqlite3 shell),
# libz (Python's zlib module) and liblzma (xz). Each workload is started
# stopped, both tracers attach to its pid (one process: each command execs),
# then it runs once: the counts must be equal. Prints a markdown table; exits non-zero on a difference.
# Run as root, with bpftrace installed (scripts/install-deps.sh test).
set -uo pipefail
cd "$(dirname "$0")/.."
SPANPROBE=${SPANPROBE:-build/spanprobe}
tmp=$(mktemp -d /tmp/spanprobe-counts.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT # KEEP=1: leave the outputs for a look

command -v bpftrace >/dev/null || { echo "bpftrace missing: scripts/install-deps.sh test" >&2; exit 1; }

lib() { readlink -f "$(ldconfig -p | awk -v n="$1" '$1 ~ "^"n {print $NF; exit}')"; }

# The workloads: a name, the library, its functions, the command.
seq 1 3000 | awk '{print "insert into t values(" $1 ", \"row" $1 "\");"}' >"$tmp/rows.sql"
head -c 3000000 /dev/urandom | base64 >"$tmp/data.txt"
workloads=(
	"sqlite3|$(lib libsqlite3.so.0)|sqlite3_prepare_v2,sqlite3_step,sqlite3_finalize,sqlite3_exec|exec sqlite3 $tmp/db.sqlite 'create table t(a,b);' '.read $tmp/rows.sql' 'select count(*), sum(a) from t;'"
	"zlib|$(lib libz.so.1)|deflate,deflateInit2_,deflateEnd,inflate,inflateInit2_,crc32|exec python3 -c 'import zlib,sys; d=open(sys.argv[1],\"rb\").read(); c=[zlib.compress(d[i:i+65536], 6) for i in range(0, len(d), 65536)]; assert b\"\".join(zlib.decompress(x) for x in c) == d; print(zlib.crc32(d))' $tmp/data.txt"
	"lzma|$(lib liblzma.so.5)|lzma_code,lzma_crc64,lzma_stream_encoder,lzma_vli_encode,lzma_index_iter_next|exec xz -T1 -c -3 $tmp/data.txt >$tmp/data.xz"
)

status=0
echo "| library | function | spanprobe | bpftrace | |"
echo "|---|---|---:|---:|---|"
for w in "${workloads[@]}"; do
	IFS='|' read -r name path funcs cmd <<<"$w"
	# the workload, stopped before it starts
	sh -c "kill -STOP \$\$; exec sh -c \"\$0\"" "$cmd" >"$tmp/$name.out" 2>&1 &
	target=$!
	pids+=("$target")
	while [ "$(awk '{print $3}' /proc/$target/stat 2>/dev/null)" != T ]; do sleep 0.01; done
	# bpftrace: one uprobe per function, counting calls of this process tree
	prog='BEGIN { printf("ready\n"); } '
	IFS=',' read -ra fs <<<"$funcs"
	for f in "${fs[@]}"; do
		prog+="uprobe:$path:$f /pid == $target/ { @[\"$f\"] = count(); } "
	done
	bpftrace -e "$prog" >"$tmp/$name.bt" 2>&1 &
	bt=$!
	pids+=("$bt")
	# BEGIN runs once every probe is in
	for _ in $(seq 1 1200); do grep -q '^ready' "$tmp/$name.bt" && break; sleep 0.05; done
	# spanprobe: the same functions, this process
	"$SPANPROBE" -v -o jsonl --output-file "$tmp/$name.jsonl" -p "$target" \
		--ready-file "$tmp/$name.ready" "uprobe:$path:$funcs" 2>"$tmp/$name.sp" &
	sp=$!
	pids+=("$sp")
	for _ in $(seq 1 600); do [ -e "$tmp/$name.ready" ] && break; sleep 0.05; done
	kill -CONT "$target"
	wait "$target"
	rc=$?
	# a workload that failed counts nothing: say so, never a 0 = 0 row
	[ "$rc" -eq 0 ] || { echo "$name: the workload exited $rc: $(head -c 300 "$tmp/$name.out")" >&2; status=1; }
	wait "$sp"
	# bpftrace prints its counts on SIGINT, but now and then misses the
	# first one (seen once in a run: asleep in epoll_wait, the signal caught
	# and nothing done): ask again each second, 30 s at most
	kill -INT "$bt"
	for _ in $(seq 1 30); do
		kill -0 "$bt" 2>/dev/null || break
		sleep 1
		kill -INT "$bt" 2>/dev/null
	done
	wait "$bt"
	for f in "${fs[@]}"; do
		s=$(grep -c "\"name\":\"$f\"" "$tmp/$name.jsonl")
		b=$(sed -n "s/^@\[$f\]: \([0-9]*\)/\1/p" "$tmp/$name.bt")
		b=${b:-0}
		mark=ok
		[ "$s" = "$b" ] || { mark=DIFFERENT; status=1; }
		echo "| $name | $f | $s | $b | $mark |"
	done
done
exit $status
