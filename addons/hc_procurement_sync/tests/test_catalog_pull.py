import json
from unittest.mock import patch

from psycopg2 import OperationalError

from odoo import fields
from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase, data, postponed


@tagged("post_install", "-at_install")
class TestCatalogPull(HcIntegrationCase):
    """Supplier master and item catalog pulled from the REST simulator, as the demo configures them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend, _soap = cls.use_demo_backends()  # 50 items, 10 suppliers
        cls.suppliers = cls.env.ref("hc_procurement_sync.demo_flow_supplier_master")
        cls.items = cls.env.ref("hc_procurement_sync.demo_flow_item_catalog")
        cls.items.page_size = 20

    def test_suppliers_then_items_then_unchanged(self):
        suppliers = self.pull(self.suppliers)
        self.assertEqual((suppliers.count_created, suppliers.count_failed), (10, 0))
        vendor = self.env["res.partner"].search([("ref", "=", "SUP-0001")])
        self.assertEqual((vendor.supplier_rank, vendor.is_company), (1, True))
        self.assertEqual(vendor.hc_sync_state, "in_sync")

        items = self.pull(self.items)
        self.assertEqual((items.state, items.count_created, items.count_failed), ("done", 50, 0))
        uom_table = self.env.ref("hc_procurement_sync.demo_map_uom")._lookup_dict()
        for index in (0, 17, 49):
            item = data.item(self.sims.state.seed, index, 10)
            product = self.env["product.template"].search([("default_code", "=", item["code"])])
            self.assertEqual(product.name, item["name"])
            self.assertEqual(product.uom_id.id, uom_table[item["uom_code"]])
            self.assertEqual(product.tracking, item["tracking"])
            self.assertEqual(product.hc_critical, item["critical"])
            self.assertTrue(product.is_storable and product.purchase_ok)
            [seller] = product.seller_ids
            self.assertEqual(seller.partner_id.ref, item["vendor_code"])
            self.assertAlmostEqual(seller.price, item["price"])
            self.assertEqual(seller.product_code, item["vendor_item_code"])
            self.assertEqual(seller.product_uom_id.id, uom_table[item["purchase_uom_code"]])
            self.assertEqual(product.hc_sync_state, "in_sync")

        again = self.pull(self.items)
        self.assertEqual((again.count_created, again.count_updated, again.count_unchanged), (0, 0, 50))
        self.sims.state.item_overrides["ITM-000003"] = {"price": 999.99}
        changed = self.pull(self.items)
        self.assertEqual((changed.count_updated, changed.count_unchanged), (1, 49))
        product = self.env["product.template"].search([("default_code", "=", "ITM-000003")])
        self.assertEqual(product.seller_ids.price, 999.99)
        self.assertEqual(len(product.seller_ids), 1)

    def test_a_page_looks_each_supplier_up_once(self):
        """50 items naming 10 suppliers, in pages of 20: each page finds each of its suppliers'
        bindings once, not once per item (what kept the item pull below Odoo's own import)."""
        self.pull(self.suppliers)
        Binding = self.env.registry["hc.binding"]
        original, lookups = Binding._lookup, []

        def counting(binding, backend, model, external_id):
            if model == "res.partner":
                lookups.append(external_id)
            return original(binding, backend, model, external_id)

        with patch.object(Binding, "_lookup", counting):
            run = self.pull(self.items)
        self.assertEqual((run.count_created, run.count_failed), (50, 0))
        items = [data.item(self.sims.state.seed, index, 10) for index in range(50)]
        vendors = [item["vendor_code"] for item in items]
        per_page = sum(len(set(vendors[start:start + 20])) for start in range(0, 50, 20))
        self.assertEqual(sorted(lookups), sorted(
            code for start in range(0, 50, 20) for code in set(vendors[start:start + 20])))
        self.assertEqual(len(lookups), per_page)
        for item in items:  # each item still has its own supplier
            product = self.env["product.template"].search([("default_code", "=", item["code"])])
            self.assertEqual(product.seller_ids.partner_id.ref, item["vendor_code"])

    def test_items_before_suppliers_name_the_problem(self):
        run = self.pull(self.items)
        self.assertEqual(run.count_failed, 50)
        self.assertEqual(run.page_message_ids.mapped("state"), ["exception"] * 3)
        self.assertIn("no res.partner found for 'SUP-", run.page_message_ids[0].error_message)

    def test_items_wait_for_suppliers_still_being_pulled(self):
        # Scheduled pulls start together: the catalog's first page may come before its suppliers.
        pending = self.env["hc.batch.run"].create({"flow_id": self.suppliers.id})
        caught = postponed(self, lambda: self.pull(self.items))
        self.assertTrue(caught.ignore_retry, "waiting spends none of the page's attempts")
        self.assertIn("no res.partner found for 'SUP-", str(caught))
        page = self.env["hc.message"].search([("flow_id", "=", self.items.id), ("page_number", "=", 1)],
                                             order="id desc", limit=1)
        self.assertEqual(page.state, "queued")
        self.assertIn("Waiting for the records still being received", page.wait_reason,
                      "the operator sees why the page waits")
        self.assertFalse(self.env["product.template"].search([("default_code", "=like", "ITM-%")]),
                         "nothing of the waiting page is applied")
        # The supplier pull has fetched its last page, stored after the catalog page, but not
        # applied it yet: still waiting. The note on the message is only informative: if another
        # transaction holds the row, the wait stays a wait, not a counted failure.
        supplier_page = self.receive(self.suppliers, [], batch_run=pending, page_number=1)
        pending.state = "done"
        self.assertGreater(supplier_page.id, page.id)
        with patch.object(type(page), "_write_apart", side_effect=OperationalError("could not serialize access")):
            caught = postponed(self, page._job_process)
        self.assertTrue(caught.ignore_retry)
        supplier_page.write({"state": "ignored"})
        self.pull(self.suppliers)
        page._job_process()
        self.assertEqual((page.state, page.count_created, page.count_failed), ("done", 20, 0))
        self.assertFalse(page.wait_reason, "the wait note is cleared once applied")

        # A page cannot wait forever (two flows naming each other): after an hour it fails.
        self.env["hc.batch.run"].create({"flow_id": self.suppliers.id})
        unknown_vendor = dict(data.item(self.sims.state.seed, 0, 10), vendor_code="SUP-9999")
        late = page.copy({"state": "new", "received_at": fields.Datetime.subtract(fields.Datetime.now(), hours=2),
                          "payload": json.dumps([unknown_vendor])})
        late.write({"state": "queued"})
        late._job_process()
        self.assertEqual((late.state, late.error_category), ("exception", "mapping"))
