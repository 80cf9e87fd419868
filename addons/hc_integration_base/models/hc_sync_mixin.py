from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

SYNC_STATES = [
    ("in_sync", "In sync"),
    ("pending", "Pending"),
    ("failed", "Sync failed"),
    ("never", "Never synced"),
]
MESSAGE_TO_SYNC = {
    "done": "in_sync",
    "duplicate": "in_sync",
    "ignored": "in_sync",
    "new": "pending",
    "queued": "pending",
    "processing": "pending",
    "failed_retrying": "pending",
    "exception": "failed",
}


class HcSyncMixin(models.AbstractModel):
    """Sync status of a business record, from the latest integration message about it.

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

    def _hc_latest_messages_sql(self):
        return SQL(
            "SELECT DISTINCT ON (res_id) res_id, state, done_at FROM hc_message "
            "WHERE res_model = %s AND state != 'duplicate' ORDER BY res_id, id DESC",
            self._name,
        )

    @api.depends_context("uid")
    def _compute_hc_sync(self):
        ids = [rid for rid in self.ids if isinstance(rid, int)]
        latest, counts = {}, {}
        if ids:
            self.env["hc.message"].flush_model()
            self.env.cr.execute(
                SQL(
                    "SELECT * FROM (%s) latest WHERE res_id = ANY(%s)",
                    self._hc_latest_messages_sql(),
                    ids,
                )
            )
            latest = {rid: (state, done) for rid, state, done in self.env.cr.fetchall()}
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
            state, done = latest.get(record.id, (None, False))
            sync = MESSAGE_TO_SYNC.get(state)
            if not sync:
                sync = "in_sync" if record.id in bound else "never"
            record.hc_sync_state = sync
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
            domain = ["|", ("id", "in", ids), ("id", "not in", synced)]
            return domain if positive else ["!", *domain]
        return [("id", "in" if positive else "not in", ids)]

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

    def write(self, vals):
        if not self.env.context.get("hc_sync_apply") and not self.env.su:
            for flow, owned in self._hc_owning_flows(vals):
                if flow.ownership_policy == "block":
                    raise UserError(self._hc_ownership_sentence(flow, owned))
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

    def _hc_messages_domain(self):
        return [("res_model", "=", self._name), ("res_id", "in", self.ids)]

    def action_hc_view_messages(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_message_action")
        action["domain"] = self._hc_messages_domain()
        action["context"] = {}
        return action

    def action_hc_resync(self):
        """Sync these records again once the cause of a failure is fixed.

        Failed inbound messages are retried as they are; what Odoo sends is built again from
        the record as it is now (the failed outbound messages are closed as superseded).
        Anyone who may change the records may resync them; the messages are handled with the
        integration's rights.
        """
        self.check_access("write")
        failed = self.env["hc.message"].sudo().search(
            self._hc_messages_domain() + [("state", "in", ("exception", "failed_retrying"))]
        )
        inbound = failed.filtered(lambda m: m.direction == "inbound")
        if inbound:
            inbound._retry()
        resend = self - self.browse(inbound.mapped("res_id"))
        if resend:
            resend._hc_resync()
            superseded = failed - inbound
            superseded.write({"state": "ignored", "ignore_reason": self.env._("Superseded by a resync.")})
        return True

    def _hc_resync(self):
        """Send these records again; models whose handler can export them override this."""
        raise UserError(
            self.env._("Nothing to resync: %s has no failed exchange.", ", ".join(self.mapped("display_name")))
        )
