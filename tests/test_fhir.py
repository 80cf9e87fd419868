"""Healthcare's own API: the suite against a FHIR R4 server (legacy_sim/fhir.py), Odoo running with
HTTP workers and the queue_job runner, configured only by the demo data.

The demo database (every addon of setup/lib.sh's HC_ADDONS, demo data) is copied; its FHIR backend
is pointed at a simulator on a free loopback port. Over JSON-RPC, as the web client sends it:

- the administrator pulls the ward supply requests: three searchset Bundle pages (the server caps
  ``_count`` at 4; the next page only by the Bundle's opaque next link) become ten draft RFQs; no
  patient reference the requests name is anywhere in the stored messages, jobs or runs;
- a second pull asks only for what changed since the first (``_lastUpdated=gt…``): the request
  changed on the ward is read again, nothing is ordered twice;
- a buyer confirms and cancels RFQs: each status goes back to its SupplyRequest as a JSON Patch
  (``PATCH``, ``application/json-patch+json``: the status alone, the ward's deliverTo, requester...
  kept) with ``If-Match: W/"<version>"`` (the version its RFQ's binding holds, the ETag of the
  previous answer after an update); a request changed on the ward since it was read answers 412,
  which waits in the exception queue naming the conflict, and nothing changes on the server;
- SupplyDeliveries against the requests validate the receipts of their orders, once, and each
  request whose goods all came is PATCHed completed (the confirmation left it active: R4 has no
  "ordered");
- Device resources become maintenance equipment.

Databases: the suite's database (``suite_template()``, created once and upgraded when the addons
change) and its copy ``HC_FHIR_DB`` (default ``hc_fhir`` after ``HC_DB_PREFIX``, dropped at the end).
``HC_FHIR_PORT`` picks Odoo's HTTP port (default: a free one).
"""

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "bench"))
sys.path.insert(0, str(HERE / "reliability"))

from _harness import OdooServer, dbname, drop_database, scalar, wait_until_drained  # noqa: E402
from _odoo_shell import copy_database, ensure_database, suite_addons, suite_template  # noqa: E402
from _web_client import WebClient  # noqa: E402

from legacy_sim.fhir import FHIR_TOKEN, REQUISITION_SYSTEM, start_fhir_server  # noqa: E402

DB = os.environ.get("HC_FHIR_DB", dbname("hc_fhir"))
PORT = int(os.environ.get("HC_FHIR_PORT") or 0) or None
PATIENT = "Patient/pt-"


def ref(client, xmlid):
    module, name = xmlid.split(".")
    return client.one("ir.model.data", [("module", "=", module), ("name", "=", name)], ["res_id"])["res_id"]


def wait(db, what, timeout=180):
    assert wait_until_drained(db, timeout=timeout, settle=1.5), f"jobs still running after {what}"


