#!/usr/bin/env bash
# Containers that try to steer spanprobe (Debian roots from mmdebstrap,
# entered with unshare + chroot, in cgroups named like a kubelet pod's):
# symlinks at the probed binary (absolute, through "..", loops, into /proc,
# a FIFO, a directory swapped for a link while spanprobe looks), at its
# debug file, and at the files a pod's identity used to be read from. No
# host file may be read or probed: the kernel's links (bpftool) name only
# files inside the containers, a host process running the file a link
# points at gets no span, no exported attribute carries host data or a
# forged name; each refused path gets one clear line.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/hostile.sh"
scratch
hostile_build hostile_root || exit 0
command -v bpftool >/dev/null || { skip bpftool "bpftool is needed to read the links"; exit 0; }

SECRET=$SCRATCH/host-secret.txt
HOSTBIN=$SCRATCH/hostbin/demo-app # a host file the containers point at
echo "TOPSECRET-HOST-LINE" >"$SECRET"
mkdir -p "$(dirname "$HOSTBIN")" "$SCRATCH/hostdebug"
cp "$DEMO" "$HOSTBIN"
APP_ARGS=(--requests 0 --interval 20 --time-scale 0.002)

# A host process running the host file: it must never be traced.
"$HOSTBIN" "${APP_ARGS[@]}" >/dev/null 2>&1 &
HOST_PID=$!
bg_track $HOST_PID

# links: the files of the uprobe links on files of this test (bpftool shows
# the kernel's path of the file it probes; other tests' links are elsewhere)
links() {
	bpftool -j link show 2>/dev/null |
		jq -r --arg dir "$SCRATCH/" '.[] | select(.type == "uprobe_multi") | .path |
			select(startswith($dir))' | sort -u
}

# --- c1: the attacker's links, in a pod-like cgroup, forged identity files
hostile_new c1 || { fail c1_root "can't make the container root"; exit 0; }
R1=$HOSTILE_ROOT
mkdir -p "$R1$(dirname "$HOSTBIN")" "$R1/var/run/secrets/kubernetes.io/serviceaccount"
cp "$DEMO" "$R1$HOSTBIN" # the container's own file at the host file's path
ln -sf "$HOSTBIN" "$R1/usr/local/bin/victim"
ln -s "../../../../../../../../..$HOSTBIN" "$R1/usr/local/bin/dots"
ln -s loop-b "$R1/usr/local/bin/loop-a" && ln -s loop-a "$R1/usr/local/bin/loop-b"
mkfifo "$R1/usr/local/bin/fifo"
ln -s "/proc/self/root$HOSTBIN" "$R1/usr/local/bin/magic" # the classic way out
ln -s /proc/self/status "$R1/usr/local/bin/procfile"
ln -sf "$SECRET" "$R1/etc/hostname"
echo kube-system >"$R1/var/run/secrets/kubernetes.io/serviceaccount/namespace"
# a procfs in the container, as a runtime mounts it (here the host's PID
# namespace's: /proc/self is spanprobe itself)
mount -t proc proc "$R1/proc" && hostile_mount "$R1/proc"
UID1=$(hostile_uid) CID1=$(hostile_cid)
hostile_start c1 "$UID1" "$CID1" /usr/local/bin/victim "${APP_ARGS[@]}" || {
	fail c1_start "see above"
	exit 0
}
P1=$HOSTILE_PID

# --- -p: each hostile path of c1, resolved inside c1's root
run_p() { # run_p NAME PROBE: spanprobe -p P1 for a few calls; status in RC
	local name=$1
	"$SPANPROBE" -p "$P1" -o jsonl --output-file "$SCRATCH/$name.jsonl" "$2" 2>"$SCRATCH/$name.err" &
	local sp=$!
	if wait_for_line "$SCRATCH/$name.err" "tracing\|spanprobe: .*/usr/local/bin" 30; then
		if grep -q tracing "$SCRATCH/$name.err"; then
			wait_for_count "$SCRATCH/$name.jsonl" '"name":"foo"' 3 60
			LINKS=$(links)
			kill -INT $sp
		fi
	fi
	if ! wait_exit $sp 60; then
		kill -9 $sp
		fail "$name.no_hang" "hang guard: spanprobe still runs after 60 s"
	fi
	RC=$WAIT_STATUS
}

