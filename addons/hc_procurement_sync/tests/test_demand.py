
from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationHttpCase, postponed


@tagged("post_install", "-at_install")
class TestDemandSignals(HcIntegrationHttpCase):
    """An approved requisition posted by a departmental system becomes one draft RFQ per vendor."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env.ref("hc_integration_base.demo_backend_rest")
        cls.backend.sudo().inbound_api_key = "demand-key"
        cls.vendors = cls.env["res.partner"].create([{"name": "Vendor A"}, {"name": "Vendor B"}])
        cls.products = cls.env["product.product"].create([
            {"name": f"Item {code}", "default_code": code, "seller_ids": [(0, 0, {"partner_id": vendor.id,
                                                                                  "price": 3.0})]}
            for code, vendor in (("ITM-A1", cls.vendors[0]), ("ITM-A2", cls.vendors[0]), ("ITM-B1", cls.vendors[1]))
        ])

    def post(self, requisition):
        response, _message, jobs = self.post_inbound("/hc/in/stores_rest/demand", requisition, "demand-key")
        return response, jobs

    def rfqs(self, reference):
        return self.env["purchase.order"].search([("origin", "=", reference)])

    def test_requisition_becomes_one_rfq_per_vendor_once(self):
        requisition = {
            "reference": "REQ-T1", "department_code": "LAB", "approved": True, "urgency": "normal",
            "needed_by": "2026-12-10",
            "lines": [{"item_code": "ITM-A1", "quantity": 5}, {"item_code": "ITM-B1", "quantity": 2},
                      {"item_code": "ITM-A1", "quantity": 3}, {"item_code": "ITM-A2", "quantity": 1}],
        }
        response, jobs = self.post(requisition)
        self.assertEqual(response.status_code, 202, response.text)
        # The demand events flow is real-time: its jobs run on the urgent sub-channel, urgent demands first.
        self.assertEqual((jobs[0].channel, jobs[0].priority), ("root.hc.stores_rest.urgent", 10))
        rfqs = self.rfqs("REQ-T1")
        self.assertEqual(len(rfqs), 2)
        self.assertEqual(set(rfqs.mapped("state")), {"draft"})
        first = rfqs.filtered(lambda o: o.partner_id == self.vendors[0])
        self.assertEqual(sorted((ln.product_id.default_code, ln.product_qty) for ln in first.order_line),
                         [("ITM-A1", 8.0), ("ITM-A2", 1.0)])
        self.assertEqual(str(first.order_line[0].date_planned.date()), "2026-12-10")
        again, _jobs = self.post(requisition)
        self.assertEqual(again.status_code, 200, "the repeated event returns the original answer")
        self.assertEqual(len(self.rfqs("REQ-T1")), 2)

    def test_unknown_item_goes_to_the_exception_queue(self):
        response, _jobs = self.post({"reference": "REQ-T2", "lines": [{"item_code": "ITM-NOPE", "quantity": 1}]})
        message = self.env["hc.message"].browse(response.json()["message_id"])
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("unknown item ITM-NOPE", message.error_message)
        self.assertFalse(self.rfqs("REQ-T2"))

    def test_unknown_item_waits_while_items_are_being_pulled(self):
        # Items come from another system than the requisitions: a catalog flow of another backend.
        catalog = self.env.ref("hc_procurement_sync.demo_flow_item_catalog").copy({
            "backend_id": self.env.ref("hc_integration_base.demo_backend_soap").id, "code": "other_catalog"})
        pull = self.env["hc.batch.run"].create({"flow_id": catalog.id})  # a catalog pull under way
        requisition = {"reference": "REQ-T4", "lines": [{"item_code": "ITM-LATER", "quantity": 1}]}
        caught = postponed(self, lambda: self.post(requisition))
        self.assertTrue(caught.ignore_retry, "waiting spends none of the message's attempts")
        self.assertIn("unknown item ITM-LATER", str(caught))
        message = self.env["hc.message"].search([("payload", "like", "REQ-T4")])
        self.assertEqual(message.state, "queued")
        self.assertIn("Waiting for the records still being received", message.wait_reason)
        # The pull brings the item: the postponed job applies the requisition.
        self.env["product.product"].create({"name": "Later", "default_code": "ITM-LATER",
                                            "seller_ids": [(0, 0, {"partner_id": self.vendors[1].id})]})
        pull.state = "done"
        message._job_process()
        self.assertEqual(message.state, "done")
        self.assertEqual(self.rfqs("REQ-T4").partner_id, self.vendors[1])

    def test_a_pull_that_stored_nothing_for_long_holds_nothing(self):
        catalog = self.env.ref("hc_procurement_sync.demo_flow_item_catalog")
        pull = self.env["hc.batch.run"].create({"flow_id": catalog.id})
        self.env.flush_all()
        self.env.cr.execute("UPDATE hc_batch_run SET write_date = now() at time zone 'utc' - interval '20 minutes' "
                            "WHERE id = %s", [pull.id])
        pull.invalidate_recordset()
        response, _jobs = self.post({"reference": "REQ-T5", "lines": [{"item_code": "ITM-NOPE", "quantity": 1}]})
        message = self.env["hc.message"].browse(response.json()["message_id"])
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        no_code, _jobs = self.post({"reference": "REQ-T6", "lines": [{"quantity": 1}]})
        message = self.env["hc.message"].browse(no_code.json()["message_id"])
        self.assertEqual(message.state, "exception")
        self.assertIn("names no item code", message.error_message)

    def test_urgent_demand_uses_the_high_priority_channel(self):
        _response, jobs = self.post({"reference": "REQ-T3", "urgency": "urgent",
                                     "lines": [{"item_code": "ITM-B1", "quantity": 4}]})
        self.assertEqual((jobs[0].channel, jobs[0].priority), ("root.hc.stores_rest.urgent", 0))
        self.assertEqual(self.rfqs("REQ-T3").priority, "1")

    def test_department_books_on_its_cost_centre_when_configured(self):
        plan = self.env["account.analytic.plan"].create({"name": "HC test cost centres"})
        lab = self.env["account.analytic.account"].create({"name": "Laboratory", "plan_id": plan.id})
        self.create_code_table("department_analytic", {"LAB": lab}, model="account.analytic.account",
                               name="Department cost centres")
        self.post({"reference": "REQ-T4", "department_code": "LAB", "lines": [{"item_code": "ITM-A1", "quantity": 2}]})
        self.assertEqual(self.rfqs("REQ-T4").order_line.analytic_distribution, {str(lab.id): 100})
        self.post({"reference": "REQ-T5", "department_code": "ER", "lines": [{"item_code": "ITM-A1", "quantity": 2}]})
        self.assertFalse(self.rfqs("REQ-T5").order_line.analytic_distribution)
