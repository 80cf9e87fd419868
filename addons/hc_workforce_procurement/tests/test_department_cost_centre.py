from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationHttpCase


@tagged("post_install", "-at_install")
class TestDepartmentCostCentre(HcIntegrationHttpCase):
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
        cls.create_code_table("department_analytic", {"LAB-T": cls.table_centre, "ER-T": cls.er_centre},
                              model="account.analytic.account", name="Department cost centres")

    def post(self, reference, department):
        requisition = {"reference": reference, "department_code": department,
                       "lines": [{"item_code": "ITM-BR1", "quantity": 3}]}
        response, message, _jobs = self.post_inbound("/hc/in/stores_rest/demand", requisition, "bridge-key")
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(message.state, "done", message.error_message)
        return self.env["purchase.order"].search([("origin", "=", reference)]).order_line

    def test_the_departments_cost_centre_comes_before_the_code_table(self):
        self.assertEqual(self.post("REQ-BR1", "LAB-T").analytic_distribution, {str(self.lab_centre.id): 100})

    def test_a_department_without_cost_centre_falls_back_to_the_code_table(self):
        self.assertEqual(self.post("REQ-BR2", "ER-T").analytic_distribution, {str(self.er_centre.id): 100})

    def test_an_unknown_department_books_nothing(self):
        self.assertFalse(self.post("REQ-BR3", "NOPE").analytic_distribution)
