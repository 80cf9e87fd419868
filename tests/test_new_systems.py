"""Two legacy systems the addons have never seen, connected only through the records the UI edits.

A REST materials-management system (legacy_sim/materials.py: German keys, nested records, its own
paging parameters ``seite``/``anzahl`` with a default page cap, dd.mm.yyyy dates, decimal commas,
its own unit and status codes) and a SOAP supply gateway (legacy_sim/supply_gateway.py:
``PlaceOrder(PurchaseDocument…)``, ``ACCEPTED``/``NACK``, a fault for an unknown supplier, orders
stored by document number). Odoo runs with HTTP workers and the queue_job runner on a copy of the
demo database; every step goes through JSON-RPC as the web client sends it
(``/web/dataset/call_kw``, ``/web/dataset/call_button``), as three people:

- the administrator creates the two backends (URLs, credentials, the inbound key) and two users;
- a consultant (Integrations › Consultant) creates the code tables, the flows with their page
  contracts, the mapping versions and their lines, activates them and presses *Pull now*;
- a buyer confirms the purchase orders.

The test then waits for the jobs and reads the business results back over JSON-RPC: suppliers and
items (every page), the RFQs of a demand event, one remote order per confirmed order even after a
timeout, the acknowledgement and remote number on the orders, the rejection and the SOAP fault in
the exception queue with the gateway's reason, and receipts validated from the goods-receipt list.
No Python in the addons knows either system.
"""

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "bench"))
sys.path.insert(0, str(HERE / "reliability"))

from _harness import OdooServer, drop_database, wait_until_drained  # noqa: E402
from _odoo_shell import copy_database, ensure_database  # noqa: E402
from _web_client import WebClient  # noqa: E402

from legacy_sim import materials  # noqa: E402
from legacy_sim.supply_gateway import GATEWAY_PASSWORD, GATEWAY_USER, start_supply_gateway  # noqa: E402

# The demo database copied for the run (created and kept up to date by the benchmarks' helper).
TEMPLATE = os.environ.get("HC_NEW_SYSTEMS_TEMPLATE", "hc_bench")
SUPPLIERS, ITEMS = 24, 90


def line(sequence, source, target, transform="direct", required=False, **params):
    return [0, 0, {"sequence": sequence, "source": source, "target": target, "transform": transform,
                   "required": required, "params": json.dumps(params) if params else False}]


def wait(db, what, timeout=180):
    assert wait_until_drained(db, timeout=timeout, settle=1.5), f"jobs still running after {what}"


def configure(admin, mms, gateway, url, db):
    """The administrator's part: backends, credentials, users. Returns the consultant, the buyer
    and the inbound key the materials system posts with."""
    groups = {f"{r['module']}.{r['name']}": r["res_id"] for r in admin.read(
        "ir.model.data", [("model", "=", "res.groups"), ("name", "in", (
            "group_hc_consultant", "group_purchase_user", "group_stock_user", "group_user"))],
        ["module", "name", "res_id"])}
    mms_backend = admin.create("hc.backend", {
        "name": "MediLog materials management", "code": "mms", "protocol": "rest", "base_url": mms.url,
        "health_path": "/mm/ping", "auth_type": "api_key", "api_key": materials.MMS_TOKEN,
        "api_key_name": "X-MM-Token", "api_key_location": "header", "connect_timeout": 2, "read_timeout": 10,
    })
    gateway_backend = admin.create("hc.backend", {
        "name": "ACME supply gateway", "code": "acme_gw", "protocol": "soap", "wsdl_url": gateway.wsdl_url,
        "auth_type": "basic", "auth_username": GATEWAY_USER, "auth_password": GATEWAY_PASSWORD,
        # A short read timeout: the gateway that hangs after storing an order times the call out.
        "connect_timeout": 2, "read_timeout": 2, "breaker_threshold": 100,
    })
    for backend in (mms_backend, gateway_backend):
        admin.button("hc.backend", "action_test_connection", backend)
    tests = admin.read("hc.backend", [("id", "in", [mms_backend, gateway_backend])],
                       ["code", "last_test_ok", "last_test_message"])
    assert all(t["last_test_ok"] for t in tests), tests
    notification = admin.button("hc.backend", "action_generate_inbound_key", mms_backend)
    inbound_key = notification["params"]["message"].rsplit(": ", 1)[1]
    consultant = admin.create("res.users", {
        "name": "Carla Consultant", "login": "carla", "password": "carla-pass-19",
        "group_ids": [[6, 0, [groups["base.group_user"], groups["hc_integration_base.group_hc_consultant"]]]],
    })
    buyer = admin.create("res.users", {
        "name": "Bruno Buyer", "login": "bruno", "password": "bruno-pass-19",
        "group_ids": [[6, 0, [groups["base.group_user"], groups["purchase.group_purchase_user"],
                              groups["stock.group_stock_user"]]]],
    })
    assert consultant and buyer
    return (WebClient(url, db, "carla", "carla-pass-19"), WebClient(url, db, "bruno", "bruno-pass-19"),
            mms_backend, gateway_backend, inbound_key)


