"""Inbound flows fed by an MLLP backend's listener: the HL7 message types each one takes, and
whether patient data may be kept in its stored payloads."""

import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..payload import hl7v2

_TYPE = re.compile(r"[A-Z][A-Z0-9]{2}(\^[A-Z0-9]{3})?\Z")


class HcFlow(models.Model):
    _inherit = "hc.flow"

    hl7_message_types = fields.Char(
        "HL7 message types",
        help="Inbound flows of an MLLP backend: the message types (MSH-9) its listener hands to this flow, "
        "separated by commas, e.g. MFN^M16 or OMS^O05, ORM^O01; a code alone (MFN) takes every event of it. "
        "A message several flows take is stored once per flow, in the flows' sequence order (suppliers before "
        "the items naming them). A type no flow takes is refused with AR.")
    hl7_keep_patient_data = fields.Boolean(
        "Keep patient data", groups="hc_integration_base.group_hc_admin", tracking=True,
        help="HL7 v2: patient segments (PID, PD1, NK1, PV1, PV2) are masked before a message of this flow is "
        "stored, so no patient data reaches the database, and a mapping may not read them. Only an "
        "integration administrator may turn this on, for a flow whose mapping must name a patient field.")

    @api.constrains("hl7_message_types")
    def _check_hl7_message_types(self):
        for flow in self:
            for name in flow._hl7_message_type_list():
                if not _TYPE.match(name):
                    raise ValidationError(self.env._(
                        "Flow %(flow)s: %(type)s is not an HL7 message type; write the code and the trigger event "
                        "as MSH-9 does, e.g. MFN^M16, or the code alone (MFN).", flow=flow.name, type=name))

    def write(self, vals):
        if {"hl7_message_types", "sequence"} & set(vals):
            self.env.registry.clear_cache()  # hc.backend._hl7_route
        return super().write(vals)

    def _hl7_message_type_list(self):
        self.ensure_one()
        return [t.strip().upper() for t in re.split(r"[,\s]+", self.hl7_message_types or "") if t.strip()]

    def _takes_hl7_type(self, message):
        """Whether this flow takes ``message`` (its MSH-9 code and event, or its code alone)."""
        self.ensure_one()
        taken = set(self._hl7_message_type_list())
        code, event = message.msh.value(9), message.msh.value(9, component=2)
        return f"{code}^{event}" in taken or code in taken

    def _hl7_keeps_patient_data(self):
        return bool(self and self.sudo().hl7_keep_patient_data)


class HcMapping(models.Model):
    _inherit = "hc.mapping"

    def action_activate(self):
        """An HL7 mapping reading a patient segment needs its flow's patient data kept (an administrator's
        choice): masked, the mapping would read *** into business records."""
        for mapping in self.filtered(lambda m: m.payload_format == "hl7v2" and m.direction == "inbound"):
            if mapping.flow_id._hl7_keeps_patient_data():
                continue
            read = sorted({segment for line in mapping.line_ids for segment in mapping._hl7_segments(line)}
                          & set(hl7v2.PATIENT_SEGMENTS))
            if read:
                raise UserError(self.env._(
                    "Mapping %(name)s reads the patient segment(s) %(segments)s, which are masked before messages of "
                    "flow %(flow)s are stored. Map no patient data, or ask an integration administrator to tick "
                    "Keep patient data on the flow.", name=mapping.name, segments=", ".join(read),
                    flow=mapping.flow_id.name))
        return super().action_activate()

    def write(self, vals):
        if {"state", "payload_format", "direction", "flow_id"} & set(vals):
            self.env.registry.clear_cache()  # hc.backend._hl7_route: which flows can read HL7
        return super().write(vals)

    @api.model
    def _hl7_segments(self, line):
        """The segment ids a line's source (and its one2many sub-lines) read."""
        sources = [s.strip() for s in (line.source or "").split("|") if s.strip()]
        sources += [sub.get("source") or "" for sub in line._params_dict().get("lines") or []]
        found = set()
        for source in sources:
            try:
                found.add(hl7v2.parse_path(source).segment)
            except hl7v2.Hl7PathError:
                continue
        return found
