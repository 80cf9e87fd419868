import json

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.hc_handler_push import ACKNOWLEDGEMENT_SCHEMA, schema_errors
from ..models.hc_handler_template import jsonable


class HcMappingTry(models.TransientModel):
    """Run a mapping version on a sample and show each line and the result, writing nothing.

    Inbound: a payload (pasted or a stored message's). Outbound: a record of the flow's model,
    turned into its canonical document by the flow's handler, or a pasted canonical document; the
    result is the request, checked against the SOAP operation's elements when the mapping was
    drafted from one. Response: a pasted answer; the result is the acknowledgement.
    """

    _name = "hc.mapping.try"
    _description = "Try a mapping on a sample payload"

    mapping_id = fields.Many2one("hc.mapping", required=True)
    direction = fields.Selection(related="mapping_id.direction")
    message_id = fields.Many2one(
        "hc.message", string="Stored message", help="Take the payload of a stored message of this flow."
    )
    record_model = fields.Char(
        "Record type", compute="_compute_record_model", store=True,
        help="The model of the records this flow sends (the flow's model, or its handler's).")
    record_id = fields.Many2oneReference("Record", model_field="record_model",
                                         help="A record to send: its canonical document is built as a push would.")
    payload = fields.Text(help="Paste a JSON or XML payload (outbound: a canonical document; response: an answer).")
    result = fields.Html(readonly=True, sanitize=True)

    @api.depends("mapping_id")
    def _compute_record_model(self):
        for wizard in self:
            flow = wizard.mapping_id.flow_id
            model = flow.model_name
            if not model and flow.object_type and f"hc.handler.{flow.object_type}" in self.env:
                model = flow._handler()._record_model
            if not model and flow:
                last = self.env["hc.message"].search(
                    [("flow_id", "=", flow.id), ("res_model", "!=", False)], order="id desc", limit=1)
                model = last.res_model
            wizard.record_model = model if model in self.env else False

    def _document(self):
        """The input the mapping reads."""
        mapping = self.mapping_id
        if mapping.direction == "outbound" and self.record_id and self.record_model:
            record = self.env[self.record_model].browse(self.record_id).exists()
            if not record:
                raise UserError(self.env._("The record to try no longer exists."))
            flow = mapping.flow_id
            handler = flow._handler()
            if hasattr(handler, "_push_document"):
                return jsonable(handler._prepare_payload(flow, record))
            return jsonable(handler._record_payload(record))
        text = self.payload or (self.message_id.payload if self.message_id else "")
        if not text:
            if mapping.direction == "outbound":
                raise UserError(self.env._("Pick a record or paste a canonical document."))
            if mapping.direction == "response":
                raise UserError(self.env._("Paste an answer of the system."))
            raise UserError(self.env._("Paste a payload or pick a stored message."))
        if mapping.payload_format == "xml" and mapping.direction != "outbound":
            return text.encode()
        payload = self._json(text)
        if isinstance(payload, list):
            payload = payload[0] if payload else {}
        return payload

    def action_try(self):
        self.ensure_one()
        mapping = self.mapping_id
        document = self._document()
        outcome = mapping._compile(trace=True)(document)
        rows = Markup("").join(
            Markup("<tr class='%s'><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                "table-danger" if row["error"] else "", row["line"], _show(row["source"]), _show(row["value"]),
                row["target"], row["error"] or "",
            )
            for row in outcome.trace
        )
        errors = len(outcome.errors)
        summary = self.env._("%s line error(s)", errors) if errors else self.env._("Every line mapped.")
        result = Markup(
            "<p><strong>%s</strong></p><table class='table table-sm'><thead><tr><th>Line</th><th>Source value</th>"
            "<th>Transformed</th><th>Target</th><th>Error</th></tr></thead><tbody>%s</tbody></table>"
        ) % (summary, rows)
        if mapping.direction in ("outbound", "response"):
            values = jsonable(outcome.values)
            problems = []
            if mapping.direction == "outbound":
                title = self.env._("Request") + (f" ({mapping.wire_operation})" if mapping.wire_operation else "")
                if mapping.wire_tree:
                    problems = check_request(values, json.loads(mapping.wire_tree))
            else:
                title = self.env._("Acknowledgement")
                ack = dict(values)
                ack.setdefault("status", "accepted")
                problems = schema_errors(ACKNOWLEDGEMENT_SCHEMA, ack)
                values = ack
            result += Markup("<p><strong>%s</strong></p><pre class='hc_try_output'>%s</pre>") % (
                title, json.dumps(values, indent=2, ensure_ascii=False, default=str))
            if problems:
                result += Markup("<div class='alert alert-warning hc_try_problems'>%s</div>") % "; ".join(problems)
            elif mapping.direction == "outbound" and mapping.wire_tree:
                result += Markup("<p class='text-success hc_try_fits'>%s</p>") % self.env._(
                    "The request fits the operation's elements.")
        self.result = result
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new"}

    def _json(self, text):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise UserError(self.env._("The payload is not valid JSON: %s", exc)) from exc


def check_request(request, nodes, prefix=""):
    """What in ``request`` the operation's elements do not take, and the required ones it lacks."""
    problems = []
    by_name = {node["path"].split(".")[-1]: node for node in nodes}
    if not isinstance(request, dict):
        return problems
    for key, value in request.items():
        node = by_name.get(key)
        path = f"{prefix}.{key}" if prefix else key
        if node is None:
            problems.append(f"{path} is not an element here (elements: {', '.join(by_name) or '-'})")
            continue
        children = node.get("children") or []
        items = value if isinstance(value, list) else [value]
        if children and isinstance(value, list) and not node.get("repeats") and len(children) == 1:
            # A list given for a wrapper fills its repeated child (Lines holding Line).
            children = children[0].get("children") or []
        for item in items:
            if children and isinstance(item, dict):
                problems += check_request(item, children, path)
    for name, node in by_name.items():
        if node.get("required") and name not in request:
            problems.append(f"required element {f'{prefix}.{name}' if prefix else name} is missing")
    return problems


def _show(value):
    if value is None:
        return ""
    return json.dumps(value, default=str, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
