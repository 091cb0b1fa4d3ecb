# The exercise's Flask app, unmodified (examples/python/app.py), in the image
# the exercise uses: the official python:3.10 (no USDT probes; spanprobe's
# python: probes take the evaluator path), Flask installed with pip as the
# exercise does. Build from the repository root:
#   podman build -t spanprobe/python-app:latest -f deploy/docker/python-app.Dockerfile .
#   minikube image build -t spanprobe/python-app:latest -f deploy/docker/python-app.Dockerfile .

# The base image by its registry name. Where no registry is reachable,
# scripts/container-images.sh builds a local image shaped like it (pyenv's
# CPython 3.10 at /usr/local on a Debian base) and passes it here.
ARG PYTHON_IMAGE=docker.io/library/python:3.10
FROM ${PYTHON_IMAGE}
# pip's own settings, empty unless given: where the build has no route to
# PyPI, --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=DIR with the
# wheels mounted at DIR (scripts/container-images.sh does so).
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
RUN pip install --no-cache-dir --disable-pip-version-check flask
COPY examples/python/app.py /app/app.py
WORKDIR /app
USER 65534
ENV PORT=8080
CMD ["python3.10", "/app/app.py"]
