from odoo import fields, models


class HrDepartment(models.Model):
    """Departments keep the legacy HR system's code (Odoo's have none), their cost centre and the
    codes of a parent or manager not received yet."""

    _name = "hr.department"
    _inherit = ["hr.department", "hc.sync.mixin"]

    hc_code = fields.Char("Legacy code", index="btree_not_null", copy=False,
                          help="The department's code in the legacy HR system.")
    hc_cost_center_id = fields.Many2one(
        "account.analytic.account", string="Cost centre", index="btree_not_null", ondelete="restrict",
        check_company=True, help="The analytic account (cost centre) the department's costs are booked on.",
    )
    hc_parent_code = fields.Char("Legacy parent code", copy=False,
                                 help="The parent's legacy code, kept until the parent is received.")
    hc_manager_code = fields.Char(
        "Legacy manager identifier", copy=False,
        help="The manager's identifier in the HR system, kept until that employee is received.")
