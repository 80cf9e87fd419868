"""Crash recovery: SIGKILL the Odoo server in the middle of a pull and a stream of events.

    python tests/reliability/crash_recovery.py [--items 10000] [--events 200] [--kill-at 0.2,0.5,0.8]

Per kill point, on a fresh copy of the benchmark database: Odoo runs with workers and the
queue_job runner; an item catalog pull of N items (pages of 100, one job each) starts while a
client posts demand signals (each for two items of one vendor: one RFQ expected per signal),
retrying a signal with the same reference when the server does not answer. When the given share
of the pull's pages is applied, every process of the server gets SIGKILL; the server starts
again and the queue drains. Then: exactly N products, N bindings and N vendor lines, exactly one
RFQ per signal, no message left short of a final state, none in the exception queue.
"""

import argparse
import threading
import time

import requests
from _harness import HEADERS, PENDING, drop_database, in_odoo, query, scalar, suite_round, table, wait_until_drained


class EventStream(threading.Thread):
    """Posts demand signals at a steady rate; a signal the server did not accept is sent again
    (same reference, so the same idempotency key) until it is."""

    def __init__(self, url, prefix, count, rate):
        super().__init__(daemon=True)
        self.url, self.prefix, self.count, self.rate = url, prefix, count, rate
        self.sent, self.retries, self.lock = [], 0, threading.Lock()

    def run(self):
        session = requests.Session()
        for i in range(self.count):
            reference = f"{self.prefix}-{i:05d}"
            body = {"reference": reference, "approved": True, "department_code": "LAB",
                    "lines": [{"item_code": "CRASH-1", "quantity": 2}, {"item_code": "CRASH-2", "quantity": 1}]}
            while True:
                try:
                    answer = session.post(self.url + "/hc/in/stores_rest/demand", json=body, headers=HEADERS,
                                          timeout=10)
                    if answer.status_code in (200, 202):
                        break
                except requests.RequestException:
                    session = requests.Session()
                with self.lock:
                    self.retries += 1
                time.sleep(0.5)
            with self.lock:
                self.sent.append(reference)
            time.sleep(1.0 / self.rate)


def one_round(index, items, events, kill_at, page_size, rate):
    with suite_round(f"hc_crash_{index}", items=items, logname=f"crash-{index}.log") as (db, sims, server):
        before = in_odoo(db, "crash_setup", rest_url=sims.rest_url, wsdl_url=sims.wsdl_url,
                         page_size=page_size)["products"]
        server.start()
        run = in_odoo(db, "start_catalog_pull")["run"]
        stream = EventStream(server.url, f"REQ-K{index}", events, rate)
        stream.start()
        pages = -(-items // page_size)
        deadline = time.monotonic() + 600
        while scalar(db, "SELECT count(*) FROM hc_message WHERE batch_run_id = %s AND state = 'done'",
                     (run,)) < kill_at * pages:
            if scalar(db, "SELECT count(*) FROM hc_message WHERE state = 'exception'") or time.monotonic() > deadline:
                raise RuntimeError("the pull failed or stalled before the kill point: see the exception queue")
            time.sleep(0.1)
        applied = scalar(db, "SELECT count(*) FROM hc_message WHERE batch_run_id = %s AND state = 'done'", (run,))
        sent_before = len(stream.sent)
        server.kill()
        killed_at = time.monotonic()
        time.sleep(1.0)
        server.start()
        stream.join(timeout=600)
        drained = wait_until_drained(db)
        recovery = time.monotonic() - killed_at
        products = scalar(db, "SELECT count(*) FROM product_template WHERE default_code LIKE 'ITM-%%'") - before
        bindings = scalar(db, "SELECT count(DISTINCT external_id) FROM hc_binding WHERE res_model = 'product.template'")
        binding_rows = scalar(db, "SELECT count(*) FROM hc_binding WHERE res_model = 'product.template'")
        sellers = scalar(db, "SELECT count(*) FROM product_supplierinfo si JOIN product_template pt "
                             "ON pt.id = si.product_tmpl_id WHERE pt.default_code LIKE 'ITM-%%'")
        rfqs = dict(query(db, "SELECT origin, count(*) FROM purchase_order WHERE origin LIKE %s GROUP BY origin",
                          (f"REQ-K{index}-%",)))
        stuck = scalar(db, "SELECT count(*) FROM hc_message WHERE state = ANY(%s)", (list(PENDING),))
        exceptions = scalar(db, "SELECT count(*) FROM hc_message WHERE state = 'exception'")
        requeued = server.log.read_text(errors="replace").count("Re-queued dead job")
        res = {
            "kill": f"{kill_at:.0%} ({applied}/{pages} pages, {sent_before} signals sent)",
            "drained": drained, "recovery_s": recovery, "requeued": requeued, "client_retries": stream.retries,
            "products": products, "bindings": bindings, "duplicate_bindings": binding_rows - bindings,
            "sellers": sellers, "signals": len(stream.sent), "rfq_signals": len(rfqs),
            "signals_without_one_rfq": sum(1 for ref in stream.sent if rfqs.get(ref) != 1),
            "stuck": stuck, "exceptions": exceptions,
        }
    drop_database(db)
    return res


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="demand signals per second")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--kill-at", default="0.2,0.5,0.8", help="shares of the pull's pages applied")
    args = parser.parse_args(argv)
    rows, ok = [], True
    for index, share in enumerate(float(s) for s in args.kill_at.split(",")):
        res = one_round(index, args.items, args.events, share, args.page_size, args.rate)
        good = (res["drained"] and res["products"] == args.items and res["bindings"] == args.items
                and res["sellers"] == args.items and not res["duplicate_bindings"]
                and res["signals"] == args.events and not res["signals_without_one_rfq"]
                and not res["stuck"] and not res["exceptions"])
        ok &= good
        rows.append([res["kill"], f"{res['recovery_s']:.0f}", res["requeued"], res["client_retries"],
                     f"{res['products']}/{args.items}", f"{res['bindings']} (+{res['duplicate_bindings']} dup)",
                     res["sellers"], f"{res['rfq_signals']}/{res['signals']}", res["signals_without_one_rfq"],
                     res["stuck"], res["exceptions"], "ok" if good else "FAILED"])
    table(["killed at", "recovered after (s)", "jobs requeued", "client resends", "products", "bindings",
           "vendor lines", "signals with RFQ", "signals without exactly 1 RFQ", "stuck", "exceptions",
           "verdict"], rows)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
