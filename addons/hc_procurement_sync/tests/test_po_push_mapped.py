import json

from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.hc_integration_base.tests.common import SimulatorMixin
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestPurchaseOrderPushMapped(SimulatorMixin, TransactionCase):
    """A SOAP gateway nothing in the addons knows (legacy_sim/supply_gateway.py: PlaceOrder,
    PurchaseDocument/DocNo/SupplierCode/Lines/Line, ACCEPTED|NACK, GatewayOrderNo), connected
    only with the records a consultant creates: a flow, an outbound mapping, a response mapping
    and a code table for its status vocabulary."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # legacy_sim is importable once the base's test helpers put the repository on the path.
        from legacy_sim.supply_gateway import GATEWAY_PASSWORD, GATEWAY_USER, start_supply_gateway  # noqa: PLC0415

        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.gateway = start_supply_gateway()
        cls.addClassCleanup(cls.gateway.stop)
        # The administrator creates the backend (its password is an administrator's secret)...
        cls.backend = cls.env["hc.backend"].create({
            "name": "ACME supply gateway", "code": "acme_gw", "protocol": "soap",
            "wsdl_url": cls.gateway.wsdl_url, "auth_type": "basic",
            "auth_username": GATEWAY_USER, "auth_password": GATEWAY_PASSWORD,
            "connect_timeout": 2, "read_timeout": 10, "breaker_threshold": 100,
        })
        # ...the consultant everything else, through the models the UI edits.
        consultant = new_test_user(
            cls.env, login="hc_acme_consultant",
            groups="base.group_user,hc_integration_base.group_hc_consultant",
        )
        env = cls.env(user=consultant)
        # Orders go to this gateway instead of the demo one.
        env["hc.flow"].search([("object_type", "=", "purchase_order"), ("direction", "=", "push")]).active = False
        cls.flow = env["hc.flow"].create({
            "name": "Orders to ACME", "code": "acme_orders", "backend_id": cls.backend.id,
            "object_type": "purchase_order", "direction": "push", "system_of_record": "odoo",
            "mode": "event", "remote_resource": "PlaceOrder", "max_attempts": 3,
        })
        env["hc.value.map"].create({
            "name": "ACME order status", "code": "acme_status",
            "entry_ids": [(0, 0, {"legacy_code": code, "value": value})
                          for code, value in (("ACCEPTED", "accepted"), ("OK", "accepted"), ("NACK", "rejected"))],
        })
        outbound = env["hc.mapping"].create({
            "flow_id": cls.flow.id, "direction": "outbound",
            "line_ids": [
                (0, 0, {"sequence": 1, "source": "reference", "target": "PurchaseDocument.DocNo", "required": True}),
                (0, 0, {"sequence": 2, "source": "vendor_code", "target": "PurchaseDocument.SupplierCode",
                        "required": True}),
                (0, 0, {"sequence": 3, "source": "order_date", "target": "PurchaseDocument.OrderDate",
                        "transform": "expression",
                        "params": json.dumps({"expression": "value[8:10] + '.' + value[5:7] + '.' + value[:4]"})}),
                (0, 0, {"sequence": 4, "source": "lines", "target": "PurchaseDocument.Lines.Line",
                        "transform": "one2many", "params": json.dumps({"lines": [
                            {"source": "item_code", "target": "ItemCode"},
                            {"source": "quantity", "target": "Qty"},
                            {"source": "unit_price", "target": "UnitPrice"},
                        ]})}),
            ],
        })
        response = env["hc.mapping"].create({
            "flow_id": cls.flow.id, "direction": "response",
            "line_ids": [
                (0, 0, {"sequence": 1, "source": "Status", "target": "status", "transform": "value_map",
                        "params": json.dumps({"table": "acme_status"}), "required": True}),
                (0, 0, {"sequence": 2, "source": "GatewayOrderNo", "target": "remote_order_number"}),
                (0, 0, {"sequence": 3, "source": "Reason", "target": "reason"}),
            ],
        })
        outbound.action_activate()
        response.action_activate()
        cls.outbound, cls.response = outbound, response
        cls.vendor = cls.env["res.partner"].create({"name": "ACME Medical", "ref": "V-100", "is_company": True})
        cls.on_hold = cls.env["res.partner"].create({"name": "Held supplier", "ref": "V-300", "is_company": True})
        cls.unknown = cls.env["res.partner"].create({"name": "Stranger", "ref": "V-999", "is_company": True})
        cls.products = cls.env["product.product"].create([
            {"name": "Gauze", "default_code": "ACME-GZ"}, {"name": "Cannula", "default_code": "ACME-CN"},
        ])

    def setUp(self):
        super().setUp()
        self.gateway.reset()
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
        self.assertEqual(message.flow_id, self.flow)
        return order, message

    def run_job(self, message):
        try:
            return message._job_process(), None
        except RetryableJobError as exc:
            return None, exc

    def test_flow_keeps_one_active_mapping_of_each_kind(self):
        self.assertEqual((self.flow.active_mapping_id, self.flow.response_mapping_id), (self.outbound, self.response))

    def test_confirmed_order_is_acknowledged_with_the_gateway_number(self):
        order, message = self.confirm(self.vendor)
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
        order, message = self.confirm(self.on_hold)
        self.run_job(message)
        self.assertEqual((message.state, message.error_category), ("exception", "remote"))
        self.assertIn("supplier V-300 is on credit hold", message.error_message)
        self.assertEqual((order.hc_remote_state, order.hc_remote_reason),
                         ("rejected", "supplier V-300 is on credit hold"))
        self.assertTrue(order.activity_ids.filtered(lambda a: "rejected" in (a.summary or "")))

    @mute_logger("spyne.application.client")
    def test_unknown_vendor_fault_goes_to_the_exception_queue_with_its_text(self):
        order, message = self.confirm(self.unknown)
        self.run_job(message)
        self.assertEqual((message.state, message.error_category), ("exception", "remote"))
        self.assertIn("Supplier V-999 is not registered with the gateway", message.error_message)
        self.assertFalse(self.gateway.orders)
        self.assertFalse(order.hc_remote_order_number)

    def test_retry_after_a_timeout_creates_one_remote_order(self):
        self.backend.read_timeout = 1
        self.gateway.state.hang_after_store, self.gateway.state.hang_seconds = 1, 2
        order, message = self.confirm(self.vendor)
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
        order, message = self.confirm(self.vendor)
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
        order, message = self.confirm(self.vendor)
        self.run_job(message)
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("request for the SOAP operation PlaceOrder cannot be built", message.error_message)
        self.assertIn("does not accept the element or argument 'Supplier'", message.error_message)
        self.assertNotIn("answer could not be read", message.error_message)
        self.assertEqual(self.gateway.state.calls, 0, "nothing was sent")
