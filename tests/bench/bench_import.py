"""Batch throughput: the item catalog pull against Odoo's own import, and against one job per record.

    python tests/bench/bench_import.py [--sizes 10000,100000] [--naive-size 2000]

The REST simulator serves N items (with their supplier); each way brings them into products
with their vendor price line, in its own copy of the benchmark database and its own process
(memory figures are per process, the jobs run one after the other, each in its own
transaction, as the job runner does):

- native:   ``product.template.load()`` in chunks of 1,000 rows — what an administrator does with
            a CSV file on the import screen: as that user (access checks included, as the jobs'
            integration user has them) and with the screen's default "track history" off (the
            rows are read before the clock starts, like a file on disk); and the same load() as
            the superuser, who skips access checks (what they cost Odoo's own import);
- designed: the suite's paged pull (one job per page of 1,000 items, bindings looked up per page,
            one batched create, unchanged records skipped);
- naive:    the same handler with one message and one job per item.

Prints items per second, the ratios by wall clock and by CPU time (this process and its PostgreSQL
backend: what a run costs, steady on a machine doing other work too), and the process's
resident memory before and at its peak.
"""

import argparse
import os

from _common import Simulators, dbname, table
from _odoo_shell import ensure_database, run_on_copy

# Another name keeps two checkouts' runs on one machine apart (each upgrades its own template).
TEMPLATE = os.environ.get("HC_BENCH_TEMPLATE", dbname("hc_bench"))


def one_way(mode, size):
    sims = Simulators(items=size, suppliers=40)
    return run_on_copy(TEMPLATE, f"{TEMPLATE}_{mode}", "_pull_driver:main", sims, mode=mode, sim_url=sims.rest_url)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--naive-size", type=int, default=2000,
                        help="items for the one-job-per-record run (and a designed run of the same size); 0 skips")
    args = parser.parse_args()
    ensure_database(TEMPLATE)
    rows, ratios = [], []
    plan = [(size, mode) for size in map(int, args.sizes.split(",")) for mode in ("native", "native_su", "designed")]
    if args.naive_size:
        if (args.naive_size, "designed") not in plan:
            plan.append((args.naive_size, "designed"))
        plan.append((args.naive_size, "naive"))
    speeds, cpu_speeds = {}, {}
    for size, mode in plan:
        res = one_way(mode, size)
        assert res["products"] == size and res["sellers"] == size and not res["errors"], res
        speed = size / res["seconds"]
        speeds[(size, mode)] = speed
        cpu_speeds[(size, mode)] = size / res["cpu_seconds"]
        rows.append([f"{size:,}", mode, f"{res['seconds']:.1f}", f"{speed:,.0f}", f"{res['cpu_seconds']:.1f}",
                     res["jobs"], res["bindings"], f"{res['baseline_mib']:.0f}", f"{res['peak_mib']:.0f}"])
    for size in sorted({s for s, _ in plan}):
        for other, label in (("native", "designed / native import (administrator)"),
                             ("native_su", "designed / native load() as superuser"),
                             ("naive", "designed / one job per record")):
            if (size, "designed") in speeds and (size, other) in speeds:
                ratios.append([f"{size:,}", label, f"{speeds[(size, 'designed')] / speeds[(size, other)]:.2f}",
                               f"{cpu_speeds[(size, 'designed')] / cpu_speeds[(size, other)]:.2f}"])
    table(["items", "way", "seconds", "items/s", "CPU s (Odoo + PostgreSQL)", "jobs", "bindings", "RSS before (MiB)",
           "peak RSS (MiB)"], rows)
    print()
    table(["items", "ratio", "by wall clock", "by CPU time"], ratios)


if __name__ == "__main__":
    main()
