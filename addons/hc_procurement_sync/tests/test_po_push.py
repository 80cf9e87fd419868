from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestPurchaseOrderPush(ProcurementCase):
    """Confirming an order sends it to the SOAP gateway simulator exactly once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A generous read timeout: on a loaded machine a 1 s one made ordinary pushes time out.
        _rest, cls.gateway = cls.use_demo_backends(read_timeout=10, breaker_threshold=100)
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_po_push")
        cls.vendor = cls.env["res.partner"].create({"name": "Gateway vendor", "ref": "SUP-0003", "is_company": True})
        cls.unknown = cls.env["res.partner"].create({"name": "Unknown vendor", "ref": "SUP-9999"})
        cls.products = cls.env["product.product"].create([
            {"name": "Gloves", "default_code": "ITM-000001"}, {"name": "Syringes", "default_code": "ITM-000002"},
        ])

    def confirm_pushed(self, vendor):
        """An order of both products confirmed: ``(order, its push message)``."""
        order = self.confirm(self.create_order(vendor, [(self.products[0], 10, 2.5), (self.products[1], 4, 2.5)]),
                             jobs=1)
        return order, self.messages_of(order)

    def test_confirm_sends_once_and_stores_the_acknowledgement(self):
        order, message = self.confirm_pushed(self.vendor)
        self.assertEqual(order.hc_sync_state, "pending")
        self.run_job(message)
        self.assertEqual(message.state, "done")
        [remote] = self.sims.state.orders
        self.assertEqual((remote["reference"], remote["vendor_code"]), (order.name, "SUP-0003"))
        self.assertEqual([ln["item_code"] for ln in remote["lines"]], ["ITM-000001", "ITM-000002"])
        self.assertEqual([ln["quantity"] for ln in remote["lines"]], [10.0, 4.0])
        self.assertEqual((order.hc_remote_state, order.hc_remote_order_number), ("accepted", "LPO-000001"))
        order.invalidate_recordset()
        self.assertEqual(order.hc_sync_state, "in_sync")

    def test_timeout_after_the_gateway_stored_it_never_orders_twice(self):
        self.gateway.read_timeout = 1
        self.sims.set_faults("soap", timeout_after_store_rate=1.0, hang_seconds=2)
        order, message = self.confirm_pushed(self.vendor)
        _result, raised = self.run_job(message)
        self.assertIsInstance(raised, RetryableJobError, "a timeout is transient")
        self.assertEqual(len(self.sims.state.orders), 1, "the gateway stored it before timing out")
        message.invalidate_recordset()
        self.assertEqual(message.state, "failed_retrying")
        self.sims.set_faults("soap", timeout_after_store_rate=0.0)
        self.run_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.sims.state.orders), 1, "the retry got the original acknowledgement")
        self.assertEqual(order.hc_remote_order_number, "LPO-000001")

    def test_rejection_gives_the_buyer_an_activity(self):
        order, message = self.confirm_pushed(self.unknown)
        self.run_job(message)
        self.assertEqual((message.state, message.error_category), ("exception", "remote"))
        self.assertIn("unknown vendor SUP-9999", message.error_message)
        self.assertEqual(order.hc_remote_state, "rejected")
        activity = order.activity_ids.filtered(lambda a: "rejected" in (a.summary or ""))
        self.assertEqual(activity.user_id, order.user_id or self.env.user)
        order.invalidate_recordset()
        self.assertEqual(order.hc_sync_state, "failed")
        self.assertIn(order, self.env["purchase.order"].search([("hc_sync_state", "=", "failed")]))
        dashboard = self.env["purchase.order"].retrieve_dashboard()["hc"]
        failed = self.env["purchase.order"].search_count([("hc_sync_state", "=", "failed")])
        self.assertEqual(dashboard["failed"], failed)
        self.assertGreaterEqual(dashboard["failed"], 1)

    def test_cancel_is_pushed_as_such(self):
        order, message = self.confirm_pushed(self.vendor)
        self.run_job(message)
        self.assertEqual(message.state, "done", message.error_message)
        with trap_jobs() as trap:
            order.button_cancel()
            trap.assert_jobs_count(1)
        cancel = self.messages_of(order) - message
        self.assertIn('"action": "cancel"', cancel.payload)
        self.run_job(cancel)
        self.assertEqual(cancel.state, "done")
        self.assertEqual([o["action"] for o in self.sims.state.orders], ["create", "cancel"])

    def test_orders_split_between_gateways_by_the_flows_conditions(self):
        """Pharmacy orders go to the pharmacy gateway's flow (its condition names the vendor), the
        rest to the general one; a cancellation follows the order to the flow that sent it, even
        once the condition no longer holds."""
        pharmacy_vendor = self.env["res.partner"].create({"name": "Pharmacy wholesaler", "ref": "SUP-0004"})
        pharmacy = self.flow.copy({"name": "Pharmacy orders", "code": "po_pharmacy", "sequence": 1,
                                   "push_domain": repr([("partner_id", "=", pharmacy_vendor.id)])})
        general_order, general_message = self.confirm_pushed(self.vendor)
        pharmacy_order, pharmacy_message = self.confirm_pushed(pharmacy_vendor)
        self.assertEqual((general_message.flow_id, pharmacy_message.flow_id), (self.flow, pharmacy))
        self.run_job(pharmacy_message)
        self.assertEqual(pharmacy_message.state, "done", pharmacy_message.error_message)
        pharmacy.push_domain = repr([("partner_id", "=", self.vendor.id)])
        with trap_jobs() as trap:
            pharmacy_order.button_cancel()
            trap.assert_jobs_count(1)
        cancel = self.messages_of(pharmacy_order, order="id desc", limit=1)
        self.assertEqual(cancel.flow_id, pharmacy)
        self.assertIn('"action": "cancel"', cancel.payload)

    def test_changes_of_a_sent_order_are_pushed_as_updates(self):
        order, message = self.confirm_pushed(self.vendor)
        self.run_job(message)
        with trap_jobs() as trap:
            order.order_line[0].product_qty = 12
            trap.assert_jobs_count(1)
        update = self.messages_of(order) - message
        self.run_job(update)
        self.assertEqual(update.state, "done")
        self.assertEqual([o["action"] for o in self.sims.state.orders], ["create", "update"])
        self.assertEqual(self.sims.state.orders[1]["lines"][0]["quantity"], 12.0)

    def test_a_buyer_without_integration_rights_confirms_and_bills(self):
        buyer = new_test_user(self.env, login="hc_plain_buyer",
                              groups="purchase.group_purchase_manager,account.group_account_invoice")
        order = self.create_order(self.vendor, [(self.products[0], 1, 1.0)], env=self.env(user=buyer))
        self.confirm(order, jobs=1)
        self.assertEqual(order.state, "purchase")

    def test_items_and_vendor_are_named_as_the_gateway_names_them(self):
        """The gateway's own codes (its bindings) win over Odoo's internal reference and over another
        backend's codes; without them the internal reference is sent, as before."""
        Binding = self.env["hc.binding"]
        rest = self.env.ref("hc_integration_base.demo_backend_rest")
        Binding.create([
            {"backend_id": self.gateway.id, "res_model": "product.template", "external_id": "GW-GLV",
             "res_id": self.products[0].product_tmpl_id.id},
            {"backend_id": rest.id, "res_model": "product.template", "external_id": "REST-SYR",
             "res_id": self.products[1].product_tmpl_id.id},
            {"backend_id": rest.id, "res_model": "res.partner", "external_id": "SUP-0001", "res_id": self.vendor.id},
            {"backend_id": self.gateway.id, "res_model": "res.partner", "external_id": "SUP-0003",
             "res_id": self.vendor.id},
        ])
        order, message = self.confirm_pushed(self.vendor)
        self.run_job(message)
        self.assertEqual(message.state, "done", message.error_message)
        [remote] = self.sims.state.orders
        self.assertEqual(remote["vendor_code"], "SUP-0003")
        self.assertEqual([ln["item_code"] for ln in remote["lines"]], ["GW-GLV", "ITM-000002"])
