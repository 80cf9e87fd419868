"""Inventory sync: reconciliation time and memory, urgent replenishment latency.

    python tests/bench/bench_inventory.py [--sizes 10000,100000] [--items 2000]
                                          [--breaches 40] [--rate 2]

1. Reconciliation: the REST simulator serves N stock balances; one reconciliation pulls them
   (pages of 1,000, one job each, run one after the other in a single Odoo process in their own
   transactions, as the job runner would) and compares them with Odoo's quants. Printed per N:
   time, balances per second, the process's resident memory before and its peak during the
   run. Each size runs in a fresh process, so the peaks compare.
2. Urgent replenishment, with Odoo running workers and the queue_job runner (setup/run.sh):
   consumption events each take one critical supply below its threshold; the time from the
   event's arrival to the supplier system's acknowledgement of the order is read from the
   messages (p50/p95), and the orders counted.
"""

import argparse
import statistics
import subprocess
import time
import uuid

import psycopg2
import requests
from _common import Simulators, dbname, table
from _odoo_shell import copy_database, ensure_database, run_in_odoo
from _server import running_suite

DB = dbname("hc_bench")
HEADERS = {"Content-Type": "application/json", "X-API-Key": "demo-inbound-key"}



def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def reconciliation(sizes, items):
    ensure_database(DB)
    copy = f"{DB}_reconcile"
    rows = []
    for size in sizes:
        sims = Simulators(items=items, extra=("--balances", str(size)))
        try:
            copy_database(DB, copy)
            result = run_in_odoo(copy, "_reconcile_driver:main", items=items, sim_url=sims.rest_url)
        finally:
            subprocess.run(["dropdb", "--if-exists", "--force", copy], check=False, capture_output=True)
            sims.stop()
        assert result["state"] == "done" and result["balances"] == size, result
        rows.append([f"{size:,}", result["jobs"], f"{result['seconds']:.1f}", f"{size / result['seconds']:,.0f}",
                     f"{result['lines']:,}", f"{result['baseline_mib']:.0f}", f"{result['sampled_mib']:.0f}",
                     f"{result['peak_mib']:.0f}", f"{result['peak_mib'] - result['baseline_mib']:.0f}"])
    print("Reconciliation (one Odoo process running every job in turn)")
    table(["balances", "jobs", "seconds", "balances/s", "lines", "RSS before (MiB)", "max RSS after a job (MiB)",
           "peak RSS (MiB)",
           "peak growth (MiB)"], rows)


def replenishment(breaches, rate):
    run = uuid.uuid4().hex[:6]
    with running_suite(template=DB) as (url, _process, db):
        codes = run_in_odoo(db, "_reconcile_driver:setup_critical", run=run, count=breaches)["codes"]
        references = []
        session = requests.Session()
        next_send = time.perf_counter()
        for code in codes:
            time.sleep(max(0.0, next_send - time.perf_counter()))
            reference = f"BENCH-{run}-{code}"
            answer = session.post(f"{url}/hc/in/stores_rest/consumption", headers=HEADERS, timeout=30, json={
                "reference": reference, "item_code": code, "quantity": 10, "location_code": "PHARM"})
            assert answer.status_code == 202, answer.text
            references.append(reference)
            next_send += 1.0 / rate
        latencies = wait_for_acknowledgements(db, references)
        orders = count_orders(db, run)
    print(f"\nUrgent replenishment ({breaches} breaches at {rate:g} events/s, workers and job runner)")
    table(["measure", "value"], [
        ["orders acknowledged", f"{len(latencies)} of {breaches}"],
        ["purchase orders created", orders],
        ["event -> acknowledgement p50 (ms)", f"{statistics.median(latencies):.0f}" if latencies else "-"],
        ["event -> acknowledgement p95 (ms)", f"{percentile(latencies, 0.95):.0f}" if latencies else "-"],
        ["event -> acknowledgement max (ms)", f"{max(latencies):.0f}" if latencies else "-"],
    ])


def wait_for_acknowledgements(db, references, timeout=300):
    deadline = time.monotonic() + timeout
    with psycopg2.connect(dbname=db) as connection:
        while True:
            with connection.cursor() as cursor:
                cursor.execute("SELECT replenishment_latency_ms FROM hc_message WHERE external_id = ANY(%s) "
                               "AND direction = 'inbound' AND replenishment_acked_at IS NOT NULL", (references,))
                latencies = [row[0] for row in cursor.fetchall()]
            connection.commit()
            if len(latencies) == len(references) or time.monotonic() > deadline:
                return latencies
            time.sleep(0.5)


def count_orders(db, run):
    with psycopg2.connect(dbname=db) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT po.id) FROM purchase_order po JOIN purchase_order_line pol "
                       "ON pol.order_id = po.id JOIN product_product pp ON pp.id = pol.product_id "
                       "WHERE pp.default_code LIKE %s", (f"CRIT-{run}-%",))
        return cursor.fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--breaches", type=int, default=40)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--skip-replenishment", action="store_true")
    args = parser.parse_args()
    if not args.skip_replenishment:
        replenishment(args.breaches, args.rate)
        print()
    reconciliation([int(s) for s in args.sizes.split(",")], args.items)


if __name__ == "__main__":
    main()