def consultant_setup(carla, mms_backend, gateway_backend):
    """The consultant's part: code tables, flows (their Odoo model picked among the allowed ones),
    mappings, all through the models the UI edits."""
    models = {r["model"]: r["id"] for r in carla.read(
        "ir.model", [("model", "in", ("uom.uom", "res.country", "res.partner", "product.template",
                                      "purchase.order", "stock.picking"))], ["model"])}
    uoms = {r["name"]: r["id"] for r in carla.read("uom.uom", [("name", "in", ("Units", "Pack of 6", "L"))], ["name"])}
    countries = {r["code"]: r["id"] for r in carla.read("res.country", [("code", "in", ("DE", "AT", "CH"))], ["code"])}
    for code, name, model, entries in (
            ("mms_units", "MMS units", "uom.uom", {"ST": uoms["Units"], "PAK": uoms["Pack of 6"], "LTR": uoms["L"]}),
            ("mms_countries", "MMS countries", "res.country", countries)):
        table = carla.create("hc.value.map", {"name": name, "code": code, "model_id": models[model]})
        carla.call("hc.value.map", "write", [table], {"entry_ids": [
            [0, 0, {"legacy_code": legacy, "record_ref": f"{model},{res_id}"}] for legacy, res_id in entries.items()]})
    for code, entries in (("mms_batch", {"J": "lot", "N": "none"}), ("mms_urgency", {"JA": "urgent", "NEIN": "normal"}),
                          ("acme_status", {"ACCEPTED": "accepted", "NACK": "rejected"})):
        carla.create("hc.value.map", {"name": code, "code": code, "entry_ids": [
            [0, 0, {"legacy_code": k, "value": v}] for k, v in entries.items()]})

    paging = {"paging_style": "page", "paging_page_param": "seite", "paging_records_path": "antwort.daten.eintraege",
              "paging_total_path": "blaettern.treffer"}
    flows = {}

    def flow(code, values, *mappings):
        model = values.pop("model", None)
        if model:
            values["model_id"] = models[model]
        flows[code] = carla.create("hc.flow", {"name": code, "code": code, **values})
        for direction, lines in mappings:
            mapping = carla.create("hc.mapping", {"flow_id": flows[code], "direction": direction, "line_ids": lines})
            carla.button("hc.mapping", "action_activate", mapping)
        return flows[code]

    # Suppliers: no page size sent, the system's default cap applies; the next page is named.
    flow("mms_suppliers", {
        "backend_id": mms_backend, "object_type": "supplier", "model": "res.partner", "direction": "pull",
        "mode": "batch", "remote_resource": "/mm/rest/v3/lieferanten", "external_id_path": "lieferant.nr",
        **paging, "paging_size_param": False, "paging_next_path": "blaettern.naechste",
    }, ("inbound", [
        line(1, "lieferant.nr", "ref", required=True), line(2, "lieferant.name1", "name", required=True),
        line(3, "kontakt.email", "email", case="lower"), line(4, "kontakt.telefon", "phone"),
        line(5, "anschrift.strasse", "street"), line(6, "anschrift.plz", "zip"), line(7, "anschrift.ort", "city"),
        line(8, "anschrift.land", "country_id", "value_map", table="mms_countries"),
        line(9, "steuer.ustid", "vat"),
        line(10, None, "is_company", "constant", value=True), line(11, None, "supplier_rank", "constant", value=1),
    ]))
    # Items: 100 asked per page, the system caps at 40; nothing names the next page, the total ends it.
    flow("mms_items", {
        "backend_id": mms_backend, "object_type": "item", "model": "product.template", "direction": "pull",
        "mode": "batch", "remote_resource": "/mm/rest/v3/artikel", "external_id_path": "artikel.nr",
        **paging, "paging_size_param": "anzahl", "page_size": 100, "paging_next_path": False,
    }, ("inbound", [
        line(1, "artikel.katalognr", "default_code", required=True),
        line(2, "artikel.bezeichnung", "name", required=True), line(3, "artikel.gtin", "barcode"),
        line(4, "mengen.basiseinheit", "uom_id", "value_map", table="mms_units"),
        line(5, "mengen.bestelleinheit", "hc_purchase_uom_id", "value_map", table="mms_units"),
        line(6, "einkauf.lieferant", "hc_vendor_id", "many2one", model="res.partner", by="binding"),
        line(7, "einkauf.preis", "hc_vendor_price", "number", decimal_separator=","),
        line(8, "einkauf.lieferzeit", "hc_vendor_delay", "integer"),
        line(9, "einkauf.mindestmenge", "hc_vendor_min_qty", "number", decimal_separator=","),
        line(10, "einkauf.lieferanten_artnr", "hc_vendor_code"),
        line(11, "merkmale.chargenpflicht", "tracking", "value_map", table="mms_batch"),
        line(12, "merkmale.kritisch", "hc_critical", "expression", expression="value == 'J'"),
        line(13, "merkmale.status", "purchase_ok", "expression", expression="value == 'FREI'"),
        line(14, None, "is_storable", "constant", value=True),
    ]))
    # Demand: the system posts released requisitions to /hc/in/mms/mms_demand.
    flow("mms_demand", {
        "backend_id": mms_backend, "object_type": "demand", "model": "purchase.order",
        "direction": "inbound", "external_id_path": "anforderung.belegnr",
        "idempotency_key_path": "anforderung.belegnr",
    }, ("inbound", [
        line(1, "anforderung.belegnr", "reference", required=True),
        line(2, "anforderung.kostenstelle", "department_code"),
        line(3, "anforderung.dringend", "urgency", "value_map", table="mms_urgency"),
        line(4, "anforderung.bedarfsdatum", "needed_by", "date", format="%d.%m.%Y"),
        line(5, "anforderung.freigegeben", "approved", "expression", expression="value == 'J'"),
        line(6, "positionen", "lines", "one2many", lines=[
            {"source": "artikel", "target": "item_code"},
            {"source": "menge", "target": "quantity", "transform": "number", "params": {"decimal_separator": ","}},
            {"source": "einheit", "target": "uom_code"},
        ]),
    ]))
    # Goods receipts: pulled from the receiving desk's list; they name the gateway's order number.
    flow("mms_receipts", {
        "backend_id": mms_backend, "object_type": "receipt", "model": "stock.picking", "direction": "pull",
        "mode": "batch", "remote_resource": "/mm/rest/v3/wareneingaenge", "external_id_path": "we.belegnr",
        **paging, "paging_size_param": False, "paging_next_path": "blaettern.naechste",
    }, ("inbound", [
        line(1, "we.belegnr", "reference", required=True),
        line(2, "we.auftrag_gateway", "remote_order_number"),
        line(3, "positionen", "lines", "one2many", lines=[
            {"source": "artikel", "target": "item_code"},
            {"source": "menge", "target": "quantity", "transform": "number", "params": {"decimal_separator": ","}},
            {"source": "charge", "target": "lot"},
            {"source": "verfall", "target": "expiry_date", "transform": "date", "params": {"format": "%d.%m.%Y"}},
        ]),
    ]))
    # Purchase orders go to the ACME gateway instead of the demo one.
    demo_push = carla.read("hc.flow", [("object_type", "=", "purchase_order"), ("direction", "=", "push")], ["id"])
    carla.call("hc.flow", "write", [f["id"] for f in demo_push], {"active": False})
    flow("acme_orders", {
        "backend_id": gateway_backend, "object_type": "purchase_order", "direction": "push",
        "system_of_record": "odoo", "mode": "event", "remote_resource": "PlaceOrder", "max_attempts": 3,
    }, ("outbound", [
        line(1, "reference", "PurchaseDocument.DocNo", required=True),
        line(2, "vendor_code", "PurchaseDocument.SupplierCode", required=True),
        line(3, "order_date", "PurchaseDocument.OrderDate", "expression",
             expression="value[8:10] + '.' + value[5:7] + '.' + value[:4]"),
        line(4, "lines", "PurchaseDocument.Lines.Line", "one2many", lines=[
            {"source": "item_code", "target": "ItemCode"}, {"source": "quantity", "target": "Qty"},
            {"source": "unit_price", "target": "UnitPrice"},
        ]),
    ]), ("response", [
        line(1, "Status", "status", "value_map", required=True, table="acme_status"),
        line(2, "GatewayOrderNo", "remote_order_number"), line(3, "Reason", "reason"),
    ]))
    return flows


