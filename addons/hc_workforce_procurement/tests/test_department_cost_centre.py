import json

from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestDepartmentCostCentre(HttpCase):
    """A requisition posted for a department the HR system sent is booked on that department's
    cost centre; the procurement code table remains the fallback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env.ref("hc_integration_base.demo_backend_rest")
        cls.backend.sudo().inbound_api_key = "bridge-key"
        vendor = cls.env["res.partner"].create({"name": "Bridge vendor"})
        cls.env["product.product"].create({"name": "Tubes", "default_code": "ITM-BR1",
                                           "seller_ids": [(0, 0, {"partner_id": vendor.id, "price": 1.0})]})
        plan = cls.env["account.analytic.plan"].create({"name": "Bridge cost centres"})
        cls.lab_centre, cls.table_centre, cls.er_centre = cls.env["account.analytic.account"].create([
            {"name": name, "code": code, "plan_id": plan.id}
            for name, code in (("Laboratory", "CC-T1"), ("From the table", "CC-T2"), ("Emergency", "CC-T3"))
        ])
        cls.env["hr.department"].create([
            {"name": "Laboratory", "hc_code": "LAB-T", "hc_cost_center_id": cls.lab_centre.id},
            {"name": "Emergency", "hc_code": "ER-T"},  # the HR system sent it without a cost centre
        ])
        cls.env["hc.value.map"].create({
            "name": "Department cost centres", "code": "department_analytic",
            "model_id": cls.env.ref("analytic.model_account_analytic_account").id,
            "entry_ids": [(0, 0, {"legacy_code": "LAB-T", "res_id": cls.table_centre.id}),
                          (0, 0, {"legacy_code": "ER-T", "res_id": cls.er_centre.id})],
        })

    def post(self, reference, department):
        requisition = {"reference": reference, "department_code": department,
                       "lines": [{"item_code": "ITM-BR1", "quantity": 3}]}
        with trap_jobs():
            response = self.url_open("/hc/in/stores_rest/demand", data=json.dumps(requisition), method="POST",
                                     headers={"Content-Type": "application/json", "X-API-Key": "bridge-key"})
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["hc.message"].browse(response.json()["message_id"])
        message._job_process()
        self.assertEqual(message.state, "done", message.error_message)
        return self.env["purchase.order"].search([("origin", "=", reference)]).order_line

    def test_the_departments_cost_centre_comes_before_the_code_table(self):
        self.assertEqual(self.post("REQ-BR1", "LAB-T").analytic_distribution, {str(self.lab_centre.id): 100})

    def test_a_department_without_cost_centre_falls_back_to_the_code_table(self):
        self.assertEqual(self.post("REQ-BR2", "ER-T").analytic_distribution, {str(self.er_centre.id): 100})

    def test_an_unknown_department_books_nothing(self):
        self.assertFalse(self.post("REQ-BR3", "NOPE").analytic_distribution)
