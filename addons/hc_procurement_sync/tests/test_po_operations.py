import json

from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestPurchaseOrderOperations(ProcurementCase):
    """One SOAP operation per action: a confirmed order is submitted, a cancelled one cancelled by
    the gateway's own cancel operation, both requests built by one outbound mapping."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_demo_backends(read_timeout=10, breaker_threshold=100)
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
        cls.create_mapping(cls.flow, lines, direction="outbound")
        cls.create_code_table("gw_status", {"accepted": "accepted", "rejected": "rejected", "cancelled": "accepted"},
                              name="Gateway status")
        cls.create_mapping(cls.flow, [
            {"source": "status", "target": "status", "transform": "value_map",
             "params": json.dumps({"table": "gw_status"}), "required": True},
            {"source": "remote_order_number", "target": "remote_order_number"},
            {"source": "reason", "target": "reason"},
        ], direction="response")
        cls.vendor = cls.env["res.partner"].create({"name": "Gateway vendor", "ref": "SUP-0003", "is_company": True})
        cls.product = cls.env["product.product"].create({"name": "Gloves", "default_code": "ITM-000001"})

    def last_message(self, order):
        return self.messages_of(order, order="id desc", limit=1)

    def test_confirm_submits_and_cancel_calls_the_cancel_operation(self):
        order = self.confirm(self.create_order(self.vendor, [(self.product, 3, 2.0)]))
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
