import json

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError


class HcMappingTry(models.TransientModel):
    """Run a mapping version on a sample payload and show each line, writing nothing."""

    _name = "hc.mapping.try"
    _description = "Try a mapping on a sample payload"

    mapping_id = fields.Many2one("hc.mapping", required=True)
    message_id = fields.Many2one(
        "hc.message", string="Stored message", help="Take the payload of a stored message of this flow."
    )
    payload = fields.Text(help="Paste a JSON or XML payload.")
    result = fields.Html(readonly=True, sanitize=True)

    def action_try(self):
        self.ensure_one()
        text = self.payload or (self.message_id.payload if self.message_id else "")
        if not text:
            raise UserError(self.env._("Paste a payload or pick a stored message."))
        mapping = self.mapping_id
        payload = text.encode() if mapping.payload_format == "xml" else self._json(text)
        if isinstance(payload, list):
            payload = payload[0] if payload else {}
        outcome = mapping._compile(trace=True)(payload)
        rows = Markup("").join(
            Markup("<tr class='%s'><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                "table-danger" if row["error"] else "", row["line"], _show(row["source"]), _show(row["value"]),
                row["target"], row["error"] or "",
            )
            for row in outcome.trace
        )
        errors = len(outcome.errors)
        summary = self.env._("%s line error(s)", errors) if errors else self.env._("Every line mapped.")
        self.result = Markup(
            "<p><strong>%s</strong></p><table class='table table-sm'><thead><tr><th>Line</th><th>Source value</th>"
            "<th>Transformed</th><th>Target</th><th>Error</th></tr></thead><tbody>%s</tbody></table>"
        ) % (summary, rows)
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new"}

    def _json(self, text):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise UserError(self.env._("The payload is not valid JSON: %s", exc)) from exc


def _show(value):
    if value is None:
        return ""
    return json.dumps(value, default=str, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
