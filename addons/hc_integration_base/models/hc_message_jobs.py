"""Running a message: queueing its job, the job run (waits, dispatch to the handler, the final
state always written) and failure handling — ``lifecycle.classify`` decides, this file writes.
"""

import logging
import traceback
from datetime import datetime

from psycopg2 import OperationalError

from odoo import api, models, tools
from odoo.orm.models import LOG_ACCESS_COLUMNS
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import SQL

from odoo.addons.queue_job import delay as queue_job_delay
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.models.base import Base as QueueJobBase

from ..exceptions import PermanentError, ReferenceWait
from ..lifecycle import DONE, EXCEPTION, PENDING, PROCESSING, QUEUED, classify
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
    _inherit = "hc.message"

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
            # The job acts with the backend's integration user's rights, never as superuser.
            job = message.with_user(message.backend_id._job_user()).with_delay(
                **message._job_options(eta=eta))._job_process()
            message.write({"state": QUEUED, "job_uuid": job.uuid if job else message.job_uuid})

    def _job_options(self, eta=None):
        """queue_job's options of this message's processing job: channel, priority, attempts."""
        self.ensure_one()
        flow = self.flow_id
        urgent = bool(flow) and flow._handler()._is_urgent(self)
        backend = self.backend_id
        channel = backend._channel_name(urgent=True) if urgent else (flow or backend)._channel_for_jobs()
        return {
            "priority": 0 if urgent else (flow.priority if flow else 10),
            "channel": channel,
            "max_retries": flow.max_attempts if flow else 5,
            "description": self.display_name,
            "eta": eta,
        }

    def _create_jobs(self):
        """The processing jobs of these new messages, which already name them (``job_uuid``, state
        queued: :meth:`_store_new`), in one INSERT: the ``Job`` ``with_delay`` would store for each
        (same options, integration user and company), without its lookup of the uuid and its INSERT
        per job, and without an UPDATE of each message afterwards. The rows are written by
        :meth:`_insert_job_rows`, not ``queue.job.create``: on the listener's and the inbound API's
        path the ORM's create of the jobs cost a fifth of storing a message; their values by
        :meth:`_job_row_values`, without building queue_job's ``Job``.

        Built as ``Job`` objects instead, of the class ``with_delay`` uses (``queue_job.delay.Job``),
        under queue_job's test trap (``trap_jobs``: that class is the trap's, which keeps the jobs
        for the test to inspect and run instead of storing them, as it does for ``with_delay``) and
        when the model adds values to its jobs' rows (queue_job's ``_job_store_values`` hooks)."""
        job_class = queue_job_delay.Job
        trapped = job_class is not Job
        hooked = self._job_store_hooked()
        values, senders = [], {}
        for message in self:
            backend = message.backend_id
            if backend not in senders:
                user = backend._job_user()
                company = backend._job_company(user)
                # The company as queue_job would take it (the user's), given: it reads no user row then.
                senders[backend] = self.with_user(user).with_context(company_id=company)
            sender = senders[backend].browse(message.id)
            if trapped or hooked:
                job = job_class(sender._job_process, job_uuid=message.job_uuid, **message._job_options())
                if not trapped:  # trapped: the trap holds the job and never stores it
                    values.append(job._store_values(create=True))
            else:
                values.append(sender._job_row_values(message.job_uuid, message._job_options()))
        if not values:
            return
        self._insert_job_rows(values)

    @api.model
    @tools.ormcache()
    def _job_store_hooked(self):
        """Whether an addon adds values to the rows of messages' jobs: queue_job's
        ``_job_store_values`` hooks, which only a ``Job`` calls, defined beyond queue_job's own
        empty default on every model."""
        return any(
            klass is not QueueJobBase and {"_job_store_values", "_job_store_values_for__job_process"} & set(vars(klass))
            for klass in type(self).__mro__
        )

    def _job_row_values(self, job_uuid, options):
        """``Job._store_values(create=True)`` of this message's processing job ``job_uuid`` with ``options``
        (:meth:`_job_options`, no eta: a new message's job may start at once), as queue_job builds
        it for a new job of this recordset (its user and company), without building the ``Job``:
        its dependency lists, loaded for each new job though a message's job has none, cost half of
        what preparing a job's row cost. ``test_job_row_values_are_queue_jobs`` compares the two."""
        self.ensure_one()
        Function = self.env["queue.job.function"].sudo()
        function_name = Function.job_function_name(self._name, "_job_process")
        return {
            "state": "pending", "priority": options["priority"], "retry": 0, "max_retries": options["max_retries"],
            "exc_name": None, "exc_message": None, "exc_info": None, "company_id": self.env.context["company_id"],
            "result": False, "date_enqueued": False, "date_started": False, "date_done": False, "exec_time": False,
            "date_cancelled": False, "eta": False, "identity_key": False, "worker_pid": None,
            "graph_uuid": None, "dependencies": {"depends_on": [], "reverse_depends_on": []},
            "user_id": self.env.uid, "channel": options["channel"], "uuid": job_uuid,
            "name": options["description"], "func_string": f"{self!r}._job_process()", "date_created": datetime.now(),
            "model_name": self._name, "method_name": "_job_process",
            "job_function_id": Function.job_config(function_name).job_function_id, "channel_method_name": function_name,
            "records": self, "args": (), "kwargs": {},
        }

    def _insert_job_rows(self, values):
        """INSERT the ``queue_job`` rows of ``Job._store_values(create=True)`` dicts in one statement.

        What ``queue.job.create`` would write, without its per-row defaults lookup and without
        serialising the recordset and arguments twice (once for the cache, once for the column):
        every value is one of queue.job's columns, converted by its field as the ORM converts it,
        and the model has no default, stored computed field or constraint the values do not give
        (queue_job 19.0). queue_job's trigger on the table tells the runner, as for any insert.
        The new rows are not in the ORM cache; a later read fetches them.

        ``queue.job.create`` runs instead when it would do more than that: a stored field the values
        do not give has a default or is computed (another queue_job release, an addon's field), or
        an automation rule watches the creation of jobs (base_automation patches ``create`` on the
        registry's class)."""
        QueueJob = self.env["queue.job"].sudo()
        columns = tuple(sorted({name for vals in values for name in vals}))
        job_fields = [QueueJob._fields[name] for name in columns]
        if not self._job_columns_plain(columns) or "create" in vars(type(QueueJob)):
            QueueJob.with_context(_job_edit_sentinel=QueueJob.EDIT_SENTINEL).create(values)
            return
        access = ()  # queue.job keeps no create/write user and date (_log_access False in 19.0)
        if QueueJob._log_access:
            now, uid = self.env.cr.now(), self.env.uid or None
            access = (uid, now, uid, now)
        # One SQL of the whole statement, its code spelled from the columns (as hc.message's rows).
        rows, params = [], []
        for vals in values:
            cells = []
            for field in job_fields:
                if field.name in vals:
                    cells.append("%s")
                    params.append(field.convert_to_column_insert(vals[field.name], QueueJob, vals))
                else:
                    cells.append("DEFAULT")
            cells += ["%s"] * len(access)
            params += access
            rows.append(f"({', '.join(cells)})")
        self.env.cr.execute(SQL(f"{self._job_insert_head(columns, bool(access))} {', '.join(rows)}", *params))

    @api.model
    @tools.ormcache("columns", "access")
    def _job_insert_head(self, columns, access):
        """``INSERT INTO queue_job (columns[, log access columns]) VALUES`` as SQL code, per registry
        and set of columns (field names: identifiers, as ``SQL.identifier`` checks)."""
        names = ", ".join(SQL.identifier(name).code for name in (*columns, *(LOG_ACCESS_COLUMNS if access else ())))
        return f"INSERT INTO {SQL.identifier(self.env['queue.job']._table).code} ({names}) VALUES"

    @api.model
    @tools.ormcache("columns")
    def _job_columns_plain(self, columns):
        """Whether queue.job rows giving ``columns`` may be written by a plain INSERT
        (:meth:`_insert_job_rows`): each is a stored column not computed, and no stored field
        left out has a default or is computed. Decided once per registry and set of columns."""
        QueueJob = self.env["queue.job"]
        return all(
            QueueJob._fields[name].column_type and QueueJob._fields[name].store and not QueueJob._fields[name].compute
            for name in columns
        ) and not any(
            field.store and (field.default or field.compute) for name, field in QueueJob._fields.items()
            if name not in columns and name not in LOG_ACCESS_COLUMNS and name != "id")

    def _job_process(self):
        """queue_job entry point. The job runs as the backend's integration user; the message's
        own bookkeeping (states, failures, timings) is the integration's and is written whatever
        that user may do, while the business effect has exactly that user's rights (_dispatch)."""
        self.ensure_one()
        result = self.sudo()._process()
        if isinstance(result, dict) and {"response", "body", "raw"} & set(result):
            # queue_job keeps what a job returns: the answer as the message stores it (the flow's
            # sensitive paths masked), never as the system sent it.
            result = {key: value for key, value in result.items() if key not in ("body", "raw")}
            if result.get("response") is not None:
                result["response"] = self._cap(self._redact(self.flow_id, result["response"]))
        return result

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
        result = handler._export_message(message)
        record = message.record_ref
        if record and hasattr(record, "_hc_on_pushed"):  # the record's event (hc.sync.mixin)
            record._hc_on_pushed(message)
        return result

    def _mark_done(self, started, result):
        done = datetime.now()
        vals = {
            "state": DONE,
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

