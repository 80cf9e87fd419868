import json

from odoo.tests import TransactionCase, tagged

from odoo.addons.hc_integration_base.tests.common import SimulatorMixin
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestPurchaseOrderOperations(SimulatorMixin, TransactionCase):
    """One SOAP operation per action: a confirmed order is submitted, a cancelled one cancelled by
    the gateway's own cancel operation, both requests built by one outbound mapping."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.start_simulators()
        gateway = cls.env.ref("hc_integration_base.demo_backend_soap")
        gateway.write({"wsdl_url": cls.sims.wsdl_url, "read_timeout": 10, "breaker_threshold": 100})
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_po_push")
        cls.flow.write({"operation_create": "SubmitPurchaseOrder", "operation_update": "SubmitPurchaseOrder",
                        "operation_cancel": "CancelPurchaseOrder"})
        order_keys = ("reference", "vendor_code", "currency", "order_date", "idempotency_key", "action", "lines")
        lines = [(0, 0, {"sequence": i, "source": key, "target": f"order.{key}"}) for i, key in enumerate(order_keys)]
        lines += [
            (0, 0, {"sequence": 20, "source": "remote_order_number", "target": "remote_order_number"}),
            (0, 0, {"sequence": 21, "target": "reason", "transform": "constant",
                    "params": json.dumps({"value": "Cancelled in Odoo"})}),
        ]
        cls.env["hc.mapping"].create({"flow_id": cls.flow.id, "direction": "outbound",
                                      "line_ids": lines}).action_activate()
        cls.env["hc.value.map"].create({
            "name": "Gateway status", "code": "gw_status",
            "entry_ids": [(0, 0, {"legacy_code": code, "value": value}) for code, value in
                          (("accepted", "accepted"), ("rejected", "rejected"), ("cancelled", "accepted"))],
        })
        cls.env["hc.mapping"].create({
            "flow_id": cls.flow.id, "direction": "response",
            "line_ids": [
                (0, 0, {"sequence": 1, "source": "status", "target": "status", "transform": "value_map",
                        "params": json.dumps({"table": "gw_status"}), "required": True}),
                (0, 0, {"sequence": 2, "source": "remote_order_number", "target": "remote_order_number"}),
                (0, 0, {"sequence": 3, "source": "reason", "target": "reason"}),
            ],
        }).action_activate()
        cls.vendor = cls.env["res.partner"].create({"name": "Gateway vendor", "ref": "SUP-0003", "is_company": True})
        cls.product = cls.env["product.product"].create({"name": "Gloves", "default_code": "ITM-000001"})

    def setUp(self):
        super().setUp()
        self.sims.reset()
        self.registry_enter_test_mode()

    def last_message(self, order):
        return self.env["hc.message"].search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id)],
                                             order="id desc", limit=1)

    def test_confirm_submits_and_cancel_calls_the_cancel_operation(self):
        order = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": self.product.id, "product_qty": 3, "price_unit": 2.0})],
        })
        with trap_jobs():
            order.button_confirm()
        submit = self.last_message(order)
        submit._job_process()
        self.assertEqual(submit.state, "done", submit.error_message)
        [remote] = self.sims.state.orders
        self.assertEqual((remote["reference"], remote["status"]), (order.name, "accepted"))
        number = order.hc_remote_order_number
        self.assertTrue(number)
        with trap_jobs():
            order.button_cancel()
        cancel = self.last_message(order)
        self.assertEqual(json.loads(cancel.payload)["remote_order_number"], number,
                         "the cancel document names the order by the gateway's number")
        cancel._job_process()
        self.assertEqual(cancel.state, "done", cancel.error_message)
        self.assertEqual(len(self.sims.state.orders), 1, "cancelled, not submitted again")
        self.assertEqual((remote["status"], remote["cancel_reason"]), ("cancelled", "Cancelled in Odoo"))
        self.assertEqual(order.hc_remote_state, "accepted")
