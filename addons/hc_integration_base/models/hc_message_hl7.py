"""HL7 v2 messages in the message store: patient segments masked before storage, and the records a
handler reads from an ER7 payload (one per record segment of the flow's HL7 mapping)."""

from odoo import api, models

from ..exceptions import PermanentError
from ..mapping.paths import MISSING
from ..payload import hl7v2


class HcMessage(models.Model):
    _inherit = "hc.message"

    @api.model
    def _prepare_payload_values(self, flow, payload):
        """An ER7 payload loses its patient segments (PID, PV1...) before anything is stored - the
        unredacted copy included - unless an administrator kept patient data on the flow."""
        if hl7v2.looks_like_er7(payload) and not (flow and flow._hl7_keeps_patient_data()):
            payload = hl7v2.redact_er7(payload)
        return super()._prepare_payload_values(flow, payload)


class HcHandlerGeneric(models.AbstractModel):
    _inherit = "hc.handler.generic"

    @api.model
    def _payload(self, message):
        """An ER7 message read by an HL7 v2 mapping: its records (``hl7v2.Message`` each, a list)."""
        mapping = message.flow_id.active_mapping_id
        text = message.sudo().payload_raw or message.payload
        if not (mapping and mapping.payload_format == "hl7v2" and mapping.direction == "inbound"):
            if hl7v2.looks_like_er7(text):
                raise PermanentError(self.env._(
                    "Flow %s has no active inbound mapping in HL7 v2 format: activate one to apply this HL7 message.",
                    message.flow_id.name), category="mapping")
            return super()._payload(message)
        if not text:
            raise PermanentError(self.env._("The message has no payload."))
        try:
            parsed = hl7v2.parse(text)
        except hl7v2.Hl7Error as exc:
            raise PermanentError(self.env._("The HL7 message cannot be read: %s", exc), category="validation") from exc
        records = mapping._hl7_records(parsed)
        if not records:
            raise PermanentError(self.env._(
                "The %(type)s message holds no %(segment)s segment: mapping %(name)s finds no record in it.",
                type=parsed.message_type, segment=mapping.record_segment, name=mapping.name), category="mapping")
        return records

    @api.model
    def _external_id_of(self, message, item, path):
        if isinstance(item, hl7v2.Message):
            try:
                value = hl7v2.getter(path)(item)
            except hl7v2.Hl7PathError as exc:
                raise PermanentError(self.env._("Flow %(flow)s: its external ID path is not an HL7 path: %(error)s",
                                                flow=message.flow_id.name, error=exc), category="mapping") from exc
            return None if value is MISSING or isinstance(value, list) else value
        return super()._external_id_of(message, item, path)
