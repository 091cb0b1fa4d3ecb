"""The Flask throughput benchmark's service (bench/python_flask.sh), served
by gunicorn: GET /order/N calls handle_order(N) -> validate(N), which raises
for every 4th order (the request answers 400), else price(N) -> fib(5)
(15 calls). About 14 traced calls a request, and around them the hundreds
of untraced Python calls Flask and gunicorn make.

SHOP_SDK=1 makes the same four functions spans with the in-process
OpenTelemetry SDK (BatchSpanProcessor, OTLP/gRPC to
OTEL_EXPORTER_OTLP_ENDPOINT): what spanprobe is compared with. A span left
by an exception gets status ERROR, as spanprobe's do."""
import os

from flask import Flask

app = Flask(__name__)


def validate(n):
    if n % 4 == 0:
        raise ValueError(f"order {n} refused")


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def price(n):
    return 10 + fib(5) + n % 7


def handle_order(n):
    validate(n)
    return price(n)


if os.environ.get("SHOP_SDK") == "1":
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    def setup_sdk():
        provider = TracerProvider(resource=Resource.create({"service.name": "flask-shop"}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(insecure=True)))
        trace.set_tracer_provider(provider)
        return trace.get_tracer(__name__)

    def spanned(tracer, f):
        def wrapper(*args):
            with tracer.start_as_current_span(f.__name__):
                return f(*args)
        return wrapper

    # gunicorn forks the workers after importing the app: the SDK's export
    # thread is started in each worker (gunicorn's post_fork hook calls this).
    def post_fork(server, worker):
        global validate, fib, price, handle_order
        tracer = setup_sdk()
        validate = spanned(tracer, validate)
        fib = spanned(tracer, fib)
        price = spanned(tracer, price)
        handle_order = spanned(tracer, handle_order)


@app.route("/order/<int:n>")
def order(n):
    try:
        return {"price": handle_order(n)}
    except ValueError as e:
        return {"error": str(e)}, 400
