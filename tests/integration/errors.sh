#!/usr/bin/env bash
# Every error a user can cause: one clear line naming the cause and the fix,
# and a non-zero exit. Declarative: NAME | EXIT | STDERR REGEX | ARGS...
source "$(dirname "$0")/../lib/common.sh"
scratch
mkdir -p "$SCRATCH/nobtf/bus/event_source/devices/uprobe" "$SCRATCH/nouprobe/kernel/btf"
touch "$SCRATCH/nouprobe/kernel/btf/vmlinux"
printf '#!/bin/sh\necho hi\n' >"$SCRATCH/script.sh"
chmod +x "$SCRATCH/script.sh"

# expect NAME EXIT REGEX -- COMMAND...: runs it (hang guard: 5 s), checks the exit
# code, that stderr matches REGEX, and that spanprobe's own error is one line.
expect() {
	local name=$1 want_rc=$2 regex=$3 rc lines
	shift 4
	timeout $((5 * HANG_SCALE)) "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null
	rc=$?
	if [ "$rc" != "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc; stderr: $(head -c 300 "$SCRATCH/err")"
	elif ! grep -Eq -- "$regex" "$SCRATCH/err"; then
		fail "$name" "stderr '$(head -c 300 "$SCRATCH/err")' does not match /$regex/"
	else
		lines=$(grep -c '^spanprobe: ' "$SCRATCH/err")
		if [ "$lines" != 1 ]; then fail "$name" "$lines error lines: $(cat "$SCRATCH/err")"; else pass "$name"; fi
	fi
}
SP=$SPANPROBE
P="uprobe:$DEMO:foo,goo,zoo"

expect missing_binary      1 "/nonexistent/app: no such file"                  -- $SP 'uprobe:/nonexistent/app:foo'
expect bare_name_not_found 1 "nosuchprog: not found on PATH nor as a library"   -- $SP 'uprobe:nosuchprog:foo'
expect not_elf             1 "not an ELF file"                                  -- $SP "uprobe:$SCRATCH/script.sh:foo"
expect directory           1 "is a directory"                                   -- $SP "uprobe:$SCRATCH:foo"
expect no_match            1 "no function matches 'nosuch' in .*try: spanprobe -l" -- $SP "uprobe:$DEMO:nosuch"
expect no_glob_match       1 "no function matches 'zz\*'"                       -- $SP "uprobe:$DEMO:zz*"
expect stripped            1 "is stripped .*rebuild without -s"                 -- $SP "uprobe:$ROOT/build/fixtures/elf-stripped:fn_int"
expect no_btf              1 "no BTF .*CONFIG_DEBUG_INFO_BTF"                   -- env SPANPROBE_SYSFS="$SCRATCH/nobtf" $SP "$P"
expect no_uprobes          1 "no uprobes .*CONFIG_UPROBE_EVENTS"               -- env SPANPROBE_SYSFS="$SCRATCH/nouprobe" $SP "$P"
expect ring_not_pow2       64 "ring-buffer: bad size '3M': must be a power of two" -- $SP --ring-buffer 3M "$P"
expect bad_flag            64 "unrecognized option '--bogus'"                  -- $SP --bogus "$P"
expect no_probe            64 "no PROBE given"                                  -- $SP
expect unknown_probe_type  64 "unknown probe type 'kprobe'"                    -- $SP 'kprobe:foo:bar'
expect probe_no_funcs      64 "expected uprobe:BINARY:FUNCS"                   -- $SP 'uprobe:foo'
expect probe_empty_func    64 "empty function name"                            -- $SP "uprobe:$DEMO:foo,"
expect bad_error_rule      64 "condition 'ret<<0' is not"                      -- $SP --error 'goo:ret<<0' "$P"
expect error_rule_no_func  1 "rule for 'nosuch' names no traced function"      -- $SP --error 'nosuch:ret<0' "$P"
expect error_rule_void     1 "zoo returns void"                                -- $SP --error 'zoo:ret<0' "$P"
expect bad_pid             64 "invalid PID 'abc'"                              -- $SP -p abc "$P"
expect no_such_pid         1 "no process with PID 999999999"                   -- $SP -p 999999999 "$P"
expect pid_and_cmd         64 "-p and -c exclude each other"                   -- $SP -p 1 -c true "$P"
expect bad_output          64 "unknown output 'xml'"                           -- $SP -o xml "$P"
expect cmd_missing         127 "can't run the -c command: No such file"        -- $SP -c /nonexistent/cmd "$P"
expect output_file_bad_dir 1 "can't write /nonexistent/dir/out"                -- $SP --output-file /nonexistent/dir/out "$P"
expect bad_otlp_protocol   1 "http/json|protocol"                              -- $SP -o otlp --protocol carrier-pigeon "$P"

# Not root: the privilege check names what is missing (as the nobody user).
if command -v setpriv >/dev/null; then
	expect no_privilege 1 "not enough privilege .*CAP_BPF and CAP_PERFMON" -- \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all $SP "$P"
else
	skip no_privilege "setpriv (util-linux) is not installed"
fi

# Library names resolve as bpftrace does, and --dry-run attaches then exits 0.
expect_dry() { timeout $((10 * HANG_SCALE)) "$SP" --dry-run "$1" >/dev/null 2>"$SCRATCH/err"; }
check dry_run_libc_by_name expect_dry 'uprobe:libc:malloc'
check dry_run_versioned_soname expect_dry 'uprobe:libc.so.6:free'
check dry_run_reports_attach grep -q "attached 1 functions" "$SCRATCH/err"

# Without CAP_SYS_PTRACE other processes' roots can't be opened: said, not a
# silent "nothing found in any container".
setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace "$SP" --dry-run \
	'uprobe:/usr/local/bin/nothing-here:foo' >/dev/null 2>"$SCRATCH/noptrace.err"
check no_sys_ptrace_said grep -q "permission denied): paths inside their containers are not searched (grant CAP_SYS_PTRACE)" "$SCRATCH/noptrace.err"
