"""MLLP crash recovery: SIGKILL the MLLP listener, then Odoo, during a stream of HL7 messages.

    python tests/reliability/mllp_kill.py [--count 2000] [--connections 2] [--template hc_bench]

On a copy of the demo database: Odoo (workers, job runner) and the MLLP listener run as process
groups; senders (the addon's MllpClient) stream MFN^M16 messages of one item each and, as an HL7
sender does, send a message again with the same MSH-10 until it is acknowledged AA. At a third of
the stream every process of the listener gets SIGKILL (it is started again at once); at two thirds
every process of Odoo does (started again). Then, once the jobs drained: every acknowledged
message is stored exactly once per flow (0 lost), every item exists once with one vendor line
(0 applied twice), no message short of a final state, none in the exception queue.
"""

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench"))

from _common import dbname, plain_imports, table  # noqa: E402
from _harness import OdooServer, drop_database, free_port, query, wait_until_drained  # noqa: E402
from _mllp import Listener  # noqa: E402
from _odoo_shell import copy_database, ensure_database  # noqa: E402

plain_imports()
from hc_integration_base.transports.errors import TransportError  # noqa: E402
from hc_integration_base.transports.mllp import MllpClient  # noqa: E402
from legacy_sim import hl7_peer  # noqa: E402


def message(number, run):
    return hl7_peer.mfn_m16(f"K{run}{number:07d}", items=[{
        "code": f"K{run}-{number:06d}", "name": f"Kill item {number}", "vendor": f"V-K{number % 5}",
        "vendor_name": f"Kill vendor {number % 5}", "catalog": f"C-{number}", "unit": "EA", "per_pack": 1,
        "price": "2.50", "cost_centre": "CC-1", "locations": [("CS-MAIN", "Central stores")]}])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--template", default=os.environ.get("HC_HL7_TEMPLATE", dbname("hc_bench")))
    parser.add_argument("--db", default=dbname("hc_bench_mllp_kill"))
    args = parser.parse_args()

    ensure_database(args.template)
    db = copy_database(args.template, args.db)
    port = free_port()
    query(db, "UPDATE hc_backend SET mllp_listen_port = %s WHERE code = 'mmis_hl7' RETURNING id", (port,))
    server = OdooServer(db, workers=2, logname="mllp-kill.log")
    listener = Listener(db, port)
    run = time.strftime("%H%M%S")
    acked, resends, lock = set(), [0], threading.Lock()
    numbers = iter(range(args.count))
    progress = [0]

    def sender():
        client = MllpClient("127.0.0.1", port, connect_timeout=2, read_timeout=10)
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                client.close()
                return
            text = message(number, run)
            deadline = time.monotonic() + 300
            while True:
                try:
                    ack = client.send(text)
                    break
                except TransportError as exc:
                    assert exc.transient, f"message {number} refused: {exc}"
                    assert time.monotonic() < deadline, f"message {number} never acknowledged: {exc}"
                    with lock:
                        resends[0] += 1
                    time.sleep(0.2)
            with lock:
                acked.add(ack.control_id)
                progress[0] += 1

    kills = []
    try:
        server.start()
        listener.start()
        threads = [threading.Thread(target=sender) for _ in range(args.connections)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for share, what in ((1 / 3, "listener"), (2 / 3, "odoo")):
            while progress[0] < args.count * share and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            victim = listener if what == "listener" else server
            os.killpg(victim.process.pid, signal.SIGKILL)
            victim.process.wait()
            kills.append(f"{what} at {progress[0]}")
            victim.start()
        for thread in threads:
            thread.join()
        streamed = time.monotonic() - began
        assert wait_until_drained(db, timeout=1800, settle=3.0), "the jobs did not drain"
        prefix = f"K{run}%"
        stored = dict(query(db, "SELECT split_part(idempotency_key, '@', 1), count(*) FROM hc_message "
                                "WHERE idempotency_key LIKE %s AND state != 'duplicate' GROUP BY 1", (prefix,)))
        lost = sorted(c for c in acked if stored.get(c) != 2)
        states = dict(query(db, "SELECT state, count(*) FROM hc_message WHERE idempotency_key LIKE %s GROUP BY 1",
                            (prefix,)))
        items = query(db, "SELECT count(*), count(DISTINCT default_code) FROM product_template WHERE default_code "
                          "LIKE %s", (f"K{run}-%",))[0]
        lines = query(db, "SELECT count(*) FROM product_supplierinfo s JOIN product_template t ON "
                          "t.id = s.product_tmpl_id WHERE t.default_code LIKE %s", (f"K{run}-%",))[0][0]
        table(["messages", "acknowledged", "resent (no ACK)", "kills", "streamed s", "lost", "items (distinct)",
               "vendor lines", "states"], [[
            args.count, len(acked), resends[0], "; ".join(kills), f"{streamed:.1f}", len(lost),
            f"{items[0]} ({items[1]})", lines, str(dict(states))]])
        assert len(acked) == args.count and not lost, f"lost: {lost[:10]}"
        assert items[0] == items[1] == args.count and lines == args.count, "an item applied twice or missing"
        assert set(states) == {"done"}, states
    finally:
        listener.stop()
        server.stop()
        drop_database(db)


if __name__ == "__main__":
    main()
