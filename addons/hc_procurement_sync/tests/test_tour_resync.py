from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import SimulatorMixin
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestResyncTour(SimulatorMixin, HttpCase):
    def test_buyer_fixes_vendor_code_and_resyncs(self):
        self.start_simulators()
        self.env.ref("hc_integration_base.demo_backend_soap").write({"wsdl_url": self.sims.wsdl_url})
        buyer = new_test_user(
            self.env, login="hc_tour_buyer",
            groups="purchase.group_purchase_user,base.group_partner_manager,hc_integration_base.group_hc_viewer",
        )
        vendor = self.env["res.partner"].create({"name": "Tour vendor", "ref": "SUP-9999", "is_company": True})
        product = self.env["product.product"].create({"name": "Tour gloves", "default_code": "ITM-000001"})
        order = self.env["purchase.order"].create({
            "partner_id": vendor.id, "user_id": buyer.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_qty": 5, "price_unit": 2.0})],
        })
        with trap_jobs():
            order.button_confirm()
        Message = self.env["hc.message"]
        Message.search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id)])._job_process()
        self.assertEqual(order.hc_remote_state, "rejected")

        url = f"/odoo/action-purchase.purchase_rfq/{order.id}"
        self.start_tour(url, "hc_po_resync", login=buyer.login)
        self.assertEqual(vendor.ref, "SUP-0007")
        pending = Message.search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id),
                                  ("state", "=", "queued")])
        self.assertEqual(len(pending), 1)
        pending._job_process()  # the job runner's part
        self.assertEqual(order.hc_remote_state, "accepted")
        self.start_tour(url, "hc_po_resync_done", login=buyer.login)
        self.assertEqual([o["vendor_code"] for o in self.sims.state.orders], ["SUP-9999", "SUP-0007"])
