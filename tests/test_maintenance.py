"""Maintenance against the CMMS simulator, Odoo running with HTTP workers and the queue_job runner.

The demo database (every addon of setup/lib.sh's HC_ADDONS, demo data) is copied; its CMMS and HR
backends are pointed at simulators on free loopback ports. Over JSON-RPC, as the web client sends
it: the administrator pulls the cost centres (HR system) and the equipment master (CMMS); the CMMS
posts a breakdown of a ventilator to the inbound API; the request lands in the team the demo
routing rule names, with the technician of the equipment's category, its job on the urgent
channel. A planner (maintenance manager) starts and completes it: each status reaches the CMMS
once, also when the CMMS recorded the completion and its answer was lost (the job retried by the
runner); moving the request back and forth sends nothing more. Spare parts the CMMS books on the work
order (posted twice) become one done stock move of the request.

Databases: the suite's database (``suite_template()``, created once and upgraded when the addons
change) and its copy (``hc_maintenance`` with this checkout's prefix, dropped at the end).
"""

import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "bench"))
sys.path.insert(0, str(HERE / "reliability"))

from _common import dbname  # noqa: E402
from _harness import OdooServer, drop_database, scalar, wait_until_drained  # noqa: E402
from _odoo_shell import copy_database, ensure_database, suite_addons, suite_template  # noqa: E402
from _web_client import WebClient  # noqa: E402

from legacy_sim.cmms import material_use_record, start_cmms  # noqa: E402
from legacy_sim.hr import start_hr_simulator  # noqa: E402

ROOT = HERE.parent
DB = dbname("hc_maintenance")
ASSETS = 18


def ref(client, xmlid):
    module, name = xmlid.split(".")
    return client.one("ir.model.data", [("module", "=", module), ("name", "=", name)], ["res_id"])["res_id"]


def wait(db, what, timeout=180):
    assert wait_until_drained(db, timeout=timeout, settle=1.5), f"jobs still running after {what}"


def wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_cmms_simulator_dialect_paging_and_status_once_per_key():
    """The simulator alone: its authentication, its paging by absolute next links, a status change
    recorded once per transid (also when the answer was lost), a closed work order refusing."""
    cmms = start_cmms(assets=5, work_orders=2)
    try:
        base = f"{cmms.url}/maximo/api/os"
        assert requests.get(f"{base}/mxasset", timeout=5).status_code == 401
        headers = {"apikey": "cmms-4d1e-odoo"}
        url, assets = f"{base}/mxasset?oslc.pageSize=2", []
        while url:
            body = requests.get(url, headers=headers, timeout=5).json()
            assets += body["member"]
            assert body["responseInfo"]["totalCount"] == 5
            url = body["responseInfo"].get("nextPage", {}).get("href")
        assert [a["assetnum"] for a in assets] == ["AST-1001", "AST-1002", "AST-1003", "AST-1004", "AST-1005"]
        assert requests.get(f"{base}/mxasset?page=2&page_size=2", headers=headers, timeout=5).json()[
            "member"][0]["assetnum"] == "AST-1001", "other paging parameters are ignored"
        [wo, _pm] = requests.get(f"{base}/mxwo", headers=headers, timeout=5).json()["member"]
        change = {"status": "INPRG", "transid": f"{wo['wonum']}:in_progress"}
        first = requests.post(f"{base}/mxwo/{wo['wonum']}/status", json=change, headers=headers, timeout=5).json()
        again = requests.post(f"{base}/mxwo/{wo['wonum']}/status", json=change, headers=headers, timeout=5).json()
        assert first == again and first["result"] == "OK"
        cmms.set_faults(timeout_after_store_rate=1.0, hang_seconds=1.5)
        done = {"status": "COMP", "transid": f"{wo['wonum']}:done", "actlabhrs": 1.5}
        try:
            requests.post(f"{base}/mxwo/{wo['wonum']}/status", json=done, headers=headers, timeout=0.5)
            raise AssertionError("the answer should have been lost")
        except requests.exceptions.Timeout:
            pass
        cmms.set_faults(timeout_after_store_rate=0.0)
        retried = requests.post(f"{base}/mxwo/{wo['wonum']}/status", json=done, headers=headers, timeout=5).json()
        assert retried["result"] == "OK"
        assert cmms.changes(wo["wonum"]) == ["INPRG", "COMP"]
        assert len(cmms.state.status_posts) == 4
        late = {"status": "INPRG", "transid": "another"}
        refused = requests.post(f"{base}/mxwo/{wo['wonum']}/status", json=late, headers=headers, timeout=5).json()
        assert refused["result"] == "REJECTED" and "is COMP" in refused["message"]
        unknown = requests.post(f"{base}/mxwo/WO-1/status", json={**change, "transid": "WO-1:in_progress"},
                                headers=headers, timeout=5)
        assert unknown.status_code == 404
    finally:
        cmms.stop()


