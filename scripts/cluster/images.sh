# shellcheck shell=bash
# Images for the node's containerd (scripts/cluster.sh up), no registry:
# the pod sandbox's pause image and CoreDNS's, built here from a static
# binary each on an empty base, and deploy/'s images as
# scripts/container-images.sh builds them with podman; each saved as an OCI
# archive and imported into containerd's k8s.io namespace (the CRI's), under
# the name a pod spec uses (`spanprobe/spanprobe:latest` is
# docker.io/spanprobe/spanprobe:latest to the CRI).

# scratch_image IMAGE BINARY ENTRYPOINT: IMAGE holding only BINARY at /.
scratch_image() {
	local image=$1 binary=$2 entry=$3 ctx
	ctx=$(mktemp -d)
	cp "$binary" "$ctx/$entry"
	printf 'FROM scratch\nCOPY %s /%s\nENTRYPOINT ["/%s"]\n' "$entry" "$entry" "$entry" \
		>"$ctx/Containerfile"
	podman build --pull=never -q -t "$image" "$ctx" >/dev/null
	local rc=$?
	rm -rf "$ctx"
	return $rc
}

images_build_own() {
	local bin
	bin=$(mktemp -d)
	cc -std=gnu11 -Os -Wall -Wextra -Werror -static -o "$bin/pause" \
		"$(dirname "${BASH_SOURCE[0]}")/pause.c" &&
		scratch_image "$PAUSE_IMAGE" "$bin/pause" pause &&
		scratch_image "$COREDNS_IMAGE" "$COREDNS" coredns
	local rc=$?
	rm -rf "$bin"
	return $rc
}

# cri_name IMAGE: the name the CRI resolves a pod's `image:` to.
cri_name() {
	case $1 in
	localhost/spanprobe-cluster/*) echo "$1" ;;       # named so in the specs
	localhost/*) echo "docker.io/${1#localhost/}" ;;  # `spanprobe/x` in the specs
	*) echo "$1" ;;
	esac
}

# image_import IMAGE: podman's IMAGE into containerd, skipped when containerd
# already holds the same image (its id is kept beside containerd's root).
image_import() {
	local image=$1 id name stamp tar
	id=$(podman image inspect --format '{{.Id}}' "$image") || return 1
	name=$(cri_name "$image")
	stamp=$CONTAINERD_ROOT/imported/$(printf '%s' "$name" | tr '/:' '__')
	if [ "$(cat "$stamp" 2>/dev/null)" = "$id" ] &&
		ctr_k8s images ls -q | grep -qxF "$name"; then
		return 0
	fi
	tar=$(mktemp -p "$RUN" image.XXXXXX.tar)
	# podman's OCI archive names the image as podman does (localhost/...)
	podman save -q --format oci-archive -o "$tar" "$image" >/dev/null &&
		ctr_k8s images import "$tar" >/dev/null &&
		{ [ "$name" = "$image" ] || ctr_k8s images tag --force "$image" "$name" >/dev/null; }
	local rc=$?
	rm -f "$tar"
	[ $rc -eq 0 ] || return $rc
	mkdir -p "$(dirname "$stamp")"
	echo "$id" >"$stamp"
}

# (without ctr's warning, on every call, that containerd deprecates cgroup v1)
ctr_k8s() { "$CTR" --address "$CONTAINERD_SOCK" -n k8s.io "$@" 2> >(grep -v 'DEPRECATION: The support for cgroup v1' >&2); }
