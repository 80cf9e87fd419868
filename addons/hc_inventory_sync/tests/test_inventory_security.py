from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestInventorySecurity(TransactionCase):
    """Who may see and decide reconciliations, and company isolation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow = cls.env.ref("hc_inventory_sync.demo_flow_stock_balances")
        cls.reconciliation = cls.env["hc.reconciliation"].create({"flow_id": cls.flow.id, "state": "done"})
        cls.product = cls.env["product.product"].create({"name": "Audited", "is_storable": True})
        cls.line = cls.env["hc.reconciliation.line"].create({
            "reconciliation_id": cls.reconciliation.id, "issue": "quantity", "product_id": cls.product.id,
            "location_id": cls.env.ref("stock.stock_location_stock").id, "legacy_qty": 5, "odoo_qty": 0,
            "difference": 5})
        cls.internal = new_test_user(cls.env, login="hc_plain", groups="base.group_user")
        cls.storekeeper = new_test_user(cls.env, login="hc_store", groups="stock.group_stock_user")
        cls.steward = new_test_user(cls.env, login="hc_stew", groups="stock.group_stock_manager")
        cls.viewer = new_test_user(cls.env, login="hc_view",
                                   groups="base.group_user,hc_integration_base.group_hc_viewer")

    def test_plain_users_see_nothing(self):
        for model in ("hc.reconciliation", "hc.reconciliation.line", "hc.stock.balance"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.internal).search([])

    def test_storekeepers_read_but_do_not_decide(self):
        self.assertEqual(self.reconciliation.with_user(self.storekeeper).line_ids, self.line)
        with self.assertRaises(AccessError):
            self.line.with_user(self.storekeeper).action_apply()
        with self.assertRaises(AccessError):
            self.line.with_user(self.storekeeper)._dismiss("no")
        with self.assertRaises(AccessError):
            self.env["hc.stock.balance"].with_user(self.storekeeper).search([])
        dashboard = self.env["hc.inventory.dashboard"].with_user(self.storekeeper).action_open_dashboard()
        board = self.env["hc.inventory.dashboard"].with_user(self.storekeeper).browse(dashboard["res_id"])
        self.assertEqual(board.open_discrepancy_count, 1)

    def test_integration_viewers_read_staging_and_lines(self):
        self.assertTrue(self.env["hc.stock.balance"].with_user(self.viewer).search([]) is not None)
        self.assertEqual(self.line.with_user(self.viewer).read(["legacy_qty"])[0]["legacy_qty"], 5)
        with self.assertRaises(AccessError):
            self.line.with_user(self.viewer).write({"state": "applied"})

    def test_stewards_apply_through_inventory_mode(self):
        self.line.with_user(self.steward).action_apply()
        self.assertEqual(self.line.state, "applied")
        self.assertEqual(self.product.qty_available, 5)

    def test_other_company_reconciliations_are_invisible(self):
        other = self.env["res.company"].create({"name": "Other hospital"})
        backend = self.env["hc.backend"].create({"name": "Other", "code": "other_b", "protocol": "rest",
                                                 "company_id": other.id})
        flow = self.flow.copy({"backend_id": backend.id, "code": "other_balances"})
        hidden = self.env["hc.reconciliation"].create({"flow_id": flow.id})
        self.assertNotIn(hidden, self.env["hc.reconciliation"].with_user(self.steward).search([]))
