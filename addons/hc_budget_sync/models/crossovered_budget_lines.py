from datetime import datetime, time, timedelta

from odoo import api, fields, models

from .crossovered_budget import CHECKED_STATES

AMOUNT_FIELDS = ("hc_open_orders", "hc_actual", "hc_committed", "hc_remaining")


def distribution_share(distribution, account_id):
    """The share (0..1) of an analytic distribution that goes to ``account_id`` (keys are comma-joined
    account ids, one per plan)."""
    key = str(account_id)
    return sum(percent for accounts, percent in (distribution or {}).items() if key in accounts.split(",")) / 100


class CrossoveredBudgetLines(models.Model):
    """A budget line is one cost centre (analytic account) for one period. What is spent on it, in the
    company's currency, read from analytic distributions:

    - *open orders*: the untaxed amount of confirmed purchase orders (ordered in the period) not yet
      billed by a posted vendor bill, times the line's share of the cost centre;
    - *actual*: posted vendor bills (and refunds, negative) dated in the period, their product lines'
      share of the cost centre;
    - *committed* = open orders + actual; *remaining* = budget - committed.

    Stored so that the budget views can group and sum them; recomputed when an order is confirmed,
    approved, cancelled or changed and when a bill is posted, reset or cancelled (``_hc_refresh``).
    """

    _name = "crossovered.budget.lines"
    _inherit = ["crossovered.budget.lines", "hc.sync.mixin"]

    currency_id = fields.Many2one(related="company_id.currency_id")
    planned_amount = fields.Float(string="Budget amount")
    hc_policy = fields.Selection(related="crossovered_budget_id.hc_policy", string="Policy")
    hc_owner_id = fields.Many2one(related="crossovered_budget_id.creating_user_id", string="Budget owner")
    hc_open_orders = fields.Float(
        "Open orders", compute="_compute_hc_amounts", store=True, digits="Account",
        help="Confirmed purchase orders of the period on this cost centre, not billed yet (untaxed).")
    hc_actual = fields.Float(
        "Actual", compute="_compute_hc_amounts", store=True, digits="Account",
        help="Posted vendor bills of the period on this cost centre (untaxed, refunds deducted).")
    hc_committed = fields.Float(
        "Committed", compute="_compute_hc_amounts", store=True, digits="Account",
        help="Open orders plus actual: what is spent or promised.")
    hc_remaining = fields.Float(
        "Remaining", compute="_compute_hc_amounts", store=True, digits="Account",
        help="Budget minus committed: what orders may still take.")

    @api.depends("planned_amount", "date_from", "date_to", "analytic_account_id", "company_id")
    def _compute_hc_amounts(self):
        spend = self._hc_spend()
        for line in self:
            open_orders, actual = spend.get(line.id, (0.0, 0.0))
            line.hc_open_orders = open_orders
            line.hc_actual = actual
            line.hc_committed = open_orders + actual
            line.hc_remaining = line.planned_amount - open_orders - actual

    def _hc_spend(self):
        """``{line id: (open orders, actual)}``, read now from orders and bills."""
        result = {}
        OrderLine = self.env["purchase.order.line"].sudo()
        MoveLine = self.env["account.move.line"].sudo()
        for line in self:
            account, company = line.analytic_account_id, line.company_id or self.env.company
            if not (account and line.date_from and line.date_to):
                result[line.id] = (0.0, 0.0)
                continue
            start = datetime.combine(line.date_from, time.min)
            end = datetime.combine(line.date_to + timedelta(days=1), time.min)
            open_orders = sum(
                order_line._hc_open_amount() * distribution_share(order_line.analytic_distribution, account.id)
                for order_line in OrderLine.search([
                    ("order_id.state", "=", "purchase"), ("company_id", "=", company.id), ("display_type", "=", False),
                    ("analytic_distribution", "in", [account.id]),
                    ("order_id.date_order", ">=", start), ("order_id.date_order", "<", end),
                ])
            )
            actual = sum(
                move_line.balance * distribution_share(move_line.analytic_distribution, account.id)
                for move_line in MoveLine.search([
                    ("parent_state", "=", "posted"), ("move_id.move_type", "in", ("in_invoice", "in_refund")),
                    ("display_type", "=", "product"), ("company_id", "=", company.id),
                    ("analytic_distribution", "in", [account.id]),
                    ("date", ">=", line.date_from), ("date", "<=", line.date_to),
                ])
            )
            result[line.id] = (company.currency_id.round(open_orders), company.currency_id.round(actual))
        return result

    @api.model
    def _hc_refresh(self, account_ids):
        """Recompute the amounts of the budget lines of these cost centres (at the next flush)."""
        account_ids = [account_id for account_id in account_ids if account_id]
        if not account_ids:
            return
        lines = self.sudo().with_context(active_test=False).search([("analytic_account_id", "in", account_ids)])
        for name in AMOUNT_FIELDS:
            self.env.add_to_compute(lines._fields[name], lines)

    @api.model
    def _hc_checked_lines(self, company, account, day):
        """The lines of checked budgets funding ``account`` on ``day``."""
        return self.sudo().search([
            ("analytic_account_id", "=", account.id), ("company_id", "=", company.id),
            ("crossovered_budget_id.state", "in", CHECKED_STATES),
            ("date_from", "<=", day), ("date_to", ">=", day),
        ])


def distribution_accounts(distributions):
    """The analytic account ids named by these distributions."""
    return {int(account_id) for distribution in distributions for key in (distribution or {})
            for account_id in key.split(",") if account_id.isdigit()}
