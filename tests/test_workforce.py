"""The workforce master against the HR simulator, Odoo running with HTTP workers and the job runner.

The suite's database (every addon of setup/lib.sh's HC_ADDONS, demo data; ``suite_template()``) is
copied; its HR backend is pointed at the HR and payroll simulator on a free loopback port. Over
JSON-RPC, as the web client sends it, the administrator pulls the cost centres, the departments and
the employees (the nightly batch, pages of 15); a second pull writes nothing. The HR system then
closes a cost centre, moves an employee to another department from a date and reports a leaver;
the next pulls archive what was closed (never delete it) and start a new version of the moved
employee. Real-time events (a joiner, a leaver) posted by the HR system to the inbound API are
applied once each. Payroll data (salary, national identifier, bank account) is in no stored row.
"""

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "bench"))
sys.path.insert(0, str(HERE / "reliability"))

from _common import dbname  # noqa: E402
from _harness import OdooServer, drop_database, query, wait_until_drained  # noqa: E402
from _odoo_shell import copy_database, ensure_database, suite_addons, suite_template  # noqa: E402
from _web_client import WebClient  # noqa: E402

from legacy_sim import hr as hr_sim  # noqa: E402
from legacy_sim.hr import start_hr_simulator  # noqa: E402

DB = dbname("hc_workforce")
EMPLOYEES = 40
FLOWS = ("cost_centres", "departments", "employees", "employee_events")
# What a pull writes when it changes something: the business records of the three flows.
TABLES = ("account_analytic_account", "hr_department", "hr_employee", "hr_version")


def wait(db, what):
    assert wait_until_drained(db, timeout=180, settle=1.5), f"jobs still running after {what}"


def pull(admin, db, flow_id, what):
    run = admin.button("hc.flow", "action_pull_now", flow_id)["res_id"]
    wait(db, what)
    found = admin.one("hc.batch.run", [("id", "=", run)],
                      ["state", "count_created", "count_updated", "count_unchanged", "count_failed"])
    return found["state"], found["count_created"], found["count_updated"], found["count_unchanged"], found[
        "count_failed"]


def last_writes(db):
    return {table: query(db, f"SELECT max(write_date) FROM {table}")[0][0] for table in TABLES}  # noqa: S608


