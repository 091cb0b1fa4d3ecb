#!/usr/bin/env bash
# Every error a user can cause: one clear line naming the cause and the fix,
# and a non-zero exit. One row a case (tests/lib/cases.sh):
# NAME | EXIT | STDERR REGEX | REQUIRES | -- COMMAND (hang guard: 5 s).
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/cases.sh"
scratch
mkdir -p "$SCRATCH/nobtf/bus/event_source/devices/uprobe" "$SCRATCH/nouprobe/kernel/btf"
touch "$SCRATCH/nouprobe/kernel/btf/vmlinux"
printf '#!/bin/sh\necho hi\n' >"$SCRATCH/script.sh"
chmod +x "$SCRATCH/script.sh"

SP=$SPANPROBE
P="uprobe:$DEMO:foo,goo,zoo"
CASE_TIMEOUT=5

case_row missing_binary      1   "/nonexistent/app: no such file"                      -- $SP 'uprobe:/nonexistent/app:foo'
case_row bare_name_not_found 1   "nosuchprog: not found on PATH nor as a library"      -- $SP 'uprobe:nosuchprog:foo'
case_row not_elf             1   "not an ELF file"                                     -- $SP "uprobe:$SCRATCH/script.sh:foo"
case_row directory           1   "is a directory"                                      -- $SP "uprobe:$SCRATCH:foo"
case_row no_match            1   "no function matches 'nosuch' in .*try: spanprobe -l" -- $SP "uprobe:$DEMO:nosuch"
case_row no_glob_match       1   "no function matches 'zz\*'"                          -- $SP "uprobe:$DEMO:zz*"
case_row stripped            1   "is stripped .*rebuild without -s"                    -- $SP "uprobe:$ROOT/build/fixtures/elf-stripped:fn_int"
case_row no_btf              1   "no BTF .*CONFIG_DEBUG_INFO_BTF"                      -- env SPANPROBE_SYSFS="$SCRATCH/nobtf" $SP "$P"
case_row no_uprobes          1   "no uprobes .*CONFIG_UPROBE_EVENTS"                   -- env SPANPROBE_SYSFS="$SCRATCH/nouprobe" $SP "$P"
case_row ring_not_pow2       64  "ring-buffer: bad size '3M': must be a power of two"  -- $SP --ring-buffer 3M "$P"
case_row bad_flag            64  "unrecognized option '--bogus'"                       -- $SP --bogus "$P"
case_row no_probe            64  "no PROBE given"                                      -- $SP
case_row unknown_probe_type  64  "unknown probe type 'kprobe'"                         -- $SP 'kprobe:foo:bar'
case_row probe_no_funcs      64  "expected uprobe:BINARY:FUNCS"                        -- $SP 'uprobe:foo'
case_row probe_empty_func    64  "empty function name"                                 -- $SP "uprobe:$DEMO:foo,"
case_row bad_error_rule      64  "condition 'ret<<0' is not"                           -- $SP --error 'goo:ret<<0' "$P"
case_row error_rule_no_func  1   "rule for 'nosuch' names no traced function"          -- $SP --error 'nosuch:ret<0' "$P"
case_row error_rule_void     1   "zoo returns void"                                    -- $SP --error 'zoo:ret<0' "$P"
case_row bad_pid             64  "invalid PID 'abc'"                                   -- $SP -p abc "$P"
case_row no_such_pid         1   "no process with PID 999999999"                       -- $SP -p 999999999 "$P"
case_row pid_and_cmd         64  "-p and -c exclude each other"                        -- $SP -p 1 -c true "$P"
case_row bad_output          64  "unknown output 'xml'"                                -- $SP -o xml "$P"
case_row cmd_missing         127 "can't run the -c command: No such file"              -- $SP -c /nonexistent/cmd "$P"
case_row output_file_bad_dir 1   "can't write /nonexistent/dir/out"                    -- $SP --output-file /nonexistent/dir/out "$P"
case_row bad_otlp_protocol   1   "http/json|protocol"                                  -- $SP -o otlp --protocol carrier-pigeon "$P"

# Not root: the privilege check names what is missing (as the nobody user).
case_row no_privilege        1   "not enough privilege .*CAP_BPF and CAP_PERFMON"      requires=setpriv -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all $SP "$P"

# Library names resolve as bpftrace does, and --dry-run attaches then exits 0.
CASE_TIMEOUT=10
case_row dry_run_libc_by_name     0 "" -- $SP --dry-run 'uprobe:libc:malloc'
case_row dry_run_versioned_soname 0 "" -- $SP --dry-run 'uprobe:libc.so.6:free'
check dry_run_reports_attach grep -q "attached 1 functions" "$SCRATCH/case.err"

# Without CAP_SYS_PTRACE other processes' roots can't be opened: said, not a
# silent "nothing found in any container".
setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace "$SP" --dry-run \
	'uprobe:/usr/local/bin/nothing-here:foo' >/dev/null 2>"$SCRATCH/noptrace.err"
check no_sys_ptrace_said grep -q "permission denied): paths inside their containers are not searched (grant CAP_SYS_PTRACE)" "$SCRATCH/noptrace.err"
