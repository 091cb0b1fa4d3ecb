# shellcheck shell=bash
# Building peers from their Go modules, for scripts/build-peers.sh and
# scripts/build-kube.sh. Sourced after scripts/progress.sh, with `go` set up
# by the caller (GOPATH, flags, nice).

# module_src MODULE@VERSION DEST: a writable copy of the module's zip content.
module_src() {
	local src
	src=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$src" ] || { echo "go mod download $1: no module directory"; return 1; }
	rm -rf "$2"
	cp -r "$src" "$2"
	chmod -R u+w "$2"
}

# module_binary WHAT BIN MODULE@VERSION PACKAGE [GO BUILD FLAGS...]: builds
# PACKAGE of the module into BIN, its log beside it. The
# binary is written under a temporary name and renamed: an interrupted build
# never leaves one that looks finished. Exits with the log's path when the
# build fails.
module_binary() {
	local what=$1 bin=$2 module=$3 pkg=$4 dir
	shift 4
	dir=$(dirname "$bin")
	mkdir -p "$dir"
	_module_build() {
		module_src "$module" "$dir/src" || return 1
		(cd "$dir/src" && go build "$@" -o "$bin.tmp" "$pkg" && mv "$bin.tmp" "$bin")
	}
	with_progress "building $what" _module_build "$@" >"$dir/build.log" 2>&1 || {
		echo "$(basename "$0" .sh): $what build failed; see $dir/build.log" >&2
		exit 1
	}
	rm -rf "$dir/src"
}
