from odoo.tests import new_test_user, tagged

from .common import ProcurementHttpCase


@tagged("post_install", "-at_install")
class TestMappingDraftTour(ProcurementHttpCase):
    def test_consultant_drafts_the_push_mapping_of_a_soap_operation(self):
        gateway, backend = self.start_acme_gateway("acme_tour", "ACME tour gateway")
        consultant = new_test_user(
            self.env, login="hc_tour_draft_consultant",
            groups="base.group_user,purchase.group_purchase_manager,hc_integration_base.group_hc_consultant",
        )
        flow = self.order_push_flow(backend, "acme_tour_orders", "Orders to ACME (tour)")
        self.create_code_table("acme_tour_status", {"ACCEPTED": "accepted", "NACK": "rejected"},
                               name="ACME tour status")
        vendor = self.env["res.partner"].create({"name": "ACME Medical", "ref": "V-100", "is_company": True})
        product = self.env["product.product"].create({"name": "Tour gauze", "default_code": "ACME-GZ"})
        order = self.create_order(vendor, [(product, 4, 2.5)], name="TOUR-PO-1", user_id=consultant.id)

        self.start_tour(f"/odoo/action-hc_integration_base.hc_flow_action/{flow.id}", "hc_mapping_draft_push",
                        login=consultant.login)
        outbound = flow.active_mapping_id
        self.assertEqual(outbound.direction, "outbound")
        self.assertEqual(outbound.line_ids.filtered(lambda ln: ln.target == "PurchaseDocument.DocNo").source,
                         "reference")
        response = self.env["hc.mapping"].search([("flow_id", "=", flow.id), ("direction", "=", "response")])
        self.start_tour(f"/odoo/action-hc_integration_base.hc_mapping_action/{response.id}",
                        "hc_mapping_draft_response", login=consultant.login)
        self.assertEqual(flow.response_mapping_id, response)
        self.start_tour(f"/odoo/action-purchase.purchase_rfq/{order.id}", "hc_mapping_draft_confirm",
                        login=consultant.login)
        message = self.messages_of(order)
        self.assertEqual(message.flow_id, flow)
        message._job_process()  # the job runner's part
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual([o["DocNo"] for o in gateway.orders], ["TOUR-PO-1"])
        self.start_tour(f"/odoo/action-purchase.purchase_rfq/{order.id}", "hc_mapping_draft_acknowledged",
                        login=consultant.login)
