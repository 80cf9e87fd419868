"""Fault injection: a mixed workload against simulators that fail, then a simulator outage.

    python tests/reliability/fault_injection.py [--orders 1200] [--events 800] [--items 2000]
                                                [--outage 60] [--outage-orders 50]

On a fresh copy of the benchmark database, with Odoo running workers and the queue_job runner:

- the SOAP gateway fails 20% of calls (HTTP 500 / Server fault), hangs on 10% (longer than the
  backend's read timeout), hangs after storing the order on 5%, answers malformed XML on 5%
  and sends 5% SOAP faults, while ``--orders`` confirmed purchase orders are pushed to it;
- the departmental system posts ``--events`` demand signals (one RFQ expected each);
- the REST system fails 20% of the item catalog's page requests, hangs on 10% and answers 5%
  malformed while ``--items`` items are pulled;
- then the gateway goes down for ``--outage`` seconds while ``--outage-orders`` more orders are
  confirmed: the circuit breaker must open, and recover when the gateway is back.

Retries use a compressed backoff (1, 2, 4, 8 s; the pattern is a queue.job.function setting)
so the run takes minutes. Checks: every message ends done or in the exception queue with a
transport or remote category (never internal), nothing lost, no order stored twice by the
gateway, no RFQ twice for a signal, no product twice, the breaker opened and closed again.
"""

import argparse
import threading
import time

import requests
from _harness import HEADERS, drop_database, in_odoo, query, scalar, suite_round, table, wait_until_drained


def post_events(url, prefix, count, rate, accepted):
    session = requests.Session()
    for i in range(count):
        body = {"reference": f"{prefix}-{i:05d}", "approved": True, "department_code": "ER",
                "lines": [{"item_code": f"FAULT-{i % 4}", "quantity": 1 + i % 5}]}
        while True:
            try:
                answer = session.post(url + "/hc/in/stores_rest/demand", json=body, headers=HEADERS, timeout=30)
                if answer.status_code in (200, 202):
                    accepted.append(body["reference"])
                    break
            except requests.RequestException:
                session = requests.Session()
            time.sleep(0.5)
        time.sleep(1.0 / rate)


