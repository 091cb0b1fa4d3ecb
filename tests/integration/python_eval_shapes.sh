#!/usr/bin/env bash
# python: the call shapes of tests/fixtures/py_shapes.py through the
# evaluator probe, under each pyenv CPython 3.8-3.13 and Debian's
# /usr/bin/python3.11 (USDT probes, but the evaluator path by default), run
# with -c; the spans checked against what the program
# printed it did: spans per function = its calls; leaf under mid, under the
# generator's resumes and under the coroutine; one span per generator and per
# coroutine, not per resume; recursion as one chain; ERROR with the
# exception on exactly the calls that raised; the coroutine covering its
# sleeps; functions made by exec, traced by name while their code objects'
# memory is taken by others of an untraced name: every chosen call a span,
# no span for other. spanprobe exits with the program's status, and the
# program prints the same as untraced.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/pyenvs.sh"
scratch
FIXTURE=$ROOT/tests/fixtures/py_shapes.py
CALLS=${SHAPES_CALLS:-50}
DEPTH=${SHAPES_DEPTH:-20} # rec nests DEPTH+1 calls: keep it within spanprobe's 32
DYNAMIC=${SHAPES_DYNAMIC:-2000}
FUNCS=leaf,mid,boom,gen,sub,coro,rec,chosen