def pull(carla, db, flow_id, what):
    carla.button("hc.flow", "action_pull_now", flow_id)
    wait(db, what)
    [run] = carla.read("hc.batch.run", [("flow_id", "=", flow_id)], ["state", "pages_fetched", "error_message"],
                       order="id desc", limit=1)
    return run


def test_two_new_systems_connected_through_the_ui_models():
    began = time.monotonic()
    ensure_database(TEMPLATE)
    db = copy_database(TEMPLATE, "hc_new_systems")
    mms = materials.start_materials_system(suppliers=SUPPLIERS, items=ITEMS)
    # The gateway knows the first 20 suppliers of the materials system; the third is on credit hold.
    gateway = start_supply_gateway(suppliers=[materials.supplier_code(i) for i in range(20)],
                                   credit_hold=[materials.supplier_code(2)])
    server = OdooServer(db, workers=2, logname="new-systems.log")
    try:
        server.start()
        admin = WebClient(server.url, db, "admin", "admin")
        carla, bruno, mms_backend, gateway_backend, inbound_key = configure(admin, mms, gateway, server.url, db)
        flows = consultant_setup(carla, mms_backend, gateway_backend)

        # --- supplier pull: three pages of the default cap (10), no page size sent -----------------
        run = pull(carla, db, flows["mms_suppliers"], "the supplier pull")
        assert (run["state"], run["pages_fetched"]) == ("done", 3), run
        asked = [query for name, query in mms.requests if name == "lieferanten"]
        assert [q.get("seite") for q in asked] == ["1", "2", "3"] and not any("anzahl" in q for q in asked), asked
        suppliers = admin.read("res.partner", [("ref", "=like", "LF-%")], ["ref", "name", "email", "country_id",
                                                                            "supplier_rank", "is_company"])
        assert len(suppliers) == SUPPLIERS, [s["ref"] for s in suppliers]
        lf2 = next(s for s in suppliers if s["ref"] == "LF-0002")
        assert (lf2["email"], lf2["country_id"][1], lf2["supplier_rank"], lf2["is_company"]) == (
            "bestellung@lf0002.example", "Austria", 1, True), lf2

        # --- item pull: 100 asked, 40 served per page: every page read ------------------------------
        run = pull(carla, db, flows["mms_items"], "the item pull")
        assert (run["state"], run["pages_fetched"]) == ("done", 3), run
        assert [q.get("seite") for name, q in mms.requests if name == "artikel"] == ["1", "2", "3"]
        items = {p["default_code"]: p for p in admin.read(
            "product.template", [("default_code", "=like", "KAT-%")],
            ["default_code", "name", "uom_id", "tracking", "hc_critical", "purchase_ok", "seller_ids"])}
        assert len(items) == ITEMS, len(items)
        first, second = items[materials.catalog_code(0)], items[materials.catalog_code(1)]
        assert (first["uom_id"][1], first["tracking"], first["hc_critical"]) == ("Units", "none", True), first
        assert (second["tracking"], second["hc_critical"]) == ("lot", False), second
        assert not items[materials.catalog_code(14)]["purchase_ok"], "status GESPERRT: not purchasable"
        [seller] = admin.read("product.supplierinfo", [("id", "in", second["seller_ids"])],
                              ["partner_id", "price", "delay", "min_qty", "product_uom_id", "product_code"])
        assert (seller["partner_id"][1], seller["price"], seller["delay"], seller["min_qty"]) == (
            "Medizinbedarf 2 GmbH", materials.item_price(1) / 100, 3, 2.0), seller
        assert (seller["product_uom_id"][1], seller["product_code"]) == ("Units", "V00001"), seller
        [packs] = admin.read("product.supplierinfo", [("id", "in", items[materials.catalog_code(2)]["seller_ids"])],
                             ["product_uom_id"])
        assert packs["product_uom_id"][1] == "Pack of 6", "ordered in packs: the purchase unit through the code table"

        # --- demand inbound: the system posts a released requisition in its dialect -----------------
        demand = {
            "anforderung": {"belegnr": "BANF-4711", "kostenstelle": "OP-2", "dringend": "JA",
                            "bedarfsdatum": "15.04.2026", "freigegeben": "J"},
            "positionen": [
                {"artikel": materials.item_code(0), "menge": "12,5", "einheit": "ST"},  # vendor LF-0001
                {"artikel": materials.item_code(24), "menge": "4,0", "einheit": "ST"},  # vendor LF-0001
                {"artikel": materials.item_code(1), "menge": "6,0", "einheit": "ST"},  # vendor LF-0002 (lots)
            ],
        }
        inbound_url = f"{server.url}/hc/in/mms/mms_demand"
        status, answer = mms.send_demand(inbound_url, inbound_key, demand)
        assert status == 202, (status, answer)
        wait(db, "the demand event")
        status, again = mms.send_demand(inbound_url, inbound_key, demand)
        assert (status, again["duplicate"], again["message_id"]) == (200, True, answer["message_id"]), again
        message = carla.one("hc.message", [("id", "=", answer["message_id"])], ["state", "error_message"])
        assert message["state"] == "done", message
        rfqs = {r["partner_id"][1]: r for r in bruno.read(
            "purchase.order", [("origin", "=", "BANF-4711")], ["name", "partner_id", "priority", "state"])}
        assert sorted(rfqs) == ["Medizinbedarf 1 GmbH", "Medizinbedarf 2 GmbH"], rfqs
        order_a, order_b = rfqs["Medizinbedarf 1 GmbH"], rfqs["Medizinbedarf 2 GmbH"]
        lines_a = bruno.read("purchase.order.line", [("order_id", "=", order_a["id"])],
                             ["product_id", "product_qty", "date_planned"])
        assert sorted((ln["product_id"][1].split("]")[0].strip("["), ln["product_qty"]) for ln in lines_a) == [
            (materials.catalog_code(0), 12.5), (materials.catalog_code(24), 4.0)], lines_a
        assert all(ln["date_planned"].startswith("2026-04-15") for ln in lines_a), lines_a
        assert order_a["priority"] == "1", "urgent requisition"

        # --- PO push: the first sending times out after the gateway stored it --------------------------
        gateway.state.hang_after_store, gateway.state.hang_seconds = 1, 4
        bruno.button("purchase.order", "button_confirm", order_a["id"])
        deadline = time.monotonic() + 60
        while not gateway.orders and time.monotonic() < deadline:
            time.sleep(0.2)
        assert gateway.orders, "the gateway never received the first order"
        # Past the read timeout the first attempt fails as transient; its retry is scheduled.
        message_a = carla.one("hc.message", [("flow_id", "=", flows["acme_orders"]), ("res_id", "=", order_a["id"])],
                              ["state", "error_message"])
        while message_a["state"] != "failed_retrying" and time.monotonic() < deadline:
            time.sleep(0.3)
            message_a = carla.one("hc.message", [("id", "=", message_a["id"])], ["state", "error_message"])
        assert message_a["state"] == "failed_retrying", message_a
        wait(db, "the retried order")
        # The buyer confirms an order of a supplier on credit hold and one the gateway does not know.
        product_of = {p["default_code"]: p["id"] for p in bruno.read(
            "product.product", [("default_code", "in", [materials.catalog_code(i) for i in (2, 20)])],
            ["default_code"])}
        partner_of = {p["ref"]: p["id"] for p in bruno.read(
            "res.partner", [("ref", "in", ["LF-0003", "LF-0021"])], ["ref"])}
        order_c = bruno.create("purchase.order", {"partner_id": partner_of["LF-0003"], "order_line": [
            [0, 0, {"product_id": product_of[materials.catalog_code(2)], "product_qty": 3}]]})
        order_d = bruno.create("purchase.order", {"partner_id": partner_of["LF-0021"], "order_line": [
            [0, 0, {"product_id": product_of[materials.catalog_code(20)], "product_qty": 2}]]})
        for order in (order_b["id"], order_c, order_d):
            bruno.button("purchase.order", "button_confirm", order)
        wait(db, "the pushed orders")

        remote = {o["DocNo"]: o for o in gateway.orders}
        names = {o["id"]: o["name"] for o in bruno.read(
            "purchase.order", [("id", "in", [order_a["id"], order_b["id"], order_c, order_d])], ["name"])}
        assert sorted(remote) == sorted(names[i] for i in (order_a["id"], order_b["id"], order_c)), remote
        assert sum(1 for o in gateway.orders if o["DocNo"] == names[order_a["id"]]) == 1
        assert gateway.state.calls == 4, "A twice (timeout, retry), B and C once; D refused before it counts"
        sent_a = remote[names[order_a["id"]]]
        assert sent_a["SupplierCode"] == "LF-0001" and len(sent_a["OrderDate"]) == 10 and sent_a["OrderDate"][2] == "."
        assert sorted((ln["ItemCode"], ln["Qty"]) for ln in sent_a["Lines"]) == [
            (materials.catalog_code(0), 12.5), (materials.catalog_code(24), 4.0)], sent_a
        orders = {o["id"]: o for o in bruno.read(
            "purchase.order", [("id", "in", list(names))],
            ["hc_remote_state", "hc_remote_order_number", "hc_remote_reason", "state"])}
        for order_id in (order_a["id"], order_b["id"]):
            number = remote[names[order_id]]["answer"]["GatewayOrderNo"]
            assert (orders[order_id]["hc_remote_state"], orders[order_id]["hc_remote_order_number"]) == (
                "accepted", number), orders[order_id]
        pushes = {m["res_id"]: m for m in carla.read(
            "hc.message", [("flow_id", "=", flows["acme_orders"]), ("res_id", "in", list(names))],
            ["res_id", "state", "error_category", "error_message", "attempt_count"])}
        assert len(pushes) == 4, pushes
        assert (pushes[order_a["id"]]["state"], pushes[order_a["id"]]["attempt_count"]) == ("done", 2), pushes
        # The rejection and the fault wait in the exception queue with the gateway's reason.
        queue = {m["res_id"]: m for m in carla.read(
            "hc.message", [("state", "=", "exception"), ("flow_id", "=", flows["acme_orders"])],
            ["res_id", "error_category", "error_message"])}
        assert sorted(queue) == sorted([order_c, order_d]), queue
        assert queue[order_c]["error_category"] == "remote" and \
            "supplier LF-0003 is on credit hold" in queue[order_c]["error_message"], queue[order_c]
        assert queue[order_d]["error_category"] == "remote" and \
            "Supplier LF-0021 is not registered with the gateway" in queue[order_d]["error_message"], queue[order_d]
        assert (orders[order_c]["hc_remote_state"], orders[order_c]["hc_remote_reason"]) == (
            "rejected", "supplier LF-0003 is on credit hold"), orders[order_c]
        assert not orders[order_d]["hc_remote_order_number"], orders[order_d]

        # --- receipt confirmation: the receiving desk books goods against the gateway numbers -------
        number_a = orders[order_a["id"]]["hc_remote_order_number"]
        number_b = orders[order_b["id"]]["hc_remote_order_number"]
        mms.book_receipt({"we": {"belegnr": "WE-2026-0001", "datum": "20.04.2026", "auftrag_gateway": number_a},
                          "positionen": [{"artikel": materials.item_code(0), "menge": "10,0"},
                                         {"artikel": materials.item_code(24), "menge": "4,0"}]})
        mms.book_receipt({"we": {"belegnr": "WE-2026-0002", "datum": "21.04.2026", "auftrag_gateway": number_b},
                          "positionen": [{"artikel": materials.item_code(1), "menge": "6,0", "charge": "CH-0815",
                                          "verfall": "31.12.2027"}]})
        run = pull(carla, db, flows["mms_receipts"], "the receipt pull")
        assert run["state"] == "done", run
        received = {ln["product_id"][1].split("]")[0].strip("["): ln["qty_received"] for ln in bruno.read(
            "purchase.order.line", [("order_id", "in", [order_a["id"], order_b["id"]])],
            ["product_id", "qty_received"])}
        assert received == {materials.catalog_code(0): 10.0, materials.catalog_code(24): 4.0,
                            materials.catalog_code(1): 6.0}, received
        pickings = bruno.read("stock.picking", [("purchase_id", "in", [order_a["id"], order_b["id"]])],
                              ["purchase_id", "state"])
        done = sorted(p["purchase_id"][0] for p in pickings if p["state"] == "done")
        assert done == sorted([order_a["id"], order_b["id"]]), pickings
        assert [p for p in pickings if p["purchase_id"][0] == order_a["id"] and p["state"] != "done"], \
            "the 2.5 units not delivered are a backorder"
        lots = bruno.read("stock.move.line", [("picking_id.purchase_id", "=", order_b["id"])], ["lot_name", "lot_id"])
        assert [ln["lot_id"][1] for ln in lots] == ["CH-0815"], lots
        assert not carla.read("hc.message", [("state", "=", "exception"), ("flow_id.backend_id", "=", mms_backend)],
                              ["error_message"])
        print(f"two new systems connected and exercised in {time.monotonic() - began:.1f} s")
    finally:
        server.stop()
        mms.stop()
        gateway.stop()
        drop_database(db)
