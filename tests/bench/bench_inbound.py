"""Inbound API under load, against Odoo running with workers and the queue_job runner.

    python tests/bench/bench_inbound.py [--events 1000] [--concurrency 8] [--e2e-events 200] [--rate 20]

Prints accepted events per second with the p50/p95 latency of the 202 answer, then the
end-to-end latency (POST -> contact created by the job) at a steady rate.
"""

import argparse
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from _common import plain_imports, table
from _server import running_suite

plain_imports()

HEADERS = {"Content-Type": "application/json", "X-API-Key": "demo-inbound-key"}
PATH = "/hc/in/stores_rest/contacts"


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def burst(url, events, concurrency):
    session_local = {}

    def post(i):
        session = session_local.setdefault(id(i) % concurrency, requests.Session())
        body = {"id": f"B-{uuid.uuid4().hex[:10]}", "name": f"Burst contact {i}"}
        started = time.perf_counter()
        response = session.post(url + PATH, json=body, headers=HEADERS, timeout=30)
        return response.status_code, (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(post, range(events)))
    elapsed = time.perf_counter() - started
    latencies = [ms for status, ms in results if status == 202]
    return len(latencies), elapsed, latencies, sum(1 for status, _ in results if status != 202)


def end_to_end(url, events, rate):
    session = requests.Session()
    pending, latencies = {}, []
    interval = 1.0 / rate
    next_send = time.perf_counter()
    sent = 0
    deadline = time.perf_counter() + events / rate + 120
    while (sent < events or pending) and time.perf_counter() < deadline:
        now = time.perf_counter()
        if sent < events and now >= next_send:
            body = {"id": f"E-{uuid.uuid4().hex[:10]}", "name": f"Steady contact {sent}"}
            answer = session.post(url + PATH, json=body, headers=HEADERS, timeout=30).json()
            pending[answer["url"]] = now
            sent += 1
            next_send += interval
            continue
        for message_url, posted in list(pending.items()):
            state = session.get(url + message_url, headers=HEADERS, timeout=30).json()["state"]
            if state == "done":
                latencies.append((time.perf_counter() - posted) * 1000)
                del pending[message_url]
        time.sleep(0.01)
    return latencies, len(pending)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--e2e-events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20)
    args = parser.parse_args()
    with running_suite() as (url, _process):
        accepted, elapsed, latencies, rejected = burst(url, args.events, args.concurrency)
        e2e, unfinished = end_to_end(url, args.e2e_events, args.rate)
    table(
        ["measure", "value"],
        [
            ["accepted events", f"{accepted} ({rejected} not accepted)"],
            ["accepted events/s", f"{accepted / elapsed:.0f}"],
            ["202 latency p50 (ms)", f"{statistics.median(latencies):.1f}"],
            ["202 latency p95 (ms)", f"{percentile(latencies, 0.95):.1f}"],
            [f"end-to-end at {args.rate:g} ev/s, p50 (ms)", f"{statistics.median(e2e):.0f}" if e2e else "-"],
            [f"end-to-end at {args.rate:g} ev/s, p95 (ms)", f"{percentile(e2e, 0.95):.0f}" if e2e else "-"],
            ["end-to-end unfinished", unfinished],
        ],
    )


if __name__ == "__main__":
    main()
