# spanprobe's image. Build from the repository root:
#   docker build -t spanprobe/spanprobe:latest -f deploy/docker/spanprobe.Dockerfile .
#   minikube image build -t spanprobe/spanprobe:latest -f deploy/docker/spanprobe.Dockerfile .
# The BPF programs are compiled against vmlinux/vmlinux.h; when the context has
# none, the build makes it from the build host's /sys/kernel/btf/vmlinux (the
# kernel needs BTF). CO-RE relocates the programs to the node's kernel at load.

# The base images, by their registry names. Where no registry is reachable,
# build with local images in their place, e.g. scripts/container-images.sh:
#   --build-arg DEBIAN_IMAGE=localhost/... --build-arg DEBIAN_SLIM_IMAGE=localhost/...
ARG DEBIAN_IMAGE=debian:bookworm
ARG DEBIAN_SLIM_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
# The same dependency script as a developer machine: it adds bookworm-backports
# (libbpf 1.4, bpftool, elfutils 0.192) and installs clang-19 and the libraries.
COPY scripts/install-deps.sh scripts/progress.sh /src/scripts/
RUN /src/scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /src
RUN make build/spanprobe

FROM ${DEBIAN_SLIM_IMAGE}
# Runtime libraries only. libbpf1 comes from bookworm-backports (bookworm's own
# 1.1 lacks uprobe_multi links); libelf1 and libdw1 must be the backported
# elfutils that the build linked against, and libcurl4 the backported 8.14
# (bookworm's 7.88 can't reuse a cleartext HTTP/2 connection for gRPC).
RUN printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
        'Suites: bookworm-backports' 'Components: main' \
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
        >/etc/apt/sources.list.d/bookworm-backports.sources \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        -t bookworm-backports libbpf1 libelf1 libdw1 libcurl4 \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libprotobuf-c1 libcapstone4 libjson-c5 libyaml-0-2 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/spanprobe /usr/local/bin/spanprobe
# Fail the build, not the pod, when a shared library is missing.
RUN ! ldd /usr/local/bin/spanprobe | grep 'not found'
# Runs as root with only the capabilities the DaemonSet adds (BPF, PERFMON,
# SYS_PTRACE, SYS_RESOURCE); see deploy/spanprobe.yaml.
ENTRYPOINT ["/usr/local/bin/spanprobe"]
CMD ["--config", "/etc/spanprobe/spanprobe.conf"]
