from odoo.tests import TransactionCase, tagged

from .common import LAB, BudgetOrderMixin


@tagged("post_install", "-at_install")
class TestBudgetAmounts(BudgetOrderMixin, TransactionCase):
    """Committed = confirmed orders not billed yet + posted vendor bills, read from analytic distributions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lab = cls.line(cls, LAB)

    def amounts(self):
        return (self.lab.hc_open_orders, self.lab.hc_actual, self.lab.hc_committed, self.lab.hc_remaining)

    def test_confirmed_order_is_committed_then_actual_once_billed(self):
        self.assertEqual(self.amounts(), (0.0, 0.0, 0.0, 1000.0))
        order = self.order(LAB, 300, quantity=3)
        self.assertEqual(self.amounts(), (0.0, 0.0, 0.0, 1000.0), "an RFQ commits nothing")
        order.button_confirm()
        self.assertEqual(self.amounts(), (300.0, 0.0, 300.0, 700.0))
        bill = self.bill(order, quantity=1)
        self.assertEqual(self.amounts(), (200.0, 100.0, 300.0, 700.0), "right after the bill is posted")
        bill.button_draft()
        self.assertEqual(self.amounts(), (300.0, 0.0, 300.0, 700.0), "a bill reset to draft is not actual")
        bill.action_post()
        self.bill(order)
        self.assertEqual(self.amounts(), (0.0, 300.0, 300.0, 700.0))

    def test_a_bill_without_order_counts_its_share_of_the_cost_centre(self):
        centre = self.centre(LAB)
        bill = self.env["account.move"].create({
            "move_type": "in_invoice", "partner_id": self.vendor.id, "invoice_date": self.lab.date_from,
            "invoice_line_ids": [(0, 0, {"name": "Service", "quantity": 1, "price_unit": 400, "tax_ids": False,
                                         "analytic_distribution": {str(centre.id): 25}})],
        })
        bill.action_post()
        self.assertEqual(self.amounts(), (0.0, 100.0, 100.0, 900.0))
        self.assertEqual(self.lab.crossovered_budget_id.hc_remaining,
                         sum(self.lab.crossovered_budget_id.crossovered_budget_line_ids.mapped("hc_remaining")))

    def test_a_cancelled_order_is_no_longer_committed(self):
        order = self.order(LAB, 250)
        order.button_confirm()
        self.assertEqual(self.lab.hc_committed, 250.0)
        order.button_cancel()
        self.assertEqual(self.lab.hc_committed, 0.0)

    def test_budget_view_groups_by_cost_centre(self):
        self.order(LAB, 250).button_confirm()
        [(centre, committed, remaining)] = self.env["crossovered.budget.lines"]._read_group(
            [("analytic_account_id", "=", self.centre(LAB).id)], ["analytic_account_id"],
            ["hc_committed:sum", "hc_remaining:sum"])
        self.assertEqual((centre, committed, remaining), (self.centre(LAB), 250.0, 750.0))
