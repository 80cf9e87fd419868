"""Budgets against the simulators, with Odoo's HTTP workers and the queue_job runner (issue 19, part 4).

The suite's database (every addon, demo data; ``suite_template()``, created once and upgraded when
the addons change) is copied for the run. The simulators run as
``python -m legacy_sim`` (REST, SOAP gateway, HR system, finance system) on free ports and the demo
backends are pointed at them. Everything then goes through JSON-RPC as the web client sends it:

- the administrator pulls the HR system's cost centres and the finance system's approved budgets
  (three budgets, one line per cost centre; a second pull writes nothing);
- a buyer confirms orders booked on cost centres: one within budget is confirmed and reaches the
  gateway once; over budget, Support services warns (confirmed, pushed, a note), Clinical services
  holds (To Approve, nothing sent, an activity for its owner, who approves it: sent once), and
  Administration blocks (the error names the cost centre, the budget, committed and remaining);
- a vendor bill posted for an order moves its amount from open orders to actual at once.
"""

import datetime
import sys
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "bench"))
sys.path.insert(0, str(HERE / "reliability"))

from _common import Simulators, dbname, free_port, wait_http  # noqa: E402
from _harness import OdooServer, drop_database, query, wait_until_drained  # noqa: E402
from _odoo_shell import copy_database, ensure_database, suite_addons, suite_template  # noqa: E402
from _web_client import RpcError, WebClient  # noqa: E402

from hc_integration_base.lifecycle import PENDING  # noqa: E402 - importable once _harness ran plain_imports()

RUN_DB = dbname("hc_budgets_run")
YEAR = datetime.date.today().year
OWNERS = {"CLIN": "clinical.finance@hospital.example", "SUPP": "support.finance@hospital.example",
          "ADM": "finance.director@hospital.example"}


def ref(admin, xmlid):
    module, name = xmlid.split(".")
    return admin.one("ir.model.data", [("module", "=", module), ("name", "=", name)], ["res_id"])["res_id"]


def wait(db, what):
    if not wait_until_drained(db, timeout=240, settle=1.5):
        pending = query(db, "SELECT id, state, wait_reason, error_message FROM hc_message "
                            "WHERE state = ANY(%s) ORDER BY id", (list(PENDING),))
        raise AssertionError(f"jobs still running after {what}: {pending}")


def pull(admin, db, flow_id, what):
    run = admin.button("hc.flow", "action_pull_now", flow_id)["res_id"]
    wait(db, what)
    return admin.one("hc.batch.run", [("id", "=", run)], ["state", "count_created", "count_updated",
                                                           "count_unchanged", "count_failed"])


def line_amounts(admin, code):
    line = admin.one("crossovered.budget.lines",
                     [("analytic_account_id.code", "=", code), ("date_from", "<=", f"{YEAR}-06-30"),
                      ("date_to", ">=", f"{YEAR}-06-30")],
                     ["planned_amount", "hc_open_orders", "hc_actual", "hc_committed", "hc_remaining"])
    return tuple(line[f] for f in ("planned_amount", "hc_open_orders", "hc_actual", "hc_committed", "hc_remaining"))


