#!/usr/bin/env bash
# Build spanprobe's container images locally with podman, no registry needed:
#   1. Debian bookworm base images (full and slim) made with mmdebstrap from
#      Debian's packages and `podman import`ed; the root tarballs are cached
#      under ~/.cache/spanprobe-images, keyed by a hash of the recipe, so a
#      second run only imports (or finds the image already there).
#   2. The images of deploy/docker/*.Dockerfile, built from those Dockerfiles
#      with their registry base images (`FROM debian:bookworm`) mapped to the
#      local bases through build arguments; podman's layer cache keeps reruns
#      fast.
#   3. With `python-app`: a local image shaped like python:3.10 (the Debian
#      base + pyenv's CPython 3.10 at /usr/local; scripts/containers/
#      python-base-image.sh) and deploy/docker/python-app.Dockerfile built on
#      it (PYTHON_IMAGE), Flask installed by pip from wheels fetched once from
#      PyPI on the host (the build container has no route to PyPI of its own
#      everywhere: PIP_NO_INDEX/PIP_FIND_LINKS build arguments).
#   4. With `peers`: images for the Collector and Jaeger under the names the
#      manifests use (deploy/base/collector.yaml, jaeger.yaml), holding the
#      binaries scripts/build-peers.sh builds from the same upstream versions.
# Usage: scripts/container-images.sh [base|spanprobe|demo-app|python-app|peers|all]...
#   (default: all = base, spanprobe, demo-app, python-app)
# Prints NAME=IMAGE lines (BASE, BASE_SLIM, SPANPROBE, DEMO_APP, PYTHON_BASE,
# PYTHON_APP, COLLECTOR, JAEGER) on stdout;
# progress and build logs go to stderr. SPANPROBE_IMAGES_REFRESH=1 remakes the
# base tarballs (new Debian point release or security updates).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/containers/podman-env.sh
source scripts/containers/python-base-image.sh

SUITE=bookworm
MIRRORS=("deb http://deb.debian.org/debian $SUITE main"
	"deb http://deb.debian.org/debian $SUITE-updates main"
	"deb http://deb.debian.org/debian-security $SUITE-security main")
COMMON_OPTS=(--variant=minbase --format=tar --aptopt='Acquire::Languages "none"')
# What the official -slim image leaves out: documentation, manuals, locales.
SLIM_OPTS=(--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*')
IMPORT_CHANGES=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	--change 'CMD ["bash"]')

log() { echo "container-images: $*" >&2; }
source "$(dirname "$0")/progress.sh"

# base_image NAME OPTS...: the imported image for this recipe; sets BUILT.
base_image() {
	local name=$1 hash tar tag
	shift
	hash=$(printf '%s\n' "$SUITE" "${MIRRORS[@]}" "${COMMON_OPTS[@]}" "$@" "${IMPORT_CHANGES[@]}" |
		sha256sum | cut -c1-12)
	tar=$IMAGES_CACHE/$name-$hash.tar
	tag=localhost/spanprobe-debian:$name-$hash
	if [ "${SPANPROBE_IMAGES_REFRESH:-0}" = 1 ]; then
		rm -f "$tar"
		podman rmi -f "$tag" >/dev/null 2>&1 || true
	fi
	if ! podman image exists "$tag"; then
		if [ ! -s "$tar" ]; then
			mkdir -p "$IMAGES_CACHE"
			log "making the $name root with mmdebstrap (once; about a minute)"
			if ! with_progress "making the $name root" mmdebstrap "${COMMON_OPTS[@]}" "$@" "$SUITE" "$tar.tmp" "${MIRRORS[@]}" \
				>"$IMAGES_CACHE/$name.log" 2>&1; then
				log "mmdebstrap failed; last lines of $IMAGES_CACHE/$name.log:"
				tail -n 15 "$IMAGES_CACHE/$name.log" >&2
				rm -f "$tar.tmp"
				return 1
			fi
			mv "$tar.tmp" "$tar"
		fi
		log "importing $tar as $tag"
		podman import "${IMPORT_CHANGES[@]}" "$tar" "$tag" >"$IMAGES_CACHE/import.log" 2>&1 || {
			log "podman import failed: $(tail -n 3 "$IMAGES_CACHE/import.log")"
			return 1
		}
	fi
	BUILT=$tag
}

