from odoo.sql_db import db_connect
from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import postponed
from odoo.addons.queue_job.exception import RetryableJobError

from .common import InventoryCase


@tagged("post_install", "-at_install")
class TestUrgentReplenishment(InventoryCase):
    """A critical supply below its threshold is ordered and acknowledged at once, and only once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env["stock.warehouse.orderpoint"].create({
            "product_id": cls.saline.id, "location_id": cls.stock.id, "product_min_qty": 20, "product_max_qty": 100,
        })

    def consume(self, reference, qty):
        return self.apply(self.flow_events, {"reference": reference, "item_code": "ITM-I3", "quantity": qty,
                                               "location_code": "PHARM"})

    def orders(self):
        return self.env["purchase.order"].search([("order_line.product_id", "=", self.saline.id)])

    def test_breach_orders_once_and_records_the_acknowledgement(self):
        self.assertTrue(self.rule.hc_urgent, "critical supplies get urgent rules")
        self.put(self.saline, self.pharmacy, 25)
        quiet = self.consume("CONS-R1", 3)  # 22 left: above the minimum
        self.assertEqual(quiet.state, "done", quiet.error_message)
        self.assertFalse(self.orders())
        breach = self.consume("CONS-R2", 7)  # 15 left: below 20
        self.assertEqual(breach.state, "done", breach.error_message)
        order = self.orders()
        self.assertEqual(len(order), 1)
        self.assertEqual((order.state, order.partner_id, order.priority), ("purchase", self.vendor, "1"))
        self.assertEqual(order.order_line.product_qty, 85, "ordered up to the maximum")
        self.assertEqual(order.hc_trigger_message_id, breach)
        push = self.env["hc.message"].search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id)])
        self.assertEqual(push.state, "done", push.error_message)
        [channel] = [channel for record, _method, channel in self.performed if record == push]
        self.assertEqual(channel, push.backend_id._channel_name(urgent=True))
        self.assertTrue(channel.endswith(".urgent"))
        [remote] = self.sims.state.orders
        self.assertEqual((remote["reference"], remote["vendor_code"]), (order.name, "SUP-0002"))
        self.assertEqual((order.hc_remote_state, order.hc_remote_order_number), ("accepted", "LPO-000001"))
        self.assertEqual(breach.replenishment_order_id, order)
        self.assertTrue(breach.replenishment_acked_at)
        self.assertGreaterEqual(breach.replenishment_latency_ms, 0)
        # A second breach before the delivery: the order on its way covers it.
        second = self.consume("CONS-R3", 5)
        self.assertEqual(second.state, "done", second.error_message)
        self.assertEqual(self.orders(), order)
        self.assertEqual(len(self.sims.state.orders), 1)
        self.assertFalse(second.replenishment_order_id)

    def test_an_open_draft_of_the_vendor_is_extended(self):
        self.vendor.buyer_id = self.env.user  # Odoo adds to the draft of the vendor's buyer
        draft = self.env["purchase.order"].create({"partner_id": self.vendor.id, "order_line": [
            (0, 0, {"product_id": self.gloves.id, "product_qty": 3, "price_unit": 1})]})
        self.put(self.saline, self.pharmacy, 21)
        breach = self.consume("CONS-R4", 2)
        self.assertEqual(breach.replenishment_order_id, draft)
        self.assertEqual(sorted(draft.order_line.product_id.mapped("default_code")), ["ITM-I1", "ITM-I3"])
        self.assertEqual(draft.state, "purchase")

    def test_a_legacy_balance_below_the_threshold_orders(self):
        self.put(self.saline, self.stock, 60)  # Odoo still believes there is plenty
        message = self.apply(self.flow_balances, [
            {"item_code": "ITM-I3", "location_code": "WH-MAIN", "qty": 8}])
        self.assertEqual(message.state, "done", message.error_message)
        order = self.orders()
        self.assertEqual(order.order_line.product_qty, 92, "up to the maximum from the legacy quantity")
        self.assertEqual(message.replenishment_order_id, order)
        again = self.apply(self.flow_balances, [{"item_code": "ITM-I3", "location_code": "WH-MAIN", "qty": 8}])
        self.assertEqual(again.state, "done", again.error_message)
        self.assertEqual(self.orders(), order, "the order on its way counts")

    def test_replenishment_without_vendor_tells_the_product_responsible(self):
        self.saline.seller_ids.unlink()
        self.put(self.saline, self.pharmacy, 21)
        breach = self.consume("CONS-R5", 5)
        self.assertEqual(breach.state, "done", "the consumption itself is recorded")
        self.assertFalse(self.orders())
        self.assertIn("Urgent replenishment failed", self.saline.product_tmpl_id.activity_ids.mapped("summary"))

    def test_waits_while_odoo_procurement_scheduler_runs(self):
        """The scheduler rewrites the same reordering rules: replenishing meanwhile made it fail with a
        serialization error in its log. The message is postponed (no attempt spent) until it is done."""
        self.put(self.saline, self.pharmacy, 21)
        scheduler = self.env.ref("stock.ir_cron_scheduler_action")
        with db_connect(self.env.cr.dbname).cursor() as cron_cr:  # a connection of its own
            # What Odoo's cron runner holds while the scheduler runs.
            cron_cr.execute("SELECT id FROM ir_cron WHERE id = %s FOR NO KEY UPDATE", [scheduler.id])
            with self.assertRaisesRegex(RetryableJobError, "procurement scheduler is running"):
                self.rule._hc_replenish(self.env["hc.message"].new({}))
        self.assertFalse(self.orders())
        breach = self.consume("CONS-R6", 5)  # the scheduler is done: ordered
        self.assertEqual(breach.state, "done", breach.error_message)
        self.assertEqual(len(self.orders()), 1)


    def test_stock_moving_messages_wait_while_the_scheduler_runs_but_not_for_each_other(self):
        """Found by the run-command test: a consumption committed while Odoo's scheduler ran made the
        scheduler fail on its reordering rules. Such messages wait (no attempt spent), and two of our
        jobs holding the scheduler off do not block each other."""
        self.put(self.saline, self.pharmacy, 50)
        scheduler = self.env.ref("stock.ir_cron_scheduler_action")
        Rule = self.env["stock.warehouse.orderpoint"]
        with db_connect(self.env.cr.dbname).cursor() as cron_cr:
            cron_cr.execute("SELECT id FROM ir_cron WHERE id = %s FOR NO KEY UPDATE", [scheduler.id])  # running
            caught = postponed(self, lambda: self.consume("CONS-R7", 2))
            self.assertTrue(caught.ignore_retry)
        message = self.env["hc.message"].search([("external_id", "=", "CONS-R7")])
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.wait_reason, "Odoo's procurement scheduler is running.")
        message._job_process()  # the scheduler is done; this job now holds it off, shared
        self.assertEqual(message.state, "done", message.error_message)
        self.assertFalse(message.wait_reason)
        with db_connect(self.env.cr.dbname).cursor() as other:
            other.execute("SELECT id FROM ir_cron WHERE id = %s FOR SHARE SKIP LOCKED", [scheduler.id])
            self.assertTrue(other.fetchone(), "another job of ours is not kept waiting")
            self.assertTrue(Rule._hc_hold_scheduler())
