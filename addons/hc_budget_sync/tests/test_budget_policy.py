from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import ADM, LAB, MNT, YEAR, BudgetOrderMixin


@tagged("post_install", "-at_install")
class TestBudgetPolicy(BudgetOrderMixin, TransactionCase):
    """Confirming an order over its cost centre's remaining budget: warn, hold or block per budget.
    LAB is in the Clinical budget (hold), MNT in Support (warn), ADM in Administration (block); each
    has 1,000 left."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="hc_budget_po_manager", name="Purchase manager",
                                    groups="base.group_user,purchase.group_purchase_manager")

    def confirm(self, order, user=None):
        with trap_jobs() as trap:
            result = order.with_user(user or self.buyer).button_confirm()
        return trap, result

    def test_within_budget_is_confirmed_and_pushed_once(self):
        order = self.order(LAB, 999)
        trap, _result = self.confirm(order)
        trap.assert_jobs_count(1)
        self.assertEqual((order.state, order.hc_budget_state), ("purchase", "within"))
        self.assertEqual(len(self.pushes(order)), 1)
        self.assertFalse(order.activity_ids)

    def test_the_over_budget_filter_finds_warned_and_held_orders(self):
        within, warned, held = self.order(LAB, 100), self.order(MNT, 1100), self.order(LAB, 1200)
        for order in (within, warned, held):
            self.confirm(order, user=self.manager)
        self.assertEqual((within.hc_budget_state, warned.hc_budget_state, held.hc_budget_state),
                         ("within", "warned", "held"))
        self.assertEqual([o.hc_budget_over for o in (within, warned, held)], [False, True, True])
        Order = self.env["purchase.order"]
        mine = [("id", "in", (within | warned | held).ids)]
        self.assertEqual(Order.search([*mine, ("hc_budget_over", "=", True)]), warned | held)
        self.assertEqual(Order.search([*mine, ("hc_budget_over", "=", False)]), within)

    def test_warn_confirms_with_a_message_naming_the_amounts(self):
        self.order(MNT, 400).button_confirm()
        order = self.order(MNT, 700)
        sent = []
        with patch.object(type(self.env["res.users"]), "_bus_send",
                          lambda user, kind, payload, **kw: sent.append((user, kind, payload))):
            trap, _result = self.confirm(order)
        trap.assert_jobs_count(1)
        self.assertEqual((order.state, order.hc_budget_state), ("purchase", "warned"))
        self.assertEqual(len(self.pushes(order)), 1, "a warned order is sent as any other")
        note = order.message_ids.filtered(lambda m: "over budget" in (m.body or ""))
        self.assertEqual(len(note), 1)
        for text in ("CC-4160", f"Support services {YEAR}", "committed", "400.00", "remaining", "600.00", "700.00"):
            self.assertIn(text, note.body)
        self.assertEqual(order.hc_budget_ids, self.budget(f"BUD-{YEAR}-SUPP"))
        self.assertEqual(self.line(MNT).hc_remaining, -100.0)
        [(user, kind, payload)] = sent
        self.assertEqual((user, kind, payload["type"]), (self.buyer, "simple_notification", "warning"))
        self.assertIn("CC-4160", payload["message"])

    def test_block_refuses_naming_cost_centre_budget_committed_and_remaining(self):
        self.order(ADM, 250).button_confirm()
        order = self.order(ADM, 800)
        with trap_jobs() as trap, self.assertRaises(UserError) as caught:
            order.with_user(self.buyer).button_confirm()
        trap.assert_jobs_count(0)
        text = str(caught.exception)
        for expected in ("CC-4100", f"Administration {YEAR}", "budget", "1,000.00", "committed", "250.00",
                         "remaining", "750.00", "800.00"):
            self.assertIn(expected, text)
        self.assertEqual(order.state, "draft")
        self.assertFalse(self.pushes(order))
        self.assertEqual(self.line(ADM).hc_committed, 250.0)

    def test_hold_waits_for_the_owner_then_confirms_and_pushes_once(self):
        owner = self.owners["CLIN"]
        order = self.order(LAB, 1200)
        trap, _result = self.confirm(order, user=self.manager)  # a purchase manager's rights do not lift it
        trap.assert_jobs_count(0)
        self.assertEqual((order.state, order.hc_budget_state), ("to approve", "held"))
        self.assertFalse(self.pushes(order), "a held order is not sent")
        activity = order.activity_ids
        self.assertEqual((len(activity), activity.user_id, activity.activity_type_id),
                         (1, owner, self.env.ref("hc_budget_sync.mail_activity_budget_approval")))
        self.assertIn("CC-4110", activity.note)
        self.assertEqual(self.line(LAB).hc_committed, 0.0, "an order waiting for approval commits nothing yet")
        # Odoo's own approval is refused to anyone: the hold is the budget owner's.
        with trap_jobs() as trap, self.assertRaisesRegex(UserError, "held for budget.*Clinical finance"):
            order.with_user(self.manager).button_approve()
        trap.assert_jobs_count(0)
        self.assertFalse(order.with_user(self.manager).hc_budget_can_approve)
        with self.assertRaisesRegex(UserError, "Only the budget owner"):
            order.with_user(self.manager).action_hc_budget_approve()
        self.assertTrue(order.with_user(owner).hc_budget_can_approve)
        with trap_jobs() as trap:
            order.with_user(owner).action_hc_budget_approve()
        trap.assert_jobs_count(1)
        self.assertEqual((order.state, order.hc_budget_state), ("purchase", "approved"))
        self.assertEqual(len(self.pushes(order)), 1)
        self.assertFalse(order.activity_ids, "the owner's activity is done")
        self.assertEqual(self.line(LAB).hc_committed, 1200.0)
        with trap_jobs() as trap, self.assertRaisesRegex(UserError, "not held"):
            order.with_user(owner).action_hc_budget_approve()
        order.with_user(self.manager).button_approve()  # a later approval click changes nothing
        trap.assert_jobs_count(0)
        self.assertEqual(len(self.pushes(order)), 1, "pushed once")

    def test_the_strictest_policy_of_the_budgets_overrun_wins(self):
        order = self.order(LAB, 2400)  # 1,200 on each, over both
        order.order_line.analytic_distribution = {str(self.centre(LAB).id): 50, str(self.centre(ADM).id): 50}
        with self.assertRaisesRegex(UserError, "CC-4100"):
            order.button_confirm()
        self.assertEqual(order.state, "draft")

    def test_a_closed_budget_is_not_checked(self):
        self.budget(f"BUD-{YEAR}-ADM").action_budget_done()
        order = self.order(ADM, 5000)
        order.button_confirm()
        self.assertEqual((order.state, order.hc_budget_state), ("purchase", False), "no budget funds it now")

    def test_an_order_on_no_cost_centre_is_not_checked(self):
        order = self.order(LAB, 5000)
        order.order_line.analytic_distribution = False
        trap, _result = self.confirm(order)
        trap.assert_jobs_count(1)
        self.assertEqual((order.state, order.hc_budget_state), ("purchase", False))


    def test_cancelling_a_held_order_drops_the_owner_activity(self):
        order = self.order(LAB, 1200)
        self.confirm(order)
        self.assertEqual(len(order.activity_ids), 1)
        order.with_user(self.buyer).button_cancel()
        self.assertEqual(order.state, "cancel")
        self.assertFalse(order.activity_ids)
        self.assertFalse(self.pushes(order))

    def test_a_budget_without_owner_is_approved_by_an_accounting_manager(self):
        self.budget(f"BUD-{YEAR}-CLIN").creating_user_id = False
        accountant = new_test_user(self.env, login="hc_budget_accountant", name="Accounting manager",
                                   groups="base.group_user,account.group_account_manager,"
                                          "purchase.group_purchase_user")
        order = self.order(LAB, 1200)
        self.confirm(order)
        self.assertEqual(order.state, "to approve")
        with self.assertRaisesRegex(UserError, "Only the budget owner"):
            order.with_user(self.owners["CLIN"]).action_hc_budget_approve()
        with trap_jobs() as trap:
            order.with_user(accountant).action_hc_budget_approve()
        trap.assert_jobs_count(1)
        self.assertEqual(order.state, "purchase")
