# The exercise's Flask app, unmodified (examples/python/app.py), in the image
# the exercise uses: the official python:3.10 (no USDT probes; spanprobe's
# python: probes take the evaluator path), Flask installed with pip as the
# exercise does. Build from the repository root:
#   podman build -t spanprobe/python-app:latest -f deploy/docker/python-app.Dockerfile .
# Without a registry, scripts/containers/python-base-image.sh makes a local
# image shaped like python:3.10 and passes it as PYTHON_IMAGE.
ARG PYTHON_IMAGE=docker.io/library/python:3.10
FROM ${PYTHON_IMAGE}
RUN pip install --no-cache-dir flask
COPY examples/python/app.py /app/app.py
WORKDIR /app
USER 65534
ENV PORT=8080
CMD ["python3.10", "/app/app.py"]
