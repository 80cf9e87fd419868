# Runs inside `odoo-bin shell` (see bench_inventory.py): one reconciliation of the simulator's
# balances, each job run in its own transaction one after the other, as the job runner would.
# ruff: noqa: F821 - `env` is the shell's
import gc
import json
import os
import time

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job


def status(key):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key):
                return int(line.split()[1]) / 1024  # MiB


items = int(os.environ["HC_BENCH_ITEMS"])
env["hc.backend"].browse(env.ref("hc_integration_base.demo_backend_rest").id).write(
    {"base_url": os.environ["HC_BENCH_SIM_URL"], "read_timeout": 60})
flow = env.ref("hc_inventory_sync.demo_flow_stock_balances")
flow.write({"page_size": 1000, "hc_large_difference_value": 0})
codes = [f"ITM-{i + 1:06d}" for i in range(items)]
existing = set(env["product.product"].search([("default_code", "in", codes)]).mapped("default_code"))
env["product.product"].create([
    {"name": f"Bench item {code}", "default_code": code, "is_storable": True, "standard_price": 3.0}
    for code in codes if code not in existing])
env.cr.commit()
env.invalidate_all()
gc.collect()
baseline = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # reset the peak (VmHWM) to the current size

started = time.perf_counter()
reconciliation = env["hc.reconciliation"].browse(flow.action_pull_now()["res_id"])
env.cr.commit()
jobs_run = 0
sampled = baseline
models = ("hc.batch.run", "hc.message", "hc.reconciliation")
while True:
    pending = env["queue.job"].search([("state", "=", "pending"), ("model_name", "in", models)], order="id", limit=1)
    if not pending:
        break
    job = Job.load(env, pending.uuid)
    job.set_started()
    job.store()
    env.cr.commit()
    try:
        result = job.perform()
        job.set_done(result=result)
    except RetryableJobError as exc:
        env.cr.rollback()
        job.postpone(result=str(exc), seconds=0)
        job.set_pending(reset_retry=False)
    job.store()
    env.cr.commit()
    env.invalidate_all()
    jobs_run += 1
    sampled = max(sampled, status("VmRSS:"))
elapsed = time.perf_counter() - started
reconciliation.invalidate_recordset()
print("RESULT " + json.dumps({
    "state": reconciliation.state, "balances": reconciliation.balance_count, "lines": len(reconciliation.line_ids),
    "jobs": jobs_run, "seconds": elapsed, "baseline_mib": baseline, "peak_mib": status("VmHWM:"),
    "sampled_mib": sampled,
}))
