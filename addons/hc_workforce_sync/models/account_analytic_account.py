from odoo import fields, models


class AccountAnalyticAccount(models.Model):
    """Cost centres are analytic accounts; the legacy master gives them a parent, which analytic
    accounts do not have in Odoo 19 (plans have the hierarchy)."""

    _name = "account.analytic.account"
    _inherit = ["account.analytic.account", "hc.sync.mixin"]

    hc_parent_id = fields.Many2one(
        "account.analytic.account", string="Parent cost centre", index="btree_not_null", ondelete="set null",
        check_company=True, help="The cost centre this one rolls up to in the legacy cost-centre master.",
    )
    hc_parent_code = fields.Char(
        "Parent cost centre code", help="The parent's legacy code, kept until the parent is received.",
    )
    hc_child_ids = fields.One2many("account.analytic.account", "hc_parent_id", string="Child cost centres")
