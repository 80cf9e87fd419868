from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import InventoryCase


@tagged("post_install", "-at_install")
class TestReconciliation(InventoryCase):
    """The legacy balances against Odoo's quants: exactly the planted discrepancies are found."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow_balances.page_size = 3  # several pages, several jobs
        cls.steward = new_test_user(cls.env, login="hc_steward", groups="stock.group_stock_manager")
        cls.storekeeper = new_test_user(cls.env, login="hc_storekeeper", groups="stock.group_stock_user")
        cls.flow_balances.hc_steward_id = cls.steward

    def balance(self, product, place, qty, lot=None, expiry=None):
        return {"item_code": product.default_code, "location_code": place, "lot": lot, "qty": qty,
                "expiry_date": expiry, "as_of": "2026-11-24T00:00:00Z"}

    def reconcile(self, balances):
        self.sims.state.planted_balances = balances
        with trap_jobs() as trap:
            action = self.flow_balances.action_pull_now()
            reconciliation = self.env["hc.reconciliation"].browse(action["res_id"])
            self.assertEqual(reconciliation.state, "running")
            self.run_jobs(trap)
        return reconciliation

    def plant(self):
        """Odoo's stock, and legacy balances that agree except where planted."""
        shelf = self.env["stock.location"].create({"name": "Shelf P", "location_id": self.pharmacy.id})
        lot_b = self.env["stock.lot"].create({"name": "LOT-B", "product_id": self.reagent.id})
        self.put(self.gloves, self.stock, 100)
        self.put(self.gloves, self.pharmacy, 30)
        self.put(self.gloves, shelf, 10)             # counts for PHARM (nearest mapped location)
        self.put(self.saline, self.icu, 12)
        self.put(self.reagent, self.pharmacy, 4, lot=self.lot_a)
        self.put(self.reagent, self.pharmacy, 6, lot=lot_b)
        self.put(self.saline, self.pharmacy, 7)      # planted: Odoo has it, the legacy system does not
        return [
            self.balance(self.gloves, "WH-MAIN", 100),
            self.balance(self.gloves, "PHARM", 36),  # planted: 40 in Odoo
            self.balance(self.saline, "ICU", 12),
            self.balance(self.reagent, "PHARM", 4, "LOT-A", "2030-01-31"),
            self.balance(self.reagent, "PHARM", 6, "LOT-B", "2020-01-31"),  # planted: expired lot, same qty
            self.balance(self.reagent, "LAB", 3, "LOT-C", "2031-05-31"),  # planted: lot Odoo never received
            self.balance(self.gloves, "ER", 0),
            {"item_code": "ITM-GHOST", "location_code": "PHARM", "qty": 2},  # planted: unknown item
            self.balance(self.gloves, "ROOF", 1),  # planted: unknown location
        ]

    def test_finds_exactly_the_planted_discrepancies(self):
        balances = self.plant()
        reconciliation = self.reconcile(balances)
        self.assertEqual(reconciliation.state, "done", reconciliation.error_message)
        self.assertEqual(reconciliation.pages_staged, 3)
        self.assertEqual(reconciliation.balance_count, 9)
        found = {(ln.issue, ln.product_id.default_code or ln.item_code, ln.location_id.name or ln.location_code,
                  ln.lot_name or "", ln.legacy_qty, ln.odoo_qty) for ln in reconciliation.line_ids}
        self.assertEqual(found, {
            ("quantity", "ITM-I1", "Pharmacy", "", 36.0, 40.0),
            ("quantity", "ITM-I3", "Pharmacy", "", 0.0, 7.0),
            ("expired", "ITM-I2", "Pharmacy", "LOT-B", 6.0, 6.0),
            ("quantity", "ITM-I2", "Laboratory", "LOT-C", 3.0, 0.0),
            ("unknown_item", "ITM-GHOST", "PHARM", "", 2.0, 0.0),
            ("unknown_location", "ITM-I1", "ROOF", "", 1.0, 0.0),
        })
        self.assertEqual((reconciliation.discrepancy_count, reconciliation.expired_count,
                          reconciliation.unknown_count), (3, 1, 2))
        gloves_line = reconciliation.line_ids.filtered(
            lambda ln: ln.product_id == self.gloves and ln.issue == "quantity")
        self.assertEqual((gloves_line.difference, gloves_line.value), (-4.0, -8.0))
        self.assertEqual(reconciliation.value_total, 8.0 + 7 * 1.5 + 3 * 40.0)
        self.assertTrue(reconciliation.line_ids.filtered("expired"))
        # LOT-C at 120 at cost reaches the flow's "large difference" threshold: the steward is told.
        self.flow_balances.hc_large_difference_value = 100
        again = self.reconcile(balances)
        self.assertEqual(again.activity_ids.user_id, self.steward)
        self.assertFalse(self.env["hc.stock.balance"].search_count([("reconciliation_id", "=", reconciliation.id)]),
                         "the staging of the older run is purged once a newer one completes")

    def test_applying_lines_adjusts_quants_and_dismissing_keeps_them(self):
        reconciliation = self.reconcile(self.plant())
        lines = reconciliation.line_ids
        gloves = lines.filtered(lambda ln: ln.product_id == self.gloves and ln.issue == "quantity")
        new_lot = lines.filtered(lambda ln: ln.lot_name == "LOT-C")
        saline = lines.filtered(lambda ln: ln.product_id == self.saline)
        with self.assertRaises(AccessError):
            gloves.with_user(self.storekeeper).action_apply()
        (gloves | new_lot).with_user(self.steward).action_apply()
        self.assertEqual(self.on_hand(self.gloves, self.pharmacy), 36)  # 30 + 10 on the shelf - 4
        lot_c = self.env["stock.lot"].search([("name", "=", "LOT-C"), ("product_id", "=", self.reagent.id)])
        self.assertEqual(self.on_hand(self.reagent, self.env.ref("hc_inventory_sync.demo_location_lab"), lot_c), 3)
        self.assertEqual(set((gloves | new_lot).mapped("state")), {"applied"})
        self.assertEqual(gloves.decided_by, self.steward)
        moves = self.env["stock.move"].search([("product_id", "=", self.gloves.id), ("is_inventory", "=", True),
                                               ("location_id", "=", self.pharmacy.id)])
        self.assertEqual(sum(moves.mapped("quantity")), 4, "one inventory adjustment of 4 out of the pharmacy")
        wizard = self.env["hc.reconciliation.dismiss"].with_user(self.steward).create(
            {"line_ids": saline.ids, "reason": "counted again: Odoo is right"})
        wizard.action_confirm()
        self.assertEqual((saline.state, saline.dismiss_reason), ("dismissed", "counted again: Odoo is right"))
        self.assertEqual(self.on_hand(self.saline, self.pharmacy), 7)
        self.assertEqual(reconciliation.open_count, 3)

    def test_a_failed_page_leaves_the_reconciliation_running_until_replayed(self):
        self.put(self.gloves, self.stock, 5)
        self.flow_balances.max_attempts = 1
        self.sims.state.set_faults("rest", error_rate=1.0, status_code=500)
        reconciliation = self.reconcile([self.balance(self.gloves, "WH-MAIN", 5)])
        self.assertEqual(reconciliation.state, "failed")
        self.assertIn("500", reconciliation.error_message)
        self.sims.state.set_faults("rest", error_rate=0.0)
        with trap_jobs() as trap:
            reconciliation.batch_run_id.action_resume()
            self.run_jobs(trap)
        self.assertEqual((reconciliation.state, reconciliation.balance_count), ("done", 1))
        self.assertFalse(reconciliation.line_ids)
