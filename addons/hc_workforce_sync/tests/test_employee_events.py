import json

from odoo.tests import HttpCase, tagged

from .common import WorkforceMixin


@tagged("post_install", "-at_install")
class TestEmployeeEvents(WorkforceMixin, HttpCase):
    """Joiner, mover and leaver events posted by the HR system to /hc/in/hr_rest/employee_events.

    The departments and cost centres are already in Odoo (loaded another way, with their legacy
    codes): the handlers adopt them by code."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.sudo().inbound_api_key = "hr-key"
        plan = cls.env.ref("hc_workforce_sync.analytic_plan_cost_centres")
        cls.cc_lab, cls.cc_icu = cls.env["account.analytic.account"].create([
            {"name": "Laboratory", "code": "CC-4110", "plan_id": plan.id},
            {"name": "Intensive care", "code": "CC-4140", "plan_id": plan.id},
        ])
        cls.lab, cls.icu = cls.env["hr.department"].create([
            {"name": "Laboratory", "hc_code": "LAB", "hc_cost_center_id": cls.cc_lab.id},
            {"name": "Intensive care", "hc_code": "ICU", "hc_cost_center_id": cls.cc_icu.id},
        ])

    def post(self, event):
        response, message, _jobs = self.post_inbound("/hc/in/hr_rest/employee_events", event, "hr-key")
        return response, message

    def joiner(self, **values):
        return {
            "event": "joiner", "event_id": "EV-1", "identifier": "E90001", "name": "Ada Lovelace",
            "work_email": "Ada.Lovelace@hospital.example", "department_code": "LAB", "job_title": "Analyst",
            "cost_centre_code": "CC-4110", "manager_identifier": None, "effective_date": "2026-09-01",
            "salary": {"amount": 4321.98, "currency": "EUR"}, "national_id": "2850312345678",
            "bank_account": "FR7630006000011234567890189", **values,
        }

    def test_joiner_mover_leaver(self):
        response, message = self.post(self.joiner())
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(message.state, "done", message.error_message)
        employee = self.employee("E90001")
        self.assertEqual((employee.name, employee.work_email, employee.department_id, employee.job_id.name),
                         ("Ada Lovelace", "ada.lovelace@hospital.example", self.lab, "Analyst"))
        self.assertEqual(employee.hc_cost_center_id, self.cc_lab)
        self.assertEqual(str(employee.version_id.date_version), "2026-09-01")
        self.assertEqual((message.res_model, message.res_id), ("hr.employee", employee.id))
        self.assertEqual(employee.hc_sync_state, "in_sync")
        # Payroll data: redacted in the stored payload, the raw copy gone, nothing on the employee.
        stored = json.loads(message.payload)
        self.assertEqual((stored["salary"], stored["national_id"], stored["bank_account"]), ("***",) * 3)
        self.assertFalse(message.sudo().payload_raw)
        self.assertFalse(employee.identification_id or employee.ssnid or employee.bank_account_ids)

        # The same event again (same event_id): a duplicate, no second employee.
        again, duplicate = self.post(self.joiner())
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(len(self.employee("E90001")), 1)

        # A mover with an effective date: a new version from that day.
        _response, moved = self.post({"event": "mover", "event_id": "EV-2", "identifier": "E90001",
                                      "department_code": "ICU", "cost_centre_code": "CC-4140",
                                      "effective_date": "2026-11-15"})
        self.assertEqual(moved.state, "done", moved.error_message)
        versions = employee.version_ids.sorted("date_version")
        self.assertEqual([(str(v.date_version), v.department_id, v.hc_cost_center_id) for v in versions],
                         [("2026-09-01", self.lab, self.cc_lab), ("2026-11-15", self.icu, self.cc_icu)])
        self.assertEqual(employee.name, "Ada Lovelace", "keys the event leaves out are kept")
        self.assertEqual(employee.job_id.name, "Analyst")

        # A correction without a date: the current version, no new one.
        self.post({"event": "mover", "event_id": "EV-3", "identifier": "E90001", "job_title": "Senior analyst"})
        self.assertEqual(len(employee.version_ids), 2)
        self.assertEqual(employee.version_id.job_id.name, "Senior analyst")
        self.assertEqual(versions[0].job_id.name, "Analyst")

        # A leaver: archived with its leaving date, never deleted.
        _response, left = self.post({"event": "leaver", "event_id": "EV-4", "identifier": "E90001",
                                     "leaving_date": "2026-11-30"})
        self.assertEqual(left.state, "done", left.error_message)
        self.assertTrue(employee.exists())
        self.assertFalse(employee.active)
        self.assertEqual(str(employee.departure_date), "2026-11-30")

    def test_manager_named_before_it_arrives_is_linked_when_it_does(self):
        self.post(self.joiner(identifier="E90002", event_id="EV-10", manager_identifier="E90003"))
        report = self.employee("E90002")
        self.assertFalse(report.parent_id)
        self.post(self.joiner(identifier="E90003", event_id="EV-11", name="Grace Hopper"))
        self.assertEqual(report.parent_id, self.employee("E90003"))

    def test_unknown_department_fails_naming_it(self):
        _response, message = self.post(self.joiner(event_id="EV-20", department_code="NOPE"))
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("unknown department NOPE", message.error_message)
        self.assertFalse(self.employee("E90001"))

    def test_joiner_without_a_name_fails_naming_the_cause(self):
        _response, message = self.post({"event": "joiner", "event_id": "EV-30", "identifier": "E90009"})
        self.assertEqual(message.state, "exception")
        self.assertIn("creating it needs a name", message.error_message)

    def test_a_new_employee_flow_redacts_payroll_data_by_default(self):
        flow = self.create_flow("employees_2", self.backend, model=None, name="Employees 2", object_type="employee")
        self.assertEqual(flow.model_name, "hr.employee")
        self.assertIn("[*].national_id", flow.sensitive_paths.split())
        explicit = self.create_flow("employees_3", self.backend, model=None, name="Employees 3", object_type="employee",
                                    sensitive_paths="salary")
        self.assertEqual(explicit.sensitive_paths, "salary", "a flow's own paths are kept")
