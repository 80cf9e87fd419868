from odoo import api, fields, models

MAINTENANCE_TYPES = ("equipment", "maintenance_event", "maintenance_status")


class HcFlow(models.Model):
    """Maintenance object types: the equipment master, maintenance events and the status pushed
    back. Their flows apply to (or send) the handler's model; an event flow may name the team its
    events go to when no routing rule matches."""

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

    @api.model
    def _maintenance_defaults(self, vals):
        if vals.get("object_type") not in MAINTENANCE_TYPES or vals.get("model_id"):
            return vals
        handler = self.env[f"hc.handler.{vals['object_type']}"]
        return {**vals, "model_id": self.env["ir.model"]._get_id(handler._record_model)}

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._maintenance_defaults(vals) for vals in vals_list])

    @api.onchange("object_type")
    def _onchange_object_type_maintenance(self):
        if self.object_type in MAINTENANCE_TYPES and not self.model_id:
            self.model_id = self._maintenance_defaults({"object_type": self.object_type})["model_id"]

    def _push_records(self, records, idempotency_key=None):
        """Maintenance status: one message per request and status (the handler's key), so moving a
        request into a stage whose status was sent already queues a duplicate that sends nothing;
        requests in a stage with no status to send (new) or that came from no CMMS are skipped."""
        self.ensure_one()
        if self.object_type != "maintenance_status" or idempotency_key:
            return super()._push_records(records, idempotency_key=idempotency_key)
        handler = self._handler()
        messages = self.env["hc.message"]
        for request in records:
            key = handler._status_key(request)
            if key:
                messages |= super()._push_records(request, idempotency_key=key)
        return messages
