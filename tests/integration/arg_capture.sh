#!/usr/bin/env bash
# --arg: arguments captured at entry equal what the program passed. args-app
# prints each call before making it (strings, a string longer than the
# capture, NULL, a bad pointer, an unreadable page, integers of each width,
# a char **); Debian's sqlite3 CLI runs a script, and libsqlite3's
# sqlite3_prepare_v2 shows each statement's SQL text.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/cases.sh"
scratch
APP=$ROOT/build/fixtures/args-app
[ -x "$APP" ] || { fail setup "$APP is missing (make fixtures)"; exit 0; }
cp "$APP" "$SCRATCH/args-app"
APP=$SCRATCH/args-app

"$SPANPROBE" -o jsonl --output-file "$SCRATCH/args.jsonl" \
	--arg 'run_query:sql,nbytes' --arg 'set_option:option,value,flags=hex' --arg 'run_argv:argv,argc' \
	-c "$APP 2" "uprobe:$APP:run_query,set_option,run_argv" >"$SCRATCH/app.out" 2>"$SCRATCH/sp.err"
expect_eq args.exit_status "$?" 0

# attr NAME KEY: the values of one attribute of every NAME span, in call order
attr() {
	jq -r --arg n "$1" --arg k "spanprobe.arg.$2" 'select(.name == $n) | [.startTimeUnixNano,
		(.attributes[] | select(.key == $k) | .value | (.stringValue // .intValue))] | @tsv' \
		"$SCRATCH/args.jsonl" | sort -n | cut -f2-
}
# what the app printed it passed, in call order
printed() { sed -n "s/^call $1 .*$2=\\(.*\\) $3=.*/\\1/p" "$SCRATCH/app.out"; }

# (every count and value below is what args-app printed it passed)
printed_calls() { grep -c "^call $1 " "$SCRATCH/app.out"; }
check run_query.app_made_calls test "$(printed_calls run_query)" -gt 0
expect_eq run_query.calls "$(jq -r 'select(.name == "run_query") | .name' "$SCRATCH/args.jsonl" | wc -l)" \
	"$(printed_calls run_query)"
# Strings that fit: exactly what was passed.
want_short=$(printed run_query sql nbytes | grep -v '^<\|^NULL$' | awk 'length($0) <= 255')
got_short=$(attr run_query sql | grep -v '^<\|^NULL$\|\.\.\.$')
expect_eq run_query.sql_text_equals_the_programs "$got_short" "$want_short"
# The 599-byte string: its first 255 bytes, marked as cut.
long=$(printed run_query sql nbytes | awk 'length($0) > 255' | head -n 1)
expect_eq run_query.long_string_cut_and_marked "$(attr run_query sql | grep '\.\.\.$' | head -n 1)" \
	"${long:0:255}..."
expect_eq run_query.null "$(attr run_query sql | grep -c '^NULL$')" "$(grep -c '^call run_query sql=NULL ' "$SCRATCH/app.out")"
expect_eq run_query.bad_pointer_marked "$(attr run_query sql | grep -c '^<unreadable at 0x10>$')" \
	"$(grep -c '^call run_query sql=<bad 0x10> ' "$SCRATCH/app.out")"
expect_eq run_query.unreadable_page_marked \
	"$(attr run_query sql | grep -c '^<unreadable at 0x[0-9a-f]*>$')" \
	"$(grep -c '^call run_query sql=<\(bad 0x10\|unreadable\)> ' "$SCRATCH/app.out")"
expect_eq run_query.nbytes "$(attr run_query nbytes | tr '\n' ' ')" \
	"$(sed -n 's/^call run_query .* nbytes=\(-*[0-9]*\)$/\1/p' "$SCRATCH/app.out" | tr '\n' ' ')"
# Integers by their DWARF types: int, long, and unsigned shown as hex.
# set_option option=-7 value=-1234567890123 flags=3735928559, each call
opt() { sed -n "s/^call set_option .*$1=\([-0-9]*\).*/\1/p" "$SCRATCH/app.out"; }
check set_option.app_made_calls test "$(printed_calls set_option)" -gt 0
expect_eq set_option.int "$(attr set_option option)" "$(opt option)"
expect_eq set_option.long "$(attr set_option value)" "$(opt value)"
expect_eq set_option.hex_unsigned "$(attr set_option flags)" "$(opt flags)"
expect_eq run_argv.char_pp "$(attr run_argv argv)" "$(sed -n 's/^call run_argv argv0=\([^ ]*\) .*/\1/p' "$SCRATCH/app.out")"
check args.nothing_lost grep -q "^spanprobe: $(grep -c '^call ' "$SCRATCH/app.out") spans (0 errors, 0 truncated); lost 0" "$SCRATCH/sp.err"

# The tree and lines outputs show them as C would.
"$SPANPROBE" -o lines --output-file "$SCRATCH/lines.txt" --arg 'set_option:option,value,flags=hex' \
	--arg 'run_query:sql,nbytes' -c "$APP 1" "uprobe:$APP:run_query,set_option" >/dev/null 2>&1
check lines.shows_ints grep -q 'set_option(option=-7, value=-1234567890123, flags=0xdeadbeef) = -1' \
	"$SCRATCH/lines.txt"
check lines.shows_quoted_strings grep -qF "run_query(sql=\"INSERT INTO t VALUES (42, 'it''s \\\"quoted\\\"')\", nbytes=-3) = -3" \
	"$SCRATCH/lines.txt"
check lines.shows_faults grep -q 'run_query(sql=<unreadable at 0x10>, nbytes=1)' "$SCRATCH/lines.txt"

# Bad specs: one line naming the cause, non-zero exit. One row a case
# (tests/lib/cases.sh), each three checks: NAME.exit_status, .message and
# .one_message (a spec that does not parse is a usage error: argp adds its
# "Try --help" line, not counted).
CASE_SPLIT=1 CASE_ONE_LINE=only CASE_TIMEOUT=30
SP=$SPANPROBE
Q="uprobe:$APP:run_query,set_option"
case_row bad.no_such_parameter   err "has no parameter named 'nosuch'" -- $SP --arg 'run_query:nosuch' "$Q"
case_row bad.stack_argument      err "not in a register"               -- $SP --arg 'run_query:arg6=int' "$Q"
case_row bad.unknown_type        err "unknown type 'float'"            -- $SP --arg 'run_query:arg1=float' "$Q"
case_row bad.names_no_function   err "names no traced function"        -- $SP --arg 'nosuch:arg0=int' "$Q"
case_row bad.no_dwarf_needs_type err "its type is unknown"             -- $SP --arg 'getpid:arg0' 'uprobe:libc:getpid'

# Debian's sqlite3 CLI: sqlite3_prepare_v2's SQL text (arg1) for every
# statement of the script, in order. The library prepares statements of its
# own (reading the schema) inside sqlite3_prepare_v2 and sqlite3_step: traced
# too, they nest there, so the CLI's are the roots.
if ! command -v sqlite3 >/dev/null; then
	skip sqlite3 "sqlite3 is not installed (scripts/install-deps.sh test installs it)"
	exit 0
fi
cat >"$SCRATCH/script.sql" <<'SQL'
CREATE TABLE kv(k TEXT PRIMARY KEY, v INTEGER);
INSERT INTO kv VALUES ('alpha', 1), ('beta', 2);
INSERT INTO kv VALUES ('it''s', 3);
SELECT k, v FROM kv WHERE v > 1 ORDER BY k;
UPDATE kv SET v = v * 10 WHERE k = 'alpha';
SELECT sum(v) FROM kv;
SQL
cp "$(command -v sqlite3)" "$SCRATCH/sqlite3-counted"
sq=$SCRATCH/sqlite3-counted
# bpftrace counts every sqlite3_prepare_v2 call in the same run (the library's
# own nested ones too), for the summary's count
LIBSQLITE=$(readlink -f "$(ldconfig -p | awk '/libsqlite3\.so\.0 /{print $NF; exit}')")
bpftrace_count_start "$SCRATCH/prepare.bt" "$LIBSQLITE" sqlite3_prepare_v2 sqlite3-counted
"$SPANPROBE" -o jsonl --output-file "$SCRATCH/sql.jsonl" --summary \
	--arg 'sqlite3_prepare_v2:arg1=string,arg2=int' \
	-c "$sq -batch -init /dev/null $SCRATCH/db.sqlite" "uprobe:libsqlite3:sqlite3_prepare_v2,sqlite3_step" \
	<"$SCRATCH/script.sql" >"$SCRATCH/sql.out" 2>"$SCRATCH/sql.err"
expect_eq sqlite3.exit_status "$?" 0
bt_prepares=$(bpftrace_count_stop "$SCRATCH/prepare.bt")
expect_eq sqlite3.results_unchanged "$(cat "$SCRATCH/sql.out")" "$(printf 'beta|2\nit'"'"'s|3\n15')"
got=$(jq -r 'select(.name == "sqlite3_prepare_v2" and .parentSpanId == "") | [.startTimeUnixNano,
	(.attributes[] | select(.key == "spanprobe.arg.arg1") | .value.stringValue)] | @tsv' \
	"$SCRATCH/sql.jsonl" | sort -n | cut -f2-)
expect_eq sqlite3.sql_text_equals_the_script "$got" "$(cat "$SCRATCH/script.sql")"
expect_eq sqlite3.nbyte "$(jq -r 'select(.name == "sqlite3_prepare_v2" and .parentSpanId == "") | .attributes[] |
	select(.key == "spanprobe.arg.arg2") | .value.intValue' "$SCRATCH/sql.jsonl" | sort -u)" -1
# the summary counts every call, nested ones included
calls=$(awk '$1 == "sqlite3_prepare_v2" { print $2 }' "$SCRATCH/sql.err")
check sqlite3.bpftrace_counted_calls test "${bt_prepares:-0}" -gt 0
expect_eq sqlite3.summary_counts_every_call "$calls" "${bt_prepares:-none}"
expect_eq sqlite3.a_span_per_call "$(jq -r 'select(.name == "sqlite3_prepare_v2") | .name' "$SCRATCH/sql.jsonl" | wc -l)" \
	"${bt_prepares:-none}"
