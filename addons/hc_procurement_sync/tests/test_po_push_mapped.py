import json

from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.hc_integration_base.tests.common import mapping_line
from odoo.addons.queue_job.exception import RetryableJobError

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestPurchaseOrderPushMapped(ProcurementCase):
    """A SOAP gateway nothing in the addons knows (legacy_sim/supply_gateway.py: PlaceOrder,
    PurchaseDocument/DocNo/SupplierCode/Lines/Line, ACCEPTED|NACK, GatewayOrderNo), connected
    only with the records a consultant creates: a flow, an outbound mapping, a response mapping
    and a code table for its status vocabulary."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The administrator creates the backend (its password is an administrator's secret)...
        cls.gateway, cls.backend = cls.start_acme_gateway("acme_gw", "ACME supply gateway", breaker_threshold=100)
        # ...the consultant everything else, through the models the UI edits.
        consultant = new_test_user(
            cls.env, login="hc_acme_consultant",
            groups="base.group_user,hc_integration_base.group_hc_consultant",
        )
        env = cls.env(user=consultant)
        cls.flow = cls.order_push_flow(cls.backend, "acme_orders", "Orders to ACME", env=env, max_attempts=3)
        cls.create_code_table("acme_status", {"ACCEPTED": "accepted", "OK": "accepted", "NACK": "rejected"},
                              env=env, name="ACME order status")
        cls.outbound = cls.create_mapping(cls.flow, [
            {"source": "reference", "target": "PurchaseDocument.DocNo", "required": True},
            {"source": "vendor_code", "target": "PurchaseDocument.SupplierCode", "required": True},
            mapping_line(3, "order_date", "PurchaseDocument.OrderDate", "expression",
                         expression="value[8:10] + '.' + value[5:7] + '.' + value[:4]"),
            mapping_line(4, "lines", "PurchaseDocument.Lines.Line", "one2many", lines=[
                {"source": "item_code", "target": "ItemCode"},
                {"source": "quantity", "target": "Qty"},
                {"source": "unit_price", "target": "UnitPrice"},
            ]),
        ], direction="outbound", env=env)
        cls.response = cls.create_mapping(cls.flow, [
            {"source": "Status", "target": "status", "transform": "value_map",
             "params": json.dumps({"table": "acme_status"}), "required": True},
            {"source": "GatewayOrderNo", "target": "remote_order_number"},
            {"source": "Reason", "target": "reason"},
        ], direction="response", env=env)
        cls.vendor = cls.env["res.partner"].create({"name": "ACME Medical", "ref": "V-100", "is_company": True})
        cls.on_hold = cls.env["res.partner"].create({"name": "Held supplier", "ref": "V-300", "is_company": True})
        cls.unknown = cls.env["res.partner"].create({"name": "Stranger", "ref": "V-999", "is_company": True})
        cls.products = cls.env["product.product"].create([
            {"name": "Gauze", "default_code": "ACME-GZ"}, {"name": "Cannula", "default_code": "ACME-CN"},
        ])

    def setUp(self):
        super().setUp()
        self.gateway.reset()

    def confirm_pushed(self, vendor):
        """An order of both products confirmed, pushed through the ACME flow: ``(order, message)``."""
        order = self.confirm(self.create_order(vendor, [(self.products[0], 10, 2.5), (self.products[1], 4, 2.5)]),
                             jobs=1)
        message = self.messages_of(order)
        self.assertEqual(message.flow_id, self.flow)
        return order, message

    def test_flow_keeps_one_active_mapping_of_each_kind(self):
        self.assertEqual((self.flow.active_mapping_id, self.flow.response_mapping_id), (self.outbound, self.response))

    def test_confirmed_order_is_acknowledged_with_the_gateway_number(self):
        order, message = self.confirm_pushed(self.vendor)
        self.assertEqual(json.loads(message.payload)["reference"], order.name, "the message keeps the canonical order")
        self.run_job(message)
        self.assertEqual(message.state, "done", message.error_message)
        [remote] = self.gateway.orders
        self.assertEqual((remote["DocNo"], remote["SupplierCode"]), (order.name, "V-100"))
        self.assertEqual(remote["OrderDate"], order.date_order.strftime("%d.%m.%Y"))
        self.assertEqual([(ln["ItemCode"], ln["Qty"], ln["UnitPrice"]) for ln in remote["Lines"]],
                         [("ACME-GZ", 10.0, 2.5), ("ACME-CN", 4.0, 2.5)])
        self.assertEqual((order.hc_remote_state, order.hc_remote_order_number), ("accepted", "GW-00001"))

    def test_nack_goes_to_the_exception_queue_with_the_gateway_reason(self):
        order, message = self.confirm_pushed(self.on_hold)
        self.run_job(message)
        self.assertEqual((message.state, message.error_category), ("exception", "remote"))
        self.assertIn("supplier V-300 is on credit hold", message.error_message)
        self.assertEqual((order.hc_remote_state, order.hc_remote_reason),
                         ("rejected", "supplier V-300 is on credit hold"))
        self.assertTrue(order.activity_ids.filtered(lambda a: "rejected" in (a.summary or "")))

    @mute_logger("spyne.application.client")
    def test_unknown_vendor_fault_goes_to_the_exception_queue_with_its_text(self):
        order, message = self.confirm_pushed(self.unknown)
        self.run_job(message)
        self.assertEqual((message.state, message.error_category), ("exception", "remote"))
        self.assertIn("Supplier V-999 is not registered with the gateway", message.error_message)
        self.assertFalse(self.gateway.orders)
        self.assertFalse(order.hc_remote_order_number)

    def test_retry_after_a_timeout_creates_one_remote_order(self):
        self.backend.read_timeout = 1
        self.gateway.state.hang_after_store, self.gateway.state.hang_seconds = 1, 2
        order, message = self.confirm_pushed(self.vendor)
        _result, raised = self.run_job(message)
        self.assertIsInstance(raised, RetryableJobError, "a timeout is transient")
        message.invalidate_recordset()
        self.assertEqual(message.state, "failed_retrying")
        self.assertEqual(len(self.gateway.orders), 1, "the gateway stored it before timing out")
        self.run_job(message)
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(len(self.gateway.orders), 1, "the retry got the first answer, no second order")
        self.assertEqual(self.gateway.state.calls, 2)
        self.assertEqual(order.hc_remote_order_number, "GW-00001")

    def test_unknown_status_code_names_the_code_table(self):
        self.env["hc.value.map"].search([("code", "=", "acme_status")]).entry_ids.filtered(
            lambda e: e.legacy_code == "ACCEPTED").unlink()
        order, message = self.confirm_pushed(self.vendor)
        self.run_job(message)
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("code 'ACCEPTED' not found in value map 'acme_status'", message.error_message)
        self.assertFalse(order.hc_remote_order_number)

    def test_a_request_the_operation_does_not_take_is_a_request_error(self):
        """Without the outbound mapping the canonical document is not what PlaceOrder takes: the
        error names the element, and says it is the request, not the answer."""
        draft = self.outbound.copy({"state": "draft", "version": 3})
        draft.line_ids.filtered(lambda ln: ln.sequence == 2).target = "PurchaseDocument.Supplier"
        draft.action_activate()
        order, message = self.confirm_pushed(self.vendor)
        self.run_job(message)
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("request for the SOAP operation PlaceOrder cannot be built", message.error_message)
        self.assertIn("does not accept the element or argument 'Supplier'", message.error_message)
        self.assertNotIn("answer could not be read", message.error_message)
        self.assertEqual(self.gateway.state.calls, 0, "nothing was sent")
