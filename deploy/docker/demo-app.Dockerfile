# The exercise's workload, with no tracing code. Build from the repository root:
#   minikube image build -t spanprobe/demo-app:latest -f deploy/docker/demo-app.Dockerfile .
# Symbols are kept (not stripped) so spanprobe can find foo, goo and zoo.

FROM debian:bookworm AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY examples/demo-app.c /src/demo-app.c
# The Makefile's flags: frame pointers as distributions build, debug info.
RUN gcc -std=gnu11 -Wall -Wextra -Werror -O2 -g -fno-omit-frame-pointer \
        /src/demo-app.c -o /src/demo-app -lpthread -lm

FROM debian:bookworm-slim
COPY --from=build /src/demo-app /usr/local/bin/demo-app
USER 65534
ENTRYPOINT ["/usr/local/bin/demo-app"]
CMD ["--interval", "1000"]
