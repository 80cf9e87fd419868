"""MLLP listener throughput: messages acknowledged per second and ACK latency, with the job runner
applying them at the same time.

A copy of the demo database, Odoo with HTTP workers and the queue_job runner, and the MLLP listener
(``odoo-bin mllp_listener``) as processes; ``--connections`` senders (the addon's MllpClient, one
kept connection each, a message sent when the previous one is acknowledged) send ``--count``
MFN^M16 messages of one item each (its vendor among ten). Prints the acknowledgement rate, ACK
p50 / p95 / max, the CPU time per message of the listener and of its PostgreSQL connections (the
machine may be shared: CPU time is the figure other processes disturb least), the load average,
the time until the job runner drained the backlog, and checks that every message was stored once
and every item created once. ``--modes single,group`` runs one round per mode in one run: one
transaction per message (the listener before group commit) against the group commit;
``--connections 4,8,16`` (the default) a round per number of senders. The backlog drains once,
after the rounds.

    PY=~/.local/share/hc-integration/venv/bin/python
    $PY tests/bench/bench_mllp.py --count 2000 [--connections 4,8,16] [--modes single,group]
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

from _common import dbname, plain_imports, run_threads, table  # noqa: E402
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


MODES = {
    # one transaction per message, as before the group commit
    "single": ["--mllp-batch-max", "1"],
    # the listener's default: the messages of every connection committed together
    "group": [],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="messages per round")
    parser.add_argument("--connections", default="4,8,16",
                        help="senders at once; several (4,8,16): a round for each, one after the other, every "
                        "later round meeting the backlog the earlier ones left the job runner")
    parser.add_argument("--template", default=os.environ.get("HC_HL7_TEMPLATE", dbname("hc_bench")))
    parser.add_argument("--db", default=dbname("hc_bench_mllp"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1, help="listener processes sharing the port")
    parser.add_argument("--modes", default="group",
                        help=f"rounds, comma-separated, in one run: {', '.join(MODES)} (single: one transaction "
                        "per message, the listener's behaviour before group commit)")
    args = parser.parse_args()
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(sorted(unknown))}; known: {', '.join(MODES)}")
    connections = [int(n) for n in args.connections.split(",") if n.strip()]

    ensure_database(args.template)
    db = copy_database(args.template, args.db)
    port = free_port()
    query(db, "UPDATE hc_backend SET mllp_listen_port = %s WHERE code = 'mmis_hl7' RETURNING id", (port,))
    server = OdooServer(db, workers=args.workers, logname="bench-mllp.log")
    rounds = []
    try:
        server.start()
        began = time.perf_counter()
        # Rounds one after the other while the job runner applies the backlog of the earlier ones:
        # every round meets a busy runner, and the backlog drains once, at the end.
        for senders in connections:
            for mode in modes:
                listener = Listener(db, port, processes=args.processes, extra_args=MODES[mode])
                try:
                    listener.start()
                    rounds.append(run_round(port, listener, args.count, senders, mode,
                                            f"{time.strftime('%H%M%S')}{len(rounds)}"))
                finally:
                    listener.stop()
        streamed = time.perf_counter() - began
        drained = wait_until_drained(db, timeout=3600, settle=2.0)
        total = time.perf_counter() - began
        rows = [check_round(db, args, entry) for entry in rounds]
        table(["mode", "messages", "connections", "listeners", "acked/s", "ACK p50 ms", "ACK p95 ms", "ACK max ms",
               "listener CPU ms/msg", "its PostgreSQL CPU ms/msg", "load avg (1 min) start-end", "refused",
               "stored (2 flows)", "items created", "states"], rows)
        print(f"all rounds streamed in {streamed:.1f} s; the job runner drained the backlog after "
              + (f"{total:.1f} s" if drained else "- not drained"))
        for row in rows:
            base = next(other for other in rows if other[2] == row[2])
            if row is not base:
                print(f"{row[2]} connections, {row[0]} / {base[0]}: acked/s x{float(row[4]) / float(base[4]):.2f}, "
                      f"CPU per message: listener x{float(row[8]) / float(base[8]):.2f}, "
                      f"its PostgreSQL x{float(row[9]) / float(base[9]):.2f}")
        assert drained, "the job runner did not drain the backlog"
    finally:
        server.stop()
        drop_database(db)


def run_round(port, listener, count, connections, mode, run):
    """``count`` messages from ``connections`` senders: what was measured while sending."""
    latencies, refused, lock = [], [], threading.Lock()
    numbers = iter(range(count))

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

    hl7_peer.send("127.0.0.1", port, message(999999, f"W{run}"))  # warm-up: registry caches, mappings
    load_before = os.getloadavg()[0]
    cpu_before = listener.cpu_seconds()
    sending = run_threads(sender, connections)
    cpu, cpu_db = (after - before for after, before in zip(listener.cpu_seconds(), cpu_before, strict=True))
    return {"mode": mode, "run": run, "connections": connections, "latencies": sorted(latencies), "refused": refused,
            "sending": sending, "cpu": cpu, "cpu_db": cpu_db, "load": (load_before, os.getloadavg()[0])}


def check_round(db, args, entry):
    """The row of one round, once the backlog drained: every acknowledged message stored once per
    flow, every item created once."""
    run, ordered = entry["run"], entry["latencies"]
    stored = query(db, "SELECT count(*), count(DISTINCT idempotency_key) FROM hc_message "
                       "WHERE idempotency_key LIKE %s", (f"{run}%",))[0]
    done = query(db, "SELECT state, count(*) FROM hc_message WHERE idempotency_key LIKE %s GROUP BY state",
                 (f"{run}%",))
    items = query(db, "SELECT count(*), count(DISTINCT default_code) FROM product_template "
                      "WHERE default_code LIKE %s", (f"B{run}-%",))[0]
    if entry["refused"]:
        print(f"{entry['mode']}: first refusal: {entry['refused'][0]}")
    assert stored[0] == stored[1] == 2 * len(ordered), "every acknowledged message stored once per flow"
    assert items[0] == items[1], "no item created twice"
    acked = max(len(ordered), 1)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if ordered else float("nan")
    return [entry["mode"], args.count, entry["connections"], args.processes, f"{len(ordered) / entry['sending']:.0f}",
            f"{statistics.median(ordered):.1f}" if ordered else "-", f"{p95:.1f}",
            f"{ordered[-1]:.1f}" if ordered else "-", f"{entry['cpu'] * 1000 / acked:.2f}",
            f"{entry['cpu_db'] * 1000 / acked:.2f}", "{:.1f}-{:.1f}".format(*entry["load"]), len(entry["refused"]),
            f"{stored[0]} ({stored[1]} keys)", f"{items[0]} ({items[1]} codes)", str(dict(done))]


if __name__ == "__main__":
    main()
