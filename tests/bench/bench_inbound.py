"""Inbound API under load, against Odoo running with workers and the queue_job runner.

    python tests/bench/bench_inbound.py [--events 1000] [--concurrency 8] [--e2e-events 200] [--rate 20] [--rounds 3]

Prints accepted events per second with the p50/p95 latency of the 202 answer, then the
end-to-end latency (POST -> contact created by the job) at a steady rate. Then the same burst
against a web node alone (no job runner on it, as in a deployment with separate job nodes), on
a copy of the database: what the HTTP tier accepts when no job competes for the CPUs.

Two ratios, each from bursts on the same server with the same clients and concurrency, make the
figures comparable across machines (taken in each of ``--rounds`` rounds of the three bursts, the
median round shown with every round's ratios: one burst of each is as much a shared machine's
neighbours as the server):
- against a bare route of the test addon (``/test_hc/bare``: declared like the inbound API, it
  only answers 204): the share of Odoo's HTTP stack ceiling the inbound API reaches;
- against the same events sent as the legacy system would without the suite: one JSON-RPC
  ``execute_kw`` ``create`` of the contact (``res.partner``) per event, answered once it is stored.
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
from _common import ROOT, dbname, plain_imports, run_threads, table
from _odoo_shell import ensure_database, suite_addons
from _server import running_suite

plain_imports()
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
from _harness import OdooServer, copy_database, drop_database  # noqa: E402

from hc_integration_base.lifecycle import PROCESSED  # noqa: E402

HEADERS = {"Content-Type": "application/json", "X-API-Key": "demo-inbound-key"}
PATH = "/hc/in/stores_rest/contacts"
BARE_PATH = "/test_hc/bare"  # test_hc_integration
# The demo administrator: the legacy system's own user on an Odoo without the suite.
RPC_LOGIN = ("admin", "admin")
# The run command's addons and the test addon holding the bare route (never installed by run.sh).
TEMPLATE = dbname("hc_bench_inbound")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def inbound_request(i):
    """One event for the inbound API: accepted when answered 202."""
    body = json.dumps({"id": f"B-{uuid.uuid4().hex[:10]}", "name": f"Burst contact {i}"})
    return PATH, body, HEADERS


def bare_request(i):
    """The same event to the bare route, which only answers 204."""
    _path, body, headers = inbound_request(i)
    return BARE_PATH, body, headers


def rpc_request(db, uid):
    """The same event as the legacy system would send it without the suite: an ``execute_kw``
    ``create`` of the contact through ``/jsonrpc`` (as its integration user), answered once stored."""
    def build(i):
        external_id = f"R-{uuid.uuid4().hex[:10]}"
        values = {"name": f"Burst contact {i}", "ref": external_id}
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": i, "params": {
            "service": "object", "method": "execute_kw",
            "args": [db, uid, RPC_LOGIN[1], "res.partner", "create", [values]]}})
        return "/jsonrpc", body, {"Content-Type": "application/json"}
    return build


def rpc_login(url, db):
    answer = requests.post(url + "/jsonrpc", timeout=30, json={"jsonrpc": "2.0", "method": "call", "params": {
        "service": "common", "method": "login", "args": [db, *RPC_LOGIN]}}).json()
    if not answer.get("result"):
        raise RuntimeError(f"JSON-RPC login as {RPC_LOGIN[0]} failed: {answer}")
    return answer["result"]


def is_accepted(status, body):
    """Whether an answer accepts its event: 202 (inbound API), 204 (bare route), a JSON-RPC
    answer holding the new record's id."""
    if status in (202, 204):
        return True
    return status == 200 and body.startswith(b'{"jsonrpc"') and isinstance(json.loads(body).get("result"), int)


def burst(url, events, concurrency, build=inbound_request):
    """Post ``events`` requests ``build(i)`` gives (path, body, headers) from ``concurrency``
    keep-alive connections (http.client: the load generator shares the machine's two cores with
    the server, so it must stay light). Returns (accepted, elapsed s, their latencies, refused)."""
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
            path, body, headers = build(i)
            started = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            local.append((is_accepted(response.status, answer), (time.perf_counter() - started) * 1000))
        connection.close()
        with lock:
            results.extend(local)

    elapsed = run_threads(worker, concurrency)
    latencies = [ms for ok, ms in results if ok]
    return len(latencies), elapsed, latencies, sum(1 for ok, _ in results if not ok)


def three_bursts(url, db, events, concurrency, rounds=3, drain=True):
    """The bare route, JSON-RPC creates and the inbound API, each ``events`` from ``concurrency``
    clients on the server at ``url``, after a warm-up of each (every worker has served each kind
    once), ``rounds`` times: on a shared machine one burst of each is as much the neighbours'
    load as the server's, so the ratios are taken per round, each kind's bursts seconds apart, and
    the median round reported. In each round the inbound burst comes last: its backlog drains
    before the next round, competing with nothing measured (``drain``: a node without the job
    runner keeps it queued). Returns a list of {kind: (accepted, elapsed, latencies, refused)}."""
    probe = requests.post(url + BARE_PATH, data=b"{}", headers=HEADERS, timeout=30)
    if probe.status_code != 204:
        raise RuntimeError(f"{BARE_PATH} answered {probe.status_code} on {db}, not 204: is test_hc_integration "
                           "installed there (the benchmark's template installs it)?")
    rpc = rpc_request(db, rpc_login(url, db))
    kinds = {"bare": bare_request, "rpc": rpc, "inbound": inbound_request}
    for build in kinds.values():
        burst(url, concurrency * 4, concurrency, build)
    results = []
    for _round in range(rounds):
        if drain:
            wait_for_drain(url)
        results.append({kind: burst(url, events, concurrency, build) for kind, build in kinds.items()})
    return results


