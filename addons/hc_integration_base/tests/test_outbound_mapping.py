"""A record (with one2many lines) becomes a payload through an outbound mapping and is sent."""

import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import MessageCase


@tagged("post_install", "-at_install")
class TestOutboundMapping(MessageCase):
    """A record (with one2many lines) becomes a payload through an outbound mapping and is sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()
        cls.backend.write({"base_url": cls.sims.rest_url, "auth_type": "api_key", "api_key": "sim-api-key"})
        cls.push = cls.create_flow("orders_out", cls.backend, name="Orders out", direction="push",
                                   system_of_record="odoo", remote_resource="/api/v1/purchase-orders")
        cls.create_mapping(cls.push, [
            {"source": "ref", "target": "reference", "required": True},
            {"target": "vendor_code", "transform": "constant", "params": '{"value": "SUP-0001"}'},
            {"source": "child_ids", "target": "lines", "transform": "one2many",
             "params": json.dumps({"item_path": "child_ids", "lines": [
                 {"source": "ref", "target": "item_code"},
                 {"source": "color", "target": "quantity", "transform": "number"},
                 {"source": "name", "target": "line_ref"},
             ]})},
        ], direction="outbound")

    def test_record_with_lines_pushed_through_mapping(self):
        order = self.env["res.partner"].create({
            "name": "PO holder", "ref": "PO-MAP-1", "is_company": True,
            "child_ids": [(0, 0, {"name": "L1", "ref": "ITM-000001", "color": 3}),
                          (0, 0, {"name": "L2", "ref": "ITM-000002", "color": 5})],
        })
        with trap_jobs():
            message = self.push._push_records(order, idempotency_key="po-map")
        self.assertEqual(json.loads(message.payload), {
            "reference": "PO-MAP-1", "vendor_code": "SUP-0001",
            "lines": [{"item_code": "ITM-000001", "quantity": 3.0, "line_ref": "L1"},
                      {"item_code": "ITM-000002", "quantity": 5.0, "line_ref": "L2"}],
        })
        message._job_process()
        self.assertEqual(message.state, "done")
        [stored] = [o for o in self.sims.state.orders if o["reference"] == "PO-MAP-1"]
        self.assertEqual(stored["status"], "accepted")
        self.assertEqual([line["item_code"] for line in stored["lines"]], ["ITM-000001", "ITM-000002"])
        self.assertEqual(stored["idempotency_key"], f"po-map:{order.id}")
        with self.assertRaisesRegex(UserError, "required value missing at ref"):
            self.push._push_records(self.env["res.partner"].create({"name": "No ref"}))

