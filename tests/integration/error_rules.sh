#!/usr/bin/env bash
# --error's operators, each on a function of another integer width and
# signedness (and NULL on a pointer): the value judged is the return register
# read as the function's DWARF type, though the register's higher bits hold
# more (ret-widths returns a 64-bit value cut to its type). The program prints
# each value as its type reads it; the test judges the rules on those itself.
source "$(dirname "$0")/../lib/common.sh"
scratch
APP=$ROOT/build/fixtures/ret-widths
[ -x "$APP" ] || { fail setup "$APP is missing (make fixtures)"; exit 0; }

# function, spanprobe's rule, the same rule for awk on the printed value
RULES="r_i8 ret<0 <0
r_u8 ret>=200 >=200
r_i16 ret==-7 ==-7
r_u16 ret!=65534 !=65534
r_i32 ret<=-2 <=-2
r_u32 ret>4000000000 >4000000000
r_i64 ret<-4000000000 <-4000000000
r_ptr NULL ==\"NULL\""
args=() funcs=()
while read -r f rule _; do
	args+=(--error "$f:$rule")
	funcs+=("$f")
done <<<"$RULES"
"$SPANPROBE" -o jsonl --output-file "$SCRATCH/spans.jsonl" "${args[@]}" -c "$APP" \
	"uprobe:$APP:$(IFS=,; echo "${funcs[*]}")" >"$SCRATCH/app.out" 2>"$SCRATCH/sp.err"
expect_eq exit_status "$?" 0

# in call order: each span's ERROR (1/0) and return value
spans_of() {
	jq -r --arg f "$1" 'select(.name == $f) | [.startTimeUnixNano, (if .status.code == 2 then 1 else 0 end),
		(.attributes[] | select(.key == "spanprobe.return_value") | .value.intValue // .value.stringValue)]
		| @tsv' "$SCRATCH/spans.jsonl" | sort -n | cut -f2-
}
while read -r f rule cond; do
	printed=$(awk -v f="$f" '$1 == f { print $2 }' "$SCRATCH/app.out")
	calls=$(wc -l <<<"$printed")
	want=$(awk '{ print ($1 '"$cond"') ? 1 : 0 }' <<<"$printed")
	errors=$(grep -c 1 <<<"$want")
	check "$f.both_sides_tried" test "$errors" -gt 0 -a "$errors" -lt "$calls"
	got=$(spans_of "$f")
	expect_eq "$f.a_span_per_call" "$(wc -l <<<"$got")" "$calls"
	expect_eq "$f.error_exactly_where_${rule//[^a-zA-Z0-9]/_}_holds" "$(cut -f1 <<<"$got" | paste -sd' ')" \
		"$(paste -sd' ' <<<"$want")"
	if [ "$f" != r_ptr ]; then
		expect_eq "$f.return_value_read_as_its_type" "$(cut -f2 <<<"$got" | paste -sd' ')" \
			"$(paste -sd' ' <<<"$printed")"
	fi
done <<<"$RULES"