def test_fhir_simulator_paging_versions_and_outcomes():
    """The simulator alone: the bearer token, Bundles paged by opaque next links under the page cap,
    _lastUpdated, a read's ETag, If-Match (412 stale, 428 missing) with OperationOutcomes, a JSON
    Patch keeping every other element, the deliveries and devices."""
    fhir = start_fhir_server(supply_requests=10, supply_deliveries=3, devices=5, items=3, max_count=4)
    try:
        assert requests.get(f"{fhir.url}/metadata", timeout=5).json()["fhirVersion"] == "4.0.1"
        denied = requests.get(f"{fhir.url}/SupplyRequest", timeout=5)
        assert denied.status_code == 401 and denied.json()["resourceType"] == "OperationOutcome"
        headers = {"Authorization": f"Bearer {FHIR_TOKEN}"}
        url, ids, pages = f"{fhir.url}/SupplyRequest?_count=50", [], 0
        while url:
            bundle = requests.get(url, headers=headers, timeout=5).json()
            assert (bundle["type"], bundle["total"]) == ("searchset", 10)
            ids += [entry["resource"]["id"] for entry in bundle["entry"]]
            pages += 1
            url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
            assert url is None or "_getpages=" in url, "an opaque page link, not a page number"
        assert (pages, ids) == (3, [f"sr-{n}" for n in range(1, 11)])

        fhir.state.touch("SupplyRequest", "sr-4", at=datetime(2026, 11, 20, tzinfo=UTC))
        changed = requests.get(f"{fhir.url}/SupplyRequest?_lastUpdated=gt2026-11-10T00:00:00Z", headers=headers,
                               timeout=5).json()
        assert [entry["resource"]["id"] for entry in changed["entry"]] == ["sr-4"]

        read = requests.get(f"{fhir.url}/SupplyRequest/sr-1", headers=headers, timeout=5)
        assert read.headers["ETag"] == 'W/"1"'
        resource = {**read.json(), "status": "completed"}
        missing = requests.put(f"{fhir.url}/SupplyRequest/sr-1", json=resource, headers=headers, timeout=5)
        assert missing.status_code == 428 and missing.json()["issue"][0]["code"] == "conflict"
        updated = requests.put(f"{fhir.url}/SupplyRequest/sr-1", json=resource,
                               headers={**headers, "If-Match": 'W/"1"'}, timeout=5)
        assert (updated.status_code, updated.headers["ETag"]) == (200, 'W/"2"')
        stale = requests.put(f"{fhir.url}/SupplyRequest/sr-1", json=resource,
                             headers={**headers, "If-Match": 'W/"1"'}, timeout=5)
        assert stale.status_code == 412 and "not the current one (2)" in stale.json()["issue"][0]["diagnostics"]
        assert [u["status"] for u in fhir.state.updates] == ["completed"]

        patch_headers = {**headers, "Content-Type": "application/json-patch+json"}
        before = requests.get(f"{fhir.url}/SupplyRequest/sr-2", headers=headers, timeout=5).json()
        operations = [{"op": "replace", "path": "/status", "value": "cancelled"},
                      {"op": "add", "path": "/note", "value": [{"text": "Out of stock"}]},
                      {"op": "replace", "path": "/quantity/value", "value": 2}]
        patched = requests.patch(f"{fhir.url}/SupplyRequest/sr-2", json=operations,
                                 headers={**patch_headers, "If-Match": 'W/"1"'}, timeout=5)
        assert (patched.status_code, patched.headers["ETag"]) == (200, 'W/"2"'), patched.text
        stored = fhir.state.resource("SupplyRequest", "sr-2")
        assert (stored["status"], stored["note"], stored["quantity"]["value"]) == (
            "cancelled", [{"text": "Out of stock"}], 2)
        for kept in ("deliverTo", "requester", "reasonReference", "identifier", "itemCodeableConcept", "priority"):
            assert stored[kept] == before[kept], kept
        assert stored["quantity"]["unit"] == before["quantity"]["unit"]
        stale = requests.patch(f"{fhir.url}/SupplyRequest/sr-2", json=operations[:1],
                               headers={**patch_headers, "If-Match": 'W/"1"'}, timeout=5)
        assert stale.status_code == 412 and "not the current one (2)" in stale.json()["issue"][0]["diagnostics"]
        assert requests.patch(f"{fhir.url}/SupplyRequest/sr-2", json=operations[:1], headers=patch_headers,
                              timeout=5).status_code == 428
        assert requests.patch(f"{fhir.url}/SupplyRequest/sr-2", json=operations[:1],
                              headers={**headers, "If-Match": 'W/"2"'}, timeout=5).status_code == 415
        for bad in ([{"op": "remove", "path": "/status"}], [{"op": "replace", "path": "/nothing", "value": 1}],
                    [{"op": "replace", "path": "/id", "value": "sr-9"}], {"status": "completed"}):
            refused = requests.patch(f"{fhir.url}/SupplyRequest/sr-2", json=bad,
                                     headers={**patch_headers, "If-Match": 'W/"2"'}, timeout=5)
            assert refused.status_code == 422 and refused.json()["resourceType"] == "OperationOutcome", bad
        assert fhir.state.resource("SupplyRequest", "sr-2")["meta"]["versionId"] == "2", \
            "a refused patch changes nothing"

        deliveries = requests.get(f"{fhir.url}/SupplyDelivery", headers=headers, timeout=5).json()
        assert [e["resource"]["basedOn"][0]["reference"] for e in deliveries["entry"]] == [
            "SupplyRequest/sr-1", "SupplyRequest/sr-2", "SupplyRequest/sr-3"]
        devices = requests.get(f"{fhir.url}/Device?_count=2", headers=headers, timeout=5).json()
        assert devices["total"] == 5 and len(devices["entry"]) == 2
    finally:
        fhir.stop()


