# Booting the pinned kernels (tests/kernels/kernels.list) under QEMU with
# virtme-ng: the host's root filesystem shared read-only, one directory shared
# read-write for results. TCG (--disable-kvm): nested KVM does not work on the
# VMs CI runs on. Sourced by tests/kernels/run.sh and bench/kernels.sh, after
# ROOT is set.
#   kernels_names                  the pinned NAMEs, or those in $KERNELS
#   kernels_setup                  virtme-ng in a cached venv; sets VNG
#   kernel_fetch NAME              the kernel package, cached and unpacked;
#                                  sets KERNEL_IMAGE and KERNEL_LABEL
#   vm_run NAME OUTDIR NET CMD...  boots NAME, runs CMD in it (OUTDIR shared
#                                  read-write, NET 1 gives it a network where
#                                  10.0.2.2 is the host's loopback); 0 when the
#                                  guest wrote OUTDIR/done, 2 when the host's
#                                  kernel killed QEMU (VM_KILLED says how)
# Everything downloaded lives under ~/.cache/spanprobe-kernels.
# shellcheck shell=bash

KERNELS_CACHE=${SPANPROBE_KERNELS_CACHE:-$HOME/.cache/spanprobe-kernels}
KERNELS_LIST=$ROOT/tests/kernels/kernels.list
# Hang guard, 10x a usual boot and test run (3-6 min) under TCG.
VM_HANG_GUARD_S=${VM_HANG_GUARD_S:-3600}

kernels_log() { echo "kernels: $*" >&2; }

kernels_names() {
	local name
	for name in $(awk '$1 == "kernel" { print $2 }' "$KERNELS_LIST"); do
		if [ -z "${KERNELS:-}" ] || [[ " $KERNELS " == *" $name "* ]]; then
			echo "$name"
		fi
	done
}

_kernels_setup() {
	local version venv
	version=$(awk '$1 == "virtme-ng" { print $2 }' "$KERNELS_LIST")
	venv=$KERNELS_CACHE/virtme-ng-$version
	if [ ! -x "$venv/bin/vng" ]; then
		kernels_log "installing virtme-ng $version from PyPI into $venv"
		rm -rf "$venv"
		mkdir -p "$KERNELS_CACHE"
		python3 -m venv "$venv" &&
			"$venv/bin/pip" install --quiet --disable-pip-version-check "virtme-ng==$version" || {
			kernels_log "can't install virtme-ng $version from PyPI (pip install virtme-ng==$version failed)"
			rm -rf "$venv"
			return 1
		}
	fi
	# vng runs virtme-run from PATH.
	PATH=$venv/bin:$PATH
	VNG=$venv/bin/vng
	local tool
	for tool in qemu-system-x86_64 busybox depmod; do
		command -v "$tool" >/dev/null || {
			kernels_log "$tool is missing: run scripts/install-deps.sh test"
			return 1
		}
	done
}

mirror_has() {
	apt-cache madison "$1" 2>/dev/null | awk -F'|' -v v="$2" '{ gsub(/ /, "", $2) } $2 == v { f = 1 } END { exit !f }'
}

# kernel_fetch NAME: downloads the pinned package once, unpacks it, and runs
# depmod (as its postinst would) so virtme-ng finds the virtio modules.
_kernel_fetch() {
	local name=$1 pkg ver dir deb tmp
	read -r pkg ver < <(awk -v n="$name" '$1 == "kernel" && $2 == n { print $3, $4 }' "$KERNELS_LIST")
	if [ -z "$pkg" ]; then
		kernels_log "no kernel named '$name' in $KERNELS_LIST"
		return 1
	fi
	KERNEL_LABEL="$pkg $ver"
	dir=$KERNELS_CACHE/${pkg}_$ver
	if [ ! -f "$dir/.unpacked" ]; then
		# (apt-cache show PKG=VER exits 0 even when VER is gone)
		if ! mirror_has "$pkg" "$ver"; then
			apt-get update -qq >/dev/null 2>&1
		fi
		if ! mirror_has "$pkg" "$ver"; then
			kernels_log "Debian's mirror no longer has $pkg $ver: pin a current version in" \
				"tests/kernels/kernels.list (apt-cache madison linux-image-amd64 lists them)"
			return 1
		fi
		kernels_log "downloading $pkg $ver"
		tmp=$(mktemp -d "$KERNELS_CACHE/download.XXXXXX")
		if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >/dev/null); then
			kernels_log "apt-get download $pkg=$ver failed"
			rm -rf "$tmp"
			return 1
		fi
		deb=$(ls "$tmp"/*.deb)
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir" && rm -rf "$tmp" || {
			kernels_log "can't unpack $deb"
			return 1
		}
		local kver
		kver=$(ls "$dir/lib/modules")
		depmod -a -b "$dir" "$kver" || {
			kernels_log "depmod failed for $kver"
			return 1
		}
		touch "$dir/.unpacked"
	fi
	KERNEL_IMAGE=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$KERNEL_IMAGE" ] || { kernels_log "no /boot/vmlinuz-* in $pkg $ver"; return 1; }
}

# vm_run NAME OUTDIR NET CMD...: the console (kernel messages, virtme-ng's
# own, the command's output) goes to OUTDIR/console.log. The guest's exit
# status does not come back (no virtio-serial script ports without udev), so
# the command writes OUTDIR/done when it finished.
vm_run() {
	local name=$1 out=$2 net=$3 rc
	shift 3
	local args=(--run "$KERNEL_IMAGE" --disable-kvm --cpus 2 --memory 2G --rwdir "$out")
	# virtme-ng's DHCP waits for a NIC whose driver (virtio_net) nothing
	# loads without udev: the guest command sets the address itself.
	[ "$net" = 1 ] && args+=(--network user --no-dhcp)
	rm -f "$out/done"
	local before
	before=$(dmesg 2>/dev/null | wc -l)
	timeout "$VM_HANG_GUARD_S" "$VNG" "${args[@]}" --exec "$*" </dev/null >"$out/console.log" 2>&1
	rc=$?
	if [ "$rc" = 124 ]; then
		kernels_log "hang guard: the $name VM did not finish in $VM_HANG_GUARD_S s (10x the usual); console: $out/console.log"
		return 1
	fi
	[ -f "$out/done" ] && return 0
	# A uretprobe someone else put on a library QEMU uses (a system-wide
	# trace of libc on this host) can get QEMU killed: SIGILL ("failed to
	# handle uretprobe") or a segfault in the [uprobes] page.
	VM_KILLED=$(dmesg 2>/dev/null | tail -n +$((before + 1)) |
		grep -m1 -E 'qemu-system-x86.*(failed to handle uretprobe|segfault)')
	[ -n "$VM_KILLED" ] && return 2
	return 1
}

# One download or install at a time: scripts/prepare-tests.sh may be fetching
# in the background while the matrix starts.
_kernels_locked() {
	local rc
	mkdir -p "$KERNELS_CACHE"
	exec 7>"$KERNELS_CACHE/.lock"
	flock 7
	"$@"
	rc=$?
	exec 7>&-
	return $rc
}
kernels_setup() { _kernels_locked _kernels_setup; }
kernel_fetch() { _kernels_locked _kernel_fetch "$@"; }
