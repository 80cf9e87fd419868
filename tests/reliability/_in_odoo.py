"""The Odoo side of the reliability scripts: functions run inside Odoo on a copy of the benchmark
database (``_harness.in_odoo(db, "<function>", **params)``), each printing one ``RESULT`` line."""

from _in_odoo_common import params, point_backends_at, pull, result


def crash_setup(env):
    """crash_recovery.py: suppliers pulled, two products the demand signals name, the catalog's page size."""
    given = params()
    point_backends_at(env, given["rest_url"], given["wsdl_url"])
    pull(env, "hc_procurement_sync.demo_flow_supplier_master")
    vendor = env["res.partner"].search([("ref", "=", "SUP-0001")], limit=1)
    for code in ("CRASH-1", "CRASH-2"):
        env["product.product"].create({"name": code, "default_code": code, "is_storable": True,
                                       "seller_ids": [(0, 0, {"partner_id": vendor.id, "price": 3.0})]})
    env.ref("hc_procurement_sync.demo_flow_item_catalog").page_size = int(given["page_size"])
    env.cr.commit()
    result(vendor=vendor.id, products=env["product.template"].search_count([("default_code", "=like", "ITM-%")]))


def start_catalog_pull(env):
    """crash_recovery.py, fault_injection.py: the item catalog pull started (its jobs queued)."""
    run = env["hc.batch.run"].browse(env.ref("hc_procurement_sync.demo_flow_item_catalog").action_pull_now()["res_id"])
    env.cr.commit()
    result(run=run.id)


def fault_setup(env):
    """fault_injection.py: short retries and timeouts, a breaker on the SOAP gateway, products to order."""
    given = params()
    point_backends_at(env, given["rest_url"], given["wsdl_url"])
    pull(env, "hc_procurement_sync.demo_flow_supplier_master")
    for function in env["queue.job.function"].search([("method", "in", ("_job_process", "_job_fetch_page"))]):
        function.retry_pattern = {1: 1, 2: 2, 3: 4, 4: 8}
    env["hc.backend"].browse(env.ref("hc_integration_base.demo_backend_soap").id).write(
        {"read_timeout": 2, "breaker_threshold": 5, "breaker_cooldown": 30})
    env["hc.backend"].browse(env.ref("hc_integration_base.demo_backend_rest").id).write(
        {"read_timeout": 2, "breaker_threshold": 1000})
    env.ref("hc_procurement_sync.demo_flow_item_catalog").page_size = 100
    vendors = _fault_vendors(env)
    for i in range(4):
        env["product.product"].create({
            "name": f"FAULT-{i}", "default_code": f"FAULT-{i}", "is_storable": True,
            "seller_ids": [(0, 0, {"partner_id": vendors[i % len(vendors)].id, "price": 2.0})]})
    env.cr.commit()
    result(products=env["product.template"].search_count([("default_code", "=like", "ITM-%")]))


def _fault_vendors(env):
    return env["res.partner"].search([("ref", "=like", "SUP-%"), ("supplier_rank", ">", 0)], limit=5)


def fault_confirm_orders(env):
    """fault_injection.py: ``count`` purchase orders confirmed (their pushes queued), ``prefix``-numbered."""
    given = params()
    count, prefix = int(given["count"]), given["prefix"]
    vendors = _fault_vendors(env)
    products = env["product.product"].search([("default_code", "=like", "FAULT-%")])
    for i in range(count):
        order = env["purchase.order"].create({
            "partner_id": vendors[i % len(vendors)].id, "partner_ref": f"{prefix}-{i}",
            "order_line": [(0, 0, {"product_id": products[i % len(products)].id, "product_qty": 1 + i % 7,
                                   "price_unit": 2.0})]})
        order.button_confirm()
        if i % 50 == 49:
            env.cr.commit()
    env.cr.commit()
    result(confirmed=count)


def hostile_pull(env):
    """hostile_input.py: suppliers and items pulled from the (hostile) simulator, here."""
    point_backends_at(env, params()["rest_url"])
    pull(env, "hc_procurement_sync.demo_flow_supplier_master")
    pull(env, "hc_procurement_sync.demo_flow_item_catalog")
    result(ok=1)


def scale_enqueue(env):
    """scale_out.py: ``contacts`` inbound contacts and ``versions`` successive versions of ``records``
    more, queued, with no per-backend cap (the nodes are the limit)."""
    given = params()
    contacts, records, versions = int(given["contacts"]), int(given["records"]), int(given["versions"])
    backend = env.ref("hc_integration_base.demo_backend_rest")
    flow = env.ref("hc_integration_base.demo_flow_contacts_inbound")
    env["hc.backend"].browse(backend.id).job_capacity = 0
    Message = env["hc.message"]
    first = (Message.search([], order="id desc", limit=1).id or 0) + 1
    for i in range(contacts):
        Message._receive_post(backend, flow, {"id": f"SC-{i:05d}", "name": f"Scale contact {i}"},
                              external_id=f"SC-{i:05d}")
    for version in range(1, versions + 1):
        for i in range(records):
            Message._receive_post(backend, flow, {"id": f"SV-{i:04d}", "name": f"Versioned {i} v{version}"},
                                  external_id=f"SV-{i:04d}")
    env.cr.commit()
    result(first=first, queued=Message.search_count([("id", ">=", first), ("state", "=", "queued")]))


def start_scheduled_pulls(env):
    """test_scheduled_pulls.py: every scheduled pull started at once, as the nightly cron does."""
    given = params()
    point_backends_at(env, given["rest_url"], given["wsdl_url"])
    env["hc.flow"]._cron_scheduled_pulls()
    env.cr.commit()
    result(runs=env["hc.batch.run"].search_count([("trigger", "=", "scheduled")]))