def test_supply_requests_to_rfqs_status_back_with_if_match_deliveries_and_devices():
    db = copy_database(ensure_database(suite_template(), suite_addons()), DB)
    fhir = start_fhir_server(supply_requests=10, supply_deliveries=3, devices=9, items=3, max_count=4)
    server = OdooServer(db, workers=2, port=PORT, logname="fhir.log")
    try:
        server.start()
        admin = WebClient(server.url, db, "admin", "admin")
        [backend] = admin.read("hc.backend", [("code", "=", "fhir")], ["id"])
        admin.call("hc.backend", "write", [backend["id"]], {"base_url": fhir.url})
        flows = {f["code"]: f["id"] for f in admin.read("hc.flow", [("backend_id", "=", backend["id"])], ["code"])}
        assert set(flows) >= {"supply_requests", "supply_request_status", "supply_deliveries", "devices"}, flows
        # Confirmed orders would also go to the demo's SOAP gateway, which is not running here.
        admin.call("hc.flow", "write", [ref(admin, "hc_procurement_sync.demo_flow_po_push")], {"active": False})
        vendor = admin.create("res.partner", {"name": "Ward supplies Ltd", "supplier_rank": 1})
        for n in (1, 2, 3):
            admin.create("product.product", {
                "name": f"Ward item {n}", "default_code": f"ITM-{n:06d}", "is_storable": True,
                "seller_ids": [[0, 0, {"partner_id": vendor, "price": 4.0}]]})
        admin.call("res.users", "create", {
            "name": "Bea Buyer", "login": "bea", "password": "bea-pass-19",
            "group_ids": [[6, 0, [ref(admin, "base.group_user"), ref(admin, "purchase.group_purchase_user"),
                                  ref(admin, "stock.group_stock_user")]]],
        })
        buyer = WebClient(server.url, db, "bea", "bea-pass-19")

        # --- the supply requests: three Bundle pages, ten RFQs ----------------------------------------
        admin.button("hc.flow", "action_pull_now", flows["supply_requests"])
        wait(db, "the supply-request pull")
        [run] = admin.read("hc.batch.run", [("flow_id", "=", flows["supply_requests"])],
                           ["state", "count_created", "count_failed", "page_message_ids", "error_message"])
        assert (run["state"], run["count_created"], run["count_failed"]) == ("done", 10, 0), run
        assert len(run["page_message_ids"]) == 3, "4 + 4 + 2 requests: the server caps _count at 4"
        orders = {o["origin"]: o for o in buyer.read("purchase.order", [("origin", "=like", "FR-%")],
                                                     ["origin", "state", "priority", "partner_id"])}
        assert sorted(orders) == [f"FR-{n:05d}" for n in range(1, 11)]
        assert orders["FR-00004"]["priority"] == "1", "sr-4 is stat"
        assert {o["partner_id"][0] for o in orders.values()} == {vendor}

        # --- no patient reference stored anywhere -------------------------------------------------
        def stored_patients():
            return {table: scalar(db, f"SELECT count(*) FROM {table} t WHERE t::text LIKE %s", (f"%{PATIENT}%",))
                    for table in ("hc_message", "queue_job", "hc_batch_run", "hc_binding")}

        assert stored_patients() == dict.fromkeys(("hc_message", "queue_job", "hc_batch_run", "hc_binding"), 0)
        pages = admin.read("hc.message", [("batch_run_id", "=", run["id"])], ["payload"])
        assert all("SupplyRequest" in page["payload"] and "***" in page["payload"] for page in pages), \
            "the pages are kept, their patient references masked"
        assert not admin.read("hc.message", [("payload", "ilike", PATIENT)], ["id"])

        # --- the incremental pull: only what changed on the ward --------------------------------------
        [flow] = admin.read("hc.flow", [("id", "=", flows["supply_requests"])], ["changed_since_watermark"])
        watermark = datetime.fromisoformat(flow["changed_since_watermark"]).replace(tzinfo=UTC)
        fhir.state.touch("SupplyRequest", "sr-2", at=watermark + timedelta(minutes=1))
        fhir.state.touch("SupplyRequest", "sr-3", at=watermark + timedelta(minutes=1))
        admin.button("hc.flow", "action_pull_now", flows["supply_requests"])
        wait(db, "the incremental pull")
        [again] = admin.read("hc.batch.run", [("flow_id", "=", flows["supply_requests"])],
                             ["count_created", "count_unchanged", "page_message_ids"], order="id desc", limit=1)
        assert (again["count_created"], again["count_unchanged"], len(again["page_message_ids"])) == (0, 2, 1), again
        assert buyer.call("purchase.order", "search_count", [("origin", "=like", "FR-%")]) == 10

        def remote(origin):
            order = orders[origin]["id"]
            [binding] = admin.read("hc.binding", [
                ("backend_id", "=", backend["id"]), ("res_model", "=", "purchase.order"), ("res_id", "=", order),
                ("external_version", "!=", False)], ["external_id", "external_version"])
            return binding["external_id"], binding["external_version"]

        assert remote("FR-00001") == ("sr-1", "1")
        assert remote("FR-00002") == ("sr-2", "2"), "the incremental pull keeps the version it read"

        def status_messages(origin):
            return admin.read("hc.message", [("flow_id", "=", flows["supply_request_status"]),
                                             ("res_id", "=", orders[origin]["id"])],
                              ["state", "error_message"], order="id")

        # --- the buyer confirms and cancels: a JSON Patch with If-Match, the ETag kept ---------------
        ward = {rid: fhir.state.resource("SupplyRequest", rid) for rid in ("sr-1", "sr-2")}
        buyer.button("purchase.order", "button_confirm", orders["FR-00001"]["id"])
        buyer.button("purchase.order", "button_confirm", orders["FR-00002"]["id"])
        wait(db, "the confirmations")
        assert [m["state"] for m in status_messages("FR-00001")] == ["done"], status_messages("FR-00001")
        assert [m["state"] for m in status_messages("FR-00002")] == ["done"], status_messages("FR-00002")
        sent = {u["id"]: u for u in fhir.state.updates}
        # Ordered: FHIR R4 has no such status; a request with an order is still active.
        assert (sent["sr-1"]["status"], sent["sr-2"]["status"]) == ("active", "active")
        # One JSON Patch per request; the two confirmations are two jobs, applied in either order.
        assert sorted(fhir.state.patches) == [("SupplyRequest", rid, [{"op": "replace", "path": "/status",
                                                                      "value": "active"}]) for rid in ("sr-1", "sr-2")]
        for rid in ("sr-1", "sr-2"):
            now = fhir.state.resource("SupplyRequest", rid)
            assert now["status"] == "active"
            for kept in ("deliverTo", "requester", "reasonReference", "identifier", "itemCodeableConcept",
                         "quantity", "occurrenceDateTime"):
                assert now[kept] == ward[rid][kept], (rid, kept, "the status update loses nothing")
        assert {"system": REQUISITION_SYSTEM, "value": "FR-00001"} in sent["sr-1"]["identifier"]
        assert remote("FR-00001") == ("sr-1", "2") and remote("FR-00002") == ("sr-2", "3"), "the answers' ETags"

        buyer.button("purchase.order", "button_confirm", orders["FR-00004"]["id"])
        wait(db, "the confirmation of FR-00004")
        buyer.button("purchase.order", "button_cancel", orders["FR-00004"]["id"])
        wait(db, "the cancellation")
        assert [m["state"] for m in status_messages("FR-00004")] == ["done", "done"], status_messages("FR-00004")
        assert [u["status"] for u in fhir.state.updates if u["id"] == "sr-4"] == ["active", "cancelled"], \
            "the cancellation named the version the confirmation's answer gave"
        assert fhir.state.resource("SupplyRequest", "sr-4")["meta"]["versionId"] == "3"

        # --- a request changed on the ward since it was read: 412 in the exception queue --------------
        fhir.state.touch("SupplyRequest", "sr-5")
        updates_before = len(fhir.state.updates)
        buyer.button("purchase.order", "button_confirm", orders["FR-00005"]["id"])
        wait(db, "the stale confirmation")
        [conflict] = status_messages("FR-00005")
        assert conflict["state"] == "exception", conflict
        assert "Version conflict (HTTP 412" in conflict["error_message"], conflict
        assert 'If-Match: W/"1"' in conflict["error_message"] and "not the current one (2)" in conflict["error_message"]
        assert len(fhir.state.updates) == updates_before, "nothing changed on the server"
        queue = admin.read("hc.message", [("state", "=", "exception"), ("backend_id", "=", backend["id"])], ["id"])
        assert [m["id"] for m in queue] == [conflict["id"]], "the one conflict waits in the exception queue"
        [order] = buyer.read("purchase.order", [("id", "=", orders["FR-00005"]["id"])], ["hc_sync_state"])
        assert order["hc_sync_state"] == "failed", "the buyer sees the order's status did not get through"

        # --- deliveries validate the receipts of their orders, once -----------------------------------
        buyer.button("purchase.order", "button_confirm", orders["FR-00003"]["id"])
        wait(db, "the confirmation of FR-00003")
        admin.button("hc.flow", "action_pull_now", flows["supply_deliveries"])
        wait(db, "the delivery pull")
        [deliveries] = admin.read("hc.batch.run", [("flow_id", "=", flows["supply_deliveries"])],
                                  ["state", "count_created", "count_failed", "error_message"])
        assert (deliveries["state"], deliveries["count_created"], deliveries["count_failed"]) == ("done", 3, 0), \
            deliveries
        for origin in ("FR-00001", "FR-00002", "FR-00003"):
            [order] = buyer.read("purchase.order", [("id", "=", orders[origin]["id"])], ["picking_ids"])
            pickings = buyer.read("stock.picking", [("id", "in", order["picking_ids"])], ["state"])
            assert [p["state"] for p in pickings] == ["done"], (origin, pickings)
        # Every line received: the sending rule watches the receipt status, each request is completed.
        wait(db, "the requests completed")
        completed = sorted(u["id"] for u in fhir.state.updates if u["status"] == "completed")
        assert completed == ["sr-1", "sr-2", "sr-3"], fhir.state.updates
        assert fhir.state.resource("SupplyRequest", "sr-2")["meta"]["versionId"] == "4", "If-Match named version 3"
        admin.call("hc.flow", "write", [flows["supply_deliveries"]], {"changed_since_watermark": False})
        admin.button("hc.flow", "action_pull_now", flows["supply_deliveries"])
        wait(db, "the second delivery pull")
        [repeat] = admin.read("hc.batch.run", [("flow_id", "=", flows["supply_deliveries"])],
                              ["count_created", "count_unchanged"], order="id desc", limit=1)
        assert (repeat["count_created"], repeat["count_unchanged"]) == (0, 3), repeat
        wait(db, "the second delivery pull's effects")
        assert sorted(u["id"] for u in fhir.state.updates if u["status"] == "completed") == completed, "once each"
        assert stored_patients() == dict.fromkeys(("hc_message", "queue_job", "hc_batch_run", "hc_binding"), 0), \
            "the deliveries' patients are masked too"

        # --- devices become equipment ----------------------------------------------------------------
        admin.button("hc.flow", "action_pull_now", flows["devices"])
        wait(db, "the device pull")
        equipment = admin.call("maintenance.equipment", "search_read", [("hc_code", "=like", "AST-F%")],
                               ["hc_code", "active", "hc_critical", "category_id"],
                               context={**admin.context, "active_test": False})
        assert sorted(e["hc_code"] for e in equipment) == [f"AST-F{n:04d}" for n in range(1, 10)]
        assert [e["hc_code"] for e in equipment if not e["active"]] == ["AST-F0007"]
        ventilators = ref(admin, "hc_maintenance_sync.demo_category_ventilators")
        assert {e["hc_code"] for e in equipment if e["hc_critical"]} == \
            {e["hc_code"] for e in equipment if e["category_id"] and e["category_id"][0] == ventilators}
    finally:
        server.stop()
        fhir.stop()
        drop_database(db)
