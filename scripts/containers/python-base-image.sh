# A local image shaped like the official python:3.10 (no registry here),
# sourced by scripts/container-images.sh after BASE (the Debian bookworm
# image) is made:
#   python_base_image VERSION   sets BUILT to localhost/spanprobe-python:VERSION-HASH:
#       BASE + the runtime libraries the stdlib's modules load (Debian's packages)
#       + pyenv's CPython build of VERSION (--enable-shared, no USDT, like the
#       official one) copied to /usr/local, so /usr/local/bin/pythonX.Y loads
#       /usr/local/lib/libpythonX.Y.so.1.0 through the loader's cache; its test
#       suites left out (the official image removes them too).
#   python_wheels VERSION       sets WHEELS to a directory of Flask's wheels for
#       VERSION, downloaded once on the host with that interpreter's pip (PyPI):
#       the image build installs them with pip offline, as the exercise runs
#       `pip install flask`, where the build container can't reach PyPI itself.
# Both are cached (the image by a hash of its recipe, the wheels under
# IMAGES_CACHE), so a second run finds them at once.
# shellcheck shell=bash

# What python:3.10 (buildpack-deps:bookworm) has and the minbase root lacks
# for the stdlib's extension modules: ssl/hashlib, sqlite3, readline, curses,
# pyexpat, nis; ca-certificates and netbase as the image has them.
PYTHON_RUNTIME_DEBS="libssl3 libsqlite3-0 libreadline8 libncursesw6 libexpat1 libtirpc3 libnsl2 ca-certificates netbase"

python_base_image() {
	local v=$1 prefix hash tag ctx
	prefix=$(pyenv prefix "$v" 2>/dev/null) && [ -x "$prefix/bin/python$v" ] || {
		log "pyenv's CPython $v is not installed (pyenv install $v --enable-shared): no python image"
		return 1
	}
	hash=$(printf '%s\n' "$BASE" "$prefix" "$PYTHON_RUNTIME_DEBS" "$(stat -c %Y "$prefix/bin/python$v")" |
		sha256sum | cut -c1-12)
	tag=localhost/spanprobe-python:$v-$hash
	if ! podman image exists "$tag"; then
		ctx=$(mktemp -d)
		mkdir "$ctx/python"
		# The tree as it is installed, less the test suites and site-packages'
		# files that belong to the host's own setup (only pip and setuptools kept).
		tar -C "$prefix" -cf - --exclude="lib/python$v/test" --exclude="lib/python$v/*/test" \
			--exclude="lib/python$v/*/tests" --exclude="lib/python$v/*/idle_test" \
			--exclude="lib/python$v/site-packages/*.pth" --exclude='*.a' . | tar -C "$ctx/python" -xf -
		# Scripts like pip name the interpreter by pyenv's path: point them at /usr/local.
		grep -lI "^#!$prefix/bin/" "$ctx"/python/bin/* 2>/dev/null |
			xargs -r sed -i "1s|^#!$prefix/bin/|#!/usr/local/bin/|"
		printf '%s\n' "FROM $BASE" \
			"RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PYTHON_RUNTIME_DEBS && rm -rf /var/lib/apt/lists/*" \
			"COPY python /usr/local/" "RUN ldconfig" "ENV LANG=C.UTF-8" 'CMD ["python3"]' >"$ctx/Containerfile"
		log "building $tag: $BASE + pyenv's CPython $v ($prefix) at /usr/local"
		if ! podman build --layers --pull=never -t "$tag" "$ctx" >"$IMAGES_CACHE/build-python-$v.log" 2>&1; then
			log "podman build failed; last lines of $IMAGES_CACHE/build-python-$v.log:"
			tail -n 15 "$IMAGES_CACHE/build-python-$v.log" >&2
			rm -rf "$ctx"
			return 1
		fi
		rm -rf "$ctx"
	fi
	BUILT=$tag
}

python_wheels() {
	local v=$1 dir=$IMAGES_CACHE/wheels-python$1
	if ! ls "$dir"/[Ff]lask-*.whl >/dev/null 2>&1; then
		log "downloading Flask's wheels for CPython $v from PyPI into $dir (once)"
		mkdir -p "$dir"
		"$(pyenv prefix "$v")/bin/python$v" -m pip download --quiet --disable-pip-version-check \
			--only-binary=:all: -d "$dir" flask >"$IMAGES_CACHE/wheels-python$v.log" 2>&1 || {
			log "pip download failed: $(tail -n 2 "$IMAGES_CACHE/wheels-python$v.log")"
			return 1
		}
	fi
	WHEELS=$dir
}
