"""The nightly employee pull against Odoo's own import of the same employees.

    python tests/bench/bench_workforce.py [--size 20000]

The HR simulator serves N employees (10 departments, their cost centres); each way runs in its
own copy of a database with the workforce addon and demo data, in its own process (see
_workforce_driver.py for what each way writes). Prints employees per second by wall clock and
by CPU time (the Odoo process and its PostgreSQL backend), the ratio, and the process's resident
memory before and at its peak: a flat peak means the pull does not hold the whole list.
"""

import argparse
import os

from _common import dbname, plain_imports, table
from _odoo_shell import ensure_database, run_on_copy

plain_imports()

from legacy_sim.hr import start_hr_simulator  # noqa: E402

TEMPLATE = os.environ.get("HC_BENCH_WORKFORCE_TEMPLATE", dbname("hc_bench_workforce"))
ADDONS = "hc_integration_base,hc_workforce_sync"


def one_way(mode, size):
    hr = start_hr_simulator(port=0, employees=size)
    return run_on_copy(TEMPLATE, f"{TEMPLATE}_{mode}", "_workforce_driver:main", hr, mode=mode, hr_url=hr.url)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20000)
    args = parser.parse_args()
    ensure_database(TEMPLATE, ADDONS)
    rows, figures = [], {}
    for mode in ("native", "designed"):
        res = one_way(mode, args.size)
        assert res["employees"] == args.size and not res["errors"], res
        figures[mode] = (args.size / res["seconds"], args.size / res["cpu_seconds"])
        rows.append([f"{args.size:,}", mode, f"{res['seconds']:.1f}", f"{figures[mode][0]:,.0f}",
                     f"{res['cpu_seconds']:.1f}", res["jobs"], f"{res['baseline_mib']:.0f}", f"{res['peak_mib']:.0f}"])
    table(["employees", "way", "seconds", "employees/s", "CPU s (Odoo + PostgreSQL)", "jobs", "RSS before (MiB)",
           "peak RSS (MiB)"], rows)
    print(f"\ndesigned / native import: {figures['designed'][0] / figures['native'][0]:.2f} by wall clock, "
          f"{figures['designed'][1] / figures['native'][1]:.2f} by CPU time")


if __name__ == "__main__":
    main()
