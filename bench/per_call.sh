# Section 1 of bench/run.sh (sourced): nanoseconds per call of a traced
# function, per kind of function entry: untraced, under spanprobe, under
# bpftrace's empty uprobe+uretprobe. Writes $tmp/table1.md and rows of the
# table of goals.
# shellcheck shell=bash

# ---- bpftrace, the baseline --------------------------------------------------
bpftrace_ok=0
if ! command -v bpftrace >/dev/null; then
	log "installing bpftrace (Debian's package) for the baseline"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bpftrace; } \
		>"$tmp/apt.log" 2>&1 || log "apt-get install bpftrace failed (see below)"
fi
if command -v bpftrace >/dev/null; then
	# It must load and attach a uprobe on this kernel, not just start.
	if timeout 60 bpftrace -e "uprobe:$BIN/call-cost-o2:bench_target {}
		BEGIN { printf(\"attached\\n\"); exit(); }" >"$tmp/bt-check.out" 2>&1 &&
		grep -q attached "$tmp/bt-check.out"; then
		bpftrace_ok=1
	else
		log "bpftrace cannot attach a uprobe here; the baseline column is empty:"
		cat "$tmp/bt-check.out" >&2
	fi
fi
bpftrace_version=$( ((bpftrace_ok)) && bpftrace --version 2>/dev/null | awk '{ print $2 }')

# ---- 1. per-call cost ----------------------------------------------------------
# one_call_run VARIANT MODE: one process, one tracer; prints "NS BEST": the
# mean ns per call and that of the fastest 1,000 calls ("-" when dropped).
# MODE: untraced | spanprobe | paused (spanprobe, reader stopped) | bpftrace
one_call_run() {
	local bin=$BIN/call-cost-$1 mode=$2 n=$CALLS prog tracer= ns best
	case $mode in
	untraced) n=$CALLS_UNTRACED ;;
	paused) n=$CALLS_PAUSED ;;
	esac
	"$bin" "$n" >"$tmp/prog.out" 2>&1 &
	prog=$!
	track "$prog"
	wait_for "$tmp/prog.out" '^ready' 10 || { log "$bin did not start"; return; }
	case $mode in
	spanprobe | paused)
		"$SPANPROBE" -p "$prog" "uprobe:$bin:bench_target" -o jsonl \
			--output-file /dev/null 2>"$tmp/tracer.err" &
		tracer=$!
		wait_for "$tmp/tracer.err" '^spanprobe: tracing' 30 ||
			{ log "spanprobe did not attach:"; cat "$tmp/tracer.err" >&2; }
		[ "$mode" = paused ] && kill -STOP "$tracer"
		;;
	bpftrace)
		# BEGIN fires once every probe is attached: the ready line.
		bpftrace -p "$prog" -e "BEGIN { printf(\"ready\\n\"); }
			uprobe:$bin:bench_target {} uretprobe:$bin:bench_target {}" \
			>"$tmp/tracer.out" 2>"$tmp/tracer.err" &
		tracer=$!
		wait_for "$tmp/tracer.out" '^ready' 60 ||
			{ log "bpftrace did not attach:"; cat "$tmp/tracer.err" >&2; }
		;;
	esac
	[ -n "$tracer" ] && track "$tracer"
	kill -USR1 "$prog"
	wait_exit "$prog" 120
	ns=$(awk '/^ns_per_call/ { print $2 }' "$tmp/prog.out")
	best=$(awk '/^ns_per_call/ { print $10 }' "$tmp/prog.out")
	local want=yes
	[ "$mode" = untraced ] && want=no
	if ! grep -q "probed $want" "$tmp/prog.out"; then
		log "call-cost-$1 $mode: the probe was not (or still) in place; dropped"
		ns= best=
	fi
	case $mode in
	spanprobe | paused)
		[ "$mode" = paused ] && kill -CONT "$tracer"
		wait_exit "$tracer" 30 # it ends when the traced process does
		spans=$(sed -n 's/^spanprobe: \([0-9]*\) spans.*/\1/p' "$tmp/tracer.err")
		[ "${spans:-0}" -ge "$n" ] || log "call-cost-$1 $mode: spanprobe saw ${spans:-no} spans of $n calls"
		;;
	bpftrace)
		kill -INT "$tracer" 2>/dev/null
		wait_exit "$tracer" 30
		;;
	esac
	echo "${ns:--} ${best:--}"
}

# call_cost VARIANT MODE: the medians of REPS runs, "NS BEST".
call_cost() {
	local r
	for ((r = 0; r < REPS; r++)); do one_call_run "$1" "$2"; done >"$tmp/runs"
	echo "$(awk '$1 != "-" { print $1 }' "$tmp/runs" | median) $(awk '$2 != "-" { print $2 }' "$tmp/runs" | median)"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
us() { awk -v n="$1" 'BEGIN { if (n == "") print "n/a"; else if (n < 100) printf "%.1f ns", n; else printf "%.2f µs", n / 1000 }'; }

variants=(o2 fp nop5 cet)
declare -A entry=(
	[o2]='(a) -O2 first instruction (`lea`)'
	[fp]='(b) `push %rbp` (frame pointers)'
	[nop5]='(c) 5-byte nop (`-pg -mfentry -mnop-mcount`)'
	[cet]='(d) `endbr64; push %rbp` (CET)'
)
declare -A target=([o2]='≤ 1.10x' [fp]='≤ 1.10x' [nop5]='≤ 1.10x' [cet]='≤ 0.50x')

table1=$tmp/table1.md
{
	echo "| function entry | spanprobe attaches at | untraced | spanprobe | bpftrace $bpftrace_version | spanprobe / bpftrace | target | spanprobe, reader paused | fastest 1,000 calls: spanprobe / bpftrace |"
	echo "|---|---|---|---|---|---|---|---|---|"
} >"$table1"
for v in "${variants[@]}"; do
	class=$("$SPANPROBE" -l "uprobe:$BIN/call-cost-$v:bench_target" 2>/dev/null |
		sed -n 's/.*\[\(.*\)\].*/\1/p')
	log "per-call cost: call-cost-$v [$class]"
	read -r u _ < <(call_cost "$v" untraced)
	read -r s sb < <(call_cost "$v" spanprobe)
	read -r p _ < <(call_cost "$v" paused)
	b= bb=
	((bpftrace_ok)) && read -r b bb < <(call_cost "$v" bpftrace)
	echo "| ${entry[$v]} | ${class:-?} | $(us "$u") | $(us "$s") | $(us "$b") | $(ratio "$s" "$b") | ${target[$v]} | $(us "$p") | $(ratio "$sb" "$bb") |" >>"$table1"
	r=$(ratio "$s" "$b")
	summary_row "per-call cost, ${entry[$v]}: spanprobe / bpftrace" "$r" "${target[$v]}" \
		"$(goal_ratio "$r" "${target[$v]}")"
done


# bench/kernels.sh: only this table, in each VM of the kernel matrix.
if [ -n "${BENCH_CALLS_TABLE:-}" ]; then
	cp "$table1" "$BENCH_CALLS_TABLE"
	exit 0
fi
