"""MLLP listener throughput: messages acknowledged per second and ACK latency, with the job runner
applying them at the same time.

A copy of the demo database, Odoo with HTTP workers and the queue_job runner, and the MLLP listener
(``odoo-bin mllp_listener``) as processes; ``--connections`` senders (the addon's MllpClient, one
kept connection each, a message sent when the previous one is acknowledged) send ``--count``
MFN^M16 messages of one item each (its vendor among ten). Prints the acknowledgement rate, ACK
p50 / p95 / max, the time until the job runner drained the backlog, and checks that every message
was stored once and every item created once.

    PY=~/.local/share/hc-integration/venv/bin/python
    $PY tests/bench/bench_mllp.py --count 2000 --connections 4
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "reliability"))

from _common import plain_imports, table  # noqa: E402
from _harness import OdooServer, drop_database, free_port, query, wait_until_drained  # noqa: E402
from _mllp import Listener  # noqa: E402
from _odoo_shell import copy_database, ensure_database  # noqa: E402

plain_imports()
from hc_integration_base.transports.mllp import MllpClient  # noqa: E402
from legacy_sim import hl7_peer  # noqa: E402


def message(number, run):
    code = f"B{run}-{number:06d}"
    return hl7_peer.mfn_m16(f"{run}{number:08d}", items=[{
        "code": code, "name": f"Bench item {number}", "vendor": f"V-B{number % 10}",
        "vendor_name": f"Bench vendor {number % 10}", "catalog": f"C-{number}", "unit": "EA", "per_pack": 1,
        "price": f"{1 + number % 50}.25", "cost_centre": "CC-1", "locations": [("CS-MAIN", "Central stores")]}])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--template", default=os.environ.get("HC_HL7_TEMPLATE", "hc_bench"))
    parser.add_argument("--db", default="hc_bench_mllp")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1, help="listener processes sharing the port")
    args = parser.parse_args()

    ensure_database(args.template)
    db = copy_database(args.template, args.db)
    port = free_port()
    query(db, "UPDATE hc_backend SET mllp_listen_port = %s WHERE code = 'mmis_hl7' RETURNING id", (port,))
    server = OdooServer(db, workers=args.workers, logname="bench-mllp.log")
    listener = Listener(db, port, processes=args.processes)
    run = time.strftime("%H%M%S")
    latencies, refused, lock = [], [], threading.Lock()
    numbers = iter(range(args.count))

    def sender():
        with MllpClient("127.0.0.1", port, read_timeout=60) as client:
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                text = message(number, run)
                started = time.perf_counter()
                try:
                    client.send(text)
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    with lock:
                        refused.append(str(exc))
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)

    try:
        server.start()
        listener.start()
        hl7_peer.send("127.0.0.1", port, message(999999, "W"))  # warm-up: registry caches, mappings
        began = time.perf_counter()
        threads = [threading.Thread(target=sender) for _ in range(args.connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sending = time.perf_counter() - began
        drained = wait_until_drained(db, timeout=3600, settle=2.0)
        total = time.perf_counter() - began
        stored = query(db, "SELECT count(*), count(DISTINCT idempotency_key) FROM hc_message "
                           "WHERE idempotency_key LIKE %s", (f"{run}%",))[0]
        done = query(db, "SELECT state, count(*) FROM hc_message WHERE idempotency_key LIKE %s GROUP BY state",
                     (f"{run}%",))
        items = query(db, "SELECT count(*), count(DISTINCT default_code) FROM product_template "
                          "WHERE default_code LIKE %s", (f"B{run}-%",))[0]
        ordered = sorted(latencies)
        p95 = ordered[int(len(ordered) * 0.95) - 1] if ordered else float("nan")
        table(["messages", "connections", "listeners", "acked/s", "ACK p50 ms", "ACK p95 ms", "ACK max ms", "refused",
               "drained after s", "stored (2 flows)", "items created"], [[
            args.count, args.connections, args.processes, f"{len(latencies) / sending:.0f}",
            f"{statistics.median(ordered):.1f}" if ordered else "-", f"{p95:.1f}",
            f"{ordered[-1]:.1f}" if ordered else "-",
            len(refused), f"{total:.1f}" if drained else "not drained", f"{stored[0]} ({stored[1]} keys)",
            f"{items[0]} ({items[1]} codes)"]])
        print("message states:", dict(done))
        if refused:
            print("first refusal:", refused[0])
        assert stored[0] == stored[1] == 2 * len(latencies), "every acknowledged message stored once per flow"
        assert items[0] == items[1], "no item created twice"
    finally:
        listener.stop()
        server.stop()
        drop_database(db)


if __name__ == "__main__":
    main()
