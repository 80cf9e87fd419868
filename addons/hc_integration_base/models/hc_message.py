"""The message store: fields, the state machine, and storing a message — its entry points
(inbound post, page, outbound push, replay) sharing one idempotency check, redaction and the
payload cap.

The rest of ``hc.message`` extends it from files of their own: ``hc_message_jobs.py`` (queueing,
the job run, failure handling through ``lifecycle.classify``), ``hc_message_waits.py`` (every
reason a message is not running), ``hc_message_actions.py`` (what an operator does) and
``hc_message_retention.py`` (purging old payloads and messages).
"""

import json
import uuid

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.orm.models import LOG_ACCESS_COLUMNS, BaseModel
from odoo.tools import SQL, mute_logger

from odoo.addons.mail.models.mail_thread import MailThread
from odoo.addons.queue_job.utils import must_run_without_delay

from ..exceptions import KeyAlreadyUsed
from ..lifecycle import (
    CATEGORIES,
    DROPPED,
    DUPLICATE,
    NEW,
    PENDING,
    QUEUED,
    RETRYABLE,
    STATE_LABELS,
    STATES,
    STATUSBAR,
    TERMINAL,
    can_transition,
)
from ..payload.redact import PathError, redact_text

# The creation date of a row inserted by a plain INSERT: the transaction's time, as cr.now() gives it.
TRANSACTION_NOW = "(now() AT TIME ZONE 'UTC')"

# Stored related fields _message_values gives: computing them would cost an UPDATE after the INSERT.
RELATED_GIVEN = ("company_id", "object_type")


