from odoo import api, fields, models
from odoo.exceptions import UserError

BUDGET_POLICIES = [
    ("warn", "Warn"),
    ("hold", "Hold for the owner's approval"),
    ("block", "Block"),
]
# The stricter policy wins when an order overruns several budgets.
POLICY_RANK = {"warn": 1, "hold": 2, "block": 3}
# OCA's budget states in which a budget is checked when an order is confirmed.
CHECKED_STATES = ("confirm", "validate")
PURCHASES_POST = "Purchases (cost centres)"


class CrossoveredBudget(models.Model):
    """OCA's budget, with what purchasing needs: a policy for orders over it and its owner (OCA's
    *Responsible*), who approves the orders it holds."""

    _name = "crossovered.budget"
    _inherit = ["crossovered.budget", "hc.sync.mixin"]

    creating_user_id = fields.Many2one(
        string="Budget owner", tracking=True,
        help="Approves the purchase orders held for this budget (policy Hold) and gets their activities.",
    )
    hc_policy = fields.Selection(
        BUDGET_POLICIES, string="Over-budget policy", required=True, default="warn", tracking=True,
        help="What confirming a purchase order that would exceed the remaining amount of one of this budget's "
        "cost centres does. Warn: the order is confirmed, with a message on it. Hold: the order waits in To "
        "Approve for the budget owner's approval (an activity), and is sent to the gateway once approved. "
        "Block: the order cannot be confirmed.",
    )
    hc_reference = fields.Char(
        "Finance reference", readonly=True, copy=False, index=True,
        help="The approved budget's reference in the legacy finance system.",
    )
    hc_planned = fields.Float("Budget", compute="_compute_hc_totals", digits="Account")
    hc_committed = fields.Float("Committed", compute="_compute_hc_totals", digits="Account")
    hc_actual = fields.Float("Actual", compute="_compute_hc_totals", digits="Account")
    hc_remaining = fields.Float("Remaining", compute="_compute_hc_totals", digits="Account")
    currency_id = fields.Many2one(related="company_id.currency_id")

    @api.depends("crossovered_budget_line_ids.planned_amount", "crossovered_budget_line_ids.hc_committed",
                 "crossovered_budget_line_ids.hc_actual")
    def _compute_hc_totals(self):
        for budget in self:
            lines = budget.crossovered_budget_line_ids
            budget.hc_planned = sum(lines.mapped("planned_amount"))
            budget.hc_committed = sum(lines.mapped("hc_committed"))
            budget.hc_actual = sum(lines.mapped("hc_actual"))
            budget.hc_remaining = sum(lines.mapped("hc_remaining"))

    @api.model
    def _hc_purchases_posts(self):
        """At install: the Purchases position of every company that has expense accounts already, so
        that the pages of a first pull, run side by side, find it rather than each making one."""
        for company in self.env["res.company"].sudo().search([]):
            if self.env["account.account"].sudo().search_count([
                    ("company_ids", "in", company.id), ("account_type", "in", ("expense", "expense_direct_cost"))],
                    limit=1):
                self._hc_purchases_post(company)

    @api.model
    def _hc_purchases_post(self, company):
        """The company's budgetary position of purchases: its expense accounts (made once)."""
        Post = self.env["account.budget.post"].sudo()
        post = Post.search([("company_id", "=", company.id), ("name", "=", PURCHASES_POST)], limit=1)
        if post:
            return post
        accounts = self.env["account.account"].sudo().search([
            ("company_ids", "in", company.id), ("account_type", "in", ("expense", "expense_direct_cost")),
        ])
        if not accounts:
            raise UserError(self.env._(
                "%(company)s has no expense account: install a chart of accounts, or choose the budgetary position "
                "of the budget flow.", company=company.name))
        return Post.create({"name": PURCHASES_POST, "company_id": company.id, "account_ids": [(6, 0, accounts.ids)]})
