"""Inbound API under load, against Odoo running with workers and the queue_job runner.

    python tests/bench/bench_inbound.py [--events 1000] [--concurrency 8] [--e2e-events 200] [--rate 20]

Prints accepted events per second with the p50/p95 latency of the 202 answer, then the
end-to-end latency (POST -> contact created by the job) at a steady rate.
"""

import argparse
import http.client
import json
import statistics
import threading
import time
import uuid
from urllib.parse import urlsplit

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
    """Post ``events`` from ``concurrency`` keep-alive connections (http.client: the load
    generator shares the machine's two cores with the server, so it must stay light)."""
    host = urlsplit(url)
    results, lock = [], threading.Lock()
    counter = iter(range(events))

    def worker():
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        local = []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = json.dumps({"id": f"B-{uuid.uuid4().hex[:10]}", "name": f"Burst contact {i}"})
            started = time.perf_counter()
            connection.request("POST", PATH, body=body, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            local.append((response.status, (time.perf_counter() - started) * 1000))
        connection.close()
        with lock:
            results.extend(local)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = [ms for status, ms in results if status == 202]
    return len(latencies), elapsed, latencies, sum(1 for status, _ in results if status != 202)


def wait_for_drain(url, timeout=600):
    """Wait until no job is ready to run (the burst's backlog must not count as latency)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        backlog = requests.get(url + "/hc/health", timeout=30).json()["backlog"]
        if not any(item["ready"] for item in backlog.values()):
            return
        time.sleep(0.5)
    raise RuntimeError("the job queue did not drain")


def end_to_end(url, events, rate):
    """Send at a steady rate; one poller thread follows the messages in the order sent."""
    sent, latencies = [], []
    done_sending = threading.Event()

    def poll():
        session = requests.Session()
        index = 0
        deadline = None
        while True:
            if index < len(sent):
                message_url, posted = sent[index]
                state = session.get(url + message_url, headers=HEADERS, timeout=30).json()["state"]
                if state in ("done", "exception"):
                    latencies.append((time.perf_counter() - posted) * 1000)
                    index += 1
                    continue
            elif done_sending.is_set():
                return
            if done_sending.is_set():
                deadline = deadline or time.perf_counter() + 120
                if time.perf_counter() > deadline:
                    return
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    session = requests.Session()
    next_send = time.perf_counter()
    for i in range(events):
        time.sleep(max(0.0, next_send - time.perf_counter()))
        body = {"id": f"E-{uuid.uuid4().hex[:10]}", "name": f"Steady contact {i}"}
        posted = time.perf_counter()
        answer = session.post(url + PATH, json=body, headers=HEADERS, timeout=30).json()
        sent.append((answer["url"], posted))
        next_send += 1.0 / rate
    done_sending.set()
    poller.join()
    return latencies, events - len(latencies)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--e2e-events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20)
    args = parser.parse_args()
    with running_suite() as (url, _process):
        accepted, elapsed, latencies, rejected = burst(url, args.events, args.concurrency)
        started = time.perf_counter()
        wait_for_drain(url)
        drained_s = time.perf_counter() - started
        e2e, unfinished = end_to_end(url, args.e2e_events, args.rate)
    table(
        ["measure", "value"],
        [
            ["accepted events", f"{accepted} ({rejected} not accepted)"],
            ["accepted events/s", f"{accepted / elapsed:.0f}"],
            ["202 latency p50 (ms)", f"{statistics.median(latencies):.1f}"],
            ["202 latency p95 (ms)", f"{percentile(latencies, 0.95):.1f}"],
            ["burst backlog drained after (s)", f"{drained_s:.1f}"],
            [f"end-to-end at {args.rate:g} ev/s, p50 (ms)", f"{statistics.median(e2e):.0f}" if e2e else "-"],
            [f"end-to-end at {args.rate:g} ev/s, p95 (ms)", f"{percentile(e2e, 0.95):.0f}" if e2e else "-"],
            ["end-to-end unfinished", unfinished],
        ],
    )


if __name__ == "__main__":
    main()
