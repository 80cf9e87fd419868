"""Run inside Odoo by bench_inventory.py (``run_in_odoo(db, "_reconcile_driver:<function>")``)."""

import time

from _in_odoo_common import drain, params, point_backends_at, reset_peak, result, status


def main(env):
    """One reconciliation of the simulator's balances, each job in its own transaction, one after
    the other."""
    given = params()
    items = int(given["items"])
    point_backends_at(env, given["sim_url"])
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


def setup_critical(env):
    """``count`` critical supplies of a new vendor, each with a reordering rule (min 20, max 100)
    and 25 units in the pharmacy; prints their codes."""
    given = params()
    run, count = given["run"], int(given["count"])
    vendor = env["res.partner"].create({"name": f"Bench vendor {run}", "ref": "SUP-0001", "is_company": True})
    buy = env.ref("purchase_stock.route_warehouse0_buy")
    stock = env.ref("stock.stock_location_stock")
    pharmacy = env.ref("hc_inventory_sync.demo_location_pharmacy")
    codes = []
    for i in range(count):
        code = f"CRIT-{run}-{i:03d}"
        product = env["product.product"].create({
            "name": f"Critical {code}", "default_code": code, "is_storable": True, "hc_critical": True,
            "seller_ids": [(0, 0, {"partner_id": vendor.id, "price": 2.0})], "route_ids": [(6, 0, buy.ids)]})
        env["stock.warehouse.orderpoint"].create(
            {"product_id": product.id, "location_id": stock.id, "product_min_qty": 20, "product_max_qty": 100})
        env["stock.quant"]._update_available_quantity(product, pharmacy, 25)
        codes.append(code)
    env.cr.commit()
    result(codes=codes)
