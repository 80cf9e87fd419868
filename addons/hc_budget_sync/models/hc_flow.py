from odoo import api, fields, models

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

    @api.model
    def _budget_defaults(self, vals):
        if vals.get("object_type") != "budget" or vals.get("model_id"):
            return vals
        return {"model_id": self.env["ir.model"]._get_id("crossovered.budget.lines"), **vals}

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._budget_defaults(vals) for vals in vals_list])

    @api.onchange("object_type")
    def _onchange_object_type_budget(self):
        if self.object_type == "budget" and not self.model_id:
            self.model_id = self._budget_defaults({"object_type": "budget"})["model_id"]

    def _config_field_names(self):
        return [*super()._config_field_names(), "hc_budget_post_id", "hc_budget_policy", "hc_budget_owner_id"]