def median_round(results):
    """The round whose inbound / bare ratio is the median, with every round's two ratios."""
    ordered = sorted(results, key=lambda bursts: ratio(bursts["inbound"], bursts["bare"]))
    shown = " / ".join(f"{ratio(b['inbound'], b['bare']):.2f} ({per_second(b['inbound']):.0f} vs "
                       f"{per_second(b['bare']):.0f}/s)" for b in results)
    rpc = " / ".join(f"{ratio(b['inbound'], b['rpc']):.2f}" for b in results)
    return ordered[len(ordered) // 2], shown, rpc


def per_second(figures):
    accepted_count, elapsed, _latencies, _refused = figures
    return accepted_count / elapsed


def ratio(figures, baseline):
    return per_second(figures) / per_second(baseline)


def summary(figures):
    count, elapsed, latencies, refused = figures
    if not latencies:
        return f"0/s ({refused} not accepted)"
    return (f"{count / elapsed:.0f}/s, p50 {statistics.median(latencies):.1f} / p95 "
            f"{percentile(latencies, 0.95):.1f} ms" + (f" ({refused} not accepted)" if refused else ""))


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


def web_node_alone(events, concurrency, workers, rounds):
    """The three bursts against a node without the job runner: the jobs stay queued in a copy."""
    db = copy_database(TEMPLATE, dbname("hc_bench_web_node"))
    server = OdooServer(db, workers=workers, runner=False, logname="bench-web-node.log")
    try:
        server.start()
        return three_bursts(server.url, db, events, concurrency, rounds, drain=False)
    finally:
        server.stop()
        drop_database(db)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--e2e-events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="bursts of each kind; the median round is shown")
    parser.add_argument("--port", type=int, default=8369, help="the suite's HTTP port (and the next three)")
    args = parser.parse_args()
    ensure_database(TEMPLATE, suite_addons() + ",test_hc_integration")
    load_before = os.getloadavg()
    with running_suite(port=args.port, template=TEMPLATE) as (url, _process, db):
        bursts, ratios, rpc_ratios = median_round(three_bursts(url, db, args.events, args.concurrency, args.rounds))
        started = time.perf_counter()
        wait_for_drain(url)
        drained_s = time.perf_counter() - started
        e2e, unfinished, steady = end_to_end(url, args.e2e_events, args.rate, db)
    load_during = os.getloadavg()
    conf = configparser.ConfigParser()
    conf.read(ROOT / "var" / f"odoo-{db}.conf")
    alone, alone_ratios, alone_rpc_ratios = median_round(
        web_node_alone(args.events, args.concurrency, int(conf["options"]["workers"]), args.rounds))
    accepted, _elapsed, latencies, rejected = bursts["inbound"]
    table(
        ["measure", "value"],
        [
            ["machine, server", f"{os.cpu_count()} cores, {conf['options']['workers']} workers, "
                                f"jobs {conf['queue_job']['channels']}"],
            ["load average (1 min) before / after the suite's bursts",
             f"{load_before[0]:.1f} / {load_during[0]:.1f} (5 min: {load_during[1]:.1f})"],
            ["clients (keep-alive connections), events per burst, rounds",
             f"{args.concurrency}, {args.events}, {args.rounds} (the median round's figures)"],
            ["accepted events", f"{accepted} ({rejected} not accepted)"],
            ["accepted events/s", f"{per_second(bursts['inbound']):.0f}"],
            ["202 latency p50 (ms)", f"{statistics.median(latencies):.1f}"],
            ["202 latency p95 (ms)", f"{percentile(latencies, 0.95):.1f}"],
            ["bare route (204 only)", summary(bursts["bare"])],
            ["JSON-RPC create of the contact", summary(bursts["rpc"])],
            ["ratio: inbound / bare route (goal >= 0.5), median", f"{ratio(bursts['inbound'], bursts['bare']):.2f}"],
            ["  each round", ratios],
            ["ratio: inbound / JSON-RPC create (goal >= 2), same round",
             f"{ratio(bursts['inbound'], bursts['rpc']):.2f}"],
            ["  each round", rpc_ratios],
            ["burst backlog drained after (s)", f"{drained_s:.1f}"],
            [f"202 latency at {args.rate:g} ev/s, p50 / p95 (ms)",
             f"{statistics.median(steady):.1f} / {percentile(steady, 0.95):.1f}"],
            [f"end-to-end at {args.rate:g} ev/s, p50 (ms)", f"{statistics.median(e2e):.0f}" if e2e else "-"],
            [f"end-to-end at {args.rate:g} ev/s, p95 (ms)", f"{percentile(e2e, 0.95):.0f}" if e2e else "-"],
            ["end-to-end unfinished", unfinished],
            ["web node alone: inbound", summary(alone["inbound"])],
            ["web node alone: bare route", summary(alone["bare"])],
            ["web node alone: JSON-RPC create", summary(alone["rpc"])],
            ["web node alone: ratios inbound / bare, inbound / JSON-RPC (median round)",
             f"{ratio(alone['inbound'], alone['bare']):.2f}, {ratio(alone['inbound'], alone['rpc']):.2f}"],
            ["  each round", f"{alone_ratios}; {alone_rpc_ratios}"],
        ],
    )


if __name__ == "__main__":
    main()
