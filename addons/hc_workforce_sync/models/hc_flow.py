from odoo import api, fields, models

WORKFORCE_TYPES = ("cost_centre", "department", "employee")


class HcFlow(models.Model):
    """Workforce object types; their flows apply to the handler's model and redact the schema's
    payroll-sensitive keys from stored payloads unless told otherwise."""

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

    @api.model
    def _workforce_defaults(self, vals):
        """The handler's model and default sensitive paths for a workforce flow, where not given."""
        object_type = vals.get("object_type")
        if object_type not in WORKFORCE_TYPES:
            return vals
        handler = self.env[f"hc.handler.{object_type}"]
        defaults = {}
        if not vals.get("model_id"):
            defaults["model_id"] = self.env["ir.model"]._get_id(handler._target_model)
        if "sensitive_paths" not in vals:
            defaults["sensitive_paths"] = handler._default_sensitive_paths() or False
        return {**defaults, **vals}

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._workforce_defaults(vals) for vals in vals_list])

    def write(self, vals):
        if vals.get("object_type") in WORKFORCE_TYPES:
            for flow in self:
                extra = {key: value for key, value in self._workforce_defaults(vals).items()
                         if key not in vals and not flow[key]}
                if extra:
                    super(HcFlow, flow).write(extra)
        return super().write(vals)

    @api.onchange("object_type")
    def _onchange_object_type_workforce(self):
        if self.object_type in WORKFORCE_TYPES:
            defaults = self._workforce_defaults({"object_type": self.object_type})
            if not self.sensitive_paths:
                self.sensitive_paths = defaults["sensitive_paths"]
            if not self.model_id:
                self.model_id = defaults["model_id"]
