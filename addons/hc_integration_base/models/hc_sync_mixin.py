import json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from ..lifecycle import DUPLICATE, IGNORED, NEEDS_PERSON, PENDING, RETRYABLE, TERMINAL, runs
from ..payload.inbound import json_path_value

SYNC_STATES = [
    ("in_sync", "In sync"),
    ("pending", "Pending"),
    ("failed", "Sync failed"),
    ("never", "Never synced"),
]
# A record's sync status from its latest message: ended for good → in sync, a job will still
# process it → pending, waiting for a person → failed.
MESSAGE_TO_SYNC = {
    **dict.fromkeys(TERMINAL, "in_sync"),
    **dict.fromkeys(PENDING, "pending"),
    **dict.fromkeys(NEEDS_PERSON, "failed"),
}


class HcSyncMixin(models.AbstractModel):
    """Sync status of a business record, from the latest integration message about it.

    A record applied by a paged pull has no message of its own: its binding says when it was
    last applied, and a page that could not apply it names its external id among the page's
    errors (the page message's response): such a record is *Sync failed* until a later exchange
    succeeds.

    Inherit it on any model (partners, products, purchase orders, pickings) to get a status
    badge, the last sync time, a smart button to the messages, *Resync* and a *Sync failed*
    search filter (``hc_sync_state = 'failed'``).
    """

    _name = "hc.sync.mixin"
    _description = "Integration Sync Status"

    hc_sync_state = fields.Selection(
        SYNC_STATES,
        string="Sync status",
        compute="_compute_hc_sync",
        search="_search_hc_sync_state",
        help="State of the latest exchange about this record with a legacy system.",
    )
    hc_last_sync = fields.Datetime("Last sync", compute="_compute_hc_sync")
    hc_message_count = fields.Integer("Integration messages", compute="_compute_hc_sync")
    hc_sync_error = fields.Char("Sync error", compute="_compute_hc_sync")

    def _hc_latest_messages_sql(self):
        return SQL(
            "SELECT DISTINCT ON (res_id) res_id, state, done_at, id FROM hc_message "
            "WHERE res_model = %s AND state != %s ORDER BY res_id, id DESC",
            self._name, DUPLICATE,
        )

    def _hc_page_failures(self, ids=None):
        """``{res_id: (done_at, error, page message id, external id)}``: records of this model (of
        ``ids``, or all) that the latest page naming them could not apply, since their binding
        was last applied. One query; the text match is confirmed on the parsed response."""
        self.env["hc.message"].flush_model()
        self.env["hc.binding"].flush_model()
        rows = self.env.execute_query(SQL(
            """SELECT b.res_id, b.external_id, m.id, m.done_at, m.response
                 FROM hc_binding b
                 JOIN hc_flow f ON f.backend_id = b.backend_id AND f.model_name = b.res_model
                 JOIN hc_message m ON m.flow_id = f.id AND m.batch_run_id IS NOT NULL AND m.response IS NOT NULL
                  AND m.done_at >= b.last_sync
                  AND strpos(m.response, %(marker)s || to_json(b.external_id)::text) > 0
                WHERE b.res_model = %(model)s AND (%(all)s OR b.res_id = ANY(%(ids)s))
             ORDER BY b.res_id, m.id DESC""",
            marker='"external_id": ', model=self._name, all=ids is None, ids=list(ids or []),
        ))
        failures = {}
        for res_id, external_id, message_id, done_at, response in rows:
            if res_id in failures:
                continue
            try:
                errors = json.loads(response)
            except ValueError:
                continue
            error = next((e.get("error") for e in errors if isinstance(e, dict)
                          and str(e.get("external_id")) == external_id), None) if isinstance(errors, list) else None
            if error is not None:
                failures[res_id] = (done_at, error, message_id, external_id)
        return failures

    def _hc_latest_direct(self, ids):
        """``{res_id: (message state, done_at, message id)}`` of the latest message about each record."""
        self.env["hc.message"].flush_model()
        self.env.cr.execute(
            SQL("SELECT * FROM (%s) latest WHERE res_id = ANY(%s)", self._hc_latest_messages_sql(), list(ids))
        )
        return {rid: (state, done, mid) for rid, state, done, mid in self.env.cr.fetchall()}

    @staticmethod
    def _hc_page_failure_wins(direct, page_message_id):
        """Whether a page failure decides the status over the latest direct message ``direct``:
        unless that one is pending or failed itself, or came after the page (a resync)."""
        if not direct:
            return True
        state, _done, message_id = direct
        if MESSAGE_TO_SYNC.get(state) in ("pending", "failed"):
            return False
        return message_id < page_message_id

    @api.depends_context("uid")
    def _compute_hc_sync(self):
        ids = [rid for rid in self.ids if isinstance(rid, int)]
        latest, counts, page_failures = {}, {}, {}
        if ids:
            latest = self._hc_latest_direct(ids)
            page_failures = self._hc_page_failures(ids)
            self.env.cr.execute(
                SQL(
                    "SELECT res_id, count(*) FROM hc_message WHERE res_model = %s "
                    "AND res_id = ANY(%s) GROUP BY res_id",
                    self._name,
                    ids,
                )
            )
            counts = dict(self.env.cr.fetchall())
        # Records applied by a paged pull have no message of their own: their binding says when.
        bound = {}
        if ids:
            for res_id, last in self.env["hc.binding"].sudo()._read_group(
                [("res_model", "=", self._name), ("res_id", "in", ids)], ["res_id"], ["last_sync:max"]
            ):
                bound[res_id] = last
        for record in self:
            state, done, _mid = latest.get(record.id, (None, False, 0))
            sync = MESSAGE_TO_SYNC.get(state)
            if not sync:
                sync = "in_sync" if record.id in bound else "never"
            error = False
            page_failure = page_failures.get(record.id)
            if page_failure and self._hc_page_failure_wins(latest.get(record.id), page_failure[2]):
                sync = "failed"
                error = self.env._("Page message %(id)s could not apply it: %(error)s",
                                   id=page_failure[2], error=page_failure[1])
            record.hc_sync_state = sync
            record.hc_sync_error = error
            record.hc_last_sync = max(filter(None, [done, bound.get(record.id)]), default=False)
            record.hc_message_count = counts.get(record.id, 0)

    def _search_hc_sync_state(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Unsupported search on the sync status."))
        wanted = {value} if isinstance(value, str) else set(value or ())
        message_states = [m for m, s in MESSAGE_TO_SYNC.items() if s in wanted]
        self.env["hc.message"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT res_id FROM (%s) latest WHERE state = ANY(%s)",
                self._hc_latest_messages_sql(),
                message_states or [""],
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        positive = operator in ("=", "in")
        page_failures = self._hc_page_failures()
        latest = self._hc_latest_direct(page_failures) if page_failures else {}
        page_failed = [rid for rid, (_done, _error, page_id, _ext) in page_failures.items()
                       if self._hc_page_failure_wins(latest.get(rid), page_id)]
        if wanted & {"in_sync", "never"}:
            # Bound records without any message of their own are in sync (applied by a paged pull).
            self.env.cr.execute(
                SQL(
                    "SELECT b.res_id FROM hc_binding b WHERE b.res_model = %s AND NOT EXISTS "
                    "(SELECT 1 FROM hc_message m WHERE m.res_model = b.res_model AND m.res_id = b.res_id)",
                    self._name,
                )
            )
            bound_only = [row[0] for row in self.env.cr.fetchall()]
            if "in_sync" in wanted:
                ids += bound_only
        else:
            bound_only = []
        if "never" in wanted:
            self.env.cr.execute(
                SQL("SELECT DISTINCT res_id FROM hc_message WHERE res_model = %s", self._name)
            )
            synced = [row[0] for row in self.env.cr.fetchall()] + bound_only
            domain = Domain("id", "in", ids) | Domain("id", "not in", synced)
        else:
            domain = Domain("id", "in", ids)
        # A record a page could not apply is failed, whatever its binding or older messages say.
        if "failed" in wanted:
            domain |= Domain("id", "in", page_failed)
        else:
            domain &= Domain("id", "not in", page_failed)
        return domain if positive else ~domain

    # --- ownership ------------------------------------------------------------------------------
    def _hc_owning_flows(self, field_names):
        """Legacy-owned flows that fill one of ``field_names`` of these records: (flow, fields)."""
        bindings = self.env["hc.binding"].sudo().search(
            [("res_model", "=", self._name), ("res_id", "in", [i for i in self.ids if isinstance(i, int)])]
        )
        if not bindings:
            return []
        flows = self.env["hc.flow"].sudo().search([
            ("backend_id", "in", bindings.backend_id.ids), ("model_name", "=", self._name),
            ("system_of_record", "=", "legacy"), ("direction", "in", ("pull", "inbound")),
        ])
        found = []
        for flow in flows:
            owned = flow._owned_fields() & set(field_names)
            if owned:
                found.append((flow, owned))
        return found

    def _hc_ownership_sentence(self, flow, owned):
        labels = ", ".join(sorted(self._fields[f].string for f in owned if f in self._fields))
        return self.env._(
            "%(fields)s of this record come from %(system)s (flow %(flow)s), which owns them: a change made "
            "here is overwritten by the next sync. Change it in %(system)s instead.",
            fields=labels, system=flow.backend_id.name, flow=flow.name,
        )

    def _hc_check_owned_write(self, vals):
        """Refuse a person's change of a field a read-only legacy flow fills (the sync's own writes pass)."""
        if not self.env.context.get("hc_sync_apply") and not self.env.su:
            for flow, owned in self._hc_owning_flows(vals):
                if flow.ownership_policy == "block":
                    raise UserError(self._hc_ownership_sentence(flow, owned))

    def write(self, vals):
        self._hc_check_owned_write(vals)
        return super().write(vals)

    def onchange(self, values, field_names, fields_spec):
        result = super().onchange(values, field_names, fields_spec)
        if self.ids and field_names:
            for flow, owned in self._hc_owning_flows(field_names):
                result.setdefault("warning", {
                    "title": self.env._("Owned by %s", flow.backend_id.name),
                    "message": self._hc_ownership_sentence(flow, owned),
                })
        return result

    def _hc_on_pushed(self, message):
        """Event: ``message`` sent this record and its answer is recorded (the push handler ran
        without failing), in the job's transaction and with its rights. Domain addons implement
        it to follow up on a push of another addon's handler instead of inheriting the handler."""

    def _hc_messages_domain(self):
        return [("res_model", "=", self._name), ("res_id", "in", self.ids)]

    def action_hc_view_messages(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_message_action")
        action["domain"] = self._hc_messages_domain()
        action["context"] = {}
        return action

    def action_hc_resync(self):
        """Sync these records again once the cause of a failure is fixed.

        Failed inbound messages are retried as they are; a record a page could not apply is
        applied again alone, from that page's stored item; what Odoo sends is built again from
        the record as it is now (the failed outbound messages are closed as superseded), and a
        record a legacy system owns is fetched again by the flow pulling it. Anyone who may
        change the records may resync them; the messages are handled with the integration's
        rights.
        """
        self.check_access("write")
        failed = self.env["hc.message"].sudo().search(
            self._hc_messages_domain() + [("state", "in", RETRYABLE)]
        )
        inbound = failed.filtered(lambda m: m.direction == "inbound")
        if inbound:
            inbound._retry()
        done = self.browse(inbound.mapped("res_id"))
        reapplied = (self - done)._hc_reapply_page_failures()
        resend = self - done - reapplied
        notes = []
        if inbound:
            notes.append(self.env._("%s failed message(s) queued again.", len(inbound)))
        if reapplied:
            notes.append(self.env._("%s record(s) applied again from the page that failed them.", len(reapplied)))
        if resend:
            note = resend._hc_resync()
            superseded = failed - inbound
            superseded.write({"state": IGNORED, "ignore_reason": self.env._("Superseded by a resync.")})
            if isinstance(note, str):
                notes.append(note)
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"title": self.env._("Resync"), "message": " ".join(notes) or self.env._("Resync started."),
                       "type": "success", "next": {"type": "ir.actions.act_window_close"}},
        }

    def _hc_reapply_page_failures(self):
        """Records a page could not apply, queued again alone as an inbound message of the page's
        flow, with their item from the page's payload. Returns the records queued."""
        failures = self._hc_page_failures(self.ids) if self.ids else {}
        Message = self.env["hc.message"].sudo()
        queued = self.browse()
        for record in self:
            failure = failures.get(record.id)
            if not failure:
                continue
            page = Message.browse(failure[2])
            flow = page.flow_id
            try:
                items = json.loads(page.sudo().payload_raw or page.payload or "null")
            except ValueError:
                items = None
            path = flow.external_id_path or "id"
            item = next((i for i in items if isinstance(i, dict) and str(json_path_value(i, path)) == failure[3]),
                        None) if isinstance(items, list) else None
            if item is None:
                continue  # the page's payload was purged: fetched again below (_hc_resync)
            # Its binding (through which the failure was found) names the record.
            Message._receive_post(page.backend_id, flow, item, external_id=failure[3])
            queued |= record
        return queued

    def _hc_resync(self):
        """Send these records again through a push flow of their model, or else fetch them again
        through the pull flow of the backend they come from. Models whose handler sends them
        another way override this. Returns a sentence saying what was done."""
        Flow = self.env["hc.flow"].sudo()
        pushes = Flow.search([
            ("model_name", "=", self._name), ("direction", "=", "push"), ("backend_id.active", "=", True),
            ("system_of_record", "!=", "legacy"),
        ])
        if pushes:
            for flow in pushes:
                flow._push_records(self)
            return self.env._("Sent again through %s.", ", ".join(pushes.mapped("display_name")))
        bindings = self.env["hc.binding"].sudo().search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
        all_pulls = Flow.search([
            ("model_name", "=", self._name), ("direction", "=", "pull"), ("backend_id.active", "=", True),
            ("remote_resource", "!=", False),
        ])
        pulls = all_pulls.filtered(lambda f: f.backend_id in bindings.backend_id)
        unbound = self - self.browse(bindings.mapped("res_id"))
        if pulls and not unbound:
            started = []
            for flow in pulls:
                if not flow.batch_run_ids.filtered(lambda r: r.state == runs.RUNNING):
                    flow.with_context(hc_trigger="manual").action_pull_now()
                started.append(flow.display_name)
            return self.env._(
                "Fetching again through %s: each pull brings what changed in the legacy system since the last one.",
                ", ".join(started))
        model = self.env["ir.model"]._get(self._name).name
        if unbound and all_pulls:
            reason = self.env._("%(records)s came from no legacy system: flow %(flows)s cannot fetch them.",
                                records=", ".join(unbound.mapped("display_name")),
                                flows=", ".join(all_pulls.mapped("display_name")))
        else:
            reason = self.env._(
                "Nothing can resync %(records)s: no active flow sends %(model)s to a legacy system, and none "
                "pulls them from one (they have no failed exchange to retry).",
                records=", ".join(self.mapped("display_name")), model=model)
        raise UserError(reason)
