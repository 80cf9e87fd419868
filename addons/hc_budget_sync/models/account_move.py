from odoo import models

from .crossovered_budget_lines import distribution_accounts


class AccountMove(models.Model):
    """Posting, resetting or cancelling a vendor bill moves the actual (and the open orders it bills)
    of the budget lines of its cost centres."""

    _inherit = "account.move"

    def _hc_refresh_budgets(self):
        bills = self.filtered(lambda move: move.move_type in ("in_invoice", "in_refund"))
        if not bills:
            return
        lines = bills.line_ids.filtered(lambda ln: ln.display_type == "product")
        accounts = distribution_accounts([*lines.mapped("analytic_distribution"),
                                          *lines.purchase_line_id.mapped("analytic_distribution")])
        self.env["crossovered.budget.lines"]._hc_refresh(accounts)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._hc_refresh_budgets()
        return posted

    def button_draft(self):
        result = super().button_draft()
        self._hc_refresh_budgets()
        return result

    def button_cancel(self):
        result = super().button_cancel()
        self._hc_refresh_budgets()
        return result
