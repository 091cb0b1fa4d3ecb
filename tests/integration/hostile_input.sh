#!/usr/bin/env bash
# Hostile input, each run by the normal and the ASan+UBSan spanprobe: files
# that are not what a probe expects (unreadable, not ELF, truncated or
# corrupted ELF, relocatable, stripped, directory, symlink loop, FIFO,
# devices), absurd probe and rule lists (10,000 names), bytes that are not
# text in names, and malformed OTEL_* values. Each must give one clear
# error line and a small exit code, or be handled (a warning, then a normal
# run); never a signal, a hang (a 30 s guard, times HANG_SCALE) or a sanitizer report.
# One row a case (tests/lib/cases.sh), run by each build, named BUILD.NAME:
# NAME | EXIT (a number, or "err" for any of 1..123) | STDERR REGEX | REQUIRES | -- COMMAND
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/cases.sh"
scratch
ASAN_SP=$ROOT/build/asan/spanprobe
# A sanitizer report exits 99. A huge OTEL_BSP_MAX_QUEUE_SIZE is a failed
# calloc for spanprobe to report, not an ASan abort.
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=99:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
H=$SCRATCH/h
mkdir -p "$H"
chmod 755 "$SCRATCH"

# --- the files ---------------------------------------------------------------
printf '#!/bin/sh\necho hi\n' >"$H/script"
: >"$H/empty"
head -c 40 "$DEMO" >"$H/elf-header-cut"
head -c 5000 "$DEMO" >"$H/elf-cut-5k"
head -c "$(($(stat -c %s "$DEMO") / 2))" "$DEMO" >"$H/elf-cut-half"
# e_shoff (offset 0x28) far past the end; e_shnum (0x3c) 0xffff; e_phoff (0x20) past the end
patch_bytes() { # patch_bytes FILE OFFSET HEXBYTES
	printf "$(sed 's/\(..\)/\\x\1/g' <<<"$3")" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
cp "$DEMO" "$H/elf-bad-shoff" && patch_bytes "$H/elf-bad-shoff" 0x28 00000000ffff0000
cp "$DEMO" "$H/elf-bad-shnum" && patch_bytes "$H/elf-bad-shnum" 0x3c ffff
cp "$DEMO" "$H/elf-bad-phoff" && patch_bytes "$H/elf-bad-phoff" 0x20 00000000ffff0000
# every section header's sh_offset/sh_size scrambled: random bytes over the table
cp "$DEMO" "$H/elf-garbage-shdrs"
shoff=$(od -An -t u8 -j 40 -N 8 "$DEMO" | tr -d ' ')
head -c 4096 /dev/urandom | dd of="$H/elf-garbage-shdrs" bs=1 seek="$shoff" conv=notrunc status=none
${CC:-clang-19} -c -x c - -o "$H/reloc.o" <<<'int f(void) { return 1; }' 2>/dev/null ||
	cp "$H/empty" "$H/reloc.o"
cp "$DEMO" "$H/unreadable" && chmod 000 "$H/unreadable"
mkdir "$H/dir"
ln -s "$H/loop-b" "$H/loop-a" && ln -s "$H/loop-a" "$H/loop-b"
mkfifo "$H/fifo"
NAMES_10K=$(seq -f 'f%g' 1 10000 | paste -sd,)
FOO_10K=$(yes foo | head -n 10000 | paste -sd,)
LONG_PATH=/$(head -c 5000 /dev/zero | tr '\0' a)

# --- the runner (tests/lib/cases.sh): every row with both builds -------------
CASE_TIMEOUT=30
CASE_BUILDS="plain=$SPANPROBE asan=$ASAN_SP"
sp() { "$SP" "$@"; }
# As nobody, who can't read a mode-000 file (root reads anything).
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
# This row's spanprobe ($SP: the plain or the ASan build) as nobody.
sp_as_nobody() { as_nobody "$SP" "$@"; }
# A run through the whole lifecycle (attach, 2 requests, export to a closed
# port, shut down) under the environment given first.
run_env() { env OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 OTEL_BSP_EXPORT_TIMEOUT=500 "$@" \
	"$SP" -o otlp -c "$DEMO --requests 2 --time-scale 0" "uprobe:$DEMO:foo,goo,zoo"; }
export -f sp as_nobody sp_as_nobody run_env
export DEMO SPANPROBE
if [ ! -x "$ASAN_SP" ]; then
	fail asan_build "no $ASAN_SP (make SANITIZE=1 build/asan/spanprobe)"
	exit 1
fi

# --- files (listing resolves and reads symbols as attaching does) ------------
case_row missing_file        1 "no such file"                    -- sp -l "uprobe:$H/nonexistent:foo"
case_row unreadable_as_nobody 1 "unreadable: permission denied"  requires=setpriv -- sp_as_nobody -l "uprobe:$H/unreadable:foo"
case_row script              1 "not an ELF file"                 -- sp -l "uprobe:$H/script:foo"
case_row empty_file          1 "not an ELF file"                 -- sp -l "uprobe:$H/empty:foo"
case_row elf_header_cut      1 "not an ELF file"                 -- sp -l "uprobe:$H/elf-header-cut:foo"
case_row elf_cut_5k          1 "elf-cut-5k: "                    -- sp -l "uprobe:$H/elf-cut-5k:foo"
case_row elf_cut_half        err "elf-cut-half"                  -- sp -l "uprobe:$H/elf-cut-half:foo"
case_row elf_bad_shoff       err "elf-bad-shoff"                 -- sp -l "uprobe:$H/elf-bad-shoff:foo"
case_row elf_bad_shnum       err "elf-bad-shnum"                 -- sp -l "uprobe:$H/elf-bad-shnum:foo"
case_row elf_bad_phoff       err "elf-bad-phoff"                 -- sp -l "uprobe:$H/elf-bad-phoff:foo"
case_row elf_garbage_shdrs   err "elf-garbage-shdrs"             -- sp -l "uprobe:$H/elf-garbage-shdrs:foo"
case_row elf_garbage_attach  err "elf-garbage-shdrs"             -- sp --dry-run "uprobe:$H/elf-garbage-shdrs:foo"
case_row relocatable_object  1 "reloc.o: "                       -- sp -l "uprobe:$H/reloc.o:f"
case_row stripped_all        1 "stripped"                        -- sp -l "uprobe:$ROOT/build/fixtures/elf-stripped:*"
case_row directory           1 "is a directory"                  -- sp -l "uprobe:$H/dir:foo"
case_row symlink_loop        1 "loop-a: "                        -- sp -l "uprobe:$H/loop-a:foo"
case_row fifo                1 "fifo: "                          -- sp -l "uprobe:$H/fifo:foo"
case_row fifo_attach         1 "fifo: "                          -- sp --dry-run "uprobe:$H/fifo:foo"
case_row dev_zero            1 "/dev/zero: "                     -- sp -l "uprobe:/dev/zero:foo"
case_row dev_null            1 "/dev/null: "                     -- sp -l "uprobe:/dev/null:foo"
case_row proc_self_mem       1 "/proc/self/mem: "                -- sp -l "uprobe:/proc/self/mem:foo"
case_row path_5000_bytes     1 "aaaa"                            -- sp -l "uprobe:$LONG_PATH:foo"

# --- probe and rule lists ----------------------------------------------------
case_row names_10000_none_match 1 "no function matches 'f1'"     -- sp -l "uprobe:$DEMO:$NAMES_10K"
case_row names_10000_same       0 ""                             -- sp -l "uprobe:$DEMO:$FOO_10K"
case_row names_10000_attach     0 "attached 1 functions"         -- sp --dry-run "uprobe:$DEMO:$FOO_10K"
case_row rule_10000_funcs       0 ""                             -- sp --error "$FOO_10K:ret<0" -l "uprobe:$DEMO:foo,goo"
case_row probes_1000_args       0 ""                             -- sp -l $(yes "uprobe:$DEMO:foo" | head -n 1000)
case_row name_invalid_utf8      1 "no function matches"          -- sp -l "uprobe:$DEMO:"$'\xff\xfe\xc3'
case_row name_newline           64 "control characters"          -- sp -l "uprobe:$DEMO:foo"$'\n'"bar"
case_row name_escape_sequence   64 "control characters"          -- sp -l "uprobe:$DEMO:"$'\e[31mred'
case_row rule_control_chars     err "."                          -- sp --error $'goo\r:ret<0' -l "uprobe:$DEMO:foo,goo"
case_row rule_huge_value        64 "ret<99999999999999999999"    -- sp --error 'goo:ret<99999999999999999999' -l "uprobe:$DEMO:goo"
case_row binary_invalid_utf8    1 "."                            -- sp -l $'uprobe:/tmp/\xff\xfe:foo'

# --- OTEL_* values: refused at start with one line, or warned and handled ----
case_row env_queue_negative     1 "OTEL_BSP_MAX_QUEUE_SIZE='-1'"    -- run_env OTEL_BSP_MAX_QUEUE_SIZE=-1
case_row env_queue_text         1 "OTEL_BSP_MAX_QUEUE_SIZE='abc'"   -- run_env OTEL_BSP_MAX_QUEUE_SIZE=abc
case_row env_queue_overflow     1 "OTEL_BSP_MAX_QUEUE_SIZE"         -- run_env OTEL_BSP_MAX_QUEUE_SIZE=99999999999999999999
case_row env_queue_huge         1 "queue of 2147483647"             -- run_env OTEL_BSP_MAX_QUEUE_SIZE=2147483647
case_row env_batch_zero         1 "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"  -- run_env OTEL_BSP_MAX_EXPORT_BATCH_SIZE=0
case_row env_batch_over_queue   0 "warning: .*using 2048"           -- run_env OTEL_BSP_MAX_EXPORT_BATCH_SIZE=100000
case_row env_schedule_delay_0   0 "6 spans"                         -- run_env OTEL_BSP_SCHEDULE_DELAY=0
case_row env_export_timeout_exp 1 "OTEL_BSP_EXPORT_TIMEOUT='1e99'"  -- run_env OTEL_BSP_EXPORT_TIMEOUT=1e99
case_row env_timeout_too_big    1 "OTEL_EXPORTER_OTLP_TIMEOUT"      -- run_env OTEL_EXPORTER_OTLP_TIMEOUT=99999999999999
case_row env_headers_garbage    1 "OTEL_EXPORTER_OTLP_HEADERS"      -- run_env "OTEL_EXPORTER_OTLP_HEADERS==,,%zz"
case_row env_headers_crlf       1 "OTEL_EXPORTER_OTLP_HEADERS"      -- run_env "OTEL_EXPORTER_OTLP_HEADERS=a=b%0d%0aX-Injected: 1"
case_row env_headers_9000_key   0 "6 spans"                         -- run_env "OTEL_EXPORTER_OTLP_HEADERS=$(head -c 9000 /dev/zero | tr '\0' k)=v"
case_row env_resource_garbage   0 "warning: ignoring OTEL_RESOURCE_ATTRIBUTES" -- run_env "OTEL_RESOURCE_ATTRIBUTES=%%%,=,a"
case_row env_service_binary     0 "6 spans"                         -- run_env OTEL_SERVICE_NAME=$'\x01\xff\x7f'
case_row env_endpoint_no_url    1 "OTEL_EXPORTER_OTLP_ENDPOINT"     -- run_env OTEL_EXPORTER_OTLP_ENDPOINT=::::
case_row env_endpoint_ftp       1 "OTEL_EXPORTER_OTLP_ENDPOINT"     -- run_env OTEL_EXPORTER_OTLP_ENDPOINT=ftp://x
case_row env_endpoint_bad_ipv6  1 "not a URL"                       -- run_env "OTEL_EXPORTER_OTLP_ENDPOINT=http://[::1"
case_row env_endpoint_bad_port  1 "not a URL"                       -- run_env OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:99999
case_row env_traces_endpoint_binary 1 "."                           -- run_env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=$'\x01\xff'
case_row env_protocol           1 "OTEL_EXPORTER_OTLP_PROTOCOL='xml'" -- run_env OTEL_EXPORTER_OTLP_PROTOCOL=xml
case_row env_compression        1 "OTEL_EXPORTER_OTLP_COMPRESSION='br'" -- run_env OTEL_EXPORTER_OTLP_COMPRESSION=br
case_row env_insecure           0 "warning: OTEL_EXPORTER_OTLP_INSECURE" -- run_env OTEL_EXPORTER_OTLP_INSECURE=maybe
case_row env_certificate_missing 1 "OTEL_EXPORTER_OTLP_CERTIFICATE" -- run_env OTEL_EXPORTER_OTLP_CERTIFICATE=/nonexistent
