# Hostile containers for the security tests: a Debian root made with
# mmdebstrap (once, cached under ~/.cache/spanprobe-hostile), each container
# an overlay of it with its own writable layer, entered with
# `unshare -m -p -f chroot` as root, placed in a cgroup named like a
# kubelet pod's (kubepods/besteffort/pod<uid>/cri-containerd-<id>). What the
# container's root holds is the attacker's to choose.
# Source after common.sh; call `scratch` first.
#   hostile_build NAME || exit 0    the cached root; SKIP NAME when it can't be made
#   hostile_new CTR                 a fresh root at $SCRATCH/CTR/root (overlay); the root
#                                   in HOSTILE_ROOT (not in a subshell: it registers the mount)
#   hostile_start CTR UID CID CMD...
#                                   CMD (a path inside the root) as PID 1 of the container,
#                                   in cgroup kubepods/besteffort/pod<UID>/cri-containerd-<CID>
#                                   (UID "" : no cgroup); its host PID in HOSTILE_PID
#   hostile_uid / hostile_cid       a random pod uid / container id
# Containers are stopped, overlays unmounted and cgroups removed at exit.
# shellcheck shell=bash

HOSTILE_CACHE=${HOSTILE_CACHE:-$HOME/.cache/spanprobe-hostile}
HOSTILE_SUITE=bookworm
HOSTILE_OPTS=(--variant=minbase --aptopt='Acquire::Languages "none"'
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-exclude=/usr/share/locale/*')
HOSTILE_MIRROR="deb http://deb.debian.org/debian $HOSTILE_SUITE main"
HOSTILE_MOUNTS=""
HOSTILE_CGROUPS=""

hostile_build() {
	local name=$1 hash
	command -v mmdebstrap >/dev/null || {
		skip "$name" "mmdebstrap is needed to make the container root (scripts/install-deps.sh test)"
		return 1
	}
	hash=$(printf '%s\n' "$HOSTILE_SUITE" "$HOSTILE_MIRROR" "${HOSTILE_OPTS[@]}" | sha256sum | cut -c1-12)
	HOSTILE_BASE=$HOSTILE_CACHE/$HOSTILE_SUITE-$hash
	mkdir -p "$HOSTILE_CACHE"
	# one build at a time (scripts/prepare-tests.sh may be making it)
	exec 8>"$HOSTILE_CACHE/.lock"
	flock 8
	if [ ! -e "$HOSTILE_BASE/.complete" ]; then
		rm -rf "$HOSTILE_BASE" "$HOSTILE_BASE.tar"
		echo "making the container root with mmdebstrap (once; about a minute)" >&2
		if ! mmdebstrap "${HOSTILE_OPTS[@]}" --format=tar "$HOSTILE_SUITE" "$HOSTILE_BASE.tar" \
			"$HOSTILE_MIRROR" >"$HOSTILE_CACHE/mmdebstrap.log" 2>&1; then
			skip "$name" "mmdebstrap failed: $(tail -n 2 "$HOSTILE_CACHE/mmdebstrap.log")"
			rm -f "$HOSTILE_BASE.tar"
			exec 8>&-
			return 1
		fi
		mkdir -p "$HOSTILE_BASE/root" && tar -xf "$HOSTILE_BASE.tar" -C "$HOSTILE_BASE/root" &&
			rm -f "$HOSTILE_BASE.tar" && touch "$HOSTILE_BASE/.complete" || {
			skip "$name" "can't unpack the container root into $HOSTILE_BASE"
			exec 8>&-
			return 1
		}
	fi
	exec 8>&-
	trap '_hostile_cleanup' EXIT
}

hostile_uid() { cat /proc/sys/kernel/random/uuid; }
hostile_cid() { openssl rand -hex 32 2>/dev/null || od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

hostile_new() {
	local ctr=$1 dir=$SCRATCH/$1
	mkdir -p "$dir/upper" "$dir/work" "$dir/root" || return 1
	mount -t overlay overlay -o "lowerdir=$HOSTILE_BASE/root,upperdir=$dir/upper,workdir=$dir/work" \
		"$dir/root" || return 1
	HOSTILE_MOUNTS="$dir/root $HOSTILE_MOUNTS"
	HOSTILE_ROOT=$dir/root
}

_hostile_cgroup_root() { test_cgroup_root; }

hostile_start() {
	local ctr=$1 uid=$2 cid=$3 root=$SCRATCH/$1/root cg="" i launcher
	shift 3
	if [ -n "$uid" ]; then
		cg=$(_hostile_cgroup_root)/kubepods/besteffort/pod$uid/cri-containerd-$cid || return 1
		mkdir -p "$cg" || return 1
		HOSTILE_CGROUPS="$cg $HOSTILE_CGROUPS"
	fi
	# Into the cgroup before unshare forks, so PID 1 of the container is
	# born there (its first span already sees the pod's cgroup).
	sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs" || exit 1; shift; exec "$@"' sh "$cg" \
		unshare --mount --pid --fork --kill-child --propagation private chroot "$root" "$@" \
		>"$SCRATCH/$ctr.out" 2>&1 &
	launcher=$!
	bg_track "$launcher"
	HOSTILE_PID=""
	for ((i = 0; i < 200; i++)); do
		HOSTILE_PID=$(pgrep -P "$launcher" | head -n 1)
		# until the child has exec'd the command (chroot, then CMD)
		if [ -n "$HOSTILE_PID" ] && [ "$(readlink "/proc/$HOSTILE_PID/root")" = "$root" ] &&
			[ "$(readlink "/proc/$HOSTILE_PID/exe")" != "$(command -v chroot)" ]; then
			# PID 1 of a PID namespace ignores SIGTERM without a handler
			HOSTILE_PIDS="$HOSTILE_PID ${HOSTILE_PIDS:-}"
			return 0
		fi
		sleep 0.05
	done
	echo "hang guard: container $ctr did not start within 10 s (usually at once): $(cat "$SCRATCH/$ctr.out")" >&2
	return 1
}

# hostile_mount DIR: unmounted at exit (before the overlays holding it).
hostile_mount() { HOSTILE_MOUNTS="$1 $HOSTILE_MOUNTS"; }

# Processes first, then mounts (newest first), then the scratch directory.
_hostile_cleanup() {
	local m dir p
	for p in ${HOSTILE_PIDS:-}; do kill -9 "$p" 2>/dev/null; done
	for p in ${BG_PIDS:-}; do kill "$p" 2>/dev/null; done
	for p in ${BG_PIDS:-}; do wait "$p" 2>/dev/null; done
	for m in $HOSTILE_MOUNTS; do umount -l "$m" 2>/dev/null; done
	cleanup_scratch
	for dir in $HOSTILE_CGROUPS; do
		while [ "$dir" != / ] && [[ $dir == */kubepods* ]]; do
			rmdir "$dir" 2>/dev/null || break
			dir=$(dirname "$dir")
		done
	done
}