# figures OUT: what the program printed, as JSON: {"SHAPE": {"KEY": N, ...},
# ..., "raised": ["ValueError: bad 0", ...]}.
figures() {
	jq -R -s -c 'split("\n") as $lines
		| ($lines | map(select(test("^[a-z]+: [a-z]+=")) | capture("^(?<shape>[a-z]+): (?<kv>.*)$")
			| {key: .shape, value: (.kv | split(" ") | map(split("=")
				| {key: .[0], value: ((.[1] | tonumber?) // .[1])}) | from_entries)}) | from_entries)
		+ {raised: ($lines | map(select(startswith("raised: ")) | .[8:]))}' "$1"
}

# check_shapes SPANS FIGURES: "property: ok" or "property: why" lines (for
# report_checks). A count is checked only against a figure the program
# printed and that is not 0, so nothing traced and nothing printed is a
# failure, not 0 = 0.
check_shapes() {
	jq -s -r --argjson fig "$2" --arg fixture "$FIXTURE" --arg funcs "$FUNCS" '
	map({trace: .traceId, span: .spanId, parent: (.parentSpanId // ""), name,
		start: (.startTimeUnixNano[:-3] | tonumber), end: (.endTimeUnixNano[:-3] | tonumber),
		error: (.status.code == 2), message: (.status.message // ""),
		exception: ((.events // []) | map(select(.name == "exception")) | .[0].attributes // []
			| map({(.key): .value.stringValue}) | add
			| if . == null then "" else "\(.["exception.type"]): \(.["exception.message"])" end),
		file: (.attributes[] | select(.key == "code.file.path") | .value.stringValue),
		truncated: any(.attributes[]; .key == "spanprobe.truncated")}) as $all
	| def named($n): [$all[] | select(.name == $n)];
	  def kids($p): [$all[] | select(.trace == $p.trace and .parent == $p.span)];
	  def under($parents; $n): [$parents[] as $p | kids($p)[] | select(.name == $n)] | length;
	  def figure($v): ($v | type) == "number" and $v > 0;
	  # spans_eq WHAT GOT WANT: WANT is the program'"'"'s figure
	  def spans_eq($what; $got; $want):
		if figure($want) | not then [$what, "the program printed no figure (\($want))"]
		elif $got == $want then [$what, "ok"]
		else [$what, "\($got) spans, the program printed \($want)"] end;
	  def chain($s): [kids($s)[] | select(.name == "rec")] as $k
		| if ($k | length) == 0 then 1 elif ($k | length) == 1 then 1 + chain($k[0]) else -1000 end;
	  def is($what; $cond; $why): [$what, (if $cond then "ok" else $why end)];
	($funcs | split(",")) as $traced
	| (named("gen") | .[0]) as $gen | (named("coro") | .[0]) as $coro | (named("sub") | .[0]) as $sub
	| named("boom") as $booms | named("mid") as $mids | named("rec") as $recs
	| [$recs[] | select(.parent as $p | all($recs[]; .span != $p))] as $rec_roots
	| ($all | map({key: .span, value: .}) | from_entries) as $by_id
	| [ ($traced[] | spans_eq("spans_named_\(.)"; named(.) | length; $fig.calls[.])),
		is("the_programs_figures_add_up";
			figure($fig.calls.leaf) and $fig.calls.leaf == $fig.plain.leaf + $fig.generator.leaf + $fig.coroutine.leaf
			and $fig.calls.mid == $fig.plain.mid and $fig.calls.boom == $fig.exceptions.boom
			and $fig.exceptions.raised == ($fig.raised | length) and $fig.calls.rec == $fig.recursion.nesting
			and $fig.calls.chosen == $fig.dynamic.chosen and $fig.calls.other == $fig.dynamic.other;
			"the program printed \($fig)"),
		is("no_span_named_other"; figure($fig.calls.other) and figure(named("chosen") | length)
			and (named("other") | length) == 0;
			"\(named("other") | length) spans named other (the program called it \($fig.calls.other) times, \(named("chosen") | length) chosen spans)"),
		is("only_traced_names"; ($all | length) > 0 and all($all[]; .name | IN($traced[]));
			"no spans, or spans named \([$all[].name] | unique - $traced)"),
		is("chosen_spans_are_the_fixtures"; figure(named("chosen") | length) and all(named("chosen")[]; .file == $fixture);
			"code.file.path: \([named("chosen")[].file] | unique)"),
		is("mids_are_roots_each_its_own_trace"; figure($mids | length) and all($mids[]; .parent == "")
			and ($mids | map(.trace) | unique | length) == ($mids | length); "\($mids | map(.parent) | unique)"),
		is("each_mid_has_one_child_a_leaf"; figure($mids | length) and all($mids[]; kids(.) | map(.name) == ["leaf"]);
			"children of mid: \([$mids[] | kids(.) | map(.name)] | unique)"),
		spans_eq("leaf_spans_under_mid"; under($mids; "leaf"); $fig.plain.leaf),
		spans_eq("leaf_spans_under_gen"; if $gen then under([$gen]; "leaf") else 0 end; $fig.generator.leaf),
		spans_eq("leaf_spans_under_coro"; if $coro then under([$coro]; "leaf") else 0 end; $fig.coroutine.leaf),
		is("gen_not_error"; $gen != null and ($gen.error | not); "gen: \($gen)"),
		is("sub_child_of_coro"; $sub != null and $coro != null and $sub.parent == $coro.span and $sub.trace == $coro.trace;
			"sub: \($sub), coro: \($coro)"),
		is("coro_covers_its_two_sleeps_20ms"; $coro != null and $coro.end - $coro.start >= 20000;
			"coro lasted \(if $coro then $coro.end - $coro.start else null end) us"),
		is("sub_covers_its_sleep_10ms"; $sub != null and $sub.end - $sub.start >= 10000;
			"sub lasted \(if $sub then $sub.end - $sub.start else null end) us"),
		is("rec_one_root_call"; ($rec_roots | length) == 1 and $rec_roots[0].parent == "";
			"\($rec_roots | length) rec spans whose parent is not a rec span: \($rec_roots | map(.parent))"),
		spans_eq("rec_chain_length"; if ($rec_roots | length) == 1 then chain($rec_roots[0]) else 0 end; $fig.recursion.nesting),
		is("boom_status_is_the_raised_exception"; figure($booms | length)
			and ($booms | sort_by(.start) | map(.message)) == $fig.raised and all($booms[]; .error);
			"boom spans: \($booms | sort_by(.start) | map({error, message})), raised: \($fig.raised)"),
		is("boom_exception_event"; figure($booms | length) and ($booms | sort_by(.start) | map(.exception)) == $fig.raised;
			"events: \($booms | sort_by(.start) | map(.exception))"),
		is("error_only_on_boom"; figure($booms | length) and all($all[]; .error == (.name == "boom"));
			"ERROR where it should not be, or not where it should: \([$all[] | select(.error != (.name == "boom")) | {name, error, message}] | unique)"),
		is("children_inside_their_parent"; ($all | length) > 0
			and all($all[] | select(.parent != ""); $by_id[.parent] as $p | $p != null and .start >= $p.start and .end <= $p.end);
			"\([$all[] | select(.parent != "") | $by_id[.parent] as $p | select($p == null or .start < $p.start or .end > $p.end) | {name, parent: $p.name}] | unique)"),
		is("no_truncated_spans"; all($all[]; .truncated | not); "\([$all[] | select(.truncated) | .name] | unique)")
	  ]
	| .[] | "\(.[0]): \(.[1])"' "$1"
}

# shapes LABEL PYTHON TARGET [REFUSE]: the fixture under PYTHON, untraced then
# traced (TARGET: the file the evaluator line names; REFUSE: programs the
# kernel is made to refuse, SPANPROBE_TEST_REFUSE); checks named LABEL.*.
shapes() {
	local label=$1 py=$2 target=$3 refuse=${4:-} d=$SCRATCH/$1 pid rc_plain rc reused fig
	local cmd="$py $FIXTURE $CALLS $DEPTH $DYNAMIC"
	mkdir -p "$d"
	$cmd >"$d/plain.out" 2>"$d/plain.err" &
	pid=$!
	bg_track $pid
	wait_or_fail $pid 30
	rc_plain=$?
	[ $rc_plain -eq 124 ] && return
	if ! grep -q '^calls: ' "$d/plain.out"; then
		fail "$label.program_runs" "exit $rc_plain: $(tail -n 3 "$d/plain.err")"
		return
	fi
	SPANPROBE_TEST_REFUSE=$refuse "$SPANPROBE" -v -o jsonl --output-file "$d/spans.jsonl" -c "$cmd" \
		"python:$py:py_shapes.py:$FUNCS" >"$d/out" 2>"$d/err" &
	pid=$!
	bg_track $pid
	wait_or_fail $pid 60
	rc=$?
	[ $rc -eq 124 ] && return
	expect_eq "$label.exit_status_is_the_programs" "$rc" "$rc_plain"
	check "$label.stdout_same_as_untraced" cmp "$d/out" "$d/plain.out"
	check "$label.evaluator_path_said" grep -q "\[evaluator\].*$target" "$d/err"
	# the precondition of no_span_named_other: code objects of chosen were
	# where one of other had been, and the reverse, while traced
	reused=$(sed -n 's/^py_shapes: dynamic code objects at an address one of the other name had: \([0-9]*\)$/\1/p' "$d/err")
	check "$label.dynamic_code_memory_reused" test "${reused:-0}" -gt 0
	echo "# $label: $reused of $DYNAMIC dynamic code objects at an address one of the other name had"
	check "$label.summary_lost_0" grep -q "^spanprobe: [0-9]* spans (.* 0 truncated); lost 0 " "$d/err"
	expect_eq "$label.summary_spans_written" "$(summary_spans "$d/err")" "$(wc -l <"$d/spans.jsonl")"
	fig=$(figures "$d/out")
	report_checks "$label" check_shapes "$d/spans.jsonl" "$fig"
}

for v in $PY_VERSIONS; do
	prefix=$(pyenv_prefix "$v")
	if [ -z "$prefix" ] || [ ! -x "$prefix/bin/python$v" ]; then
		skip "py$v" "CPython $v is not installed (pyenv install $v)"
		continue
	fi
	shapes "py$v" "$prefix/bin/python$v" "$(libpython_of "$v")"
done
# Without code_dealloc's probe a verdict is checked by the code object's
# names instead: the reused memory must still be judged afresh.
v=${PY_VERSIONS##* }
if [ -n "$(pyenv_prefix "$v")" ]; then
	shapes "py$v-no-dealloc-probe" "$(pyenv_prefix "$v")/bin/python$v" "$(libpython_of "$v")" \
		py_code_dealloc
fi

# An exec in a traced process: py_exec_a.py calls chosen(), then execs
# py_exec_b.py, whose others() has its code object at the same address
# (address randomisation off); a verdict of the image before the exec must
# not be taken for the one after it. For each version:
# spans named chosen = the calls a printed, none after the exec.
exec_case() {
	local label=$1 py=$2 d=$SCRATCH/$1 pid rc before after n=100
	mkdir -p "$d"
	setarch -R "$SPANPROBE" -o jsonl --output-file "$d/spans.jsonl" \
		-c "$py $ROOT/tests/fixtures/py_exec_a.py $n" "python:$py:py_exec_?.py:chosen" \
		>"$d/out" 2>"$d/err" &
	pid=$!
	bg_track $pid
	wait_or_fail $pid 30
	rc=$?
	[ $rc -eq 124 ] && return
	expect_eq "$label.exit_status" "$rc" 0
	before=$(sed -n 's/^before exec: chosen=\([0-9]*\) code_at=\([0-9]*\)$/\1 \2/p' "$d/out")
	after=$(sed -n 's/^after exec: others=\([0-9]*\) code_at=\([0-9]*\)$/\1 \2/p' "$d/out")
	if [ -z "$before" ] || [ -z "$after" ]; then
		fail "$label.program_ran" "$(tail -n 3 "$d/out" "$d/err")"
		return
	fi
	expect_eq "$label.same_code_address_after_exec" "${after#* }" "${before#* }"
	expect_eq "$label.spans_named_chosen" \
		"$(jq -r 'select(.name == "chosen") | .name' "$d/spans.jsonl" | wc -l)" "${before% *}"
	expect_eq "$label.spans_of_other_names" "$(jq -r 'select(.name != "chosen") | .name' "$d/spans.jsonl" | wc -l)" 0
}
if command -v setarch >/dev/null; then
	for v in $PY_VERSIONS; do
		prefix=$(pyenv_prefix "$v")
		[ -n "$prefix" ] && exec_case "py$v.exec" "$prefix/bin/python$v"
	done
else
	skip exec "setarch not installed (util-linux)"
fi

if [ -x /usr/bin/python3.11 ]; then
	shapes py3.11-debian /usr/bin/python3.11 /usr/bin/python3.11
else
	skip py3.11-debian "/usr/bin/python3.11 not installed (Debian package python3.11)"
fi
