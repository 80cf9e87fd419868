from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestPurchaseApprovalPush(ProcurementCase):
    """With Odoo's two-step validation an order is pushed when a manager approves it, once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_po_push")
        cls.env.company.write({"po_double_validation": "two_step", "po_double_validation_amount": 100})
        cls.buyer = new_test_user(cls.env, login="hc_buyer", groups="base.group_user,purchase.group_purchase_user")
        cls.manager = new_test_user(
            cls.env, login="hc_purchase_manager", groups="base.group_user,purchase.group_purchase_manager"
        )
        cls.vendor = cls.env["res.partner"].create({"name": "Approval vendor", "ref": "SUP-0003", "is_company": True})
        cls.product = cls.env["product.product"].create({
            "name": "Infusion pump", "default_code": "ITM-000003", "supplier_taxes_id": False,
        })

    def order(self, price):
        return self.create_order(self.vendor, [(self.product, 2, price)], env=self.env(user=self.buyer))

    def test_order_above_the_limit_is_pushed_on_approval(self):
        order = self.order(price=400)
        self.confirm(order, jobs=0)
        self.assertEqual(order.state, "to approve")
        self.assertFalse(self.messages_of(order), "not sent before it is approved")
        with trap_jobs() as trap:
            order.with_user(self.manager).button_approve()
            trap.assert_jobs_count(1)
        self.assertEqual(order.state, "purchase")
        message = self.messages_of(order)
        self.assertEqual((len(message), message.direction, message.flow_id), (1, "outbound", self.flow))
        self.assertEqual(message.state, "queued")
        self.assertEqual(order.hc_sync_state, "pending")
        with trap_jobs() as trap:
            order.with_user(self.manager).button_approve()  # approved again (a double click)
            trap.assert_jobs_count(0)
        self.assertEqual(len(self.messages_of(order)), 1, "an order is pushed once")

    def test_order_under_the_limit_is_pushed_on_confirmation_once(self):
        order = self.order(price=10)
        self.confirm(order, jobs=1)
        self.assertEqual(order.state, "purchase")
        self.assertEqual(len(self.messages_of(order)), 1)

    def test_urgent_order_waiting_for_approval_is_pushed_on_the_urgent_channel(self):
        """Urgent replenishment orders that need approval: pushed at approval, on the urgent channel."""
        order = self.order(price=400)
        order.priority = "1"
        order.button_confirm()
        self.assertEqual(order.state, "to approve")
        with trap_jobs() as trap:
            order.with_user(self.manager).button_approve()
            trap.assert_jobs_count(1)
        self.assertEqual((trap.enqueued_jobs[0].channel, trap.enqueued_jobs[0].priority),
                         (self.flow.backend_id._channel_name(urgent=True), 0))
