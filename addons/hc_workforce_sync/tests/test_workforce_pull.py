import json
import re
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import WRITTEN_MODELS, WorkforceMixin, hr_sim


@tagged("post_install", "-at_install")
class TestWorkforcePull(WorkforceMixin, TransactionCase):
    """Cost centres, departments and employees pulled from the HR simulator, as the demo flows do,
    jobs executed as the integration user."""

    def setUp(self):
        super().setUp()
        self.hr.reset()

    def pull_all(self):
        return [self.pull(flow) for flow in (self.cost_centres, self.departments, self.employees)]

    def counts(self, run):
        return run.state, run.count_created, run.count_updated, run.count_unchanged, run.count_failed

    def test_pull_all_then_a_second_pull_writes_nothing(self):
        centres, departments, employees = self.pull_all()
        self.assertEqual(self.counts(centres), ("done", 11, 0, 0, 0))
        self.assertEqual(self.counts(departments), ("done", 10, 0, 0, 0))
        self.assertEqual(self.counts(employees), ("done", 40, 0, 0, 0))
        self.assertEqual(len(employees.page_message_ids), 3)

        plan = self.env.ref("hc_workforce_sync.analytic_plan_cost_centres")
        Account = self.env["account.analytic.account"]
        lab_cc = Account.search([("code", "=", "CC-4110"), ("plan_id", "=", plan.id)])
        self.assertEqual(lab_cc.name, "Laboratory (LAB)")
        self.assertEqual(lab_cc.hc_parent_id.code, "CC-4000")
        self.assertEqual(lab_cc.hc_sync_state, "in_sync")

        lab = self.env["hr.department"].search([("hc_code", "=", "LAB")])
        self.assertEqual((lab.name, lab.parent_id.hc_code, lab.hc_cost_center_id), ("Laboratory", "ADM", lab_cc))
        # The manager came with the employees, after the departments: linked when it arrived.
        self.assertEqual(lab.manager_id.hc_employee_code, "E00002")
        self.assertEqual(lab.hc_sync_state, "in_sync")

        legacy = hr_sim.employee(self.hr.state.seed, 11, self.hr.state.departments)
        employee = self.employee("E00012")
        self.assertEqual((employee.name, employee.work_email), (legacy["name"], legacy["work_email"]))
        self.assertEqual(employee.department_id, lab)
        self.assertEqual(employee.job_id.name, legacy["job_title"])
        self.assertEqual(employee.parent_id.hc_employee_code, "E00002")
        self.assertEqual(employee.hc_cost_center_id, lab_cc)
        self.assertEqual(str(employee.version_id.date_version), legacy["effective_date"])
        self.assertEqual(len(employee.version_ids), 1)
        self.assertEqual(employee.hc_sync_state, "in_sync")
        # The top of the hierarchy reports to nobody; every other head reports to it.
        self.assertFalse(self.employee("E00001").parent_id)
        self.assertEqual(self.employee("E00005").parent_id, self.employee("E00001"))

        with self.count_writes(*WRITTEN_MODELS) as written:
            again = self.pull_all()
        self.assertEqual([self.counts(run) for run in again],
                         [("done", 0, 0, 11, 0), ("done", 0, 0, 10, 0), ("done", 0, 0, 40, 0)])
        self.assertEqual(written, dict.fromkeys(written, 0), "an unchanged pull writes no business record")

        # A cost centre the legacy master closes is archived, not deleted.
        self.hr.state.override("cost_centres", "CC-4190", active=False)
        closed = self.pull(self.cost_centres)
        self.assertEqual(self.counts(closed), ("done", 0, 1, 10, 0))
        closed_cc = Account.with_context(active_test=False).search([("code", "=", "CC-4190")])
        self.assertFalse(closed_cc.active)

    def test_new_employees_of_a_page_are_created_together(self):
        """40 employees in pages of 15, 15 and 10: one create per page, as Odoo's own import
        batches its rows (it was one per employee), each still linked to its manager and bound once."""
        self.pull(self.cost_centres)
        self.pull(self.departments)
        Model = self.env.registry["hr.employee"]
        original, batches = Model.create, []

        def counting(records, vals_list):
            batches.append(len(vals_list) if isinstance(vals_list, list) else 1)
            return original(records, vals_list)

        with patch.object(Model, "create", counting):
            run = self.pull(self.employees)
        self.assertEqual(self.counts(run), ("done", 40, 0, 0, 0))
        self.assertEqual(batches, [15, 15, 10], "one create per page")
        Employee = self.env["hr.employee"]
        worker = Employee.search([("hc_employee_code", "=", "E00012")])
        self.assertEqual(worker.parent_id.hc_employee_code, hr_sim.employee(self.hr.state.seed, 11, 10)
                         ["manager_identifier"])
        self.assertEqual(self.env["hc.binding"].search_count([("res_model", "=", "hr.employee"),
                                                              ("backend_id", "=", self.employees.backend_id.id)]), 40)

    def test_payroll_data_is_neither_stored_nor_shown(self):
        self.assertEqual(self.employees.sensitive_paths.split(),
                         ["salary", "national_id", "bank_account", "[*].salary", "[*].national_id",
                          "[*].bank_account"], "the employee flows redact the schema's payroll keys by default")
        self.pull_all()
        legacy = [hr_sim.employee(self.hr.state.seed, i, self.hr.state.departments) for i in range(self.EMPLOYEES)]
        pages = self.env["hc.message"].search([("flow_id", "=", self.employees.id)])
        self.assertEqual(len(pages), 3)
        for page in pages:
            stored = json.loads(page.payload)
            self.assertTrue(stored and all(
                (item["salary"], item["national_id"], item["bank_account"]) == ("***", "***", "***")
                for item in stored))
            self.assertFalse(page.sudo().payload_raw, "the unredacted copy is gone once applied")
        secrets = [e["national_id"] for e in legacy] + [e["bank_account"] for e in legacy] + [
            f'{e["salary"]["amount"]}' for e in legacy]
        self.env.flush_all()
        for table in ("hc_message", "hr_employee", "hr_version", "res_partner", "res_partner_bank", "mail_message"):
            # Every column but a mail's random Message-Id, whose digits can spell a simulated salary.
            self.env.cr.execute(f"SELECT (to_jsonb(t) - 'message_id')::text FROM {table} t")  # noqa: S608 - fixed names
            dump = "\n".join(row[0] for row in self.env.cr.fetchall())
            found = [secret for secret in secrets if secret in dump]
            self.assertFalse(found, f"payroll data stored in {table}")

    def test_dated_department_move_makes_a_new_version(self):
        self.pull_all()
        employee = self.employee("E00013")  # index 12: department 2 (PHARM)
        pharm, icu = (self.env["hr.department"].search([("hc_code", "=", code)]) for code in ("PHARM", "ICU"))
        self.assertEqual(employee.department_id, pharm)
        first = employee.version_id
        self.hr.state.override("employees", "E00013", department_code="ICU", cost_centre_code="CC-4140",
                               effective_date="2026-06-01")
        moved = self.pull(self.employees)
        self.assertEqual(self.counts(moved), ("done", 0, 1, 39, 0))
        employee.invalidate_recordset()
        versions = employee.version_ids.sorted("date_version")
        self.assertEqual(len(versions), 2)
        self.assertEqual(versions[0], first)
        self.assertEqual((versions[0].department_id, versions[1].department_id), (pharm, icu),
                         "the move starts a version; the one before keeps the old department")
        self.assertEqual(str(versions[1].date_version), "2026-06-01")
        self.assertEqual(versions[1].hc_cost_center_id.code, "CC-4140")
        self.assertEqual(versions[1].job_id, versions[0].job_id, "the new version copies the rest")
        self.assertEqual((employee.department_id, employee.hc_cost_center_id.code), (icu, "CC-4140"))
        again = self.pull(self.employees)
        self.assertEqual(self.counts(again), ("done", 0, 0, 40, 0))
        self.assertEqual(len(employee.version_ids), 2)

    def test_leaver_is_archived_never_deleted(self):
        self.pull_all()
        employee = self.employee("E00021")
        self.hr.state.override("employees", "E00021", active=False, leaving_date="2026-11-30")
        left = self.pull(self.employees)
        self.assertEqual(self.counts(left), ("done", 0, 1, 39, 0))
        self.assertTrue(employee.exists(), "a leaver is kept")
        self.assertFalse(employee.active)
        self.assertEqual(str(employee.departure_date), "2026-11-30")
        self.assertEqual(self.pull(self.employees).count_unchanged, 40)
        self.assertFalse(self.employee("E00021").active)
        # Rehired: the HR system marks the employee active again.
        self.hr.state.override("employees", "E00021", active=True, leaving_date=None)
        self.pull(self.employees)
        self.assertTrue(employee.active)
        self.assertFalse(employee.departure_date)

    def test_departments_before_cost_centres_name_the_problem(self):
        run = self.pull(self.departments)
        self.assertEqual(run.page_message_ids.mapped("state"), ["exception"])
        self.assertIn("unknown cost centre CC-4100", run.page_message_ids.error_message)
        self.assertFalse(self.env["hr.department"].search([("hc_code", "=", "LAB")]))

    def test_payroll_data_a_mapping_names_is_kept_for_hr_administrators_only(self):
        """A consultant maps the payroll system's salary and national identifier on purpose: they are
        stored on the employee's version, readable by HR administrators only, and the stored pages are
        still redacted. The bank account, not mapped, is stored nowhere."""
        passthrough = ("identifier", "name", "work_email", "department_code", "job_title", "manager_identifier",
                       "cost_centre_code", "active", "leaving_date", "effective_date")
        self.create_mapping(self.employees, [{"source": key, "target": key} for key in passthrough] + [
            {"source": "salary.amount", "target": "payroll_wage", "transform": "number"},
            {"source": "national_id", "target": "payroll_national_id"},
        ])
        self.pull(self.cost_centres)
        self.pull(self.departments)
        run = self.pull(self.employees)
        self.assertEqual(self.counts(run), ("done", 40, 0, 0, 0))
        legacy = hr_sim.employee(self.hr.state.seed, 11, self.hr.state.departments)
        employee = self.employee("E00012")
        version = employee.version_id.sudo()
        self.assertEqual((version.wage, version.hc_national_id, version.hc_bank_account),
                         (legacy["salary"]["amount"], legacy["national_id"], False))
        officer = new_test_user(self.env, login="hc_hr_officer", groups="base.group_user,hr.group_hr_user")
        administrator = new_test_user(self.env, login="hc_hr_admin", groups="base.group_user,hr.group_hr_manager")
        for field in ("wage", "hc_national_id"):
            with self.assertRaises(AccessError, msg=field):
                employee.with_user(officer).read([field])
        self.assertEqual(employee.with_user(administrator).read(["hc_national_id"])[0]["hc_national_id"],
                         legacy["national_id"])
        for page in self.env["hc.message"].search([("flow_id", "=", self.employees.id)]):
            self.assertNotIn(legacy["national_id"], page.payload)
            self.assertFalse(page.sudo().payload_raw)
        # A later salary change in the payroll system reaches the version; nothing else is written.
        self.hr.state.override("employees", "E00012", salary={"amount": 5555.5, "currency": "EUR", "period": "month"})
        again = self.pull(self.employees)
        self.assertEqual(self.counts(again), ("done", 0, 1, 39, 0))
        self.assertEqual(employee.version_id.sudo().wage, 5555.5)

    def test_payroll_keys_without_a_mapping_are_never_stored(self):
        self.pull(self.cost_centres)
        self.pull(self.departments)
        self.hr.state.override("employees", "E00012", payroll_national_id="1850399999999", payroll_wage=9999.0)
        self.pull(self.employees)
        version = self.employee("E00012").version_id.sudo()
        self.assertEqual((version.hc_national_id, version.wage), (False, 0.0),
                         "a payload that carries the keys is not a mapping naming them")

    def test_the_hr_system_owns_what_it_fills(self):
        """Legacy is the system of record: an HR officer moving a pulled employee to another department
        in Odoo is warned (refused when the flow is read-only); what the HR system does not send is free."""
        self.pull_all()
        employee = self.employee("E00012")
        officer = new_test_user(self.env, login="hc_hr_officer", groups="base.group_user,hr.group_hr_user")
        icu = self.env["hr.department"].search([("hc_code", "=", "ICU")])
        result = employee.with_user(officer).onchange(
            {"department_id": icu.id}, ["department_id"], {"department_id": {}})
        self.assertIn(self.backend.name, result["warning"]["message"])
        self.assertNotIn("warning", employee.with_user(officer).onchange(
            {"mobile_phone": "+33 6 00 00 00 00"}, ["mobile_phone"], {"mobile_phone": {}}))
        self.employees.ownership_policy = "block"
        with self.assertRaisesRegex(UserError, re.escape(self.backend.name)):
            employee.with_user(officer).write({"department_id": icu.id})
        employee.with_user(officer).write({"mobile_phone": "+33 6 00 00 00 00"})
        # The HR system moves the employee: the pull writes it, read-only or not.
        self.hr.state.override("employees", "E00012", department_code="ICU", cost_centre_code="CC-4140")
        self.assertEqual(self.counts(self.pull(self.employees)), ("done", 0, 1, 39, 0))
        self.assertEqual(employee.department_id, icu)
