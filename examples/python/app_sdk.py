"""The SRE exercise's original: the same Flask app instrumented in process
with the OpenTelemetry SDK, spans exported over OTLP/gRPC. Kept to compare
with tracing app.py from outside (see README.md). Needs the SDK:
`make pyvenv`, then run build/pyvenv/bin/python examples/python/app_sdk.py.

Environment: PORT (default 8080), TIME_SCALE (default 1), and the SDK's own
OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4317),
OTEL_SERVICE_NAME (default python-app). SIGTERM, like Ctrl-C, stops it after
exporting the spans still queued.
"""
import os
import random
import signal
import sys
import time

from flask import Flask
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

provider = TracerProvider(resource=Resource.create(
    {"service.name": os.environ.get("OTEL_SERVICE_NAME", "python-app")}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(insecure=True)))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer(__name__)

app = Flask(__name__)
TIME_SCALE = float(os.environ.get("TIME_SCALE", "1"))


def goo():
    with tracer.start_as_current_span("goo") as span:
        if random.randint(1, 5) == 1:
            span.set_status(Status(StatusCode.ERROR))
            raise Exception("Error in goo: Simulated exception.")
        print("Goo function completed.", flush=True)


def zoo():
    with tracer.start_as_current_span("zoo"):
        time.sleep(random.uniform(0, 5) * TIME_SCALE)
        print("Zoo function completed.", flush=True)


def foo():
    with tracer.start_as_current_span("foo"):
        try:
            goo()
        except Exception as e:
            print(f"Exception in goo: {e}", flush=True)
        zoo()


@app.route("/")
def index():
    foo()
    return "Hello from foo\n"


if __name__ == "__main__":
    # Without a handler SIGTERM kills the process before the finally below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
    finally:
        provider.shutdown()
