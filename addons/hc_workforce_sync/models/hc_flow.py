from odoo import fields, models


class HcFlow(models.Model):
    """Workforce object types; their flows apply to the handler's model and redact the schema's
    payroll-sensitive keys from stored payloads unless told otherwise (hc.flow._object_type_defaults)."""

    _inherit = "hc.flow"

    object_type = fields.Selection(
        selection_add=[("cost_centre", "Cost centre"), ("department", "Department"), ("employee", "Employee")],
        ondelete={"cost_centre": "set default", "department": "set default", "employee": "set default"},
    )
    hc_analytic_plan_id = fields.Many2one(
        "account.analytic.plan", string="Cost-centre plan", ondelete="restrict",
        default=lambda self: self.env.ref("hc_workforce_sync.analytic_plan_cost_centres", raise_if_not_found=False),
        help="Cost-centre flows: the analytic plan whose accounts are the legacy cost centres.",
    )

    def _config_field_names(self):
        return [*super()._config_field_names(), "hc_analytic_plan_id"]