class HcMessage(models.Model):
    _name = "hc.message"
    _description = "Integration Message"
    _inherit = ["mail.thread", "mail.activity.mixin", "hc.record.ref.mixin"]
    _order = "id desc"
    _rec_name = "display_name"

    backend_id = fields.Many2one("hc.backend", required=True, index=True, ondelete="restrict")
    flow_id = fields.Many2one(
        "hc.flow", index=True, ondelete="restrict", domain="[('backend_id', '=', backend_id)]"
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], required=True, index=True
    )
    object_type = fields.Selection(related="flow_id.object_type", store=True)
    external_id = fields.Char(index=True, help="Identifier of the object in the legacy system.")
    res_model = fields.Char("Odoo model", index=True)
    res_id = fields.Many2oneReference("Odoo record ID", model_field="res_model", index=True)
    correlation_id = fields.Char(
        required=True,
        index=True,
        copy=False,
        default=lambda self: uuid.uuid4().hex,
        help="Travels with every call about this message (X-Correlation-ID) to follow it "
        "across systems.",
    )
    idempotency_key = fields.Char(
        index=True,
        copy=False,
        help="Unique per backend and direction: a repeated key is marked duplicate.",
    )
    payload_hash = fields.Char(
        readonly=True, copy=False, help="SHA-256 of the body as received (idempotency checks)."
    )
    duplicate_of_id = fields.Many2one("hc.message", readonly=True, copy=False)
    payload = fields.Text(help="The payload as received or sent; sensitive paths are redacted.")
    payload_raw = fields.Text(
        groups="base.group_system",
        copy=False,
        help="Unredacted, untruncated payload kept only until the message is processed.",
    )
    payload_truncated = fields.Boolean(readonly=True, copy=False)
    response = fields.Text(readonly=True, copy=False)
    state = fields.Selection(
        STATES, default=NEW, required=True, index=True, readonly=True, copy=False, tracking=True
    )
    # The lifecycle's sets as flags, for views (which never spell a set of states out).
    is_pending = fields.Boolean(
        "Pending", compute="_compute_state_flags", search="_search_is_pending",
        help="A job will still process it (lifecycle.PENDING).",
    )
    is_terminal = fields.Boolean(compute="_compute_state_flags", help="Nothing will happen to it any more.")
    is_retryable = fields.Boolean(compute="_compute_state_flags", help="An operator may queue it again as it is.")
    is_dropped = fields.Boolean(compute="_compute_state_flags", help="Ended for good without being applied.")
    attempt_count = fields.Integer(readonly=True, copy=False)
    received_at = fields.Datetime(default=fields.Datetime.now, readonly=True, copy=False)
    started_at = fields.Datetime(readonly=True, copy=False)
    done_at = fields.Datetime(readonly=True, copy=False)
    duration_ms = fields.Integer("Duration (ms)", readonly=True, copy=False)
    error_category = fields.Selection(CATEGORIES, readonly=True, copy=False, index=True)
    error_message = fields.Text(readonly=True, copy=False)
    error_traceback = fields.Text(readonly=True, copy=False)
    job_uuid = fields.Char(readonly=True, copy=False, index=True)
    job_id = fields.Many2one("queue.job", compute="_compute_job_id", string="Job")
    replay_of_id = fields.Many2one("hc.message", readonly=True, copy=False, index=True)
    replay_ids = fields.One2many("hc.message", "replay_of_id", readonly=True)
    ignore_reason = fields.Text(readonly=True, copy=False)
    batch_run_id = fields.Many2one("hc.batch.run", readonly=True, index=True, ondelete="cascade")
    page_number = fields.Integer(readonly=True)
    count_created = fields.Integer(readonly=True, copy=False)
    count_updated = fields.Integer(readonly=True, copy=False)
    count_unchanged = fields.Integer(readonly=True, copy=False)
    count_failed = fields.Integer(readonly=True, copy=False)
    user_id = fields.Many2one("res.users", string="Assigned to", tracking=True)
    age_hours = fields.Float(compute="_compute_age_hours")

    _idempotency_uniq = models.UniqueIndex(
        "(backend_id, direction, idempotency_key) WHERE idempotency_key IS NOT NULL "
        f"AND state != '{DUPLICATE}'",
        "This idempotency key was already used for this backend and direction.",
    )

    @api.depends("job_uuid")
    def _compute_job_id(self):
        jobs = self.env["queue.job"].sudo().search([("uuid", "in", self.filtered("job_uuid").mapped("job_uuid"))])
        by_uuid = {job.uuid: job for job in jobs}
        for message in self:
            message.job_id = by_uuid.get(message.job_uuid, False)

    @api.depends("state")
    def _compute_state_flags(self):
        for message in self:
            state = message.state
            message.is_pending = state in PENDING
            message.is_terminal = state in TERMINAL
            message.is_retryable = state in RETRYABLE
            message.is_dropped = state in DROPPED

    def _search_is_pending(self, operator, value):
        # Odoo gives boolean searches as ``in`` / ``not in`` ``[True]``.
        if operator not in ("in", "not in"):
            return NotImplemented
        return [("state", operator, PENDING)]

    @api.depends("received_at", "done_at")
    def _compute_age_hours(self):
        now = fields.Datetime.now()
        for message in self:
            end = message.done_at or now
            message.age_hours = (end - message.received_at).total_seconds() / 3600 if message.received_at else 0

    @api.depends("flow_id", "direction", "external_id")
    def _compute_display_name(self):
        for message in self:
            label = message.flow_id.name or message.backend_id.name or ""
            ref = message.external_id or (message.correlation_id or "")[:8]
            message.display_name = f"#{message.id or '?'} {label} {ref}".strip()

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        """The form's status bar shows ``lifecycle.STATUSBAR`` (a view cannot import the set)."""
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form":
            for node in arch.xpath("//header/field[@name='state'][@widget='statusbar']"):
                node.set("statusbar_visible", ",".join(STATUSBAR))
        return arch, view

    # --- state machine ----------------------------------------------------------------------
    def write(self, vals):
        if "state" in vals:
            for message in self:
                old, new = message.state, vals["state"]
                if not can_transition(old, new):
                    raise ValidationError(
                        self.env._(
                            "Message %(msg)s cannot go from %(old)s to %(new)s.",
                            msg=message.display_name,
                            old=STATE_LABELS[old],
                            new=STATE_LABELS[new],
                        )
                    )
        return super().write(vals)

    # --- payloads -----------------------------------------------------------------------------
    @api.model
    def _prepare_payload_values(self, flow, payload):
        """Payload as stored: redacted and size-capped; the raw text kept aside if they differ."""
        if payload is None:
            return {}
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        shown = self._redact(flow, text)
        cap = self._payload_cap()
        truncated = len(shown) > cap
        if truncated:
            shown = shown[:cap]
        vals = {"payload": shown, "payload_truncated": truncated}
        if shown != text:
            vals["payload_raw"] = text
        return vals

    @api.model
    def _redact(self, flow, text):
        """``text`` (a JSON or XML payload or answer) with the flow's sensitive paths masked.

        A path the grammar cannot read must not let the values it was meant to hide through: the
        whole text is withheld then (the raw payload, kept aside, stays for Settings administrators).
        """
        paths = flow._sensitive_path_list() if flow and text else []
        if not paths:
            return text
        namespaces = {}
        if text.lstrip().startswith("<"):  # XPath prefixes: those the flow's mappings declare
            for mapping in flow.active_mapping_id | flow.response_mapping_id:
                try:
                    namespaces.update(json.loads(mapping.namespaces or "{}"))
                except ValueError:
                    continue
        try:
            return redact_text(text, paths, namespaces)
        except PathError as exc:
            return self.env._("[withheld: a sensitive path of flow %(flow)s cannot be read: %(error)s]",
                              flow=flow.display_name, error=str(exc))

    @api.model
    def _payload_cap(self):
        return int(self.env["ir.config_parameter"].sudo().get_param("hc_integration_base.payload_max_chars", 262144))

    @api.model
    def _cap(self, text):
        cap = self._payload_cap()
        return text if len(text) <= cap else text[:cap] + "\n[... truncated]"

    # --- entry points: every message is stored by one of these -----------------------------------
    @api.model
    def _receive_post(self, backend, flow, payload, *, external_id=None, correlation_id=None,
                      idempotency_key=None, payload_hash=None):
        """One inbound event as the legacy system posts it: the inbound API (``payload_hash``: the
        SHA-256 of the body as received), or a record of a page sent again alone by a resync.

        Stored and queued. A repeated idempotency key makes no second effect: a post through the
        inbound API (it gives ``payload_hash``) stores nothing and raises ``KeyAlreadyUsed`` for
        the API to answer; any other is stored as a duplicate of the message holding the key.
        """
        vals = self._message_values(backend, flow, payload, "inbound", external_id=external_id)
        vals.update(idempotency_key=idempotency_key, payload_hash=payload_hash)
        if correlation_id:
            vals["correlation_id"] = correlation_id
        return self._store(vals)

    @api.model
    def _receive_page(self, run, records, *, page_number, correlation_id=None):
        """One page of batch run ``run``: its ``records`` as one inbound message of the run's flow,
        numbered ``page_number``, stored and queued."""
        flow = run.flow_id
        vals = self._message_values(flow.backend_id, flow, records, "inbound")
        vals.update(batch_run_id=run.id, page_number=page_number)
        if correlation_id:
            vals["correlation_id"] = correlation_id
        return self._store(vals)

    @api.model
    def _receive_push(self, flow, payload, *, record=None, idempotency_key=None):
        """One outbound message of push flow ``flow``: ``payload`` (the handler's document of
        ``record``) to send, stored and queued; a repeated ``idempotency_key`` is stored as a
        duplicate and sends nothing. Refused when the backend owns what the flow exchanges."""
        self._check_may_push(flow)
        vals = self._message_values(flow.backend_id, flow, payload, "outbound", record=record,
                                    external_id=record and f"{record._name}:{record.id}")
        vals["idempotency_key"] = idempotency_key
        return self._store(vals)

    def _receive_replay(self, payload):
        """A new message of this one's flow, direction, external ID and record with an edited
        ``payload``, linked to this one (``replay_of_id``), stored and queued; this one stays as it
        is. A replay carries no idempotency key: it is meant to run again."""
        self.ensure_one()
        if self.direction == "outbound":
            self._check_may_push(self.flow_id)
        vals = self._message_values(self.backend_id, self.flow_id, payload, self.direction,
                                    external_id=self.external_id, record=self.record_ref or None)
        vals["replay_of_id"] = self.id
        return self._store(vals)

    # --- storage ------------------------------------------------------------------------------------
    @api.model
    def _check_may_push(self, flow):
        if flow and flow.system_of_record == "legacy":
            raise UserError(self.env._(
                "%(backend)s owns what flow %(flow)s exchanges: Odoo never pushes it back.",
                backend=flow.backend_id.name, flow=flow.name,
            ))

    @api.model
    def _message_values(self, backend, flow, payload, direction, external_id=None, record=None):
        """The values of a new message: its backend, flow and direction, its record when given, its
        payload redacted and capped. Without ``record``, the record is the one bound to
        ``external_id`` for the flow's model, found when the message is stored (:meth:`_insert_rows`)."""
        vals = {
            "backend_id": backend.id,
            "flow_id": flow.id if flow else False,
            # Given, not computed (RELATED_GIVEN): computing them would cost an UPDATE after the INSERT.
            "company_id": backend.company_id.id,
            "object_type": flow.object_type if flow else False,
            "direction": direction,
            "external_id": external_id or None,
            **self._prepare_payload_values(flow, payload),
        }
        if record:
            vals.update(res_model=record._name, res_id=record.id)
        return vals

    @api.model
    def _message_values_many(self, backend, entries, direction="inbound"):
        """``_message_values`` of several ``(flow, payload, external_id)`` of one backend; their
        records are found when they are stored, in the one INSERT of them all (:meth:`_insert_rows`)."""
        return [self._message_values(backend, flow, payload, direction, external_id=external_id)
                for flow, payload, external_id in entries]

    @api.model
    def _store(self, vals):
        """INSERT one message and queue its job (:meth:`_store_new`: the message already queued, its
        job in one INSERT), after the one idempotency check of every entry point: a key already used
        for the backend and direction makes the new message a duplicate of the one holding it (stored
        without a job), or for an inbound API post ``KeyAlreadyUsed``. The lookup runs once; the
        unique index catches a concurrent twin that stored the key meanwhile."""
        Message = self.sudo().with_context(
            tracking_disable=True, mail_create_nosubscribe=True, mail_create_nolog=True
        )
        key = vals.get("idempotency_key")
        original = key and self._find_by_key(vals["backend_id"], vals["direction"], key)
        if not original:
            message = self._store_new([vals])
            if message is not None:
                return message
            # The unique index: a concurrent twin stored the key meanwhile.
            original = self._find_by_key(vals["backend_id"], vals["direction"], key)
        if vals.get("payload_hash"):  # the inbound API answers the caller itself
            raise KeyAlreadyUsed(
                self.env._("Idempotency key %(key)s was already used (message %(id)s).", key=key, id=original.id),
                original, same_body=original.payload_hash == vals["payload_hash"],
            )
        vals = dict(vals, state=DUPLICATE, duplicate_of_id=original.id)
        vals.pop("payload_raw", None)
        return Message._insert_rows([vals])

    @api.model
    def _store_new(self, vals_list):
        """INSERT messages whose idempotency keys were found free (:meth:`_store`, or
        :meth:`_keys_held` for the MLLP listener's group commit) and queue their jobs, each in one
        statement: the messages are created queued, naming the job created right after them in the
        same transaction (:meth:`_create_jobs`), instead of an INSERT, the job's lookup and INSERT
        and an UPDATE of each message. Returns the messages; None when a concurrent twin took one of
        the keys meanwhile (the unique index): nothing is stored then, and the caller looks the key
        up again. queue_job's no-delay mode (``QUEUE_JOB__NO_DELAY``, the ``queue_job__no_delay``
        context key) goes through ``with_delay`` (:meth:`_enqueue`), which runs the job at once."""
        Message = self.sudo().with_context(
            tracking_disable=True, mail_create_nosubscribe=True, mail_create_nolog=True
        )
        direct = must_run_without_delay(self.env)
        if not direct:
            vals_list = [dict(vals, state=QUEUED, job_uuid=str(uuid.uuid4())) for vals in vals_list]
        if any(vals.get("idempotency_key") for vals in vals_list):
            messages = self._create_keyed(Message, vals_list)
            if messages is None:
                return None
        else:  # no key, no unique index to hit: no savepoint
            messages = Message._insert_rows(vals_list)
        if direct:
            messages._enqueue()
        else:
            messages._create_jobs()
        return messages

    @api.model
    def _insert_rows(self, vals_list):
        """The new messages of ``vals_list`` (sudo), each with the record bound to its external ID
        for its flow's model unless ``res_model`` is given (:meth:`_bound_lookups`).

        One plain INSERT where that is all the ORM's create would do (:meth:`_plain_insert_watched`),
        the bound records found by the INSERT itself: the defaults of the fields not given taken
        from the fields, the creation date from the transaction (no ``SELECT now()``), the rows in
        the cache as the ORM leaves them, the one2many caches of their parents (a replay's
        original) updated. The ORM's classification of values, recomputation marks and constraint
        checks, which a message defines none of, and the separate binding query cost a fifth of an
        inbound post. The ORM's ``create`` runs instead, after a query of the bindings, for what
        only it would do: defaults from the context or ``ir.default``, a field whose creation other
        models watch (a page's batch run), a non-column field, an automation rule watching the
        creation of messages (base_automation patches ``create`` on the registry's class), a
        context that asks for mail.thread's creation log, followers or tracking."""
        if not vals_list:
            return self.browse()
        lookups = self._bound_lookups(vals_list)
        watched = self._plain_insert_watched()
        if (watched is None or not self.env.su or "create" in vars(type(self))
                or not self.env.context.get("tracking_disable")  # mail.thread's create would log, follow, track
                or any(key.startswith("default_") for key in self.env.context)
                or any(vals.get(name) for vals in vals_list for name in watched)
                or any(not self._fields[name].column_type for vals in vals_list for name in vals)
                or not all(name in vals for name in RELATED_GIVEN for vals in vals_list)
                or self.env["ir.default"]._get_model_defaults(self._name)):
            Binding = self.env["hc.binding"].sudo()
            bound = [lookup and Binding._bound_record(*lookup) for lookup in lookups]
            messages = self.create([dict(vals, res_model=found[0], res_id=found[1]) if found else vals
                                    for vals, found in zip(vals_list, bound, strict=True)])
            # The stored related fields were given (_message_values): not computed again at the flush.
            for name in RELATED_GIVEN:
                if all(name in vals for vals in vals_list):
                    self.env.remove_to_compute(self._fields[name], messages)
            return messages
        defaults, x2many, cached = self._plain_insert_fields()
        vals_list = [
            {**{field.name: field.default(self) for field in defaults if field.name not in vals}, **vals}
            for vals in vals_list
        ]
        columns = {name for vals in vals_list for name in vals}
        columns = tuple(sorted(columns | {"res_model", "res_id"} if any(lookups) else columns))
        column_fields = [self._fields[name] for name in columns]
        uid = self.env.uid or None
        Binding = self.env["hc.binding"]
        # One SQL of the whole statement: its code spelled here from the columns (cached), the
        # values its parameters. Composing an SQL object per value and row (with the job's) cost
        # about 0.15 ms of a post's 2.5 ms of Python, measured in process.
        rows, params = [], []
        for vals, lookup in zip(vals_list, lookups, strict=True):
            cells = []
            for field in column_fields:
                name = field.name
                if lookup and name in ("res_model", "res_id"):
                    cells.append("%s")
                    params.append(Binding._bound_sql(name, *lookup))
                elif name in vals:
                    cells.append("%s")
                    params.append(field.convert_to_column_insert(vals[name], self, vals))
                else:
                    cells.append("DEFAULT")
            params += (uid, uid)
            rows.append(f"({', '.join(cells)}, %s, {TRANSACTION_NOW}, %s, {TRANSACTION_NOW})")
        inserted = self.env.execute_query(SQL(
            f"{self._insert_head(columns)} {', '.join(rows)} RETURNING id, res_model, res_id", *params,
        ))
        records = self.browse([row[0] for row in inserted])
        for vals, lookup, (_id, res_model, res_id) in zip(vals_list, lookups, inserted, strict=True):
            if lookup:
                vals.update(res_model=res_model, res_id=res_id)
        # In the cache as the ORM's _create leaves them: given values, None for the other columns.
        empty = [()] * len(records)
        for field in x2many:
            field._insert_cache(records, empty)
        users = [uid] * len(records)
        self._fields["create_uid"]._insert_cache(records, users)
        self._fields["write_uid"]._insert_cache(records, users)
        nones = [None] * len(records)
        for field in cached:
            name = field.name
            if name not in columns:
                field._insert_cache(records, nones)
                continue
            field._insert_cache(records, [
                field.convert_to_cache(vals[name], record) if name in vals else None
                for record, vals in zip(records, vals_list, strict=True)
            ])
        for field in column_fields:
            if field.type in ("many2one", "many2one_reference") and self.pool.field_inverses[field]:
                for record, vals in zip(records, vals_list, strict=True):
                    field._update_inverses(record, field.convert_to_cache(vals.get(field.name), record))
        return records

    @api.model
    @tools.ormcache()
    def _plain_insert_fields(self):
        """The fields :meth:`_insert_rows` completes and caches, per registry: those whose defaults
        it gives (plain columns), the stored one2many and many2many fields (cached empty), the other
        stored fields but the log access ones (cached as given, else None)."""
        defaults, x2many, cached = [], [], []
        for name, field in self._fields.items():
            if not field.store or name in LOG_ACCESS_COLUMNS:
                continue
            if field.column_type and field.default:
                defaults.append(field)
            (x2many if field.type in ("one2many", "many2many") else cached).append(field)
        return tuple(defaults), tuple(x2many), tuple(cached)

    @api.model
    @tools.ormcache("columns")
    def _insert_head(self, columns):
        """``INSERT INTO hc_message (columns, log access columns) VALUES`` as SQL code, per registry
        and set of columns (field names: identifiers, as ``SQL.identifier`` checks)."""
        names = ", ".join(SQL.identifier(name).code for name in (*columns, *LOG_ACCESS_COLUMNS))
        return f"INSERT INTO {SQL.identifier(self._table).code} ({names}) VALUES"

    @api.model
    def _bound_lookups(self, vals_list):
        """Per new message: ``(backend_id, model, external_id)`` of the binding that names its
        record (an external ID, a flow with a model, no ``res_model`` given), else None."""
        Flow = self.env["hc.flow"].sudo()
        lookups = []
        for vals in vals_list:
            model = (vals.get("external_id") and vals.get("flow_id") and "res_model" not in vals
                     and Flow.browse(vals["flow_id"]).model_name)
            lookups.append((vals["backend_id"], model, vals["external_id"]) if model else None)
        return lookups

    @api.model
    @tools.ormcache()
    def _plain_insert_watched(self):
        """The many2one fields whose values make :meth:`_insert_rows` use the ORM's create when set
        (another model's computed fields depend on messages through them, such as a page's batch
        run), or None when the ORM's create must always run: an addon overrides ``create`` or
        ``_create``, or the model has Python constraints, company checks, stored computed fields
        other than the given related ones (RELATED_GIVEN), a default of a relational or non-column
        field, parents by ``_inherits`` or a parent path. Decided once per registry."""
        cls = type(self)
        overrides = {klass for klass in cls.__mro__[1:] if "create" in vars(klass) or "_create" in vars(klass)}
        if (overrides - {BaseModel, MailThread} or self._constraint_methods or self._inherits
                or self._parent_store or self._check_company_auto
                or any(field.store and field.compute and name not in RELATED_GIVEN
                       for name, field in self._fields.items())
                # Defaults _insert_rows takes as they are: plain column values, as the suite's are.
                or any(field.default and (field.relational or not field.column_type)
                       for field in self._fields.values())):
            return None
        watched = set()
        for name, field in self._fields.items():
            if not field.store or not field.column_type or name in LOG_ACCESS_COLUMNS:
                continue
            # The fields another model's computed fields reach this one's through: on a creation,
            # only a one2many over messages finds a record, through its many2one given here.
            for key in self.pool.get_trigger_tree([field]):
                if key.type == "one2many" and key.comodel_name == self._name:
                    watched.add(key.inverse_name)
                elif key.type != "many2one":
                    watched.add(name)
        return frozenset(watched)

    @api.model
    def _create_keyed(self, Message, vals):
        """``Message._insert_rows(vals)`` in a savepoint; None when the idempotency unique index refuses
        it (a concurrent twin stored one of its keys since the lookup): nothing is stored then.
        That refusal is expected and handled: Odoo's cursor does not log it as an error ("bad
        query"), which would page whoever watches the logs for a message stored exactly once."""
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                return Message._insert_rows(vals)
        except Exception as exc:  # unique index hit by a concurrent twin
            if "idempotency" not in str(exc):
                raise
            return None

    @api.model
    def _keys_held(self, backend_id, direction, keys):
        """``{key: message}`` of the messages holding these idempotency keys: the lookup of
        :meth:`_store` for many keys at once (one query)."""
        if not keys:
            return {}
        held = self.sudo().search([
            ("backend_id", "=", backend_id),
            ("direction", "=", direction),
            ("idempotency_key", "in", list(keys)),
            ("state", "!=", DUPLICATE),
        ])
        return {message.idempotency_key: message for message in held}

    @api.model
    def _find_by_key(self, backend_id, direction, key):
        return self.sudo().search(
            [
                ("backend_id", "=", backend_id),
                ("direction", "=", direction),
                ("idempotency_key", "=", key),
                ("state", "!=", DUPLICATE),
            ],
            limit=1,
        )
