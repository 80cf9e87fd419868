from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import SimulatorMixin
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestPurchaseOrderPush(SimulatorMixin, TransactionCase):
    """Confirming an order sends it to the SOAP gateway simulator exactly once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.start_simulators()
        cls.gateway = cls.env.ref("hc_integration_base.demo_backend_soap")
        # A generous read timeout: on a loaded machine a 1 s one made ordinary pushes time out.
        cls.gateway.write({"wsdl_url": cls.sims.wsdl_url, "read_timeout": 10, "breaker_threshold": 100})
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_po_push")
        cls.vendor = cls.env["res.partner"].create({"name": "Gateway vendor", "ref": "SUP-0003", "is_company": True})
        cls.unknown = cls.env["res.partner"].create({"name": "Unknown vendor", "ref": "SUP-9999"})
        cls.products = cls.env["product.product"].create([
            {"name": "Gloves", "default_code": "ITM-000001"}, {"name": "Syringes", "default_code": "ITM-000002"},
        ])

    def setUp(self):
        super().setUp()
        self.sims.reset()
        self.registry_enter_test_mode()

    def confirm(self, vendor):
        order = self.env["purchase.order"].create({
            "partner_id": vendor.id,
            "order_line": [(0, 0, {"product_id": p.id, "product_qty": q, "price_unit": 2.5})
                           for p, q in zip(self.products, (10, 4), strict=True)],
        })
        with trap_jobs() as trap:
            order.button_confirm()
            trap.assert_jobs_count(1)
        message = self.env["hc.message"].search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id)])
        return order, message

    def run_job(self, message):
        try:
            return message._job_process(), None
        except RetryableJobError as exc:
            return None, exc

    def test_confirm_sends_once_and_stores_the_acknowledgement(self):
        order, message = self.confirm(self.vendor)
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
        order, message = self.confirm(self.vendor)
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
        order, message = self.confirm(self.unknown)
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
        order, message = self.confirm(self.vendor)
        self.run_job(message)
        self.assertEqual(message.state, "done", message.error_message)
        with trap_jobs() as trap:
            order.button_cancel()
            trap.assert_jobs_count(1)
        cancel = self.env["hc.message"].search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id),
                                                ("id", "!=", message.id)])
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
        general_order, general_message = self.confirm(self.vendor)
        pharmacy_order, pharmacy_message = self.confirm(pharmacy_vendor)
        self.assertEqual((general_message.flow_id, pharmacy_message.flow_id), (self.flow, pharmacy))
        self.run_job(pharmacy_message)
        self.assertEqual(pharmacy_message.state, "done", pharmacy_message.error_message)
        pharmacy.push_domain = repr([("partner_id", "=", self.vendor.id)])
        with trap_jobs() as trap:
            pharmacy_order.button_cancel()
            trap.assert_jobs_count(1)
        cancel = self.env["hc.message"].search([("res_model", "=", "purchase.order"),
                                                ("res_id", "=", pharmacy_order.id)], order="id desc", limit=1)
        self.assertEqual(cancel.flow_id, pharmacy)
        self.assertIn('"action": "cancel"', cancel.payload)

    def test_changes_of_a_sent_order_are_pushed_as_updates(self):
        order, message = self.confirm(self.vendor)
        self.run_job(message)
        with trap_jobs() as trap:
            order.order_line[0].product_qty = 12
            trap.assert_jobs_count(1)
        update = self.env["hc.message"].search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id),
                                                ("id", "!=", message.id)])
        self.run_job(update)
        self.assertEqual(update.state, "done")
        self.assertEqual([o["action"] for o in self.sims.state.orders], ["create", "update"])
        self.assertEqual(self.sims.state.orders[1]["lines"][0]["quantity"], 12.0)

    def test_a_buyer_without_integration_rights_confirms_and_bills(self):
        buyer = new_test_user(self.env, login="hc_plain_buyer",
                              groups="purchase.group_purchase_manager,account.group_account_invoice")
        order = self.env["purchase.order"].with_user(buyer).create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": self.products[0].id, "product_qty": 1, "price_unit": 1.0})],
        })
        with trap_jobs() as trap:
            order.button_confirm()
            trap.assert_jobs_count(1)
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
        order, message = self.confirm(self.vendor)
        self.run_job(message)
        self.assertEqual(message.state, "done", message.error_message)
        [remote] = self.sims.state.orders
        self.assertEqual(remote["vendor_code"], "SUP-0003")
        self.assertEqual([ln["item_code"] for ln in remote["lines"]], ["GW-GLV", "ITM-000002"])
