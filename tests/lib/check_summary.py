#!/usr/bin/env python3
# check_summary.py CHECK ARGS...: checks spanprobe's summary, filters and
# sampler against what `demo-app --annotate` printed it did. Prints one
# "property: ok" or "property: WHY" line each (tests/lib/common.sh's
# report_checks turns them into PASS/FAIL lines); exits 1 on any failure.
#
#   counts SUMMARY APP                 the summary's calls/errors = the app's
#   hist SUMMARY SPANS APP             zoo's histogram: the spans' durations,
#                                      and the app's sleeps, bucket by bucket
#   min_duration SPANS APP DUR_NS      kept traces = requests with a long zoo
#   errors_only SPANS APP              kept traces = requests whose goo failed
#   sampled SPANS APP RATIO SIGMAS     kept share within SIGMAS binomial sigmas
import json
import math
import re
import sys

results = []
# A zoo lasts at least the sleep the app drew, and on a busy 2-CPU machine
# (other builds and suites beside) any time more: nanosleep's overshoot was
# seen at 100 ms. So no check bounds it from above.


def check(name, ok, why=""):
    results.append((name, ok, why))


def app_requests(path):
    """Per request, in (thread, number) order: sleep and whether goo failed."""
    by = reqs_by_key(path)
    return [by[k] for k in sorted(by)]


def reqs_by_key(path):
    """{(tid, request number): {sleep_ns, error}}"""
    reqs = {}
    for line in open(path):
        m = re.match(r"^tid=(\d+) req=(\d+) (zoo_sleep_us=(\d+) )?(.*)$", line.rstrip("\n"))
        if not m:
            continue
        r = reqs.setdefault((int(m[1]), int(m[2])), {"sleep_ns": None, "error": False})
        if m[4] is not None:
            r["sleep_ns"] = int(m[4]) * 1000
        if m[5].startswith("Exception in goo"):
            r["error"] = True
    return reqs


def spans(path):
    out = []
    for line in open(path):
        s = json.loads(line)
        out.append({"trace": s["traceId"], "span": s["spanId"], "parent": s["parentSpanId"],
                    "name": s["name"], "start": int(s["startTimeUnixNano"]),
                    "dur": int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"]),
                    "error": s["status"].get("code") == 2,
                    "tid": next(int(a["value"]["intValue"]) for a in s["attributes"]
                                if a["key"] == "thread.id")})
    return out


def traces(sp):
    by = {}
    for s in sp:
        by.setdefault(s["trace"], []).append(s)
    # in start order of their roots
    return sorted(by.values(), key=lambda t: min(s["start"] for s in t))


