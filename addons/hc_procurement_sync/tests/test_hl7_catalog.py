"""The demo MLLP backend's MFN^M16 flows: one message, its vendors and its items, in that order."""

from odoo.tests import tagged

from odoo.addons.hc_integration_base.payload import hl7v2
from odoo.addons.hc_integration_base.tests.common import postponed
from odoo.addons.hc_procurement_sync.tests.common import MmisHl7Case
from odoo.addons.queue_job.tests.common import trap_jobs

from legacy_sim import hl7_peer  # noqa: I001 - the repository root, put on sys.path by the base's tests


@tagged("post_install", "-at_install")
class TestHl7Catalog(MmisHl7Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendors = cls.env.ref("hc_procurement_sync.demo_flow_hl7_vendors")
        cls.items = cls.env.ref("hc_procurement_sync.demo_flow_hl7_items")

    def test_mfn_m16_brings_vendors_then_items_with_their_price_line(self):
        with trap_jobs() as trap:
            result = self.backend._hl7_receive(hl7v2.parse(hl7_peer.mfn_m16("M16-1")))
            trap.assert_jobs_count(2)
        self.assertEqual(result["code"], "AA")
        vendor_message, item_message = result["messages"]
        self.assertEqual((vendor_message.flow_id, item_message.flow_id), (self.vendors, self.items))
        self.assertEqual(vendor_message.correlation_id, item_message.correlation_id, "one correlation id per frame")
        # The items name vendors an earlier message of this frame brings: they wait for it, spending no attempt.
        wait = postponed(self, item_message._job_process)
        self.assertIn("Waiting for the records still being received", str(wait))
        self.assertEqual(vendor_message._job_process()["counts"]["created"], 2)
        self.assertEqual(item_message._job_process()["counts"]["created"], 2, item_message.error_message)
        self.assertEqual(item_message.state, "done")
        medline = self.env["res.partner"].search([("ref", "=", "V-MEDLINE")])
        self.assertEqual((medline.name, medline.supplier_rank, medline.is_company), ("Medline", 1, True))
        products = {p.default_code: p for p in self.env["product.template"].search(
            [("default_code", "in", ("GZ-1010", "SY-0005"))])}
        gauze = products["GZ-1010"]
        self.assertEqual(gauze.name, "Gauze swab 10&10 cm", "escape sequences decoded (\\T\\ is &)")
        self.assertEqual((gauze.seller_ids.partner_id, gauze.seller_ids.price, gauze.seller_ids.product_code),
                         (medline, 12.5, "ML-5544"))
        self.assertEqual(products["SY-0005"].seller_ids.partner_id.name, "Becton Dickinson")
        # Items are named by their ITM-1 code on this backend from now on (demand, receipts...).
        self.assertEqual(self.env["hc.item.reference"]._product(self.backend, "SY-0005").product_tmpl_id,
                         products["SY-0005"])
        # The same MSH-10 again: nothing new, AA again, still one product per code.
        with trap_jobs() as trap:
            again = self.backend._hl7_receive(hl7v2.parse(hl7_peer.mfn_m16("M16-1")))
            trap.assert_jobs_count(0)
        self.assertEqual((again["code"], again["duplicate"]), ("AA", True))
        self.assertEqual(self.env["product.template"].search_count([("default_code", "=", "GZ-1010")]), 1)