def test_budgets_pulled_and_purchases_held_to_them():
    db = copy_database(ensure_database(suite_template(), suite_addons()), RUN_DB)
    hr_port, finance_port = free_port(), free_port()
    sims = Simulators(items=20, suppliers=10, extra=("--hr-port", str(hr_port), "--employees", "20",
                                                     "--finance-port", str(finance_port)))
    finance = f"http://127.0.0.1:{finance_port}"
    wait_http(f"http://127.0.0.1:{hr_port}/health", process=sims.process)
    wait_http(f"{finance}/fin/api/v2/ping", process=sims.process)
    for line_id in (f"BL-{YEAR}-CLIN-4110", f"BL-{YEAR}-SUPP-4160", f"BL-{YEAR}-ADM-4100"):
        requests.post(f"{finance}/_admin/budget-lines/{line_id}", json={"approvedAmount": "1000.00"},
                      timeout=5).raise_for_status()
    server = OdooServer(db, workers=2, logname="budgets.log")
    server.log.unlink(missing_ok=True)  # this run's log only
    try:
        server.start()
        admin = WebClient(server.url, db, "admin", "admin")
        urls = {"hc_workforce_sync.demo_backend_hr": {"base_url": f"http://127.0.0.1:{hr_port}"},
                "hc_budget_sync.demo_backend_finance": {"base_url": finance},
                "hc_integration_base.demo_backend_rest": {"base_url": sims.rest_url},
                "hc_integration_base.demo_backend_soap": {"wsdl_url": sims.wsdl_url}}
        for xmlid, values in urls.items():
            admin.call("hc.backend", "write", [ref(admin, xmlid)], values)
        groups = [ref(admin, g) for g in ("base.group_user", "hc_budget_sync.group_hc_budget_owner")]
        for email in OWNERS.values():
            admin.create("res.users", {"name": email.split("@")[0], "login": email, "email": email,
                                       "password": "owner-pass-19", "group_ids": [[6, 0, groups]]})
        admin.create("res.users", {
            "name": "Bruno Buyer", "login": "bruno", "password": "bruno-pass-19",
            "group_ids": [[6, 0, [ref(admin, "base.group_user"), ref(admin, "purchase.group_purchase_user")]]]})

        # --- the pulls ---------------------------------------------------------------------------------
        centres = pull(admin, db, ref(admin, "hc_workforce_sync.demo_flow_cost_centres"), "the cost centres")
        assert centres["state"] == "done", centres
        budgets_flow = ref(admin, "hc_budget_sync.demo_flow_budgets")
        first = pull(admin, db, budgets_flow, "the budgets")
        pages = admin.read(
            "hc.message", [("batch_run_id", "=", first["id"])],
            ["state", "count_created", "count_updated", "count_unchanged", "error_message"])
        assert (first["state"], first["count_created"], first["count_failed"]) == ("done", 11, 0), (first, pages)
        budgets = admin.read("crossovered.budget", [("hc_reference", "like", f"BUD-{YEAR}-")],
                             ["hc_reference", "hc_policy", "creating_user_id", "state"])
        assert sorted((b["hc_reference"], b["hc_policy"], b["state"]) for b in budgets) == [
            (f"BUD-{YEAR}-ADM", "block", "validate"), (f"BUD-{YEAR}-CLIN", "hold", "validate"),
            (f"BUD-{YEAR}-SUPP", "warn", "validate")]
        assert {b["creating_user_id"][1] for b in budgets} == {e.split("@")[0] for e in OWNERS.values()}
        written = query(db, "SELECT max(write_date) FROM crossovered_budget_lines")[0][0]
        second = pull(admin, db, budgets_flow, "the second budget pull")
        assert (second["state"], second["count_created"], second["count_updated"], second["count_unchanged"]) \
            == ("done", 0, 0, 11), second
        assert query(db, "SELECT max(write_date) FROM crossovered_budget_lines")[0][0] == written, \
            "a second pull writes nothing"
        assert line_amounts(admin, "CC-4110") == (1000.0, 0.0, 0.0, 0.0, 1000.0)

        # --- orders ------------------------------------------------------------------------------------
        buyer = WebClient(server.url, db, "bruno", "bruno-pass-19")
        vendor_id = admin.create("res.partner", {"name": "Budget vendor", "ref": "SUP-0003", "is_company": True})
        product = admin.create("product.product", {"name": "Infusion set", "default_code": "ITM-000003",
                                                   "supplier_taxes_id": False, "purchase_method": "purchase"})
        centre = {c["code"]: c["id"] for c in admin.read("account.analytic.account", [("code", "like", "CC-")],
                                                          ["code"])}

        def order(code, amount):
            return buyer.create("purchase.order", {"partner_id": vendor_id, "order_line": [[0, 0, {
                "product_id": product, "product_qty": 1, "price_unit": amount,
                "analytic_distribution": {str(centre[code]): 100}}]]})

        def state(order_id):
            return admin.one("purchase.order", [("id", "=", order_id)],
                             ["state", "hc_budget_state", "hc_remote_order_number", "activity_ids"])

        def gateway_orders(order_id):
            name = admin.one("purchase.order", [("id", "=", order_id)], ["name"])["name"]
            stored = requests.get(f"{sims.rest_url}/api/v1/purchase-orders", headers={"X-API-Key": "sim-api-key"},
                                  timeout=5).json()
            return [o for o in stored["items"] if o.get("reference") == name]

        within = order("CC-4110", 600)
        buyer.button("purchase.order", "button_confirm", within)
        wait(db, "the order within budget")
        answer = state(within)
        assert (answer["state"], answer["hc_budget_state"]) == ("purchase", "within"), answer
        assert answer["hc_remote_order_number"], "the gateway has it"
        assert len(gateway_orders(within)) == 1

        warned = order("CC-4160", 1200)
        buyer.button("purchase.order", "button_confirm", warned)
        wait(db, "the warned order")
        answer = state(warned)
        assert (answer["state"], answer["hc_budget_state"]) == ("purchase", "warned"), answer
        assert len(gateway_orders(warned)) == 1
        notes = admin.read("mail.message", [("model", "=", "purchase.order"), ("res_id", "=", warned)], ["body"])
        assert any("CC-4160" in n["body"] and "remaining" in n["body"] for n in notes), notes

        blocked = order("CC-4100", 1500)
        try:
            buyer.button("purchase.order", "button_confirm", blocked)
        except RpcError as exc:
            text = str(exc)
        else:
            raise AssertionError("an order over a blocking budget was confirmed")
        for expected in ("CC-4100", f"Administration {YEAR}", "committed", "0.00", "remaining", "1,000.00"):
            assert expected in text, text
        assert state(blocked)["state"] == "draft"

        held = order("CC-4110", 700)  # 600 committed of 1,000
        buyer.button("purchase.order", "button_confirm", held)
        wait(db, "the held order")
        answer = state(held)
        assert (answer["state"], answer["hc_budget_state"], answer["hc_remote_order_number"]) == \
            ("to approve", "held", False), answer
        assert not gateway_orders(held)
        owner = WebClient(server.url, db, OWNERS["CLIN"], "owner-pass-19")
        activities = owner.read("mail.activity", [("res_model", "=", "purchase.order"), ("res_id", "=", held)],
                                ["user_id", "summary"])
        assert len(activities) == 1 and activities[0]["user_id"][0] == owner.uid, activities
        owner.button("purchase.order", "action_hc_budget_approve", held)
        wait(db, "the owner's approval")
        answer = state(held)
        assert (answer["state"], answer["hc_budget_state"]) == ("purchase", "approved"), answer
        assert answer["hc_remote_order_number"] and not answer["activity_ids"]
        assert len(gateway_orders(held)) == 1, "sent once, when approved"
        assert line_amounts(admin, "CC-4110") == (1000.0, 1300.0, 0.0, 1300.0, -300.0)

        # --- a bill ------------------------------------------------------------------------------------
        bill = admin.button("purchase.order", "action_create_invoice", within)["res_id"]
        admin.call("account.move", "write", [bill], {"invoice_date": datetime.date.today().isoformat()})
        admin.button("account.move", "action_post", bill)
        assert line_amounts(admin, "CC-4110") == (1000.0, 700.0, 600.0, 1300.0, -300.0), \
            "right after the bill is posted"
        wait(db, "the bill")
        log = server.log.read_text()
        assert "Traceback" not in log, log[-3000:]
    finally:
        server.stop()
        sims.process.terminate()
        sims.process.wait(10)
        drop_database(db)
