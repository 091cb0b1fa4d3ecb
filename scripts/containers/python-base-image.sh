#!/usr/bin/env bash
# A local base image shaped like the official python:3.10 (no registry here):
# a Debian bookworm root made with mmdebstrap, with pyenv's CPython 3.10 build
# (--enable-shared, no USDT, like the official one) installed under
# /usr/local: /usr/local/bin/python3.10 loading /usr/local/lib/libpython3.10.so.1.0
# through the loader's cache, pip included. Then deploy/docker/python-app.Dockerfile
# is built on it with PYTHON_IMAGE pointing there.
# Usage: scripts/containers/python-base-image.sh   (prints PYTHON_BASE=, PYTHON_APP=)
# The root tarball is cached under ~/.cache/spanprobe-images.
set -euo pipefail
cd "$(dirname "$0")/../.."
V=3.10
CACHE=${IMAGES_CACHE:-$HOME/.cache/spanprobe-images}
prefix=$(pyenv prefix $V)
[ -x "$prefix/bin/python$V" ] || { echo "python-base-image: pyenv's CPython $V is not installed (pyenv install $V)" >&2; exit 1; }
tag=localhost/spanprobe-python:$V
tar=$CACHE/python-$V-bookworm.tar
mkdir -p "$CACHE"
if ! podman image exists "$tag"; then
	if [ ! -s "$tar" ]; then
		# the official image's runtime libraries for the stdlib's modules
		mmdebstrap --variant=minbase --format=tar \
			--include=ca-certificates,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,libreadline8,libncursesw6,zlib1g,libexpat1,libuuid1,libgdbm6 \
			--customize-hook="mkdir -p \"\$1/usr/local\" && cp -a '$prefix/.' \"\$1/usr/local/\"" \
			--customize-hook="chroot \"\$1\" ldconfig" \
			bookworm "$tar.tmp" http://deb.debian.org/debian >"$CACHE/python-$V.log" 2>&1 ||
			{ tail -n 15 "$CACHE/python-$V.log" >&2; exit 1; }
		mv "$tar.tmp" "$tar"
	fi
	podman import --change 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["python3"]' "$tar" "$tag" >/dev/null
fi
echo "PYTHON_BASE=$tag"
podman build -q -t localhost/spanprobe/python-app:latest --build-arg PYTHON_IMAGE="$tag" \
	-f deploy/docker/python-app.Dockerfile . >/dev/null
echo "PYTHON_APP=localhost/spanprobe/python-app:latest"