def breaker_watch(db, seen, stop):
    while not stop.is_set():
        state = scalar(db, "SELECT breaker_state FROM hc_backend WHERE code = 'gateway_soap'")
        seen.add(state)
        time.sleep(0.2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1200)
    parser.add_argument("--events", type=int, default=800)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=10.0, help="demand signals per second")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the gateway is down")
    parser.add_argument("--outage-orders", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    with suite_round("hc_faults", items=args.items, workers=args.workers, logname="faults.log") as (db, sims, server):
        started = time.monotonic()
        before = in_odoo(db, "fault_setup", rest_url=sims.rest_url, wsdl_url=sims.wsdl_url)["products"]
        first = scalar(db, "SELECT coalesce(max(id), 0) FROM hc_message")
        in_odoo(db, "fault_confirm_orders", count=args.orders, prefix="FI")  # queued pushes, run once the server is up
        sims.admin("/_admin/faults", {"target": "soap", "error_rate": 0.2, "timeout_rate": 0.1,
                                      "timeout_after_store_rate": 0.05, "malformed_rate": 0.05,
                                      "soap_fault_rate": 0.05, "hang_seconds": 3, "fault_seed": 7})
        sims.admin("/_admin/faults", {"target": "rest", "error_rate": 0.2, "status_code": 500,
                                      "timeout_rate": 0.1, "malformed_rate": 0.05, "hang_seconds": 3,
                                      "fault_seed": 11})
        server.start()
        run = in_odoo(db, "start_catalog_pull")["run"]
        accepted = []
        poster = threading.Thread(target=post_events, args=(server.url, "FI-REQ", args.events, args.rate, accepted))
        poster.start()
        poster.join()
        drained = wait_until_drained(db, timeout=1200)
        sims.admin("/_admin/faults", {"target": "soap", "error_rate": 0, "timeout_rate": 0,
                                      "timeout_after_store_rate": 0, "malformed_rate": 0, "soap_fault_rate": 0})
        sims.admin("/_admin/faults", {"target": "rest", "error_rate": 0, "timeout_rate": 0, "malformed_rate": 0})
        workload_s = time.monotonic() - started

        # The outage: the gateway refuses connections while more orders are confirmed.
        seen, stop = set(), threading.Event()
        watcher = threading.Thread(target=breaker_watch, args=(db, seen, stop))
        watcher.start()
        sims.admin("/_admin/take-down", {"target": "soap"})
        outage_first = scalar(db, "SELECT coalesce(max(id), 0) FROM hc_message")
        in_odoo(db, "fault_confirm_orders", count=args.outage_orders, prefix="OUT")
        time.sleep(max(0.0, args.outage))
        sims.admin("/_admin/bring-up", {"target": "soap"})
        back = time.monotonic()
        recovered = wait_until_drained(db, timeout=600)
        recovery_s = time.monotonic() - back
        time.sleep(1)
        stop.set()
        watcher.join()

        states = dict(query(db, "SELECT state, count(*) FROM hc_message WHERE id > %s GROUP BY state", (first,)))
        categories = dict(query(db, "SELECT error_category, count(*) FROM hc_message WHERE id > %s "
                                    "AND state = 'exception' GROUP BY error_category", (first,)))
        pushes = scalar(db, "SELECT count(*) FROM hc_message m JOIN hc_flow f ON f.id = m.flow_id "
                            "WHERE m.id > %s AND f.object_type = 'purchase_order' AND m.state != 'duplicate'", (first,))
        confirmed = scalar(db, "SELECT count(*) FROM purchase_order WHERE partner_ref LIKE 'FI-%%' "
                               "OR partner_ref LIKE 'OUT-%%'")
        unpushed = scalar(db, """SELECT count(*) FROM purchase_order po WHERE (po.partner_ref LIKE 'FI-%%'
                                 OR po.partner_ref LIKE 'OUT-%%') AND NOT EXISTS (SELECT 1 FROM hc_message m
                                 WHERE m.res_model = 'purchase.order' AND m.res_id = po.id)""")
        remote = sims.orders()
        references = [o.get("reference") for o in remote]
        duplicated_remote = len(references) - len(set(references))
        done_orders = {r for (r,) in query(db, """SELECT po.name FROM purchase_order po JOIN hc_message m
            ON m.res_model = 'purchase.order' AND m.res_id = po.id AND m.direction = 'outbound'
            WHERE m.state = 'done'""")}
        done_not_remote = len(done_orders - set(references))
        rfqs = dict(query(db, "SELECT origin, count(*) FROM purchase_order WHERE origin LIKE 'FI-REQ-%%' "
                              "GROUP BY origin"))
        signals_wrong = sum(1 for ref in accepted if rfqs.get(ref) != 1)
        products = scalar(db, "SELECT count(*) FROM product_template WHERE default_code LIKE 'ITM-%%'") - before
        product_rows = scalar(db, "SELECT count(*) FROM hc_binding WHERE res_model = 'product.template'")
        product_keys = scalar(db, "SELECT count(DISTINCT external_id) FROM hc_binding "
                                  "WHERE res_model = 'product.template'")
        run_state, run_error = query(db, "SELECT state, coalesce(error_message, '') FROM hc_batch_run WHERE id = %s",
                                     (run,))[0]
        outage_states = dict(query(db, """SELECT m.state, count(*) FROM hc_message m JOIN hc_flow f
            ON f.id = m.flow_id WHERE m.id > %s AND f.object_type = 'purchase_order' GROUP BY m.state""",
                                   (outage_first,)))
        final_breaker = scalar(db, "SELECT breaker_state FROM hc_backend WHERE code = 'gateway_soap'")
    unfinished = sum(v for k, v in states.items() if k not in ("done", "exception", "duplicate"))
    bad_categories = {k: v for k, v in categories.items() if k not in ("transport", "remote")}
    checks = [
        ["messages", sum(states.values()), ", ".join(f"{k} {v}" for k, v in sorted(states.items()))],
        ["workload drained", drained, f"{workload_s:.0f} s"],
        ["left short of a final state", unfinished, "must be 0"],
        ["exceptions by category", sum(categories.values()), ", ".join(f"{k} {v}" for k, v in categories.items())],
        ["exceptions with another category", sum(bad_categories.values()), "must be 0"],
        ["orders confirmed / pushes queued", f"{confirmed} / {pushes}", "every order queued once"],
        ["orders never queued (lost)", unpushed, "must be 0"],
        ["orders stored twice by the gateway", duplicated_remote, "must be 0"],
        ["orders done but unknown to the gateway", done_not_remote, "must be 0"],
        ["signals accepted / with exactly one RFQ", f"{len(accepted)} / {len(accepted) - signals_wrong}", ""],
        ["signals without exactly one RFQ", signals_wrong, "must be 0"],
        ["items pulled (run state)", f"{products} of {args.items} ({run_state})", run_error[:60]],
        ["products bound twice", product_rows - product_keys, "must be 0"],
        ["breaker states seen in the outage", ", ".join(sorted(filter(None, seen))), "must include open"],
        ["breaker after recovery", final_breaker, f"recovered: {recovered}, {recovery_s:.0f} s after the gateway"],
        ["outage orders", ", ".join(f"{k} {v}" for k, v in sorted(outage_states.items())), "all done"],
    ]
    table(["check", "value", "note"], checks)
    ok = (drained and recovered and not unfinished and not bad_categories and not unpushed
          and not duplicated_remote and not done_not_remote and not signals_wrong
          and product_rows == product_keys and "open" in seen and final_breaker == "closed"
          and outage_states.get("done", 0) == args.outage_orders and pushes == confirmed
          and run_state in ("done", "failed") and (run_state == "done" or run_error))
    print("verdict:", "ok" if ok else "FAILED")
    if ok:
        drop_database(db)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
