"""Backends speaking HL7 v2 over MLLP: their settings, and the store behind their listener.

The listener (``odoo-bin mllp_listener``, cli/mllp_listener.py) receives framed messages and hands
each one to :meth:`HcBackend._hl7_receive` in a transaction of its own; it answers AA only after
that transaction committed, so an acknowledged message is in the message store whatever happens
next. Refusals (AR / AE) are answered with the reason in ERR and kept in the exception queue with
nothing applied.
"""

import uuid

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..exceptions import KeyAlreadyUsed
from ..lifecycle import EXCEPTION
from ..payload import hl7v2
from ..transports.mllp import MllpTransport
from ..transports.rest import get_client

ENCODINGS = [("utf-8", "UTF-8"), ("iso-8859-1", "ISO 8859-1 (Latin-1)"), ("windows-1252", "Windows-1252")]


class HcBackend(models.Model):
    _inherit = "hc.backend"

    protocol = fields.Selection(selection_add=[("mllp", "HL7 v2 over MLLP")], ondelete={"mllp": "set default"})
    mllp_host = fields.Char(
        "HL7 host", tracking=True,
        help="Host of the HL7 system's MLLP receiver: pushes are sent there and Test connection connects to it, "
        "e.g. mmis.hospital.example or 10.1.2.3.")
    mllp_port = fields.Integer(
        "HL7 port", tracking=True, help="TCP port of the HL7 system's MLLP receiver (often 2575).")
    mllp_listen_port = fields.Integer(
        "Listening port", tracking=True,
        help="TCP port on which the MLLP listener receives this system's messages (MFN^M16, OMS^O05...). The "
        "listener is its own process (odoo-bin mllp_listener, started by the run command; in production a "
        "service beside Odoo's workers): it stores each message and answers AA only once it is committed. "
        "Each MLLP backend listens on its own port; 0: the backend receives nothing. A change is taken up by "
        "the running listener within half a minute.")
    mllp_encoding = fields.Selection(
        ENCODINGS, "Character set", default="utf-8", required=True,
        help="How the HL7 system encodes its messages (MSH-18); ACKs are written the same way.")

    @api.constrains("protocol", "mllp_host", "mllp_port", "mllp_listen_port", "active")
    def _check_mllp(self):
        for backend in self:
            ports = [("HL7 port", backend.mllp_port), ("Listening port", backend.mllp_listen_port)]
            for label, port in ports:
                if port and not 0 < port < 65536:
                    raise ValidationError(self.env._(
                        "Backend %(backend)s: %(label)s %(port)s is not a TCP port (1 to 65535).",
                        backend=backend.name, label=label, port=port))
            if backend.protocol != "mllp":
                continue
            if bool(backend.mllp_host) != bool(backend.mllp_port):
                raise ValidationError(self.env._(
                    "Backend %s: give both the HL7 host and its port, or neither (a backend that only receives).",
                    backend.name))
            if not backend.mllp_port and not backend.mllp_listen_port:
                raise ValidationError(self.env._(
                    "Backend %s speaks MLLP: give the HL7 host and port it sends to, a listening port to receive "
                    "on, or both.", backend.name))
            if backend.mllp_listen_port and backend.active and self.sudo().search_count([
                    ("id", "!=", backend.id), ("protocol", "=", "mllp"), ("active", "=", True),
                    ("mllp_listen_port", "=", backend.mllp_listen_port)], limit=1):
                raise ValidationError(self.env._(
                    "Backend %(backend)s: listening port %(port)s is already another MLLP backend's; each backend "
                    "listens on its own port (the port tells the listener whose messages arrive).",
                    backend=backend.name, port=backend.mllp_listen_port))

    # --- transport -------------------------------------------------------------------------------
    def _transport_config(self):
        config = super()._transport_config()
        if self.protocol == "mllp":
            config["url"] = f"mllp://{self.mllp_host}:{self.mllp_port}" if self.mllp_host and self.mllp_port \
                else False
            config["encoding"] = self.mllp_encoding or "utf-8"
        return config

    def _build_client(self, key, config, common):
        if self.protocol != "mllp":
            return super()._build_client(key, config, common)
        return get_client(key, lambda: MllpTransport(
            self.mllp_host, self.mllp_port, connect_timeout=config["connect_timeout"],
            read_timeout=config["read_timeout"], encoding=config["encoding"], breaker=common["breaker"]))

    # --- receiving -------------------------------------------------------------------------------
    def _hl7_flows(self, message):
        """The active inbound flows of this backend that take ``message``'s type, in sequence order,
        and those of them without an active HL7 mapping."""
        self.ensure_one()
        taking, unreadable = self._hl7_route(self.id, message.msh.value(9), message.msh.value(9, component=2))
        Flow = self.env["hc.flow"].sudo()
        return Flow.browse(taking), Flow.browse(unreadable)

    @api.model
    @tools.ormcache("backend_id", "code", "event")
    def _hl7_route(self, backend_id, code, event):
        """``(flow ids taking code^event, ids of those without an active HL7 mapping)``. Cached: every
        frame asks it, and three searches cost a sixth of storing the message; flows (routing fields,
        message types) and mapping activations clear it, in every process (the listener follows
        through the registry's signaling)."""
        flows = self.env["hc.flow"].sudo().search(
            [("backend_id", "=", backend_id), ("direction", "=", "inbound"), ("hl7_message_types", "!=", False)],
            order="sequence, id")
        taking = flows.filtered(lambda flow: f"{code}^{event}" in flow._hl7_message_type_list()
                                or code in flow._hl7_message_type_list())
        unreadable = taking.filtered(lambda flow: not (
            flow.active_mapping_id.payload_format == "hl7v2" and flow.active_mapping_id.direction == "inbound"))
        return tuple(taking.ids), tuple(unreadable.ids)

    @api.model
    def _hl7_key(self, flow, control_id):
        """The idempotency key of a message with this MSH-10 on ``flow``: one message per flow taking it."""
        return f"{control_id}@{flow.code}"

    def _hl7_receive(self, message):
        """Store one received HL7 message (``hl7v2.Message``, ``raw`` the text as received) as an inbound
        message of each flow taking its type, and say how to acknowledge it.

        Returns ``{"code": AA | AE | AR, "reason", "error_code", "messages", "duplicate"}``. AA: stored
        (the caller commits, then answers). The same MSH-10 again with the same content (MSH-7 aside)
        stores nothing new and is answered AA again; with another content it is refused (AE 205).
        A type no flow takes is refused (AR 200/201). Refusals are kept in the exception queue.
        """
        self.ensure_one()
        backend = self.sudo()
        Message = self.env["hc.message"].sudo()
        if not backend.active or backend.protocol != "mllp":
            return backend._hl7_refusal(message, hl7v2.Hl7Error(
                f"Backend {backend.code} does not receive HL7 messages (archived, or not an MLLP backend).",
                code=hl7v2.ERR_APPLICATION, ack="AR"))
        flows, unreadable = backend._hl7_flows(message)
        if not flows:
            taken = sorted({t for flow in backend.flow_ids.filtered(lambda f: f.direction == "inbound")
                            for t in flow._hl7_message_type_list()})
            known = {t.split("^")[0] for t in taken}
            code = hl7v2.ERR_UNSUPPORTED_EVENT if message.msh.value(9) in known else hl7v2.ERR_UNSUPPORTED_TYPE
            return backend._hl7_refusal(message, hl7v2.Hl7Error(
                f"Message type {message.message_type} is not taken by {backend.name} (its flows take: "
                f"{', '.join(taken) or 'none'}).", code=code, location="MSH^1^9", ack="AR"))
        if unreadable:
            return backend._hl7_refusal(message, hl7v2.Hl7Error(
                f"Flow {unreadable[0].code} takes {message.message_type} but has no active inbound mapping in HL7 v2 "
                "format to read it; nothing was stored.", code=hl7v2.ERR_APPLICATION, ack="AE"), flow=unreadable[0])
        control = message.control_id
        digest = hl7v2.content_hash(message.raw or message.to_er7())
        # hc.message._store makes the one idempotency check of each flow's key: a repeat raises
        # KeyAlreadyUsed (nothing stored). Another content under a used key refuses the whole frame:
        # the savepoint takes back what the other flows stored meanwhile.
        correlation = uuid.uuid4().hex
        stored, originals = Message, Message
        try:
            with self.env.cr.savepoint():
                for flow in flows:
                    try:
                        stored |= Message._receive_post(
                            backend, flow, message.raw or message.to_er7(), external_id=control or None,
                            correlation_id=correlation, idempotency_key=self._hl7_key(flow, control),
                            payload_hash=digest)
                    except KeyAlreadyUsed as repeat:
                        if not repeat.same_body:
                            raise
                        originals |= repeat.original
        except KeyAlreadyUsed as used:
            return backend._hl7_key_conflict(message, used.original)
        if originals:  # a repeat: the messages it adds (a flow taking the type since) join its correlation
            correlation = originals[:1].correlation_id
            if stored:
                stored.write({"correlation_id": correlation})
        kept = stored | originals
        return {"code": "AA", "reason": "", "error_code": "", "messages": kept.sorted("id"),
                "duplicate": not stored, "correlation_id": correlation}

    def _hl7_receive_batch(self, messages):
        """:meth:`_hl7_receive` for several messages in one transaction (the listener's group
        commit): one answer per message, in order, each what ``_hl7_receive`` would have answered
        had the messages come one after the other. The caller commits, then answers them all.

        One lookup of every flow key of the batch, one INSERT of the new messages and one of their
        jobs (instead of two ORM creates and their lookups per message and flow). A control id seen
        twice in the batch is stored once: the later message is the repeat (AA again, nothing new)
        or, with another content, refused (AE 205). Refused types go through ``_hl7_receive``.
        A key taken meanwhile by another process: every message of the batch through ``_hl7_receive``.
        """
        self.ensure_one()
        backend = self.sudo()
        if len(messages) < 2 or not backend.active or backend.protocol != "mllp":
            return [self._hl7_receive(message) for message in messages]
        Message = self.env["hc.message"].sudo()
        answers = [None] * len(messages)
        frames = []  # (index, message, flows, text, digest, keys)
        for index, message in enumerate(messages):
            flows, unreadable = backend._hl7_flows(message)
            if not flows or unreadable:
                answers[index] = self._hl7_receive(message)  # refused: its answer and its record
                continue
            text = message.raw or message.to_er7()
            frames.append((index, message, flows, text, hl7v2.content_hash(text),
                           [self._hl7_key(flow, message.control_id) for flow in flows]))
        held = Message._keys_held(backend.id, "inbound", {key for frame in frames for key in frame[5]})
        # The keys this batch stores, in order, with what a later message of the batch compares:
        # key -> {"flow", "text", "control", "digest", "correlation"}.
        claimed = {}
        plans = []  # per frame: (index, message, conflicting key or None, repeated keys, own keys, correlation)
        for index, message, flows, text, digest, keys in frames:
            earlier = [key for key in keys if key in held or key in claimed]
            conflict = next((key for key in earlier if (held[key].payload_hash if key in held
                                                        else claimed[key]["digest"]) != digest), None)
            if conflict:
                plans.append((index, message, conflict, (), (), None))
                continue
            if earlier:  # a repeat: what it adds (a flow taking the type since) joins its correlation
                key = earlier[0]
                correlation = held[key].correlation_id if key in held else claimed[key]["correlation"]
            else:
                correlation = uuid.uuid4().hex
            own = [key for key in keys if key not in earlier]
            for flow, key in zip(flows, keys, strict=True):
                if key in own:
                    claimed[key] = {"flow": flow, "text": text, "control": message.control_id, "digest": digest,
                                    "correlation": correlation}
            plans.append((index, message, None, earlier, own, correlation))
        values = Message._message_values_many(backend, [(new["flow"], new["text"], new["control"] or None)
                                                        for new in claimed.values()])
        for vals, (key, new) in zip(values, claimed.items(), strict=True):
            vals.update(idempotency_key=key, payload_hash=new["digest"], correlation_id=new["correlation"])
        stored = Message._store_new(values) if values else Message
        if stored is None:  # a twin stored by another process meanwhile: each message on its own
            for index, message, *_plan in plans:
                answers[index] = self._hl7_receive(message)
            return answers
        by_key = {**{m.idempotency_key: m for m in stored}, **held}
        for index, message, conflict, earlier, own, correlation in plans:
            if conflict:
                answers[index] = backend._hl7_key_conflict(message, by_key[conflict])
                continue
            kept = Message.browse([by_key[key].id for key in [*earlier, *own]]).sorted("id")
            answers[index] = {"code": "AA", "reason": "", "error_code": "", "messages": kept,
                              "duplicate": not own, "correlation_id": correlation}
        return answers

    def _hl7_key_conflict(self, message, conflict):
        """The refusal (AE 205) of a message whose MSH-10 another message with another content holds."""
        return self._hl7_refusal(message, hl7v2.Hl7Error(
            f"MSH-10 {message.control_id} was already used by another message (received {conflict.received_at} "
            f"UTC, message {conflict.id}); a new message needs a new control id.",
            code="205", location="MSH^1^10", ack="AE"), flow=conflict.flow_id)

    def _hl7_refusal(self, message, error, flow=None):
        """Keep a refused message in the exception queue (nothing applied) and return its answer."""
        kept = self._hl7_record_refusal(message.raw if message is not None else None, error, flow=flow,
                                        control_id=message.control_id if message is not None else None)
        return {"code": error.ack, "reason": str(error), "error_code": error.code, "messages": kept,
                "duplicate": False, "correlation_id": kept.correlation_id}

    def _hl7_record_refusal(self, text, error, flow=None, control_id=None):
        """An inbound message in the exception queue for a refusal: the sender was answered AR / AE,
        nothing is applied; the operator sees what came and why it was refused (payload redacted)."""
        self.ensure_one()
        if isinstance(text, bytes):
            text = text.decode(self.mllp_encoding or "utf-8", "replace")
        if control_id is None and text:
            salvaged = hl7v2.salvage_msh(text)
            control_id = salvaged.control_id if salvaged else None
        Message = self.env["hc.message"].sudo().with_context(
            tracking_disable=True, mail_create_nosubscribe=True, mail_create_nolog=True)
        flow = flow or self.env["hc.flow"]
        now = fields.Datetime.now()
        vals = {
            "backend_id": self.id,
            "flow_id": flow.id or False,
            "company_id": self.company_id.id,
            "object_type": flow.object_type or False,
            "direction": "inbound",
            "external_id": control_id or False,
            "state": EXCEPTION,
            "error_category": "validation",
            "error_message": self.env._(
                "Refused with %(ack)s (HL7 error %(code)s): %(reason)s The sender was told; nothing was applied.",
                ack=error.ack, code=error.code, reason=str(error)),
            "done_at": now,
            "payload_hash": hl7v2.content_hash(text) if text else False,
            **Message._prepare_payload_values(flow or None, text or ""),
        }
        vals.pop("payload_raw", None)  # the sender was refused: nothing of it needs to be applied
        message = Message.create(vals)
        message._notify_exception()
        return message