def test_workforce_pulls_moves_leavers_and_events():
    db = copy_database(ensure_database(suite_template(), suite_addons()), DB)
    hr = start_hr_simulator(employees=EMPLOYEES)
    server = OdooServer(db, workers=2, logname="workforce.log")
    try:
        server.start()
        admin = WebClient(server.url, db, "admin", "admin")
        backend = admin.one("hc.backend", [("code", "=", "hr_rest")], ["id"])["id"]
        admin.call("hc.backend", "write", [backend], {"base_url": hr.url})
        notification = admin.button("hc.backend", "action_generate_inbound_key", backend)
        inbound_key = notification["params"]["message"].rsplit(": ", 1)[1]
        flows = {f["code"]: f["id"] for f in admin.read("hc.flow", [("backend_id", "=", backend),
                                                                    ("code", "in", FLOWS)], ["code"])}
        archived = {**admin.context, "active_test": False}

        # The nightly batch: 11 cost centres (a root and one per department), 10 departments, 40 employees.
        assert pull(admin, db, flows["cost_centres"], "the cost centres") == ("done", 11, 0, 0, 0)
        assert pull(admin, db, flows["departments"], "the departments") == ("done", 10, 0, 0, 0)
        assert pull(admin, db, flows["employees"], "the employees") == ("done", EMPLOYEES, 0, 0, 0)
        lab = admin.one("hr.department", [("hc_code", "=", "LAB")],
                        ["name", "parent_id", "manager_id", "hc_cost_center_id", "hc_sync_state"])
        assert (lab["name"], lab["parent_id"][1], lab["hc_sync_state"]) == ("Laboratory", "Administration", "in_sync")
        assert lab["hc_cost_center_id"][1].startswith("[CC-4110]"), lab
        legacy = hr_sim.employee(hr.state.seed, 11, hr.state.departments)
        worker = admin.one("hr.employee", [("hc_employee_code", "=", "E00012")],
                           ["name", "work_email", "department_id", "parent_id", "job_title", "hc_sync_state"])
        assert (worker["name"], worker["work_email"]) == (legacy["name"], legacy["work_email"])
        assert worker["department_id"][0] == lab["id"] and worker["parent_id"][0] == lab["manager_id"][0]
        assert worker["hc_sync_state"] == "in_sync"

        # The workflow's card on the Integrations dashboard: its four flows, the pages just applied.
        card = admin.one("hc.workflow", [("object_types", "like", "employee")],
                         ["name", "flow_count", "fig_per_hour", "fig_exceptions"])
        assert (card["name"], card["flow_count"], card["fig_exceptions"]) == ("Workforce", 4, 0), card
        assert card["fig_per_hour"] > 0, card

        # The same master again: every record unchanged, no business row written.
        before = last_writes(db)
        for code, total in (("cost_centres", 11), ("departments", 10), ("employees", EMPLOYEES)):
            assert pull(admin, db, flows[code], f"the second {code} pull") == ("done", 0, 0, total, 0)
        assert last_writes(db) == before, "an unchanged pull writes nothing"

        # The legacy master closes a cost centre, moves an employee from June 1st, reports a leaver.
        hr.state.override("cost_centres", "CC-4190", active=False)
        hr.state.override("employees", "E00013", department_code="ICU", cost_centre_code="CC-4140",
                          effective_date="2026-06-01")
        hr.state.override("employees", "E00020", active=False, leaving_date="2026-11-30")
        assert pull(admin, db, flows["cost_centres"], "the closed cost centre") == ("done", 0, 1, 10, 0)
        closed = admin.call("account.analytic.account", "search_read", [("code", "=", "CC-4190")],
                            ["active"], context=archived)
        assert [c["active"] for c in closed] == [False], "archived, not deleted"
        assert pull(admin, db, flows["employees"], "the move and the leaver") == ("done", 0, 2, EMPLOYEES - 2, 0)
        moved = admin.one("hr.employee", [("hc_employee_code", "=", "E00013")], ["department_id", "version_ids"])
        versions = admin.call("hr.version", "search_read", [("id", "in", moved["version_ids"])],
                              ["date_version", "department_id"], order="date_version")
        icu = admin.one("hr.department", [("hc_code", "=", "ICU")], ["id"])["id"]
        pharmacy = admin.one("hr.department", [("hc_code", "=", "PHARM")], ["id"])["id"]
        assert [(v["department_id"][0]) for v in versions] == [pharmacy, icu], versions
        assert versions[-1]["date_version"] == "2026-06-01" and moved["department_id"][0] == icu
        [leaver] = admin.call("hr.employee", "search_read", [("hc_employee_code", "=", "E00020")],
                              ["active", "departure_date"], context=archived)
        assert (leaver["active"], leaver["departure_date"]) == (False, "2026-11-30"), leaver

        # Real time: the HR system posts a joiner, then (twice: its retry) the joiner's leaving.
        inbound = f"{server.url}/hc/in/hr_rest/employee_events"
        joiner = {"event": "joiner", "event_id": "EV-501", "identifier": "E90501", "name": "Ada Lovelace",
                  "work_email": "ada.lovelace@hospital.example", "department_code": "LAB", "job_title": "Analyst",
                  "cost_centre_code": "CC-4110", "manager_identifier": "E00002", "effective_date": "2026-12-01",
                  "salary": {"amount": 4321.98, "currency": "EUR"}, "national_id": "2850312345678",
                  "bank_account": "FR7630006000011234567890189"}
        assert hr.post_event(inbound, inbound_key, joiner)[0] == 202
        wait(db, "the joiner")
        leaving = {**joiner, "event": "leaver", "event_id": "EV-502", "active": False, "leaving_date": "2026-12-31"}
        assert [hr.post_event(inbound, inbound_key, leaving)[0] for _ in range(2)] == [202, 200]
        wait(db, "the leaver")
        ada = admin.call("hr.employee", "search_read", [("hc_employee_code", "=", "E90501")],
                         ["active", "departure_date", "department_id"], context=archived)
        assert [(e["active"], e["departure_date"], e["department_id"][0]) for e in ada] == [
            (False, "2026-12-31", lab["id"])], ada

        # Payroll data of the pulled employees and of the events: in no stored row.
        secrets = [joiner["national_id"], joiner["bank_account"], "4321.98"]
        for index in range(EMPLOYEES):
            record = hr_sim.employee(hr.state.seed, index, hr.state.departments)
            secrets += [record["national_id"], record["bank_account"]]
        for table in ("hc_message", "hr_employee", "hr_version", "res_partner_bank"):
            dump = "\n".join(row[0] for row in query(db, f"SELECT row_to_json(t)::text FROM {table} t"))  # noqa: S608
            assert not [secret for secret in secrets if secret in dump], f"payroll data stored in {table}"
    finally:
        server.stop()
        hr.stop()
        time.sleep(0.1)
        drop_database(db)