def summary_rows(path):
    rows, hists, cur = {}, {}, None
    for line in open(path):
        line = line.rstrip("\n")
        m = re.match(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s", line)
        if m and not line.startswith("function"):
            rows[m[1]] = {"calls": int(m[2]), "errors": int(m[3]), "trunc": int(m[4])}
        m = re.match(r"^@(.+)_ns:$", line)
        if m:
            cur = hists.setdefault(m[1], {})
            continue
        m = re.match(r"^\[(\S+), (\S+)\)\s+(\d+) \|", line)
        if m and cur is not None:
            cur[m[1]] = int(m[3])
        elif not line:
            cur = None
    return rows, hists


def pow2_label(v):
    for suffix, shift in (("G", 30), ("M", 20), ("K", 10)):
        if v >= 1 << shift:
            return "%d%s" % (v >> shift, suffix)
    return "%d" % v


def bucket_of(ns):
    """bpftrace's hist() bucket [2^p, 2^(p+1)) of ns, by its low label."""
    return "0" if ns < 1 else pow2_label(1 << (ns.bit_length() - 1))


def trace_whole(t):
    ids = {s["span"] for s in t}
    return all(s["parent"] == "" or s["parent"] in ids for s in t) and \
        sum(1 for s in t if s["parent"] == "") == 1


def main():
    what, args = sys.argv[1], sys.argv[2:]
    if what == "counts":
        rows, _ = summary_rows(args[0])
        reqs = app_requests(args[1])
        n, errs = len(reqs), sum(r["error"] for r in reqs)
        check("the app reported requests, some failed", n > 0 and errs > 0,
              "%d requests, %d failed" % (n, errs))
        for f in ("foo", "goo", "zoo"):
            got = rows.get(f, {}).get("calls")
            check("%s calls = the app's %d requests" % (f, n), got == n, "summary says %s" % got)
        got = rows.get("goo", {}).get("errors")
        check("goo errors = the app's %d exceptions" % errs, got == errs, "summary says %s" % got)
        check("no truncated calls", all(r["trunc"] == 0 for r in rows.values()), str(rows))
    elif what == "hist":
        _, hists = summary_rows(args[0])
        sp = [s for s in spans(args[1]) if s["name"] == "zoo"]
        reqs = app_requests(args[2])
        want = {}
        for s in sp:
            b = bucket_of(s["dur"])
            want[b] = want.get(b, 0) + 1
        got = hists.get("zoo", {})
        got = {k: v for k, v in got.items() if v}
        check("zoo histogram = the zoo spans' durations, bucket by bucket", got == want,
              "summary %s, spans %s" % (got, want))
        # each zoo lasts at least the sleep the app drew: it falls in the
        # sleep's bucket, or a later one when the overshoot took it past the top
        pairs, by_key = [], reqs_by_key(args[2])
        for tid in sorted({k[0] for k in by_key}):
            sleeps = [r["sleep_ns"] for k, r in sorted(by_key.items()) if k[0] == tid]
            durs = [s["dur"] for s in sorted(sp, key=lambda s: s["start"]) if s["tid"] == tid]
            pairs += list(zip(sleeps, durs))
        check("one zoo span per request", len(pairs) == len(reqs) == len(sp) > 0,
              "%d spans, %d requests" % (len(sp), len(reqs)))
        bad = ["zoo lasted %d ns < its sleep %d ns" % (d, sl) for sl, d in pairs if d < sl]
        later = sum(1 for sl, d in pairs if d >= sl and bucket_of(d) != bucket_of(sl))
        print("# %d of %d zoos overshot into a later bucket than their sleep's" % (later, len(pairs)))
        check("each zoo in the bucket of the sleep the app drew or a later one",
              not bad, "; ".join(bad[:3]))
    elif what == "min_duration":
        ts = traces(spans(args[0]))
        reqs = app_requests(args[1])
        dur = int(args[2])
        long_ = [i for i, r in enumerate(reqs) if r["sleep_ns"] >= dur]
        check("the app drew some zoo sleeps over the minimum", len(long_) > 0)
        check("every kept trace is whole (one root, every parent kept)",
              all(trace_whole(t) for t in ts))
        check("every kept span lasted at least the minimum",
              all(s["dur"] >= dur for t in ts for s in t))
        check("no goo kept (all shorter)", all(s["name"] != "goo" for t in ts for s in t))
        # Is there an order-keeping match of the kept traces onto the requests
        # (one thread: both in time order) that keeps every request with a
        # long zoo? A trace with a zoo matches a request whose sleep its zoo
        # covers (a shorter sleep may have overshot past the minimum on a
        # loaded machine); a trace without (foo alone, its zoo just short)
        # matches a request with a shorter sleep. Found by dynamic
        # programming over (trace, request).
        cand = list(range(len(reqs)))

        def fits(t, r):
            zoo = [s["dur"] for s in t if s["name"] == "zoo"]
            if zoo:
                return r["sleep_ns"] <= zoo[0]
            return r["sleep_ns"] < dur

        # ok[i][j]: traces[i:] match cand[j:] leaving no long request out
        n, m = len(ts), len(cand)
        ok = [[False] * (m + 1) for _ in range(n + 1)]
        ok[n][m] = True
        for j in range(m - 1, -1, -1):
            ok[n][j] = ok[n][j + 1] and reqs[cand[j]]["sleep_ns"] < dur
        for i in range(n - 1, -1, -1):
            for j in range(m - 1, -1, -1):
                skip = reqs[cand[j]]["sleep_ns"] < dur and ok[i][j + 1]
                ok[i][j] = skip or (fits(ts[i], reqs[cand[j]]) and ok[i + 1][j + 1])
        print("# kept %d traces, %d requests drew a zoo of %d ns or more" % (len(ts), len(long_), dur))
        check("kept traces = the requests with zoo >= the minimum, and others whose zoo "
              "overshot past it", ok[0][0], "no match of the kept traces onto the long requests")
    elif what == "errors_only":
        ts = traces(spans(args[0]))
        reqs = app_requests(args[1])
        errs = sum(r["error"] for r in reqs)
        check("kept traces = the app's %d failed requests" % errs, len(ts) == errs > 0,
              "%d traces kept" % len(ts))
        check("each kept trace is foo with its failed goo, nothing else",
              all(sorted(s["name"] for s in t) == ["foo", "goo"] and
                  all(s["error"] for s in t if s["name"] == "goo") and trace_whole(t)
                  for t in ts))
    elif what == "sampled":
        ts = traces(spans(args[0]))
        n = len(app_requests(args[1]))
        check("the app reported requests", n > 0)
        p, k = float(args[2]), float(args[3])
        sigma = math.sqrt(n * p * (1 - p))
        lo, hi = n * p - k * sigma, n * p + k * sigma
        # the count goes in a note, not the check's name: names stay the same across runs
        print("# kept %d of %d traces" % (len(ts), n))
        check("kept traces within %g sigma of %g of %d (%.0f..%.0f)" % (k, n * p, n, lo, hi),
              lo <= len(ts) <= hi, "kept %d" % len(ts))
        check("every kept trace is whole: foo, goo and zoo",
              all(sorted(s["name"] for s in t) == ["foo", "goo", "zoo"] and trace_whole(t)
                  for t in ts))
    else:
        print("unknown check %s" % what, file=sys.stderr)
        sys.exit(2)
    for name, ok, why in results:
        print("%s: %s" % (name, "ok" if ok else "FAILED " + why))
    sys.exit(0 if all(ok for _, ok, _ in results) else 1)


main()
