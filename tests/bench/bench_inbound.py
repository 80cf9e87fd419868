"""Inbound API under load, against Odoo running with workers and the queue_job runner.

    python tests/bench/bench_inbound.py [--events 1000] [--concurrency 8] [--e2e-events 200] [--rate 20]

Prints accepted events per second with the p50/p95 latency of the 202 answer, then the
end-to-end latency (POST -> contact created by the job) at a steady rate. Then the same burst
against a web node alone (no job runner on it, as in a deployment with separate job nodes), on
a copy of the database: what the HTTP tier accepts when no job competes for the CPUs.
"""

import argparse
import configparser
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

import psycopg2
import requests
from _common import ROOT, dbname, plain_imports, table
from _server import running_suite

plain_imports()
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
from _harness import OdooServer, copy_database, drop_database  # noqa: E402

from hc_integration_base.lifecycle import PROCESSED  # noqa: E402

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


def end_to_end(url, events, rate, db):
    """Send at a steady rate; a thread watches the database for each message's job to commit
    (one query every 20 ms for all outstanding messages: unlike callers polling the API, the
    observer puts no load on the Odoo server it measures)."""
    sent, latencies, failed, answered = {}, {}, set(), []
    lock = threading.Lock()
    done_sending = threading.Event()

    def observe():
        connection = psycopg2.connect(dbname=db)
        connection.autocommit = True
        cursor = connection.cursor()
        deadline = None
        while True:
            with lock:
                pending = [i for i in sent if i not in latencies and i not in failed]
            if pending:
                cursor.execute("SELECT id, state FROM hc_message WHERE id = ANY(%s) AND state = ANY(%s)",
                               (pending, list(PROCESSED)))
                now = time.perf_counter()
                with lock:
                    for message_id, state in cursor.fetchall():
                        if state == "done":
                            latencies[message_id] = (now - sent[message_id]) * 1000
                        else:
                            failed.add(message_id)
            elif done_sending.is_set():
                break
            if done_sending.is_set():
                deadline = deadline or time.perf_counter() + 120
                if time.perf_counter() > deadline:
                    break
            time.sleep(0.02)
        connection.close()

    observer = threading.Thread(target=observe)
    observer.start()
    session = requests.Session()
    next_send = time.perf_counter()
    for i in range(events):
        time.sleep(max(0.0, next_send - time.perf_counter()))
        body = {"id": f"E-{uuid.uuid4().hex[:10]}", "name": f"Steady contact {i}"}
        posted = time.perf_counter()
        answer = session.post(url + PATH, json=body, headers=HEADERS, timeout=30).json()
        answered.append((time.perf_counter() - posted) * 1000)
        with lock:
            sent[answer["message_id"]] = posted
        next_send += 1.0 / rate
    done_sending.set()
    observer.join()
    return list(latencies.values()), events - len(latencies), answered


def web_node_alone(events, concurrency, workers):
    """The burst against a node without the job runner: the jobs stay queued in a copy."""
    db = copy_database(dbname("hc_bench"), dbname("hc_bench_web_node"))
    server = OdooServer(db, workers=workers, runner=False, logname="bench-web-node.log")
    try:
        server.start()
        return burst(server.url, events, concurrency)
    finally:
        server.stop()
        drop_database(db)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--e2e-events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20)
    args = parser.parse_args()
    with running_suite() as (url, _process, db):
        accepted, elapsed, latencies, rejected = burst(url, args.events, args.concurrency)
        started = time.perf_counter()
        wait_for_drain(url)
        drained_s = time.perf_counter() - started
        e2e, unfinished, steady = end_to_end(url, args.e2e_events, args.rate, db)
    conf = configparser.ConfigParser()
    conf.read(ROOT / "var" / f"odoo-{db}.conf")
    alone, alone_elapsed, alone_latencies, _ = web_node_alone(
        args.events, args.concurrency, int(conf["options"]["workers"]))
    table(
        ["measure", "value"],
        [
            ["machine, server", f"{os.cpu_count()} cores, {conf['options']['workers']} workers, "
                                f"jobs {conf['queue_job']['channels']}"],
            ["accepted events", f"{accepted} ({rejected} not accepted)"],
            ["accepted events/s", f"{accepted / elapsed:.0f}"],
            ["202 latency p50 (ms)", f"{statistics.median(latencies):.1f}"],
            ["202 latency p95 (ms)", f"{percentile(latencies, 0.95):.1f}"],
            ["burst backlog drained after (s)", f"{drained_s:.1f}"],
            [f"202 latency at {args.rate:g} ev/s, p50 / p95 (ms)",
             f"{statistics.median(steady):.1f} / {percentile(steady, 0.95):.1f}"],
            [f"end-to-end at {args.rate:g} ev/s, p50 (ms)", f"{statistics.median(e2e):.0f}" if e2e else "-"],
            [f"end-to-end at {args.rate:g} ev/s, p95 (ms)", f"{percentile(e2e, 0.95):.0f}" if e2e else "-"],
            ["end-to-end unfinished", unfinished],
            ["web node alone: accepted events/s", f"{alone / alone_elapsed:.0f} ({alone} accepted)"],
            ["web node alone: 202 p50 / p95 (ms)",
             f"{statistics.median(alone_latencies):.1f} / {percentile(alone_latencies, 0.95):.1f}"],
        ],
    )


if __name__ == "__main__":
    main()
