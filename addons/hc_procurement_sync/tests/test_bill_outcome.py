from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestBillOutcome(ProcurementCase):
    """Posting a vendor bill of a purchase order pushes the matching outcome downstream."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_demo_backends()
        cls.vendor = cls.env["res.partner"].create({"name": "Billing vendor", "ref": "SUP-0004"})
        cls.product = cls.env["product.product"].create(
            {"name": "Reagent", "default_code": "ITM-000009", "purchase_method": "purchase"})

    def bill(self, price=None):
        order = self.confirm(self.create_order(self.vendor, [(self.product, 3, 10.0)]))
        bill, message = self.post_bill(order, price)
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
        paid = self.messages_of(bill).filtered(lambda m: m.state == "queued")
        paid._job_process()
        self.assertEqual([o["outcome"] for o in self.sims.state.outcomes if o["po_reference"] == order.name],
                         ["matched", "paid"])
