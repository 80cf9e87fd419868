from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import LAB, BudgetOrderMixin


@tagged("post_install", "-at_install")
class TestBudgetHoldTour(BudgetOrderMixin, HttpCase):
    def test_budget_owner_finds_the_held_order_and_approves_it(self):
        order = self.order(LAB, 1500)
        order.name = "HC-TOUR-HOLD"
        with trap_jobs() as trap:
            order.with_user(self.buyer).button_confirm()
        trap.assert_jobs_count(0)
        self.assertEqual((order.state, order.hc_budget_state), ("to approve", "held"))
        owner = self.owners["CLIN"]
        with trap_jobs() as trap:
            self.start_tour("/odoo/purchase", "hc_budget_owner_approves_held_order", login=owner.login)
        trap.assert_jobs_count(1)
        self.assertEqual((order.state, order.hc_budget_state), ("purchase", "approved"))
        self.assertEqual(len(self.pushes(order)), 1, "pushed once, when its owner approved it")
