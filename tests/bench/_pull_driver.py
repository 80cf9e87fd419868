"""Run inside Odoo by bench_import.py (``run_in_odoo(db, "_pull_driver:main")``). Brings the
simulator's N items into products with their vendor price line, three ways:

- designed: the item catalog pull, paged (one job per page of 1,000), bindings, batched create;
- naive:    the same handler, one message and one job per item;
- native:   Odoo's own import (load() in chunks of 1,000 rows as the administrator, with the
            import screen's default of not tracking history); native_su: the same as superuser.
"""

import time

from _in_odoo_common import (
    cpu_seconds,
    drain,
    fetch_all,
    params,
    point_backends_at,
    pull,
    reset_peak,
    result,
    status,
    timed_load,
)


def counts(env):
    return (env["product.template"].search_count([("default_code", "=like", "ITM-%")]),
            env["product.supplierinfo"].search_count([("product_tmpl_id.default_code", "=like", "ITM-%")]),
            env["hc.binding"].search_count([("res_model", "=", "product.template")]))


def native(env, url, as_superuser=False):
    uoms = env["hc.value.map"].search([("code", "=", "legacy_uom")])._lookup_dict()
    vendors = {b.external_id: b.res_id for b in env["hc.binding"].search([("res_model", "=", "res.partner")])}
    fields = ["default_code", "name", "uom_id/.id", "tracking", "hc_critical", "barcode", "is_storable",
              "purchase_ok", "seller_ids/partner_id/.id", "seller_ids/price", "seller_ids/product_code",
              "seller_ids/delay", "seller_ids/min_qty", "seller_ids/product_uom_id/.id"]
    rows = [[it["code"], it["name"], str(uoms[it["uom_code"]]), it["tracking"], str(it["critical"]), it["barcode"],
             "True", "True", str(vendors[it["vendor_code"]]), str(it["price"]), it["vendor_item_code"],
             str(it["lead_time_days"]), str(it["min_qty"]), str(uoms[it["purchase_uom_code"]])]
            for it in fetch_all(url, "items")]
    # As the import screen runs it: the administrator's own rights (not the shell's superuser,
    # who skips every access check) and its default "do not track history" option.
    # native_su: the same as the shell's superuser, for the cost of those checks alone.
    Template = env["product.template"].with_context(tracking_disable=True)
    if not as_superuser:
        Template = Template.with_user(env.ref("base.user_admin"))
    baseline, elapsed, cpu, errors = timed_load(env, Template, fields, rows)
    return baseline, elapsed, cpu, 0, status("VmRSS:"), errors


def naive(env, url, items):
    rows = fetch_all(url, "items")
    baseline = reset_peak()
    started, cpu = time.perf_counter(), cpu_seconds(env)
    Message = env["hc.message"]
    for item in rows:  # what a one-job-per-record design does with each record it receives
        Message._receive_post(items.backend_id, items, item, external_id=item["code"])
    env.cr.commit()
    jobs, sampled = drain(env)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(env) - cpu
    return baseline, elapsed, cpu, jobs, sampled, []


def designed(env):
    baseline = reset_peak()
    started, cpu = time.perf_counter(), cpu_seconds(env)
    jobs, sampled = pull(env, "hc_procurement_sync.demo_flow_item_catalog")
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(env) - cpu
    return baseline, elapsed, cpu, jobs, sampled, []


def main(env):
    given = params()
    mode, url = given["mode"], given["sim_url"]
    point_backends_at(env, url)
    pull(env, "hc_procurement_sync.demo_flow_supplier_master")
    items = env.ref("hc_procurement_sync.demo_flow_item_catalog")
    items.page_size = 1000
    env.cr.commit()
    before = counts(env)
    if mode in ("native", "native_su"):
        baseline, elapsed, cpu, jobs, sampled, errors = native(env, url, as_superuser=mode == "native_su")
    elif mode == "naive":
        baseline, elapsed, cpu, jobs, sampled, errors = naive(env, url, items)
    else:
        baseline, elapsed, cpu, jobs, sampled, errors = designed(env)
    products, sellers, bindings = (after - earlier for after, earlier in zip(counts(env), before, strict=True))
    failed = env["hc.message"].search_count([("flow_id", "=", items.id), ("state", "=", "exception")])
    result(mode=mode, seconds=elapsed, cpu_seconds=cpu, products=products, sellers=sellers, bindings=bindings,
           jobs=jobs, errors=len(errors) + failed, baseline_mib=baseline, peak_mib=status("VmHWM:"),
           sampled_mib=sampled)
