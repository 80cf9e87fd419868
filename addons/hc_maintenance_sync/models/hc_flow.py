from odoo import fields, models


class HcFlow(models.Model):
    """Maintenance object types: the equipment master, maintenance events and the status pushed
    back (their flows take the handler's model, hc.flow._object_type_defaults); an event flow may
    name the team its events go to when no routing rule matches."""

    _inherit = "hc.flow"

    object_type = fields.Selection(
        selection_add=[("equipment", "Equipment"), ("maintenance_event", "Maintenance event"),
                       ("maintenance_status", "Maintenance status")],
        ondelete={"equipment": "set default", "maintenance_event": "set default", "maintenance_status": "set default"},
    )
    hc_maintenance_team_id = fields.Many2one(
        "maintenance.team", string="Default maintenance team", ondelete="restrict",
        help="Maintenance events: the team of a request no routing rule matches (Integrations > Configuration > "
        "Maintenance routing). Empty: the company's first maintenance team.",
    )

    def _config_field_names(self):
        return [*super()._config_field_names(), "hc_maintenance_team_id"]
