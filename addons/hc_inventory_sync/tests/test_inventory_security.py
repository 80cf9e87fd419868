from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase

# What each role may do (r)ead, (w)rite, (c)reate, (u)nlink, on concrete records. Reconciliations
# are decided by stock managers (stewards); storekeepers and the integration team read them; the
# staged legacy balances are for stewards and the integration team only.
EXPECTED = {
    "hc.reconciliation": {"internal": "", "storekeeper": "r", "steward": "rwc", "viewer": "r", "operator": "rc"},
    "hc.reconciliation.line": {"internal": "", "storekeeper": "r", "steward": "rw", "viewer": "r", "operator": "r"},
    "hc.stock.balance": {"internal": "", "storekeeper": "", "steward": "r", "viewer": "r", "operator": "r"},
}


class _Undo(Exception):
    """Rolls back an operation that was allowed."""


@tagged("post_install", "-at_install")
class TestInventorySecurity(HcIntegrationCase):
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
        cls.operator = new_test_user(cls.env, login="hc_oper",
                                     groups="base.group_user,hc_integration_base.group_hc_operator")
        cls.balance = cls.env["hc.stock.balance"].create({
            "reconciliation_id": cls.reconciliation.id, "item_code": "ITM-1", "location_code": "WH",
            "product_id": cls.product.id, "qty": 5})

    def allowed(self, user, model, operation):
        """Whether ``user`` may do ``operation`` on this case's record of ``model`` (undone after)."""
        record = {"hc.reconciliation": self.reconciliation, "hc.reconciliation.line": self.line,
                  "hc.stock.balance": self.balance}[model].with_user(user)
        operations = {
            "r": lambda: record.read(["display_name"]) and record.search([("id", "=", record.id)]) == record,
            "w": lambda: record.write({
                "hc.reconciliation": {"user_id": user.id}, "hc.reconciliation.line": {"state": "dismissed"},
                "hc.stock.balance": {"qty": 6}}[model]),
            "c": lambda: record.create({
                "hc.reconciliation": {"flow_id": self.flow.id},
                "hc.reconciliation.line": {"reconciliation_id": self.reconciliation.id, "issue": "quantity"},
                "hc.stock.balance": {"reconciliation_id": self.reconciliation.id, "qty": 1}}[model]),
            "u": record.unlink,
        }
        try:
            with self.env.cr.savepoint():
                result = operations[operation]()
                self.env.flush_all()
                if operation == "r" and not result:
                    return False
                raise _Undo
        except _Undo:
            return True
        except AccessError:
            return False
        finally:
            self.env.invalidate_all()

    def test_access_matrix(self):
        users = {"internal": self.internal, "storekeeper": self.storekeeper, "steward": self.steward,
                 "viewer": self.viewer, "operator": self.operator}
        found = {
            model: {role: "".join(op for op in "rwcu" if self.allowed(user, model, op)) for role, user in users.items()}
            for model in EXPECTED
        }
        self.assertEqual(found, EXPECTED)

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
        balances = self.env["hc.stock.balance"].with_user(self.viewer).search(
            [("reconciliation_id", "=", self.reconciliation.id)])
        self.assertEqual(balances, self.balance)
        self.assertEqual((balances.item_code, balances.qty), ("ITM-1", 5))
        self.assertEqual(self.line.with_user(self.viewer).read(["legacy_qty"])[0]["legacy_qty"], 5)
        with self.assertRaises(AccessError):
            self.line.with_user(self.viewer).write({"state": "applied"})
        with self.assertRaises(AccessError):
            self.line.with_user(self.viewer).action_apply()
        self.assertEqual(self.line.state, "open")

    def test_stewards_apply_through_inventory_mode(self):
        self.line.with_user(self.steward).action_apply()
        self.assertEqual(self.line.state, "applied")
        self.assertEqual(self.product.qty_available, 5)

    def test_other_company_reconciliations_are_invisible(self):
        other = self.env["res.company"].create({"name": "Other hospital"})
        backend = self.create_backend(name="Other", code="other_b", company_id=other.id)
        flow = self.flow.copy({"backend_id": backend.id, "code": "other_balances"})
        hidden = self.env["hc.reconciliation"].create({"flow_id": flow.id})
        self.assertNotIn(hidden, self.env["hc.reconciliation"].with_user(self.steward).search([]))
