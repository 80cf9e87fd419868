import json

from odoo import api, models

from .hc_binding import content_hash
from .hc_message import PermanentError

SIMPLE_TYPES = {"char", "text", "integer", "float", "monetary", "boolean", "date", "datetime", "selection", "html"}


class HcHandlerGeneric(models.AbstractModel):
    """Applies a payload to the flow's Odoo model, or sends a record, field by field.

    The handler interface (shared by the domain addons' handlers):
    ``_import_message(message)`` applies an inbound message and returns a dict describing
    the effect; ``_export_message(message)`` sends an outbound one and returns a dict with
    the ``response``. Both must be idempotent: running one twice has a single effect.
    """

    _name = "hc.handler.generic"
    _description = "Integration Handler: generic record"

    @api.model
    def _payload(self, message):
        text = message.sudo().payload_raw or message.payload
        if not text:
            raise PermanentError(self.env._("The message has no payload."))
        try:
            return json.loads(text)
        except ValueError as exc:
            raise PermanentError(
                self.env._("The payload is not valid JSON: %s", exc), category="validation"
            ) from exc

    @api.model
    def _values(self, message, payload):
        """Values for the target model: the payload's keys that are simple fields of it."""
        model = self.env[message.flow_id.model_name]
        if not isinstance(payload, dict):
            raise PermanentError(self.env._("The payload must be a JSON object."))
        values = {
            key: value
            for key, value in payload.items()
            if key in model._fields and model._fields[key].type in SIMPLE_TYPES
            and not model._fields[key].readonly
        }
        if not values:
            raise PermanentError(
                self.env._(
                    "No field of %(model)s found in the payload (keys: %(keys)s).",
                    model=model._description,
                    keys=", ".join(sorted(payload)) or "-",
                ),
                category="mapping",
            )
        return values

    @api.model
    def _import_message(self, message):
        payload = self._payload(message)
        external_id = message.external_id or str(payload.get("external_id") or payload.get("id") or "")
        if not external_id:
            raise PermanentError(self.env._("The payload names no external ID (external_id or id)."))
        values = self._values(message, payload)
        digest = content_hash(values)
        model = self.env[message.flow_id.model_name]
        Binding = self.env["hc.binding"].sudo()
        binding = Binding._lookup(message.backend_id, model._name, external_id)
        record = model.browse(binding.res_id).exists() if binding else model
        if record and binding.content_hash == digest:
            effect = "unchanged"
        elif record:
            record.write(values)
            effect = "updated"
        else:
            record = model.create(values)
            effect = "created"
        if effect != "unchanged":
            Binding._bind(message.backend_id, record, external_id, digest)
        message.write({"res_model": record._name, "res_id": record.id, "external_id": external_id})
        return {"effect": effect, "res_id": record.id}

    @api.model
    def _export_message(self, message):
        record = message.record_ref
        if not record:
            raise PermanentError(self.env._("The record to send no longer exists."))
        payload = self._payload(message)
        return message.backend_id._send(message, payload)
