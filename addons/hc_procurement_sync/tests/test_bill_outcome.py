from odoo.tests import TransactionCase, tagged

from odoo.addons.hc_integration_base.tests.common import SimulatorMixin
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestBillOutcome(SimulatorMixin, TransactionCase):
    """Posting a vendor bill of a purchase order pushes the matching outcome downstream."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.start_simulators()
        cls.env.ref("hc_integration_base.demo_backend_rest").write({"base_url": cls.sims.rest_url})
        cls.vendor = cls.env["res.partner"].create({"name": "Billing vendor", "ref": "SUP-0004"})
        cls.product = cls.env["product.product"].create(
            {"name": "Reagent", "default_code": "ITM-000009", "purchase_method": "purchase"})

    def setUp(self):
        super().setUp()
        self.sims.reset()
        self.registry_enter_test_mode()

    def bill(self, price=None):
        order = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": self.product.id, "product_qty": 3, "price_unit": 10.0})],
        })
        with trap_jobs():
            order.button_confirm()
        order.action_create_invoice()
        bill = order.invoice_ids
        bill.invoice_date = bill.invoice_date or "2026-11-24"
        if price is not None:
            bill.invoice_line_ids.price_unit = price
        with trap_jobs() as trap:
            bill.action_post()
            trap.assert_jobs_count(1)
        message = self.env["hc.message"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])
        message._job_process()
        return order, bill, message

    def test_matched_and_price_difference_reach_the_simulator(self):
        order, bill, message = self.bill()
        self.assertEqual(message.state, "done")
        price_order, _bill, _message = self.bill(price=12.5)
        outcomes = {o["po_reference"]: o for o in self.sims.state.outcomes}
        self.assertEqual(outcomes[order.name]["outcome"], "matched")
        self.assertEqual(outcomes[order.name]["bill_reference"], bill.name)
        self.assertEqual(outcomes[order.name]["vendor_code"], "SUP-0004")
        self.assertEqual(outcomes[price_order.name]["outcome"], "price_difference")
        self.assertEqual(len(self.sims.state.outcomes), 2)

    def test_payment_pushes_paid(self):
        order, bill, _message = self.bill()
        with trap_jobs() as trap:
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=bill.ids
            ).create({})._create_payments()
            trap.assert_jobs_count(1)
        paid = self.env["hc.message"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id),
                                              ("state", "=", "queued")])
        paid._job_process()
        self.assertEqual([o["outcome"] for o in self.sims.state.outcomes if o["po_reference"] == order.name],
                         ["matched", "paid"])
