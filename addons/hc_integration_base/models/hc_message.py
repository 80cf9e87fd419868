import json
import logging
import traceback
import uuid
from datetime import datetime, timedelta

from psycopg2 import OperationalError

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

from odoo.addons.queue_job.exception import RetryableJobError

# Also importable from here, where addons found them before ..exceptions (kept one release).
from ..exceptions import PermanentError, ReferenceWait
from ..lifecycle import (
    CATEGORIES,
    DUPLICATE,
    EXCEPTION,
    IGNORED,
    NEW,
    PENDING,
    PROCESSING,
    PURGEABLE,
    QUEUED,
    RETRYABLE,
    STATE_LABELS,
    STATES,
    TERMINAL,
    can_transition,
    classify,
)
from ..payload.redact import PathError, redact_text
from ..transports.errors import TransportError

_logger = logging.getLogger(__name__)

# queue_job states of a job that has not started yet.
WAITING_JOB_STATES = ("wait_dependencies", "pending", "enqueued")


def current_job_attempt(env, default=1):
    """Number of the attempt running now: 1 + the retries queue_job has stored for this job."""
    job_uuid = env.context.get("job_uuid")
    job = job_uuid and env["queue.job"].sudo().search_fetch([("uuid", "=", job_uuid)], ["retry"], limit=1)
    return job.retry + 1 if job else default


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
    is_pending = fields.Boolean(
        "Pending", compute="_compute_is_pending", search="_search_is_pending",
        help="A job will still process it (lifecycle.PENDING).",
    )
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
    def _compute_is_pending(self):
        for message in self:
            message.is_pending = message.state in PENDING

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

    # --- creation -----------------------------------------------------------------------------
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

    @api.model
    def _receive(self, backend, flow, payload, *, direction="inbound", external_id=None,
                 correlation_id=None, idempotency_key=None, record=None, enqueue=True,
                 payload_hash=None, batch_run=None, page_number=0, key_checked=False):
        """Store one message (or a duplicate marker) and enqueue its processing job.

        A repeated idempotency key never creates a second business effect: the new message is
        stored in state *duplicate*, linked to the original, and no job is enqueued. Callers that
        looked the key up already (the inbound API answers a repeat itself) pass ``key_checked``;
        the unique index still catches a concurrent twin.
        """
        if direction == "outbound" and flow and flow.system_of_record == "legacy":
            raise UserError(self.env._(
                "%(backend)s owns what flow %(flow)s exchanges: Odoo never pushes it back.",
                backend=backend.name, flow=flow.name,
            ))
        vals = {
            "backend_id": backend.id,
            "flow_id": flow.id if flow else False,
            # The stored related fields, given: computing them costs an UPDATE after the INSERT.
            "company_id": backend.company_id.id,
            "object_type": flow.object_type if flow else False,
            "direction": direction,
            "external_id": external_id,
            "idempotency_key": idempotency_key,
            "payload_hash": payload_hash,
            "batch_run_id": batch_run.id if batch_run else False,
            "page_number": page_number,
            **self._prepare_payload_values(flow, payload),
        }
        if correlation_id:
            vals["correlation_id"] = correlation_id
        if record:
            vals.update(res_model=record._name, res_id=record.id)
        elif external_id and flow and flow.model_name:
            binding = self.env["hc.binding"].sudo()._lookup(backend, flow.model_name, external_id)
            if binding:
                vals.update(res_model=binding.res_model, res_id=binding.res_id)
        original = idempotency_key and not key_checked and self._find_by_key(backend, direction, idempotency_key)
        Message = self.sudo().with_context(
            tracking_disable=True, mail_create_nosubscribe=True, mail_create_nolog=True
        )
        if not original and not idempotency_key:
            message = Message.create(vals)
        elif not original:
            try:
                with self.env.cr.savepoint():
                    message = Message.create(vals)
            except Exception as exc:  # unique index hit by a concurrent twin
                if "idempotency" not in str(exc):
                    raise
                original = self._find_by_key(backend, direction, idempotency_key)
        if original:
            vals.update(state=DUPLICATE, duplicate_of_id=original.id, idempotency_key=idempotency_key)
            vals.pop("payload_raw", None)
            return Message.create(vals)
        if enqueue:
            message._enqueue()
        return message

    @api.model
    def _find_by_key(self, backend, direction, key):
        return self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("direction", "=", direction),
                ("idempotency_key", "=", key),
                ("state", "!=", DUPLICATE),
            ],
            limit=1,
        )

    # --- jobs -------------------------------------------------------------------------------------
    def _ordering_key(self):
        self.ensure_one()
        if not self.external_id:
            return None
        return f"{self.backend_id.id}:{self.object_type or ''}:{self.external_id}"

    def _enqueue(self, eta=None):
        """Queue one processing job per message, unless its previous job is still waiting to run
        (a retry asked while the job waits queues nothing new). A new message has no job: no
        lookup, which queue_job's identity keys would cost on every accepted event."""
        uuids = self.filtered("job_uuid").mapped("job_uuid")
        waiting = set()
        if uuids:
            jobs = self.env["queue.job"].sudo().search_fetch(
                [("uuid", "in", uuids), ("state", "in", WAITING_JOB_STATES)], ["uuid"]
            )
            waiting = set(jobs.mapped("uuid"))
        for message in self:
            if message.job_uuid in waiting:
                message.write({"state": QUEUED})
                continue
            flow = message.flow_id
            urgent = bool(flow) and flow._handler()._is_urgent(message)
            channel = message.backend_id._channel_name(urgent=True) if urgent else (
                flow or message.backend_id)._channel_for_jobs()
            # The job acts with the backend's integration user's rights, never as superuser.
            job = (
                message.with_user(message.backend_id._job_user())
                .with_delay(
                    priority=0 if urgent else (flow.priority if flow else 10),
                    channel=channel,
                    max_retries=flow.max_attempts if flow else 5,
                    description=message.display_name,
                    eta=eta,
                )
                ._job_process()
            )
            message.write({"state": QUEUED, "job_uuid": job.uuid if job else message.job_uuid})

    def _job_process(self):
        """queue_job entry point. The job runs as the backend's integration user; the message's
        own bookkeeping (states, failures, timings) is the integration's and is written whatever
        that user may do, while the business effect has exactly that user's rights (_dispatch)."""
        self.ensure_one()
        return self.sudo()._process()

    def _process(self):
        """Apply (inbound) or send (outbound) one message.

        The state change to *processing* and the handler's effects run in one savepoint. The
        final state is always written: in this transaction on success or permanent failure (every
        exception is caught), in a separate committed one before a retry, since queue_job rolls
        the job's transaction back. A worker killed mid-way leaves the message *queued* and its
        job requeued by queue_job; handlers are idempotent, so running it again is harmless.
        """
        self.ensure_one()
        if self.state not in PENDING:
            return f"nothing to do: message already {self.state}"
        self._take_backend_slot()
        self._wait_for_predecessors()
        self._wait_for_others()
        attempt = self._current_attempt()
        started = datetime.now()  # with microseconds: durations are in ms, stored times in s
        # The happy path leaves no chatter note: started/done times and attempts are fields, and
        # two tracking notes per message cost more than the rest of the bookkeeping. Failures,
        # retries and operator actions stay tracked.
        untracked = self.with_context(tracking_disable=True)
        try:
            with self.env.cr.savepoint():
                # Inside the savepoint: rolled back with the handler's effects, which also
                # releases the row lock before a retry writes the state apart.
                untracked.write({
                    "state": PROCESSING, "started_at": started.replace(microsecond=0), "attempt_count": attempt,
                    "wait_reason": False,
                })
                self.flush_recordset()
                result = self._dispatch()
        except ReferenceWait as exc:
            # After the savepoint's rollback released the row; the message keeps its state.
            self.invalidate_recordset()
            self._note_wait(str(exc))
            raise
        except RetryableJobError:
            raise
        except OperationalError as exc:
            if exc.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY:
                raise  # a concurrent transaction won: queue_job runs the job again on a fresh snapshot
            self.invalidate_recordset()
            return self._handle_failure(exc, attempt, started)
        except Exception as exc:  # noqa: BLE001 - every failure must reach a visible state
            self.invalidate_recordset()
            return self._handle_failure(exc, attempt, started)
        untracked._mark_done(started, result)
        return result

    def _handle_failure(self, exc, attempt, started):
        """Write what ``lifecycle.classify`` decides: retry later (raising ``RetryableJobError``),
        or move the message to the exception queue (returning the reason)."""
        if isinstance(exc, TransportError) and exc.transient and self.backend_id:
            self.backend_id._sync_breaker_state_apart()
        decision = classify(exc, attempt, self._max_attempts(), translate=self.env._)
        if decision.unexpected:
            _logger.exception("Integration message %s failed unexpectedly", self.id)
        vals = self._failure_values(exc, decision.state, decision.category, started, decision.reason)
        if decision.retry and not decision.spends_attempt:
            self._postpone(decision.reason, decision.retry_after, vals, cause=exc)
        if decision.retry:
            self._write_apart(vals)
            raise RetryableJobError(decision.reason, seconds=decision.retry_after) from exc
        if getattr(exc, "keep", None):
            exc.keep()
        for key, count in getattr(exc, "counts", {}).items():
            vals[f"count_{key}"] = count
        self.write(vals)
        self._notify_exception()
        return decision.reason

    def _dispatch(self):
        if not self.flow_id:
            raise PermanentError(self.env._("The message has no flow: nothing knows how to apply it."))
        # The business effect has the backend's integration user's rights, in the backend's company
        # (first of its allowed companies, as a multi-company user works: shared records such as
        # products name taxes of several companies). A user without access to that company fails
        # here with an access error the exception queue shows.
        user_id = self.backend_id._job_user()
        message = self.with_user(user_id)
        if self.company_id:
            others = self.env["res.users"].browse(user_id).company_ids.ids
            message = message.with_context(
                allowed_company_ids=[self.company_id.id, *(c for c in others if c != self.company_id.id)])
        flow = message.flow_id
        handler = flow._handler()
        if message.direction == "inbound":
            # Checked again when applied: the list may have shrunk since the flow was configured.
            if flow.model_name and not self.env["hc.allowed.model"]._is_allowed(flow.model_name):
                raise PermanentError(flow._model_refusal(), category="security")
            return handler._import_message(message)
        return handler._export_message(message)

    def _mark_done(self, started, result):
        done = datetime.now()
        vals = {
            "state": "done",
            "done_at": done.replace(microsecond=0),
            "duration_ms": int((done - started).total_seconds() * 1000),
            "error_category": False,
            "error_message": False,
            "error_traceback": False,
        }
        if isinstance(result, dict):
            if result.get("response") is not None:
                vals["response"] = self._cap(self._redact(self.flow_id, result["response"]))
            for key in ("created", "updated", "unchanged", "failed"):
                if key in result.get("counts", {}):
                    vals[f"count_{key}"] = result["counts"][key]
        self.write(vals)
        self.sudo().payload_raw = False

    def _failure_values(self, exc, state, category, started, message):
        done = datetime.now()
        return {
            "state": state,
            "started_at": started.replace(microsecond=0),
            "attempt_count": self._current_attempt(),
            "error_category": category,
            "error_message": message,
            "error_traceback": "".join(traceback.format_exception(exc))[-20000:],
            "done_at": done.replace(microsecond=0) if state == EXCEPTION else False,
            "duration_ms": int((done - started).total_seconds() * 1000),
            "wait_reason": False,
        }

    def _write_apart(self, vals):
        """Write in a separate committed transaction: survives the job's rollback."""
        with self.env.registry.cursor() as cr:
            self.with_env(self.env(cr=cr)).sudo().write(vals)

    def _current_attempt(self):
        return current_job_attempt(self.env, default=self.attempt_count + 1)

    def _max_attempts(self):
        return max(self.flow_id.max_attempts if self.flow_id else 5, 1)

    def _notify_exception(self):
        """Schedule an activity for the backend's responsible people."""
        backend = self.backend_id
        users = backend.responsible_user_id or backend.responsible_group_id.user_ids[:1]
        if not users:
            return
        self.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Integration exception: %s", (self.error_message or "")[:80]),
            user_id=users.id,
        )

    # --- operator actions -----------------------------------------------------------------------------
    def _check_operator(self):
        if not self.env.user.has_group("hc_integration_base.group_hc_operator"):
            raise AccessError(self.env._("Only integration operators can act on messages."))

    def action_retry(self):
        self._check_operator()
        return self._retry()

    def _retry(self):
        retryable = self.filtered(lambda m: m.state in RETRYABLE)
        if not retryable:
            raise UserError(self.env._("Only messages in exception or retrying can be retried."))
        retryable.sudo().write({"error_category": False})
        retryable.sudo()._enqueue()
        return True

    def action_assign_to_me(self):
        self._check_operator()
        self.write({"user_id": self.env.uid})

    def _ignore(self, reason):
        self._check_operator()
        if not (reason or "").strip():
            raise UserError(self.env._("Give a reason to ignore a message."))
        for message in self:
            message.sudo().write({"state": IGNORED, "ignore_reason": reason})
            message.message_post(body=self.env._("Ignored: %s", reason))
            message.activity_ids.action_feedback(feedback=reason)

    def _replay(self, payload):
        """A new message linked to this one, with an edited payload; this one stays unchanged."""
        self.ensure_one()
        self._check_operator()
        new = self._receive(
            self.backend_id,
            self.flow_id,
            payload,
            direction=self.direction,
            external_id=self.external_id,
            record=self.record_ref or None,
        )
        new.sudo().replay_of_id = self.id
        self.message_post(body=self.env._("Replayed as message %s.", new.id))
        return new

    # --- retention ------------------------------------------------------------------------------------
    @api.model
    def _cron_purge(self):
        """Drop old payloads (keeping the record and state) and old unredacted payloads of messages
        in exception, then delete old done messages."""
        now = fields.Datetime.now()
        for backend in self.env["hc.backend"].with_context(active_test=False).search([]):
            payload_limit = now - timedelta(days=backend.payload_retention_days)
            old = self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("received_at", "<", payload_limit),
                    ("state", "in", list(TERMINAL)),
                    ("payload", "!=", False),
                ]
            )
            old.write({"payload": False, "response": False, "payload_raw": False})
            # A message in exception keeps its redacted payload and its error (it can still be read
            # and retried), but not the unredacted one forever.
            raw_limit = now - timedelta(days=backend.exception_payload_retention_days)
            self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("received_at", "<", raw_limit),
                    ("state", "=", EXCEPTION),
                    ("payload_raw", "!=", False),
                ]
            ).write({"payload_raw": False})
            delete_limit = now - timedelta(days=backend.message_retention_days)
            self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("received_at", "<", delete_limit),
                    ("state", "in", PURGEABLE),
                ]
            ).unlink()
