# Runs inside `odoo-bin shell` after _in_odoo_common.py (see bench_inventory.py): one
# reconciliation of the simulator's balances, each job in its own transaction, one after the other.
# ruff: noqa: F821 - `env` and the helpers are the shell's
items = int(PARAMS["items"])
point_backends_at(PARAMS["sim_url"])
flow = env.ref("hc_inventory_sync.demo_flow_stock_balances")
flow.write({"page_size": 1000, "hc_large_difference_value": 0})
codes = [f"ITM-{i + 1:06d}" for i in range(items)]
existing = set(env["product.product"].search([("default_code", "in", codes)]).mapped("default_code"))
env["product.product"].create([
    {"name": f"Bench item {code}", "default_code": code, "is_storable": True, "standard_price": 3.0}
    for code in codes if code not in existing])
env.cr.commit()
env.invalidate_all()
baseline = reset_peak()
started = time.perf_counter()
reconciliation = env["hc.reconciliation"].browse(flow.action_pull_now()["res_id"])
env.cr.commit()
jobs_run, sampled = drain(env)
elapsed = time.perf_counter() - started
reconciliation.invalidate_recordset()
result(state=reconciliation.state, balances=reconciliation.balance_count, lines=len(reconciliation.line_ids),
       jobs=jobs_run, seconds=elapsed, baseline_mib=baseline, peak_mib=status("VmHWM:"), sampled_mib=sampled)
