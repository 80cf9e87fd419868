from odoo.tests import new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationHttpCase


@tagged("post_install", "-at_install")
class TestReconciliationTour(HcIntegrationHttpCase):
    def test_steward_reviews_and_applies_a_reconciliation(self):
        self.use_demo_backends()
        steward = new_test_user(self.env, login="hc_tour_steward", groups="stock.group_stock_manager")
        pharmacy = self.env.ref("hc_inventory_sync.demo_location_pharmacy")
        Product = self.env["product.product"]
        gloves = Product.create({"name": "Tour gloves", "default_code": "ITM-T1", "is_storable": True})
        saline = Product.create({"name": "Tour saline", "default_code": "ITM-T2", "is_storable": True})
        vaccine = Product.create({"name": "Tour vaccine", "default_code": "ITM-T3", "is_storable": True,
                                  "tracking": "lot"})
        old_lot = self.env["stock.lot"].create({"name": "LOT-OLD", "product_id": vaccine.id})
        Quant = self.env["stock.quant"]
        Quant._update_available_quantity(gloves, pharmacy, 50)
        Quant._update_available_quantity(saline, pharmacy, 10)
        Quant._update_available_quantity(vaccine, pharmacy, 4, lot_id=old_lot)
        self.sims.state.planted_balances = [
            {"item_code": "ITM-T1", "location_code": "PHARM", "qty": 46},
            {"item_code": "ITM-T2", "location_code": "PHARM", "qty": 12},
            {"item_code": "ITM-T3", "location_code": "PHARM", "qty": 4, "lot": "LOT-OLD", "expiry_date": "2021-03-31"},
        ]
        flow = self.env.ref("hc_inventory_sync.demo_flow_stock_balances")
        reconciliation = self.pull(flow)
        self.assertEqual((reconciliation.state, reconciliation.open_count), ("done", 3))

        dashboard = self.env["hc.inventory.dashboard"].with_user(steward).action_open_dashboard()
        self.start_tour(f"/odoo/hc.inventory.dashboard/{dashboard['res_id']}", "hc_reconciliation_review",
                        login=steward.login)
        self.assertEqual(Quant._get_available_quantity(gloves, pharmacy), 46)
        self.assertEqual(Quant._get_available_quantity(saline, pharmacy), 10)
        saline_line = reconciliation.line_ids.filtered(lambda ln: ln.product_id == saline)
        self.assertEqual((saline_line.state, saline_line.dismiss_reason, saline_line.decided_by),
                         ("dismissed", "Counted again: Odoo is right", steward))
        self.assertEqual(reconciliation.line_ids.filtered(lambda ln: ln.state == "open").lot_name, "LOT-OLD")