def test_breakdown_routed_to_its_team_and_each_status_pushed_back_once():
    db = copy_database(ensure_database(suite_template(), suite_addons()), DB)
    cmms = start_cmms(assets=ASSETS, work_orders=0)
    hr = start_hr_simulator(employees=10)
    server = OdooServer(db, workers=2, logname="maintenance.log")
    try:
        server.start()
        admin = WebClient(server.url, db, "admin", "admin")
        backends = {b["code"]: b["id"] for b in admin.read("hc.backend", [("code", "in", ("cmms", "hr_rest"))],
                                                            ["code"])}
        # A short read timeout: the CMMS that hangs after recording a change times the call out.
        admin.call("hc.backend", "write", [backends["cmms"]], {"base_url": cmms.url, "read_timeout": 2})
        admin.call("hc.backend", "write", [backends["hr_rest"]], {"base_url": hr.url})
        notification = admin.button("hc.backend", "action_generate_inbound_key", backends["cmms"])
        inbound_key = notification["params"]["message"].rsplit(": ", 1)[1]
        admin.call("res.users", "create", {
            "name": "Paula Planner", "login": "paula", "password": "paula-pass-19",
            "group_ids": [[6, 0, [ref(admin, "base.group_user"), ref(admin, "maintenance.group_equipment_manager")]]],
        })
        planner = WebClient(server.url, db, "paula", "paula-pass-19")
        flows = {f["code"]: f["id"] for f in admin.read("hc.flow", [("code", "in", (
            "cost_centres", "equipment", "work_orders", "work_order_status"))], ["code"])}

        # Cost centres from the HR system, then the equipment master from the CMMS (pages of 20, by next links).
        admin.button("hc.flow", "action_pull_now", flows["cost_centres"])
        wait(db, "the cost-centre pull")
        admin.button("hc.flow", "action_pull_now", flows["equipment"])
        wait(db, "the equipment pull")
        equipment = admin.call("maintenance.equipment", "search_read", [("hc_code", "like", "AST-%")],
                               ["hc_code", "hc_sync_state", "hc_cost_center_id", "hc_critical"],
                               context={**admin.context, "active_test": False})
        assert len(equipment) == ASSETS
        ventilator = next(e for e in equipment if e["hc_code"] == "AST-1002")
        assert ventilator["hc_critical"] and ventilator["hc_cost_center_id"], ventilator
        assert {e["hc_sync_state"] for e in equipment} == {"in_sync"}

        # The CMMS reports a breakdown of the ventilator.
        inbound = f"{server.url}/hc/in/cmms/work_orders"
        status, answer = cmms.send_event(inbound, inbound_key, {
            "wonum": "WO-70001", "worktype": "EM", "assetnum": "AST-1002", "description": "Ventilator alarm, bed 4",
            "location": "ER-GF", "siteid": "NORTH", "wopriority": 2, "reportdate": "2026-12-01T09:15:00+01:00",
            "status": "WAPPR"})
        assert status == 202, answer
        wait(db, "the breakdown")
        channel = scalar(db, "SELECT q.channel FROM hc_message m JOIN queue_job q ON q.uuid = m.job_uuid "
                             "WHERE m.id = %s", (answer["message_id"],))
        assert channel == "root.hc.cmms.urgent", channel
        fields = ["maintenance_team_id", "user_id", "priority", "hc_urgent", "hc_route_id", "stage_id",
                  "equipment_id", "hc_sync_state"]
        request = planner.one("maintenance.request", [("hc_work_order", "=", "WO-70001")], fields)
        assert request["maintenance_team_id"][0] == ref(admin, "hc_maintenance_sync.demo_team_critical"), request
        assert request["hc_route_id"][0] == ref(admin, "hc_maintenance_sync.demo_route_critical_breakdowns")
        assert request["user_id"][0] == admin.uid, "the technician of the Ventilators category"
        assert (request["priority"], request["hc_urgent"]) == ("3", True)

        # A breakdown of a pump (not critical): no rule matches, the flow's default team, the normal lane.
        status, other = cmms.send_event(inbound, inbound_key, {
            "wonum": "WO-70002", "worktype": "EM", "assetnum": "AST-1007", "description": "Pump occluded",
            "wopriority": 3, "reportdate": "2026-12-01T10:00:00+01:00", "status": "WAPPR"})
        assert status == 202, other
        wait(db, "the pump's breakdown")
        pump = planner.one("maintenance.request", [("hc_work_order", "=", "WO-70002")], fields)
        assert pump["maintenance_team_id"][0] == ref(admin, "hc_maintenance_sync.demo_team_biomed"), pump
        assert pump["user_id"][0] == ref(admin, "base.user_demo"), "the technician of the Infusion pumps category"
        assert not pump["hc_urgent"]
        assert scalar(db, "SELECT q.channel FROM hc_message m JOIN queue_job q ON q.uuid = m.job_uuid "
                          "WHERE m.id = %s", (other["message_id"],)) == "root.hc.cmms"

        # The technician books two spare filters on the work order in the CMMS (issued from its storeroom
        # CENTRAL, a negative quantity), posted twice: one done move of 2 from the engineering store, on the request.
        parts = f"{server.url}/hc/in/cmms/spare_parts"
        usage = material_use_record(80001, "WO-70001", "SP-VENT-FLT", 2)
        assert [cmms.send_material_use(parts, inbound_key, usage)[0] for _ in range(2)] == [202, 200]
        wait(db, "the spare parts")
        [move] = admin.read("stock.move", [("hc_maintenance_request_id", "=", request["id"])],
                            ["state", "product_uom_qty", "location_id", "product_id"])
        assert (move["state"], move["product_uom_qty"]) == ("done", 2.0), move
        assert move["location_id"][0] == ref(admin, "hc_maintenance_inventory.demo_location_engineering")
        filters = admin.one("product.product", [("default_code", "=", "SP-VENT-FLT")], ["qty_available"])
        assert filters["qty_available"] == 4.0, filters

        # The planner starts the repair: the CMMS hears it once.
        progress, done = ref(admin, "maintenance.stage_1"), ref(admin, "maintenance.stage_3")
        planner.call("maintenance.request", "write", [request["id"]], {"stage_id": progress})
        wait(db, "the start")
        assert cmms.changes("WO-70001") == ["INPRG"]

        # Completed; the CMMS records it and its answer is lost: the runner retries, the CMMS records nothing new.
        cmms.set_faults(timeout_after_store_rate=1.0, hang_seconds=4)
        planner.call("maintenance.request", "write", [request["id"]], {"stage_id": done})
        wait_for(lambda: cmms.changes("WO-70001") == ["INPRG", "COMP"], "the completion to reach the CMMS")
        cmms.set_faults(timeout_after_store_rate=0.0)
        wait(db, "the completion's retry")
        completions = [p for p in cmms.state.status_posts if p["wonum"] == "WO-70001" and p["status"] == "COMP"]
        assert len(completions) == 2, "sent twice (the first answer was lost)..."
        assert cmms.changes("WO-70001") == ["INPRG", "COMP"], "...recorded once"
        pushed = admin.read("hc.message", [("flow_id", "=", flows["work_order_status"]),
                                           ("res_id", "=", request["id"])], ["state", "attempt_count"])
        assert sorted((m["state"], m["attempt_count"]) for m in pushed) == [("done", 1), ("done", 2)], pushed

        # Back to in progress and done again: statuses already sent, nothing queued, nothing sent.
        for stage in (progress, done):
            planner.call("maintenance.request", "write", [request["id"]], {"stage_id": stage})
        wait(db, "the moves back and forth")
        assert len([p for p in cmms.state.status_posts if p["wonum"] == "WO-70001"]) == 3
        assert cmms.changes("WO-70001") == ["INPRG", "COMP"]
        states = [m["state"] for m in admin.read("hc.message", [("flow_id", "=", flows["work_order_status"]),
                                                                ("res_id", "=", request["id"])], ["state"])]
        assert sorted(states) == ["done", "done"], states
        final = planner.one("maintenance.request", [("id", "=", request["id"])], ["hc_sync_state", "hc_remote_state"])
        assert (final["hc_sync_state"], final["hc_remote_state"]) == ("in_sync", "accepted"), final
    finally:
        server.stop()
        cmms.stop()
        hr.stop()
        drop_database(db)