# dockerfile_image TAG DOCKERFILE [EXTRA podman build ARGS...]
dockerfile_image() {
	local tag=$1 file=$2 out
	shift 2
	out=$IMAGES_CACHE/build-$(basename "$file" .Dockerfile).log
	mkdir -p "$IMAGES_CACHE"
	log "building $tag from $file (log: $out)"
	# The registry names the Dockerfiles use map to the local bases.
	if ! with_progress "building $tag" podman build --layers --pull=never \
		--build-arg "DEBIAN_IMAGE=$BASE" --build-arg "DEBIAN_SLIM_IMAGE=$BASE_SLIM" \
		-f "$file" -t "$tag" "$@" . >"$out" 2>&1; then
		log "podman build failed; last lines of $out:"
		tail -n 25 "$out" >&2
		return 1
	fi
}

# peer_binary NAME: the binary scripts/build-peers.sh prints as NAME=PATH.
peer_binary() {
	local out
	out=$(scripts/build-peers.sh) || return 1
	printf '%s\n' "$out" | sed -n "s/^$1=//p"
}

# peer_image NAME MANIFEST BINARY: BINARY in the slim base, tagged with the
# image the manifest names (under localhost/, where podman looks first) and
# running as the user the manifest expects (its runAsUser); sets BUILT.
peer_image() {
	local name=$1 manifest=$2 binary=$3 image user ctx
	[ -x "$binary" ] || { log "no $name binary (scripts/build-peers.sh failed?)"; return 1; }
	image=$(sed -n 's/^ *image: *//p' "$manifest" | head -n 1)
	user=$(sed -n 's/^ *runAsUser: *\([0-9]*\).*/\1/p' "$manifest" | head -n 1)
	ctx=$(mktemp -d)
	cp "$binary" "$ctx/$name"
	printf '%s\n' "FROM $BASE_SLIM" "COPY $name /usr/local/bin/$name" "USER ${user:-65534}" \
		"ENTRYPOINT [\"/usr/local/bin/$name\"]" >"$ctx/Containerfile"
	log "building localhost/$image from $binary"
	if ! with_progress "building localhost/$image" podman build --layers --pull=never -t "localhost/$image" "$ctx" \
		>"$IMAGES_CACHE/build-$name.log" 2>&1; then
		log "podman build failed; last lines of $IMAGES_CACHE/build-$name.log:"
		tail -n 15 "$IMAGES_CACHE/build-$name.log" >&2
		rm -rf "$ctx"
		return 1
	fi
	rm -rf "$ctx"
	BUILT=localhost/$image
}

if ! why=$(podman_usable); then
	log "$why"
	exit 1
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(all)
mkdir -p "$IMAGES_CACHE"
# One build at a time: tests/run.sh starts the test prerequisites in the
# background (scripts/prepare-tests.sh), and a test that needs them waits here.
exec 9>"$IMAGES_CACHE/.lock"
flock 9
want() { [[ " ${targets[*]} " == *" $1 "* || " ${targets[*]} " == *" all "* ]]; }

base_image "$SUITE" && BASE=$BUILT
base_image "$SUITE-slim" "${SLIM_OPTS[@]}" && BASE_SLIM=$BUILT
echo "BASE=$BASE"
echo "BASE_SLIM=$BASE_SLIM"
if want spanprobe; then
	dockerfile_image "$SPANPROBE_IMAGE" deploy/docker/spanprobe.Dockerfile
	echo "SPANPROBE=$SPANPROBE_IMAGE"
fi
if want demo-app; then
	dockerfile_image "$DEMO_APP_IMAGE" deploy/docker/demo-app.Dockerfile
	echo "DEMO_APP=$DEMO_APP_IMAGE"
fi
if want python-app; then
	python_base_image "$PYTHON_VERSION" || exit 1
	PYTHON_BASE=$BUILT
	python_wheels "$PYTHON_VERSION" || exit 1
	echo "PYTHON_BASE=$PYTHON_BASE"
	# python:3.10 is the local image; pip installs from the wheels, offline.
	dockerfile_image "$PYTHON_APP_IMAGE" deploy/docker/python-app.Dockerfile \
		--build-arg "PYTHON_IMAGE=$PYTHON_BASE" --build-arg PIP_NO_INDEX=1 \
		--build-arg PIP_FIND_LINKS=/wheels --volume "$WHEELS:/wheels:ro"
	echo "PYTHON_APP=$PYTHON_APP_IMAGE"
fi
if [[ " ${targets[*]} " == *" peers "* ]]; then
	peer_image collector deploy/base/collector.yaml "$(peer_binary COLLECTOR)" && echo "COLLECTOR=$BUILT"
	peer_image jaeger deploy/base/jaeger.yaml "$(peer_binary JAEGER)" && echo "JAEGER=$BUILT"
fi
