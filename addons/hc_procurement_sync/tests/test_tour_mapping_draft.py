from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import SimulatorMixin


@tagged("post_install", "-at_install")
class TestMappingDraftTour(SimulatorMixin, HttpCase):
    def test_consultant_drafts_the_push_mapping_of_a_soap_operation(self):
        from legacy_sim.supply_gateway import GATEWAY_PASSWORD, GATEWAY_USER, start_supply_gateway  # noqa: PLC0415

        gateway = start_supply_gateway()
        self.addCleanup(gateway.stop)
        backend = self.env["hc.backend"].create({
            "name": "ACME tour gateway", "code": "acme_tour", "protocol": "soap", "wsdl_url": gateway.wsdl_url,
            "auth_type": "basic", "auth_username": GATEWAY_USER, "auth_password": GATEWAY_PASSWORD,
            "connect_timeout": 2, "read_timeout": 10,
        })
        consultant = new_test_user(
            self.env, login="hc_tour_draft_consultant",
            groups="base.group_user,purchase.group_purchase_manager,hc_integration_base.group_hc_consultant",
        )
        self.env["hc.flow"].search([("object_type", "=", "purchase_order"), ("direction", "=", "push")]).active = False
        flow = self.env["hc.flow"].create({
            "name": "Orders to ACME (tour)", "code": "acme_tour_orders", "backend_id": backend.id,
            "object_type": "purchase_order", "direction": "push", "system_of_record": "odoo",
            "mode": "event", "remote_resource": "PlaceOrder",
        })
        self.env["hc.value.map"].create({
            "name": "ACME tour status", "code": "acme_tour_status",
            "entry_ids": [(0, 0, {"legacy_code": c, "value": v}) for c, v in (("ACCEPTED", "accepted"),
                                                                               ("NACK", "rejected"))],
        })
        vendor = self.env["res.partner"].create({"name": "ACME Medical", "ref": "V-100", "is_company": True})
        product = self.env["product.product"].create({"name": "Tour gauze", "default_code": "ACME-GZ"})
        order = self.env["purchase.order"].create({
            "name": "TOUR-PO-1", "partner_id": vendor.id, "user_id": consultant.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_qty": 4, "price_unit": 2.5})],
        })

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
        message = self.env["hc.message"].search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id)])
        self.assertEqual(message.flow_id, flow)
        message._job_process()  # the job runner's part
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual([o["DocNo"] for o in gateway.orders], ["TOUR-PO-1"])
        self.start_tour(f"/odoo/action-purchase.purchase_rfq/{order.id}", "hc_mapping_draft_acknowledged",
                        login=consultant.login)
