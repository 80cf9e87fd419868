import json
import logging
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import ENQUEUED, FAILED, PENDING, STARTED, WAIT_DEPENDENCIES

from .. import lifecycle
from ..lifecycle import runs
from ..transports.errors import TransportError
from .hc_message_jobs import current_job_attempt

_logger = logging.getLogger(__name__)

# queue_job states of a job that will still run (or runs now).
LIVE_JOB_STATES = (WAIT_DEPENDENCIES, PENDING, ENQUEUED, STARTED)


class HcBatchRun(models.Model):
    """One paged pull: each page is fetched by its own job and stored as one message.

    The checkpoint of the next page is written in the same transaction that stores a page and
    enqueues the next fetch, so a crash or a cancel resumes exactly after the last stored page.

    Extensions follow a run through its hooks, never by watching ``state`` in ``write()``:
    ``_on_finished`` (every page fetched and stored), ``_on_failed`` (failed or cancelled, by a
    page, a person or the watchdog) and ``_on_resumed``. The watchdog cron
    (``_cron_watchdog``) ends or resumes runs left *running* without progress.
    """

    _name = "hc.batch.run"
    _description = "Integration Batch Run"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    flow_id = fields.Many2one("hc.flow", required=True, ondelete="cascade", index=True)
    backend_id = fields.Many2one(related="flow_id.backend_id", store=True)
    company_id = fields.Many2one(related="flow_id.company_id", store=True)
    trigger = fields.Selection(
        [("manual", "Manual"), ("scheduled", "Scheduled"), ("resume", "Resumed")], required=True, default="manual"
    )
    state = fields.Selection(
        runs.STATES, default=runs.RUNNING, required=True, tracking=True, index=True,
    )
    # lifecycle.runs' sets as a flag, for views (which never spell a set of states out).
    can_resume = fields.Boolean(
        compute="_compute_can_resume",
        help="Stopped before its last page (failed or cancelled) with pages left: Resume continues it.",
    )
    started_at = fields.Datetime(default=fields.Datetime.now, readonly=True)
    fetched_at = fields.Datetime("Last page fetched", readonly=True)
    finished_at = fields.Datetime(compute="_compute_counts", string="Finished")
    checkpoint = fields.Char(readonly=True, help="Position of the next page to fetch (page, offset, cursor or URL).")
    pages_fetched = fields.Integer(readonly=True)
    pages_total = fields.Integer(readonly=True, help="Known when the remote system tells the total.")
    changed_since = fields.Char(
        readonly=True,
        help="Changed-since value this run sends with every page (the flow's watermark when it started).",
    )
    all_fetched = fields.Boolean(readonly=True)
    error_message = fields.Text(readonly=True)
    page_message_ids = fields.One2many("hc.message", "batch_run_id", string="Pages")
    pages_done = fields.Integer(compute="_compute_counts")
    count_created = fields.Integer("Created", compute="_compute_counts")
    count_updated = fields.Integer("Updated", compute="_compute_counts")
    count_unchanged = fields.Integer("Unchanged", compute="_compute_counts")
    count_failed = fields.Integer("Failed", compute="_compute_counts")
    progress = fields.Float(
        compute="_compute_counts",
        help="Share of pages applied: of the total when the remote system tells it, else of the pages fetched so far.",
    )
    progress_max = fields.Integer(
        "Pages to apply", compute="_compute_counts",
        help="The total of pages when known, else the pages fetched so far.",
    )
    progress_label = fields.Char("Pages applied", compute="_compute_counts")
    watchdog_resumed_at = fields.Datetime(
        readonly=True, copy=False,
        help="When the watchdog last resumed this run after it made no progress: a run stuck again is failed.",
    )
    duration = fields.Float("Duration (s)", compute="_compute_counts")

    @api.depends("flow_id", "started_at")
    def _compute_name(self):
        for run in self:
            run.name = f"{run.flow_id.display_name} · {fields.Datetime.to_string(run.started_at) or ''}"

    @api.depends("state", "all_fetched")
    def _compute_can_resume(self):
        for run in self:
            run.can_resume = run.state in runs.STOPPED and not run.all_fetched

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        """The form's status bar shows ``lifecycle.runs.STATUSBAR`` (a view cannot import the set)."""
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form":
            for node in arch.xpath("//header/field[@name='state'][@widget='statusbar']"):
                node.set("statusbar_visible", ",".join(runs.STATUSBAR))
        return arch, view

    @api.depends("page_message_ids.state", "state", "pages_fetched", "pages_total")
    def _compute_counts(self):
        groups = self.env["hc.message"]._read_group(
            [("batch_run_id", "in", self.ids)],
            ["batch_run_id", "state"],
            ["__count", "count_created:sum", "count_updated:sum", "count_unchanged:sum", "count_failed:sum",
             "done_at:max"],
        )
        stats = {}
        for run, state, count, created, updated, unchanged, failed, last in groups:
            item = stats.setdefault(run.id, {"done": 0, "created": 0, "updated": 0, "unchanged": 0,
                                             "failed": 0, "last": False, "pending": 0})
            item["created"] += created
            item["updated"] += updated
            item["unchanged"] += unchanged
            item["failed"] += failed
            if state in lifecycle.PENDING:  # pages never are duplicates (no idempotency key): the rest ended
                item["pending"] += count
            else:
                item["done"] += count
                item["last"] = max(filter(None, [item["last"], last]), default=False)
        for run in self:
            item = stats.get(run.id, {"done": 0, "created": 0, "updated": 0, "unchanged": 0, "failed": 0,
                                      "last": False, "pending": 0})
            run.pages_done = item["done"]
            run.count_created = item["created"]
            run.count_updated = item["updated"]
            run.count_unchanged = item["unchanged"]
            run.count_failed = item["failed"]
            # Cursor and link paging never tell a total: until the last page, the pages fetched so far
            # are what there is to apply (the bar fills as they are applied, and grows as they come).
            total = run.pages_total or run.pages_fetched
            run.progress_max = total
            run.progress = min(100.0, 100.0 * item["done"] / total) if total else 0.0
            if run.pages_total:
                run.progress_label = self.env._(
                    "%(done)s of %(total)s pages applied", done=item["done"], total=run.pages_total)
            elif run.all_fetched or not run.pages_fetched:
                run.progress_label = self.env._(
                    "%(done)s of %(total)s pages applied", done=item["done"], total=run.pages_fetched)
            else:
                run.progress_label = self.env._(
                    "%(done)s of %(fetched)s pages fetched so far applied (total not known yet)",
                    done=item["done"], fetched=run.pages_fetched)
            finished = run.all_fetched and not item["pending"]
            run.finished_at = item["last"] if finished else False
            end = run.finished_at or (run.fetched_at if run.state != runs.RUNNING else fields.Datetime.now())
            run.duration = (end - run.started_at).total_seconds() if end and run.started_at else 0.0

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "changed_since" not in vals and vals.get("flow_id"):
                vals["changed_since"] = self.env["hc.flow"].browse(vals["flow_id"])._changed_since_value()
        return super().create(vals_list)

    # --- running -------------------------------------------------------------------------------
    def _enqueue_fetch(self):
        for run in self:
            # Whoever pressed Pull now, the fetch acts with the backend's integration user's rights.
            run.with_user(run.backend_id._job_user()).with_delay(
                priority=run.flow_id.priority,
                channel=run.flow_id.channel,
                identity_key=f"hc.batch.run:{run.id}:{run.checkpoint or ''}",
                max_retries=run.flow_id.max_attempts,
                description=f"Fetch page {run.pages_fetched + 1} of {run.flow_id.display_name}",
            )._job_fetch_page(run.checkpoint or False)

    def _job_fetch_page(self, checkpoint):
        """Fetch one page, store it as a message, enqueue its processing and the next fetch.

        The page is fetched through the backend's transport (``fetch_page``) with the flow's page
        contract, so nothing here depends on the protocol. Whatever goes wrong that another attempt
        cannot fix ends the run *failed* with the reason: a run left *running* would block every
        later pull of its flow.
        """
        self.ensure_one()
        if self.state != runs.RUNNING or (self.checkpoint or False) != (checkpoint or False):
            return "stale: the run moved on or stopped"
        flow = self.flow_id
        number = self.pages_fetched + 1
        try:
            page = self._fetch_page(checkpoint)
        except TransportError as exc:
            flow.backend_id._sync_breaker_state()
            attempt = current_job_attempt(self.env)
            # Reading a page again is harmless: a truncated or garbled answer is worth another try.
            if (exc.transient or exc.category == "invalid_response") and attempt < flow.max_attempts:
                raise RetryableJobError(exc.user_message, seconds=exc.retry_after) from exc
            return self._fail(self.env._("Page %(page)s: %(error)s", page=number, error=exc.user_message))
        except (UserError, ValidationError) as exc:
            return self._fail(self.env._("Page %(page)s: %(error)s", page=number, error=exc.args[0]))
        except Exception as exc:  # noqa: BLE001 - anything else must not leave the run running
            _logger.exception("Batch run %s: fetching page %s failed", self.id, number)
            return self._fail(self.env._(
                "Page %(page)s could not be fetched: %(type)s: %(error)s",
                page=number, type=type(exc).__name__, error=str(exc)[:500],
            ))
        try:
            with self.env.cr.savepoint():
                return self._store_page(page)
        except (RetryableJobError, psycopg2.OperationalError):
            raise  # a lock or serialization conflict: queue_job runs the job again
        except Exception as exc:  # noqa: BLE001 - nothing of the page is kept; the run says why
            _logger.exception("Batch run %s: storing page %s failed", self.id, number)
            return self._fail(self.env._(
                "Page %(page)s could not be stored: %(type)s: %(error)s",
                page=number, type=type(exc).__name__, error=str(exc)[:500],
            ))

    def _fetch_page(self, checkpoint):
        """One page from the backend's transport (its ``fetch_page``), by the flow's page contract."""
        flow = self.flow_id
        client = flow.backend_id._get_client()
        fetch = getattr(client, "fetch_page", None)
        if fetch is None:
            raise UserError(self.env._(
                "Backend %(backend)s (%(protocol)s) cannot list records page by page: flow %(flow)s "
                "cannot be pulled from it.",
                backend=flow.backend_id.display_name, protocol=flow.backend_id.protocol, flow=flow.name,
            ))
        contract = flow._paging_contract(since=self.changed_since or None)
        return fetch(flow.remote_resource, contract, json.loads(checkpoint) if checkpoint else None)

    def _store_page(self, page):
        """Store the records of ``page`` as one message and move the checkpoint on (one transaction)."""
        vals = {"fetched_at": fields.Datetime.now()}
        pages = self.pages_fetched
        if page.records:
            pages += 1
            vals["pages_fetched"] = pages
            self.env["hc.message"]._receive_page(
                self, page.records, page_number=pages, correlation_id=page.correlation_id or None,
            )
        if page.next is None:
            vals.update(all_fetched=True, state=runs.DONE, checkpoint=False, pages_total=pages)
            self.write(vals)
            self._advance_watermark()
            self._on_finished()
            return f"last page ({len(page.records)} records)"
        if page.remaining_pages is not None:
            vals["pages_total"] = pages + page.remaining_pages
        vals["checkpoint"] = json.dumps(page.next)
        self.write(vals)
        self._enqueue_fetch()
        return f"page of {len(page.records)} records"

    def _fail(self, message):
        self.write({"state": runs.FAILED, "error_message": message})
        self._on_failed()
        return message

    # --- hooks ----------------------------------------------------------------------------------
    def _on_finished(self):
        """Every page of these runs is fetched and stored (their page messages may still be
        processing). Called in the transaction that stored the last page; extensions add what
        follows a complete pull."""

    def _on_failed(self):
        """These runs stopped before their last page: failed (``error_message`` says why) or
        cancelled. Called by a failing page, *Cancel* and the watchdog alike."""

    def _on_resumed(self):
        """These runs continue from their checkpoint (*Resume* or the watchdog)."""

    def _advance_watermark(self):
        """Every page of the run is stored: the next pull of the flow asks for what changed since
        this one started (a failed or cancelled run never moves it)."""
        for run in self.filtered(lambda r: r.state == runs.DONE and r.all_fetched):
            flow = run.flow_id.sudo()
            if not flow.changed_since_watermark or flow.changed_since_watermark < run.started_at:
                flow.changed_since_watermark = run.started_at

    # --- actions ------------------------------------------------------------------------------------
    def action_cancel(self):
        running = self.filtered(lambda r: r.state == runs.RUNNING)
        running.write({"state": runs.CANCELLED})
        running._on_failed()

    def action_resume(self):
        """Continue a cancelled or failed run from its last stored page."""
        for run in self:
            if not run.can_resume:
                raise UserError(self.env._("Only an unfinished cancelled or failed run can be resumed."))
            run.write({"state": runs.RUNNING, "trigger": "resume", "error_message": False})
            run._on_resumed()
            run._enqueue_fetch()

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_message_action")
        action["domain"] = [("batch_run_id", "=", self.id)]
        return action

    # --- watchdog -----------------------------------------------------------------------------------
    @api.model
    def _stuck_minutes(self):
        """Minutes without a page fetched after which a run with no job left is stuck."""
        return int(self.env["ir.config_parameter"].sudo().get_param("hc_integration_base.stuck_run_minutes", 30))

    @api.model
    def _live_jobs(self, model_name, method_name, records):
        """``{record id: job}`` of the jobs of ``method_name`` on ``records`` still to run, and
        ``{record id: job}`` of their latest finished ones (one query each)."""
        Job = self.env["queue.job"].sudo()
        domain = [("model_name", "=", model_name), ("method_name", "=", method_name)]
        live, last = {}, {}
        for job in Job.search(domain + [("state", "in", LIVE_JOB_STATES)]):
            for rid in set(job.records.ids) & set(records.ids):
                live[rid] = job
        for job in Job.search(domain + [("state", "not in", LIVE_JOB_STATES)], order="id desc", limit=1000):
            for rid in set(job.records.ids) & set(records.ids):
                last.setdefault(rid, job)
        return live, last

    @api.model
    def _cron_watchdog(self):
        """End or resume the runs left *running* that fetched no page for ``stuck_run_minutes`` and
        have no fetch job left to run: resumed once from their checkpoint when their last job
        vanished, failed when it failed or when a resumed run is stuck again. Each failure gives
        the backend's responsible an activity on the run."""
        minutes = self._stuck_minutes()
        limit = fields.Datetime.now() - timedelta(minutes=minutes)
        stuck = self.search([
            ("state", "=", runs.RUNNING),
            "|", ("fetched_at", "<", limit), "&", ("fetched_at", "=", False), ("started_at", "<", limit),
        ])
        if not stuck:
            return
        live, last = self._live_jobs(self._name, "_job_fetch_page", stuck)
        for run in stuck:
            if run.id in live:
                continue
            job = last.get(run.id)
            stuck_again = run.watchdog_resumed_at and (run.fetched_at or run.started_at) <= run.watchdog_resumed_at
            if job and job.state == FAILED:
                reason = self.env._(
                    "No page fetched for %(minutes)s minutes: the job fetching page %(page)s failed (%(error)s).",
                    minutes=minutes, page=run.pages_fetched + 1, error=job.exc_message or job.exc_name or "-",
                )
            elif stuck_again:
                reason = self.env._(
                    "No page fetched for %(minutes)s minutes, again after the watchdog resumed the run.",
                    minutes=minutes)
            else:
                run.write({"watchdog_resumed_at": fields.Datetime.now()})
                run.message_post(body=self.env._(
                    "No page fetched for %(minutes)s minutes and no job left to fetch page %(page)s: "
                    "resumed from the last stored page.", minutes=minutes, page=run.pages_fetched + 1))
                run._on_resumed()
                run._enqueue_fetch()
                continue
            run._fail(reason)
            run._alert_owner(self.env._("Pull failed: %s", run.flow_id.name), reason)

    def _owner(self):
        """Who answers for this run: the backend's responsible (or the first of its group)."""
        self.ensure_one()
        backend = self.backend_id
        return backend.responsible_user_id or backend.responsible_group_id.user_ids[:1]

    def _alert_owner(self, summary, note):
        self.ensure_one()
        user = self._owner()
        if user:
            self.sudo().activity_schedule("mail.mail_activity_data_todo", summary=summary[:100], note=note,
                                          user_id=user.id)
        else:
            self.message_post(body=note)
