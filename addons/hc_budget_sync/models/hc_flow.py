from odoo import fields, models

from .crossovered_budget import BUDGET_POLICIES


class HcFlow(models.Model):
    """The budget object type: approved budgets pulled from the finance system into OCA's budgets
    (``crossovered.budget``), one line per cost centre."""

    _inherit = "hc.flow"

    object_type = fields.Selection(selection_add=[("budget", "Budget line")], ondelete={"budget": "set default"})
    hc_budget_post_id = fields.Many2one(
        "account.budget.post", string="Budgetary position", ondelete="restrict",
        help="Budget flows: the budgetary position (the expense accounts) of the lines they make. Empty: "
        "the company's Purchases position, made with its expense accounts when first needed.",
    )
    hc_budget_policy = fields.Selection(
        BUDGET_POLICIES, string="Default budget policy", default="warn",
        help="Budget flows: the policy of a budget they create when the finance system sends none.",
    )
    hc_budget_owner_id = fields.Many2one(
        "res.users", string="Default budget owner", ondelete="set null",
        help="Budget flows: the owner of a budget they create when the finance system names no known user "
        "(empty: the backend's responsible).",
    )

    def _config_field_names(self):
        return [*super()._config_field_names(), "hc_budget_post_id", "hc_budget_policy", "hc_budget_owner_id"]
