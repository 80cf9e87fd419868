import json

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.hc_message import PermanentError


class HcMessageReplay(models.TransientModel):
    """Edit a message's payload, preview what it would change, and replay it as a new message."""

    _name = "hc.message.replay"
    _description = "Edit and replay an integration message"

    message_id = fields.Many2one("hc.message", required=True, readonly=True)
    payload = fields.Text(required=True)
    preview = fields.Html(readonly=True, sanitize=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        message = self.env["hc.message"].browse(values.get("message_id") or self.env.context.get("active_id"))
        if message and "payload" in fields_list:
            values["message_id"] = message.id
            values["payload"] = self._pretty(message.payload or "")
        return values

    @api.model
    def _pretty(self, text):
        """JSON indented for editing; anything else (XML) as it is."""
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text

    def _parsed_payload(self):
        try:
            return json.loads(self.payload)
        except ValueError as exc:
            raise UserError(self.env._("The payload is not valid JSON: %s", exc)) from exc

    def action_preview(self):
        """Dry run: the values the handler would write beside the record's current values."""
        self.ensure_one()
        payload = self._parsed_payload()
        message = self.message_id
        rows = []
        try:
            values = message.flow_id._handler()._values(message, payload)
        except PermanentError as exc:
            self.preview = Markup("<p class='text-danger'>%s</p>") % str(exc)
            return self._reopen()
        record = message.record_ref
        for field, new in values.items():
            old = record[field] if record else False
            rows.append((field, old, new, old != new))
        self.preview = self.env["ir.qweb"]._render(
            "hc_integration_base.hc_message_replay_preview", {"rows": rows, "record": record}
        )
        return self._reopen()

    def action_replay(self):
        self.ensure_one()
        new = self.message_id._replay(self._parsed_payload())
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.message",
            "res_id": new.id,
            "view_mode": "form",
            "target": "current",
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
