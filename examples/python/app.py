"""The SRE exercise's Flask app, with no tracing code at all.

GET / calls foo(), which calls goo() (raises one time in five; foo catches
and prints it) and then zoo() (sleeps a random 0-5 s, times TIME_SCALE).

Environment: PORT (default 8080; listens on 127.0.0.1), TIME_SCALE (default
1), ANNOTATE=1 prefixes each printed line with "tid=T req=N " (T the OS thread
id, N the request number on that thread) and prints zoo's sleep as
"zoo_sleep_us=N ", so tests can check traced spans against what the app did.
"""
import os
import random
import threading
import time

from flask import Flask

app = Flask(__name__)
TIME_SCALE = float(os.environ.get("TIME_SCALE", "1"))
ANNOTATE = os.environ.get("ANNOTATE") == "1"

# Requests served so far per OS thread id (ids of ended threads are reused).
requests_by_tid = {}
requests_lock = threading.Lock()
current = threading.local()


def say(line, extra=""):
    if ANNOTATE:
        line = f"tid={threading.get_native_id()} req={current.number} {extra}{line}"
    print(line, flush=True)


def goo():
    if random.randint(1, 5) == 1:
        raise Exception("Error in goo: Simulated exception.")
    say("Goo function completed.")


def zoo():
    seconds = random.uniform(0, 5) * TIME_SCALE
    time.sleep(seconds)
    say("Zoo function completed.", f"zoo_sleep_us={round(seconds * 1e6)} ")


def foo():
    try:
        goo()
    except Exception as e:
        say(f"Exception in goo: {e}")
    zoo()


@app.route("/")
def index():
    tid = threading.get_native_id()
    with requests_lock:
        requests_by_tid[tid] = requests_by_tid.get(tid, 0) + 1
        current.number = requests_by_tid[tid]
    foo()
    return "Hello from foo\n"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
