# The exercise's workload, with no tracing code. Build from the repository root:
#   minikube image build -t spanprobe/demo-app:latest -f deploy/docker/demo-app.Dockerfile .
# Symbols are kept (not stripped) so spanprobe can find foo, goo and zoo.

# The base images, by their registry names. Where no registry is reachable,
# build with local images in their place, e.g. scripts/container-images.sh:
#   --build-arg DEBIAN_IMAGE=localhost/... --build-arg DEBIAN_SLIM_IMAGE=localhost/...
ARG DEBIAN_IMAGE=debian:bookworm
ARG DEBIAN_SLIM_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY examples/demo-app.c /src/demo-app.c
# The Makefile's flags: frame pointers as distributions build, debug info.
# (The container tests build a second, different build with other flags.)
ARG CFLAGS="-O2 -g -fno-omit-frame-pointer"
RUN gcc -std=gnu11 -Wall -Wextra -Werror $CFLAGS \
        /src/demo-app.c -o /src/demo-app -lpthread -lm

FROM ${DEBIAN_SLIM_IMAGE}
COPY --from=build /src/demo-app /usr/local/bin/demo-app
USER 65534
ENTRYPOINT ["/usr/local/bin/demo-app"]
CMD ["--interval", "1000"]
