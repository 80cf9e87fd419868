from odoo import fields, models

HR_USER = "hr.group_hr_user"
# Payroll data a mapping may name (never else): HR administrators only, as Odoo keeps the wage.
HR_ADMIN = "hr.group_hr_manager"


class HrVersion(models.Model):
    """The cost centre is dated as department and job are: it belongs to the employee's version."""

    _inherit = "hr.version"

    hc_cost_center_id = fields.Many2one(
        "account.analytic.account", string="Cost centre", groups=HR_USER, ondelete="restrict", check_company=True,
        tracking=True, help="The analytic account (cost centre) the employee's costs are booked on from this version.",
    )
    hc_national_id = fields.Char(
        "National identifier (payroll)", groups=HR_ADMIN, copy=False,
        help="From the HR and payroll system, only when a flow's mapping names it (payroll_national_id). "
        "Readable by HR administrators only; Odoo's Identification No is left to HR officers.",
    )
    hc_bank_account = fields.Char(
        "Salary bank account (payroll)", groups=HR_ADMIN, copy=False,
        help="From the HR and payroll system, only when a flow's mapping names it (payroll_bank_account). "
        "Readable by HR administrators only.",
    )


class HrEmployee(models.Model):
    """Employees keep their identifier in the HR system and show their sync status. Fields only on
    hr.employee (not hr.employee.public) carry the HR officer group, as Odoo's own do."""

    _name = "hr.employee"
    _inherit = ["hr.employee", "hc.sync.mixin"]

    hc_employee_code = fields.Char("HR system identifier", index="btree_not_null", copy=False, groups=HR_USER,
                                   help="The employee's identifier (employee number) in the legacy HR system.")
    hc_manager_code = fields.Char("Legacy manager identifier", copy=False, groups=HR_USER,
                                  help="The manager's identifier in the HR system, kept until the manager is received.")
    hc_sync_state = fields.Selection(groups=HR_USER)
    hc_last_sync = fields.Datetime(groups=HR_USER)
    hc_message_count = fields.Integer(groups=HR_USER)
    hc_sync_error = fields.Char(groups=HR_USER)

    def write(self, vals):
        # hr.employee's own write moves the version's fields (department, job...) to the version
        # before the mixin sees them: the legacy owner's rule is checked on everything first.
        self._hc_check_owned_write(vals)
        return super().write(vals)
