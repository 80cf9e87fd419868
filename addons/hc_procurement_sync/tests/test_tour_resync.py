from odoo.tests import new_test_user, tagged

from .common import ProcurementHttpCase


@tagged("post_install", "-at_install")
class TestResyncTour(ProcurementHttpCase):
    def test_buyer_fixes_vendor_code_and_resyncs(self):
        self.use_demo_backends()
        buyer = new_test_user(
            self.env, login="hc_tour_buyer",
            groups="purchase.group_purchase_user,base.group_partner_manager,hc_integration_base.group_hc_viewer",
        )
        vendor = self.env["res.partner"].create({"name": "Tour vendor", "ref": "SUP-9999", "is_company": True})
        product = self.env["product.product"].create({"name": "Tour gloves", "default_code": "ITM-000001"})
        order = self.confirm(self.create_order(vendor, [(product, 5, 2.0)], user_id=buyer.id))
        self.messages_of(order)._job_process()
        self.assertEqual(order.hc_remote_state, "rejected")

        url = f"/odoo/action-purchase.purchase_rfq/{order.id}"
        self.start_tour(url, "hc_po_resync", login=buyer.login)
        self.assertEqual(vendor.ref, "SUP-0007")
        pending = self.messages_of(order).filtered(lambda m: m.state == "queued")
        self.assertEqual(len(pending), 1)
        pending._job_process()  # the job runner's part
        self.assertEqual(order.hc_remote_state, "accepted")
        self.start_tour(url, "hc_po_resync_done", login=buyer.login)
        self.assertEqual([o["vendor_code"] for o in self.sims.state.orders], ["SUP-9999", "SUP-0007"])
