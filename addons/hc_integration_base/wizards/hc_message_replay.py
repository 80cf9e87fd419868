import json

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..exceptions import PermanentError
from ..lifecycle import REPLAYABLE
from ..payload.redact import MASK, redact_json

_HIDDEN = object()


def _mask_locations(node, location=()):
    """Concrete locations (tuples of keys and list indexes) of every masked value in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _mask_locations(value, (*location, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _mask_locations(value, (*location, index))
    elif node == MASK:
        yield location


def _lookup(edited, raw, location):
    """The value at ``location`` in ``raw``, or ``_HIDDEN`` when ``raw`` does not have it or a list
    on the way has another length in the edited payload (its items may have moved: a value taken
    by position could land on another line)."""
    for step in location:
        if isinstance(step, int):
            if not (isinstance(raw, list) and isinstance(edited, list) and len(raw) == len(edited)):
                return _HIDDEN
        elif not (isinstance(raw, dict) and step in raw):
            return _HIDDEN
        raw, edited = raw[step], edited[step]
    return raw


def _set(node, location, value):
    for step in location[:-1]:
        node = node[step]
    node[location[-1]] = value


def _path_text(location):
    text = ""
    for step in location:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


class HcMessageReplay(models.TransientModel):
    """Edit a message's payload, preview what it would change, and replay it as a new message.

    Settings administrators edit the raw payload while it is kept; everyone else edits the
    redacted one, and the values shown as ``***`` are taken back from the raw payload when the
    replay is built, never written as ``***``.
    """

    _name = "hc.message.replay"
    _description = "Edit and replay an integration message"

    message_id = fields.Many2one("hc.message", required=True, readonly=True)
    payload = fields.Text(required=True)
    payload_is_raw = fields.Boolean(
        readonly=True, help="The payload shown is the unredacted one (Settings administrators only)."
    )
    preview = fields.Html(readonly=True, sanitize=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        message = self.env["hc.message"].browse(values.get("message_id") or self.env.context.get("active_id"))
        if message and "payload" in fields_list:
            self._check_replayable(message)
            raw = message.sudo().payload_raw if self.env.user.has_group("base.group_system") else False
            values["message_id"] = message.id
            values["payload"] = self._pretty(raw or message.payload or "")
            values["payload_is_raw"] = bool(raw)
        return values

    @api.model
    def _check_replayable(self, message):
        if message.state not in REPLAYABLE:
            state = dict(message._fields["state"]._description_selection(self.env))[message.state]
            raise UserError(self.env._(
                "Message %(message)s is %(state)s: only a message in exception can be replayed.",
                message=message.display_name, state=state,
            ))

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

    def _unmasked_payload(self):
        """The edited payload with each ``***`` replaced by the original value at the same place.

        Refused, naming the places, when a masked value cannot be recovered: the raw payload is no
        longer kept, or a list on its way gained or lost items. A ``***`` that no sensitive path of
        the flow covers and that the raw payload does not hide is data, and stays.
        """
        payload = self._parsed_payload()
        locations = list(_mask_locations(payload))
        if not locations:
            return payload
        raw_text = self.message_id.sudo().payload_raw
        try:
            raw = json.loads(raw_text) if raw_text else _HIDDEN
        except ValueError:
            raw = _HIDDEN
        covered = self._sensitive_locations(payload, locations)
        missing = []
        for location in locations:
            value = _lookup(payload, raw, location) if raw is not _HIDDEN else _HIDDEN
            if value is not _HIDDEN:
                _set(payload, location, value)
            elif location in covered or raw is not _HIDDEN:
                missing.append(_path_text(location))
        if missing:
            raise UserError(self.env._(
                "The payload still holds masked values (%(mask)s) at %(paths)s and their original values "
                "can no longer be recovered (the raw payload is not kept, or the lists around them changed "
                "length). Type the real values there, or ask a Settings administrator to replay it.",
                mask=MASK, paths=", ".join(missing),
            ))
        return payload

    def _sensitive_locations(self, payload, locations):
        """The locations among ``locations`` that the flow's sensitive paths mask."""
        paths = self.message_id.flow_id._sensitive_path_list()
        if not paths:
            return set()
        marker = "\x00hc-unmasked\x00"
        probe = json.loads(json.dumps(payload))
        for location in locations:
            _set(probe, location, marker)
        redacted = redact_json(probe, paths)
        return {location for location in locations if _lookup(probe, redacted, location) == MASK}

    def action_preview(self):
        """Dry run: the values the handler would write beside the record's current values.

        Values that come from masked parts of the payload are shown only to administrators."""
        self.ensure_one()
        message = self.message_id
        handler = message.flow_id._handler()
        rows = []
        try:
            values = handler._values(message, self._unmasked_payload())
        except (PermanentError, UserError) as exc:
            self.preview = Markup("<p class='text-danger'>%s</p>") % str(exc)
            return self._reopen()
        hidden = set()
        if not self.env.user.has_group("base.group_system"):
            # What the values would be from the masked payload: those that differ come from masked parts.
            try:
                shown = handler._values(message, self._parsed_payload())
            except PermanentError:
                shown = {}
            hidden = {field for field, value in values.items() if shown.get(field) != value}
        record = message.record_ref
        for field, new in values.items():
            old = record[field] if record else False
            rows.append((field, old, MASK if field in hidden else new, old != new))
        self.preview = self.env["ir.qweb"]._render(
            "hc_integration_base.hc_message_replay_preview", {"rows": rows, "record": record}
        )
        return self._reopen()

    def action_replay(self):
        self.ensure_one()
        self._check_replayable(self.message_id)
        new = self.message_id._replay(self._unmasked_payload())
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
