# Sourced by the container scripts and tests: podman with spanprobe's own
# containers.conf, and the names of the locally built images.
# shellcheck shell=bash

SPANPROBE_ROOT=${SPANPROBE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export CONTAINERS_CONF=$SPANPROBE_ROOT/scripts/containers/containers.conf
IMAGES_CACHE=${SPANPROBE_IMAGES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spanprobe-images}
# The names the manifests use (deploy/base/*.yaml); podman stores them under
# localhost/, which is where it looks up a short name first.
SPANPROBE_IMAGE=localhost/spanprobe/spanprobe:latest
DEMO_APP_IMAGE=localhost/spanprobe/demo-app:latest
PYTHON_APP_IMAGE=localhost/spanprobe/python-app:latest
# The exercise's image is python:3.10: its local stand-in holds pyenv's build.
PYTHON_VERSION=3.10

# podman_usable: prints why not and returns 1 when podman can't run a container.
podman_usable() {
	local tool
	for tool in podman runc mmdebstrap; do
		command -v "$tool" >/dev/null || {
			echo "$tool is not installed (scripts/install-deps.sh test installs it)"
			return 1
		}
	done
	podman info >/dev/null 2>&1 || {
		echo "podman info fails: $(podman info 2>&1 | tail -n 1)"
		return 1
	}
}