LINKS=""
run_p p_absolute 'uprobe:/usr/local/bin/victim:foo'
expect_eq p_absolute.exit_status "$RC" 0
check p_absolute.kernel_probes_the_containers_file grep -qx "$R1$HOSTBIN" <<<"$LINKS"
check p_absolute.not_the_host_file bash -c "! grep -qx '$HOSTBIN' <<<'$LINKS'"
check p_absolute.spans_from_the_container grep -q "\"process.pid\",\"value\":{\"intValue\":\"$P1\"}" "$SCRATCH/p_absolute.jsonl"

LINKS=""
run_p p_dotdot 'uprobe:/usr/local/bin/dots:foo'
expect_eq p_dotdot.exit_status "$RC" 0
check p_dotdot.kernel_probes_the_containers_file grep -qx "$R1$HOSTBIN" <<<"$LINKS"
check p_dotdot.not_the_host_file bash -c "! grep -qx '$HOSTBIN' <<<'$LINKS'"

for c in "loop-a:too many levels of symbolic links" "fifo:not a regular file" \
	"magic:a link into /proc" "procfile:pseudo-filesystem"; do
	name=${c%%:*} why=${c#*:}
	run_p "p_$name" "uprobe:/usr/local/bin/$name:foo"
	check "p_$name.fails" test "$RC" -ne 0
	if [ "$(grep -c "in the root of process $P1: .*$why" "$SCRATCH/p_$name.err")" -eq 1 ]; then
		pass "p_$name.one_line_says_why"
	else
		fail "p_$name.one_line_says_why" "$(cat "$SCRATCH/p_$name.err")"
	fi
	check "p_$name.nothing_else_said" test "$(wc -l <"$SCRATCH/p_$name.err")" -eq 1
done

# --- -p with a library's bare name: the library the process maps (its
# /proc/PID/maps path), opened inside its root, not the host's of that name
"$SPANPROBE" -p "$P1" -l 'uprobe:libc:getpid' >"$SCRATCH/maps.txt" 2>&1
check maps.the_containers_library grep -q "^uprobe:/proc/$P1/root/usr/lib/x86_64-linux-gnu/libc.so.6:getpid " "$SCRATCH/maps.txt"
"$SPANPROBE" -p "$P1" -l 'uprobe:libnope:foo' >"$SCRATCH/maps-none.txt" 2>&1
check maps.none_says_why grep -q "libnope: process $P1 maps no such library" "$SCRATCH/maps-none.txt"

# --- the debug file: c1's demo-app without DWARF, its debug link a link to
# a host file (which has the DWARF): not used; the container's own copy is.
objcopy --only-keep-debug "$DEMO" "$SCRATCH/hostdebug/demo-app.debug"
strip --strip-debug -o "$R1/usr/local/bin/nodwarf" "$DEMO"
objcopy --add-gnu-debuglink="$SCRATCH/hostdebug/demo-app.debug" "$R1/usr/local/bin/nodwarf"
ln -s "$SCRATCH/hostdebug/demo-app.debug" "$R1/usr/local/bin/demo-app.debug"
"$SPANPROBE" -p "$P1" -l 'uprobe:/usr/local/bin/nodwarf:foo' -v >"$SCRATCH/dbg-host.txt" 2>&1
check debug_link.host_file_not_read bash -c "! grep -q 'demo-app.c' '$SCRATCH/dbg-host.txt'"
mkdir -p "$R1$SCRATCH/hostdebug" && cp "$SCRATCH/hostdebug/demo-app.debug" "$R1$SCRATCH/hostdebug/"
"$SPANPROBE" -p "$P1" -l 'uprobe:/usr/local/bin/nodwarf:foo' -v >"$SCRATCH/dbg-own.txt" 2>&1
check debug_link.containers_own_debug_file_used grep -q 'demo-app.c' "$SCRATCH/dbg-own.txt"

# --- system-wide (the DaemonSet's way): the attacker's link, and paths that
# must not stop the daemon; c2 swaps a directory on the probed path for a
# link to a host directory, over and over, while spanprobe looks (at each of
# c2's execs) and starts after spanprobe.
cp "$DEMO" "$SCRATCH/hostbin/swapped"
"$SCRATCH/hostbin/swapped" "${APP_ARGS[@]}" >/dev/null 2>&1 &
HOST_PID2=$!
bg_track $HOST_PID2
# a chroot in spanprobe's own mount namespace: a root of its own, searched
# as such (not skipped as "our namespace")
hostile_new c3 || { fail c3_root "can't make the container root"; exit 0; }
R3=$HOSTILE_ROOT
cp "$DEMO" "$R3/usr/local/bin/chrooted"
chroot "$R3" /usr/local/bin/chrooted "${APP_ARGS[@]}" >/dev/null 2>&1 &
P3=$!
bg_track $P3
"$SPANPROBE" --wait -o jsonl --output-file "$SCRATCH/wide.jsonl" 'uprobe:/usr/local/bin/chrooted:foo' \
	'uprobe:/usr/local/bin/victim:foo' 'uprobe:/usr/local/bin/loop-a:foo' \
	'uprobe:/usr/local/bin/fifo:foo' 'uprobe:/usr/local/bin/swapped:foo' 2>"$SCRATCH/wide.err" &
WIDE=$!
bg_track $WIDE
check wide.attached_to_c1_and_chroot wait_for_line "$SCRATCH/wide.err" "tracing 2 functions" 30
check wide.loop_warned grep -q "warning: /usr/local/bin/loop-a in the root of process [0-9]*: too many levels" "$SCRATCH/wide.err"
check wide.fifo_warned grep -q "warning: /usr/local/bin/fifo in the root of process [0-9]*: not a regular file" "$SCRATCH/wide.err"

hostile_new c2 || { fail c2_root "can't make the container root"; exit 0; }
R2=$HOSTILE_ROOT
[ -n "$R2" ] && [ "$R2" != / ] || exit 1
mkdir -p "$R2$SCRATCH/hostbin" "$R2/usr/local/bin.d"
cp "$DEMO" "$R2$SCRATCH/hostbin/swapped" # the container's own file behind the link
cp "$DEMO" "$R2/usr/local/bin.d/swapped"
rm -rf "$R2/usr/local/bin"
# /usr/local/bin: a directory holding swapped, then a link to the host's
# directory of a host file of that name, and back, without end
printf '%s\n' '#!/bin/sh' 'while :; do' \
	'	mv /usr/local/bin.d /usr/local/bin' \
	'	mv /usr/local/bin /usr/local/bin.d' \
	"	ln -s $SCRATCH/hostbin /usr/local/bin" \
	'	rm /usr/local/bin' 'done' >"$R2/swap.sh"
chmod +x "$R2/swap.sh"
UID2=$(hostile_uid) CID2=$(hostile_cid)
hostile_start c2 "$UID2" "$CID2" /swap.sh || { fail c2_start "see above"; exit 0; }
check wide.c2_found_while_swapping wait_for_line "$SCRATCH/wide.err" "tracing /usr/local/bin/swapped (/proc/[0-9]*/root" 30
wait_for_count "$SCRATCH/wide.jsonl" "\"intValue\":\"$P1\"" 5 60
wait_for_count "$SCRATCH/wide.jsonl" "\"intValue\":\"$P3\"" 5 60
LINKS=$(links)
kill -INT $WIDE
wait_exit $WIDE 60 || fail wide.exits "hang guard: spanprobe still runs 60 s after SIGINT"
expect_eq wide.exit_status "$WAIT_STATUS" 0

# the kernel's links name files inside the containers, never the host's
check wide.c1_file_attached grep -qx "$R1$HOSTBIN" <<<"$LINKS"
check wide.no_host_file_attached bash -c "! grep -qx -e '$HOSTBIN' -e '$SCRATCH/hostbin/swapped' <<<'$LINKS'"
check wide.c2_files_are_its_own bash -c "! grep '/swapped\$' <<<'$LINKS' | grep -qv '^$SCRATCH/c2/root/'"
for p in $HOST_PID $HOST_PID2; do
	check "wide.no_span_from_host_process_$p" bash -c "! grep -q '\"intValue\":\"$p\"' '$SCRATCH/wide.jsonl'"
done
check wide.spans_from_c1 grep -q "\"intValue\":\"$P1\"" "$SCRATCH/wide.jsonl"
check wide.chroot_in_our_namespace_attached grep -qx "$R3/usr/local/bin/chrooted" <<<"$LINKS"
check wide.spans_from_the_chroot grep -q "\"intValue\":\"$P3\"" "$SCRATCH/wide.jsonl"

# --- identity: nothing read from inside the container reaches a span
ALL=$(cat "$SCRATCH"/*.jsonl)
check identity.no_host_data bash -c "! grep -q TOPSECRET <<<\"\$1\"" _ "$ALL"
check identity.no_forged_namespace bash -c "! grep -q kube-system <<<\"\$1\"" _ "$ALL"
check identity.no_pod_name_without_api bash -c "! grep -q -e k8s.pod.name -e k8s.namespace.name <<<\"\$1\"" _ "$ALL"
attrs=$(jq -c 'select(.name == "foo") | [.attributes[] | select(.key == "k8s.pod.uid" or .key == "container.id") | .value.stringValue]' \
	"$SCRATCH/p_absolute.jsonl" | sort -u)
expect_eq identity.pod_uid_and_container_from_the_cgroup "$attrs" "[\"$CID1\",\"$UID1\"]"

# --- python: an interpreter's libpython is looked up inside the root the
# interpreter is in. pyenv's CPython 3.10 has a run path naming a host
# directory (its prefix), and a link at the library's name points at the
# host's libpython: neither may lead to the host's file.
source "$ROOT/tests/lib/pyenvs.sh"
PYPREFIX=$(pyenv_prefix 3.10)
if [ -z "$PYPREFIX" ] || [ ! -f "$PYPREFIX/lib/libpython3.10.so.1.0" ]; then
	skip python "pyenv's CPython 3.10 is not installed (pyenv install 3.10)"
	exit 0
fi
HOSTLIB=$PYPREFIX/lib/libpython3.10.so.1.0
cp "$PYPREFIX/bin/python3.10" "$R1/usr/local/bin/pyhostile"
ln -s "$HOSTLIB" "$R1/usr/local/lib/libpython3.10.so.1.0"
"$SPANPROBE" -l 'python:/usr/local/bin/pyhostile' >"$SCRATCH/py-link.txt" 2>&1
check python.link_to_host_libpython_not_followed bash -c \
	"! grep -q -e '\[evaluator\]' -e '\[USDT\]' -e '$HOSTLIB' '$SCRATCH/py-link.txt'"
check python.link_to_host_libpython_says_why \
	grep -q "loads libpython3.10.so.1.0, which was found in none" "$SCRATCH/py-link.txt"
# the container's own copy is what is read
rm "$R1/usr/local/lib/libpython3.10.so.1.0"
cp "$HOSTLIB" "$R1/usr/local/lib/"
"$SPANPROBE" -l 'python:/usr/local/bin/pyhostile' >"$SCRATCH/py-own.txt" 2>&1
check python.containers_own_libpython_used grep -q \
	"\[evaluator\]  /proc/[0-9]*/root/usr/local/lib/libpython3.10.so.1.0" "$SCRATCH/py-own.txt"
rm "$R1/usr/local/bin/pyhostile"
# a chroot in spanprobe's own mount namespace: its run path (a host
# directory) is looked up in the chroot, not on the host
cp "$PYPREFIX/bin/python3.10" "$R3/usr/local/bin/pyhostile"
"$SPANPROBE" -l 'python:/usr/local/bin/pyhostile' >"$SCRATCH/py-chroot.txt" 2>&1
check python.chroot_run_path_not_on_host bash -c \
	"! grep -q -e '\[evaluator\]' -e '\[USDT\]' -e '$HOSTLIB' '$SCRATCH/py-chroot.txt'"
check python.chroot_says_why \
	grep -q "loads libpython3.10.so.1.0, which was found in none" "$SCRATCH/py-chroot.txt"
