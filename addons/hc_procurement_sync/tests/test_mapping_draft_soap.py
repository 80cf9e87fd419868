import json

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestMappingDraftSoap(ProcurementCase):
    """A consultant drafts the push mappings of a SOAP gateway nothing in the addons knows
    (legacy_sim/supply_gateway.py) from its WSDL, completes them, tries them on an order and
    sends one: every step through the models the UI edits, as the consultant."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gateway, cls.backend = cls.start_acme_gateway("acme_draft", "ACME draft gateway")
        cls.consultant = new_test_user(
            cls.env, login="hc_draft_consultant",
            groups="base.group_user,purchase.group_purchase_user,hc_integration_base.group_hc_consultant",
        )
        cls.cenv = cls.env(user=cls.consultant)
        cls.flow = cls.order_push_flow(cls.backend, "acme_drafted", "Orders to ACME (drafted)", env=cls.cenv)
        cls.status_table = cls.create_code_table("acme_draft_status", {"ACCEPTED": "accepted", "NACK": "rejected"},
                                                 env=cls.cenv, name="ACME status (draft test)")
        cls.vendor = cls.env["res.partner"].create({"name": "ACME Medical", "ref": "V-100", "is_company": True})
        cls.product = cls.env["product.product"].create({"name": "Gauze", "default_code": "ACME-GZ"})

    def setUp(self):
        super().setUp()
        self.gateway.reset()

    def order(self):
        return self.create_order(self.vendor, [(self.product, 3, 2.5)])

    def draft(self):
        wizard = self.cenv["hc.mapping.draft"].with_context(active_id=self.flow.id).create({"flow_id": self.flow.id})
        return wizard

    def test_wizard_shows_the_operation_elements(self):
        wizard = self.draft()
        self.assertEqual(wizard.operation_id.name, "PlaceOrder", "the flow's operation is chosen")
        self.assertIn("DocNo", wizard.input_tree)
        self.assertIn("required", wizard.input_tree)
        self.assertIn("GatewayOrderNo", wizard.output_tree)

    def test_drafts_pair_names_and_leave_the_rest(self):
        action = self.draft().action_generate()
        outbound = self.cenv["hc.mapping"].browse(action["res_id"])
        self.assertEqual((outbound.direction, outbound.state, outbound.wire_operation),
                         ("outbound", "draft", "PlaceOrder"))
        lines = {ln.target: ln for ln in outbound.line_ids}
        self.assertEqual(lines["PurchaseDocument.SupplierCode"].source, "vendor_code")
        self.assertEqual(lines["PurchaseDocument.OrderDate"].source, "order_date")
        self.assertFalse(lines["PurchaseDocument.DocNo"].source, "a required element without a partner is left open")
        self.assertEqual(lines["PurchaseDocument.Lines.Line"].transform, "one2many")
        self.assertEqual(json.loads(lines["PurchaseDocument.Lines.Line"].params)["lines"], [
            {"source": "item_code", "target": "ItemCode"}, {"source": "quantity", "target": "Qty"},
            {"source": "unit_price", "target": "UnitPrice"},
        ])
        self.assertIn("PurchaseDocument.DocNo", outbound.note)
        self.assertIn("DocNo", outbound.wire_tree_html)
        response = self.cenv["hc.mapping"].search([("flow_id", "=", self.flow.id), ("direction", "=", "response")])
        self.assertEqual(sorted((ln.source, ln.target) for ln in response.line_ids),
                         [("GatewayOrderNo", "remote_order_number"), ("Reason", "reason"), ("Status", "status")])
        # Sources and targets are picked from lists: the canonical document and the operation's elements.
        self.assertIn("reference", [p for p, _d in outbound._path_choices("source")])
        self.assertIn("PurchaseDocument.DocNo", [p for p, _d in outbound._path_choices("target")])
        found = self.cenv["hc.mapping.path"].with_context(hc_mapping_id=outbound.id).name_search(
            "DocNo", [("kind", "=", "target")])
        self.assertEqual([name for _id, name in found], ["PurchaseDocument.DocNo (string)"])

    def test_consultant_completes_tries_activates_and_the_order_is_acknowledged(self):
        self.draft().action_generate()
        outbound, response = (self.cenv["hc.mapping"].search(
            [("flow_id", "=", self.flow.id), ("direction", "=", d)]) for d in ("outbound", "response"))
        order = self.order()
        trial = self.cenv["hc.mapping.try"].create({"mapping_id": outbound.id})
        self.assertEqual(trial.record_model, "purchase.order",
                         "the flow's handler names the model of the records it sends")
        trial.record_id = order.id
        with self.assertRaisesRegex(UserError, "PurchaseDocument.DocNo: a source path is required"):
            trial.action_try()
        docno = outbound.line_ids.filtered(lambda ln: ln.target == "PurchaseDocument.DocNo")
        docno.source_path_id = self.cenv["hc.mapping.path"]._find(outbound, "source", "reference")
        self.assertEqual(docno.source, "reference")
        trial.action_try()
        self.assertIn(order.name, trial.result)
        self.assertIn("The request fits the operation", trial.result)
        status = response.line_ids.filtered(lambda ln: ln.target == "status")
        status.write({"transform": "value_map", "param_table_id": self.status_table.id})
        self.assertEqual(json.loads(status.params), {"table": "acme_draft_status"})
        answer = self.cenv["hc.mapping.try"].create({
            "mapping_id": response.id, "payload": '{"Status": "NACK", "GatewayOrderNo": null, "Reason": "on hold"}'})
        answer.action_try()
        self.assertIn("rejected", answer.result)
        self.assertIn("on hold", answer.result)
        outbound.action_activate()
        response.action_activate()
        self.confirm(order, jobs=1)
        message = self.messages_of(order)
        message._job_process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual([o["DocNo"] for o in self.gateway.orders], [order.name])
        self.assertEqual(self.gateway.orders[0]["Lines"], [{"ItemCode": "ACME-GZ", "Qty": 3.0, "UnitPrice": 2.5}])
        self.assertEqual((order.hc_remote_state, order.hc_remote_order_number), ("accepted", "GW-00001"))

    def test_try_names_what_the_operation_does_not_take(self):
        self.draft().action_generate()
        outbound = self.cenv["hc.mapping"].search([("flow_id", "=", self.flow.id), ("direction", "=", "outbound")])
        outbound.line_ids.filtered(lambda ln: ln.target == "PurchaseDocument.DocNo").write(
            {"source": "reference", "target": "PurchaseDocument.DocNumber"})
        trial = self.cenv["hc.mapping.try"].create({"mapping_id": outbound.id, "payload": json.dumps(
            self.env["hc.handler.purchase_order"]._prepare_payload(self.flow, self.order()))})
        trial.action_try()
        self.assertIn("PurchaseDocument.DocNumber is not an element here", trial.result)
        self.assertIn("required element PurchaseDocument.DocNo is missing", trial.result)
