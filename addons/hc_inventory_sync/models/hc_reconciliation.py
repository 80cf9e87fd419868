import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.hc_integration_base.lifecycle import PENDING, SET_ASIDE, runs
from odoo.addons.queue_job.job import FAILED

from .. import reconciliation_states as states

_logger = logging.getLogger(__name__)

LINE_ISSUES = [
    ("quantity", "Quantity differs"),
    ("expired", "Expired lot in stock"),
    ("unknown_item", "Unknown item"),
    ("unknown_location", "Unknown location"),
]


class HcReconciliation(models.Model):
    """One comparison of the legacy system's stock balances with Odoo's quants.

    The balances arrive page by page (one job per page, staged in ``hc.stock.balance``); the
    comparison starts when the pull is complete and every page is staged, whichever comes last
    (the page job staging the last page, or the end of the pull: an empty pull or a trailing
    empty page), and runs in one SQL statement, so memory does not grow with the number of
    balances. A page in exception fails it (retrying the page revives it); the watchdog
    (``_cron_watchdog``) ends or resumes what is left behind. Each discrepancy is a line the steward applies as an
    inventory adjustment (Odoo's inventory mode) or dismisses with a reason.
    """

    _name = "hc.reconciliation"
    _description = "Stock Reconciliation"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, copy=False, default=lambda self: self.env._("New"))
    flow_id = fields.Many2one("hc.flow", required=True, ondelete="cascade", index=True, readonly=True)
    backend_id = fields.Many2one(related="flow_id.backend_id", store=True)
    company_id = fields.Many2one(related="flow_id.company_id", store=True)
    batch_run_id = fields.Many2one("hc.batch.run", readonly=True, ondelete="set null", index=True)
    message_id = fields.Many2one(
        "hc.message", "Message", readonly=True, ondelete="set null", index="btree_not_null",
        help="The inbound message whose balances this reconciliation compares (a flow reconciling each message).")
    scope = fields.Selection(
        [("all", "Every item the system knows"), ("listed", "The items of the message")], default="all",
        required=True, readonly=True,
        help="Every item: Odoo's stock of each item bound to the backend counts, so an item missing from the "
        "balances is a difference (a full pull). The items of the message: only the items the balances name are "
        "compared (a message reporting some items).")
    user_id = fields.Many2one("res.users", "Steward", default=lambda self: self.env.user, tracking=True)
    state = fields.Selection(
        states.STATES, default=states.RUNNING, required=True, readonly=True, tracking=True, index=True,
    )
    # reconciliation_states' sets as a flag, for views (which never spell a set of states out).
    is_in_progress = fields.Boolean(
        compute="_compute_is_in_progress", help="Fetching or comparing balances: no result yet.")
    date = fields.Datetime("Run date", default=fields.Datetime.now, readonly=True)
    compared_at = fields.Datetime(readonly=True)
    pages_staged = fields.Integer(readonly=True)
    progress = fields.Float(compute="_compute_progress", help="Share of balance pages fetched and staged.")
    balance_count = fields.Integer("Balances compared", readonly=True)
    line_ids = fields.One2many("hc.reconciliation.line", "reconciliation_id", string="Discrepancies")
    discrepancy_count = fields.Integer("Quantity differences", readonly=True)
    open_count = fields.Integer("Open lines", compute="_compute_line_counts")
    expired_count = fields.Integer("Expired lots", readonly=True)
    unknown_count = fields.Integer("Unknown codes", readonly=True)
    value_total = fields.Monetary("Value of differences", readonly=True, currency_field="currency_id",
                                  help="Sum of the absolute values of the quantity differences at cost.")
    currency_id = fields.Many2one(related="company_id.currency_id")
    error_message = fields.Text(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("hc.reconciliation") or "/"
        return super().create(vals_list)

    @api.depends("batch_run_id.progress", "state", "pages_staged")
    def _compute_progress(self):
        for rec in self:
            if rec.state in states.FETCHED:
                rec.progress = 100.0 if rec.state == states.DONE else 99.0
                continue
            run = rec.batch_run_id
            total = run.pages_total or (run.pages_fetched if run.all_fetched else 0)
            rec.progress = min(98.0, 100.0 * rec.pages_staged / total) if total else 0.0

    @api.depends("state")
    def _compute_is_in_progress(self):
        for rec in self:
            rec.is_in_progress = rec.state in states.IN_PROGRESS

    @api.depends("line_ids.state")
    def _compute_line_counts(self):
        counts = dict(self.env["hc.reconciliation.line"]._read_group(
            [("reconciliation_id", "in", self.ids), ("state", "=", "open")], ["reconciliation_id"], ["__count"]))
        for rec in self:
            rec.open_count = counts.get(rec, 0)

    # --- staging -------------------------------------------------------------------------------
    def _stage_page(self, rows):
        """Store one page of balances; the page that completes the pull starts the comparison."""
        self.ensure_one()
        # Counting on the reconciliation row serializes concurrent pages: the later one fails with a
        # serialization error and queue_job runs it again on a snapshot that sees the other page.
        self.env.cr.execute(SQL(
            "UPDATE hc_reconciliation SET pages_staged = coalesce(pages_staged, 0) + 1 WHERE id = %s", self.id))
        self.env["hc.stock.balance"].create([{**row, "reconciliation_id": self.id} for row in rows])
        self.invalidate_recordset(["pages_staged"])
        self._compare_if_complete()

    def _stage_message(self, rows):
        """Store the balances of a message reconciled on its own, and start the comparison: one
        message is the whole of it."""
        self.ensure_one()
        self.env["hc.stock.balance"].create([{**row, "reconciliation_id": self.id} for row in rows])
        self.write({"pages_staged": 1})
        self._start_compare()

    def _compare_if_complete(self):
        """Start the comparison if the pull is complete and each of its pages is staged."""
        for rec in self:
            run = rec.batch_run_id
            run.invalidate_recordset()
            if run.all_fetched and rec.pages_staged >= len(run.page_message_ids):
                rec._start_compare()

    def _start_compare(self):
        self.ensure_one()
        self.write({"state": states.COMPARING, "error_message": False})
        self.with_delay(
            channel=self.flow_id.channel, identity_key=f"hc.reconciliation:{self.id}:compare",
            description=f"Compare {self.name} with Odoo's stock",
        )._job_compare()

    def _on_pull_finished(self):
        """The balance pull stored its last page (batch run hook). Its last page may have been
        empty, or the pull empty, so no page job is left to start the comparison: start it here
        when every page is staged. The row update serializes this with a page job staging
        concurrently: one of the two transactions is retried and sees the other's work."""
        if not self:
            return
        self.env.cr.execute(SQL(
            "UPDATE hc_reconciliation SET pages_staged = coalesce(pages_staged, 0) WHERE id = ANY(%s)", self.ids))
        self.invalidate_recordset(["pages_staged"])
        self._compare_if_complete()

    def _on_page_failed(self, message):
        """A page of the balance pull went to the exception queue: comparing without it would
        report its balances as differences. Retrying the page revives the reconciliation."""
        for rec in self.filtered(lambda r: r.state == states.RUNNING):
            rec._fail(self.env._(
                "Page %(page)s of the balance pull is in the exception queue (message %(id)s): %(error)s "
                "Retry it once its cause is fixed and the comparison starts.",
                page=message.page_number, id=message.id, error=message.error_message or ""))

    def _fail(self, reason, alert=True):
        for rec in self:
            rec.write({"state": states.FAILED, "error_message": reason})
            if alert:
                rec._alert_steward(self.env._("Reconciliation %s failed", rec.name), reason)

    def _steward(self):
        self.ensure_one()
        backend = self.backend_id
        return (self.flow_id.hc_steward_id or backend.responsible_user_id
                or backend.responsible_group_id.user_ids[:1] or self.user_id)

    def _alert_steward(self, summary, note):
        self.ensure_one()
        self.activity_schedule("mail.mail_activity_data_todo", summary=summary[:100], note=note,
                               user_id=self._steward().id or self.env.uid)

    # --- watchdog -----------------------------------------------------------------------------------
    @api.model
    def _cron_watchdog(self, minutes):
        """Reconciliations left behind for ``minutes``: *running* although their pull stopped and
        no page is left to process, or *comparing* with no comparison job left. Compared when
        every page is staged; else failed, naming the pages missing, with an activity for the
        steward. A comparison whose job failed is failed with the job's error; one whose job
        vanished is started again."""
        limit = fields.Datetime.now() - timedelta(minutes=minutes)
        Message = self.env["hc.message"].sudo()
        for rec in self.search([("state", "=", states.RUNNING)]):
            run = rec.batch_run_id
            if not run or run.state == runs.RUNNING or (run.fetched_at or run.started_at) >= limit:
                continue  # the run's own watchdog ends it first; its hooks move this one
            if run.state in runs.STOPPED:
                rec._fail(run.error_message or self.env._("The balance pull stopped before its last page."))
                continue
            if Message.search_count([("batch_run_id", "=", run.id), ("state", "in", PENDING)], limit=1):
                continue
            rec.invalidate_recordset(["pages_staged"])
            if rec.pages_staged >= len(run.page_message_ids):
                rec._start_compare()
                continue
            missing = Message.search([("batch_run_id", "=", run.id), ("state", "in", SET_ASIDE)])
            rec._fail(self.env._(
                "The balance pull ended %(minutes)s minutes ago, but only %(staged)s of its %(pages)s pages were "
                "staged; not processed: %(missing)s.",
                minutes=minutes, staged=rec.pages_staged, pages=len(run.page_message_ids),
                missing=", ".join(f"page {m.page_number} ({m.state})" for m in missing) or "-"))
        comparing = self.search([("state", "=", states.COMPARING), ("write_date", "<", limit)])
        if comparing:
            live, last = self.env["hc.batch.run"]._live_jobs(self._name, "_job_compare", comparing)
            for rec in comparing:
                if rec.id in live:
                    continue
                job = last.get(rec.id)
                if job and job.state == FAILED:
                    rec._fail(self.env._("The comparison failed: %s", job.exc_message or job.exc_name or "-"))
                else:
                    rec.message_post(body=self.env._("No comparison job was left: started again."))
                    rec._start_compare()

    # --- comparison ------------------------------------------------------------------------------
    def _job_compare(self):
        self.ensure_one()
        if self.state != states.COMPARING:
            return f"nothing to do: {self.state}"
        self.env.flush_all()
        self._insert_lines()
        self._value_lines()
        stats = self.env.execute_query(SQL(
            """SELECT count(*) FILTER (WHERE issue = 'quantity'), count(*) FILTER (WHERE issue = 'expired'),
                      count(*) FILTER (WHERE issue IN ('unknown_item', 'unknown_location')),
                      coalesce(sum(abs(value)), 0), count(*)
                 FROM hc_reconciliation_line WHERE reconciliation_id = %s""", self.id))[0]
        balances = self.env.execute_query(SQL(
            "SELECT count(*) FROM hc_stock_balance WHERE reconciliation_id = %s", self.id))[0][0]
        self.write({
            "state": states.DONE, "compared_at": fields.Datetime.now(), "balance_count": balances,
            "discrepancy_count": stats[0], "expired_count": stats[1], "unknown_count": stats[2],
            "value_total": stats[3],
        })
        self._notify_large_differences()
        self._purge_older_staging()
        return f"{balances} balances, {stats[4]} lines"

    def _insert_lines(self):
        """Legacy balances against Odoo's quants, per product, mapped location and lot, in SQL.

        A quant counts for its nearest mapped location (the location itself or its closest parent
        in the code table legacy_location); Odoo's side covers the products the legacy system
        knows (in this run's balances, or bound to the backend when the scope is every item). Lines are written only for
        differences, expired lots with stock, and balances naming an unknown item or location."""
        table = self.env["hc.value.map"].sudo().search([("code", "=", "legacy_location")], limit=1)
        mapped_ids = list({e.res_id for e in table.entry_ids if e.res_id}) if table else []
        has_expiry = "expiration_date" in self.env["stock.lot"]._fields
        lot_expiry = SQL("lot.expiration_date::date") if has_expiry else SQL("NULL::date")
        today = fields.Date.context_today(self)
        uid = self.env.uid
        self.env.cr.execute(SQL(
            """
            WITH legacy AS (
                SELECT product_id, location_id, coalesce(lot_name, '') AS lot_name, sum(qty) AS qty,
                       min(expiry_date) AS expiry
                  FROM hc_stock_balance
                 WHERE reconciliation_id = %(rec)s AND product_id IS NOT NULL AND location_id IS NOT NULL
              GROUP BY 1, 2, 3
            ), mapped AS (
                SELECT id AS location_id, parent_path FROM stock_location WHERE id = ANY(%(mapped)s)
            ), known_products AS (
                SELECT product_id FROM legacy
                 UNION
                SELECT pp.id FROM product_product pp
                  JOIN hc_binding b ON %(every_item)s AND b.backend_id = %(backend)s AND (
                       (b.res_model = 'product.product' AND b.res_id = pp.id)
                    OR (b.res_model = 'product.template' AND b.res_id = pp.product_tmpl_id))
            ), quant_home AS (
                SELECT DISTINCT ON (q.id) q.id AS quant_id, m.location_id
                  FROM stock_quant q
                  JOIN stock_location ql ON ql.id = q.location_id
                  JOIN mapped m ON ql.parent_path LIKE m.parent_path || '%%'
              ORDER BY q.id, length(m.parent_path) DESC
            ), odoo AS (
                SELECT q.product_id, h.location_id, coalesce(lot.name, '') AS lot_name, sum(q.quantity) AS qty,
                       min(%(lot_expiry)s) AS expiry, min(q.lot_id) AS lot_id
                  FROM stock_quant q
                  JOIN quant_home h ON h.quant_id = q.id
                  JOIN known_products k ON k.product_id = q.product_id
             LEFT JOIN stock_lot lot ON lot.id = q.lot_id
              GROUP BY 1, 2, 3
            ), compared AS (
                SELECT coalesce(l.product_id, o.product_id) AS product_id,
                       coalesce(l.location_id, o.location_id) AS location_id,
                       coalesce(l.lot_name, o.lot_name) AS lot_name, o.lot_id,
                       coalesce(l.qty, 0) AS legacy_qty, coalesce(o.qty, 0) AS odoo_qty,
                       coalesce(l.expiry, o.expiry) AS expiry
                  FROM legacy l FULL OUTER JOIN odoo o
                    ON o.product_id = l.product_id AND o.location_id = l.location_id AND o.lot_name = l.lot_name
            )
            INSERT INTO hc_reconciliation_line (
                reconciliation_id, issue, state, product_id, location_id, lot_name, lot_id, legacy_qty, odoo_qty,
                difference, expiry_date, expired, create_uid, write_uid, create_date, write_date)
            SELECT %(rec)s,
                   CASE WHEN abs(legacy_qty - odoo_qty) > 0.00001 THEN 'quantity' ELSE 'expired' END,
                   'open', product_id, location_id, nullif(lot_name, ''), lot_id, legacy_qty, odoo_qty,
                   legacy_qty - odoo_qty, expiry, coalesce(expiry < %(today)s, false),
                   %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM compared
             WHERE abs(legacy_qty - odoo_qty) > 0.00001 OR (expiry < %(today)s AND legacy_qty > 0)
            """, rec=self.id, mapped=mapped_ids, lot_expiry=lot_expiry, today=today, uid=uid,
            backend=self.backend_id.id, every_item=self.scope == "all"))
        self.env.cr.execute(SQL(
            """
            INSERT INTO hc_reconciliation_line (
                reconciliation_id, issue, state, item_code, location_code, lot_name, legacy_qty, odoo_qty,
                difference, expired, create_uid, write_uid, create_date, write_date)
            SELECT %(rec)s, CASE WHEN product_id IS NULL THEN 'unknown_item' ELSE 'unknown_location' END, 'open',
                   item_code, location_code, nullif(lot_name, ''), sum(qty), 0, sum(qty), false,
                   %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM hc_stock_balance
             WHERE reconciliation_id = %(rec)s AND (product_id IS NULL OR location_id IS NULL)
          GROUP BY product_id IS NULL, item_code, location_code, lot_name
            """, rec=self.id, uid=uid))

    def _value_lines(self):
        """Value each difference at the product's cost, in SQL (the cost is company-dependent:
        a JSON object per company in product_product.standard_price)."""
        company = self.company_id or self.env.company
        self.env["product.product"].flush_model(["standard_price"])
        self.env.cr.execute(SQL(
            """UPDATE hc_reconciliation_line line
                  SET value = round((line.difference * coalesce((pp.standard_price ->> %(company)s)::numeric, 0))
                                    ::numeric, %(digits)s),
                      value_abs = abs(round((line.difference * coalesce((pp.standard_price ->> %(company)s)::numeric,
                                                                         0))::numeric, %(digits)s))
                 FROM product_product pp
                WHERE pp.id = line.product_id AND line.reconciliation_id = %(rec)s""",
            company=str(company.id), digits=company.currency_id.decimal_places, rec=self.id))
        # Lines were written in SQL: nothing cached about them may survive.
        self.env["hc.reconciliation.line"].invalidate_model()
        self.invalidate_recordset(["line_ids", "open_count"])

    def _notify_large_differences(self):
        threshold = self.flow_id.hc_large_difference_value
        if not threshold:
            return
        large = self.env["hc.reconciliation.line"].search_count(
            [("reconciliation_id", "=", self.id), ("issue", "=", "quantity"), ("value_abs", ">=", threshold)])
        if large:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("%s large stock differences to review", large),
                note=self.env._("%(n)s lines of %(name)s differ by %(amount)s or more at cost.",
                                n=large, name=self.name, amount=threshold),
                user_id=(self.flow_id.hc_steward_id or self.user_id or self.env.user).id,
            )

    def _purge_older_staging(self):
        older = self.search([("flow_id", "=", self.flow_id.id), ("id", "<", self.id), ("state", "=", states.DONE)])
        if older:
            self.env.cr.execute(SQL("DELETE FROM hc_stock_balance WHERE reconciliation_id = ANY(%s)", older.ids))

    # --- actions ---------------------------------------------------------------------------------------
    def action_view_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_inventory_sync.hc_reconciliation_line_action")
        action["domain"] = [("reconciliation_id", "=", self.id)]
        action["context"] = {"search_default_open": 1}
        return action

    def action_view_batch_run(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "hc.batch.run", "res_id": self.batch_run_id.id,
                "view_mode": "form"}

    def action_apply_all(self):
        self.line_ids.filtered(lambda ln: ln.state == "open" and ln.issue == "quantity").action_apply()


class HcReconciliationLine(models.Model):
    _name = "hc.reconciliation.line"
    _description = "Stock Reconciliation Line"
    _order = "reconciliation_id desc, value_abs desc, id"

    reconciliation_id = fields.Many2one("hc.reconciliation", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="reconciliation_id.company_id", store=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    issue = fields.Selection(LINE_ISSUES, required=True, readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("applied", "Applied"), ("dismissed", "Dismissed")],
        default="open", required=True, readonly=True, index=True,
    )
    product_id = fields.Many2one("product.product", readonly=True, index=True)
    location_id = fields.Many2one("stock.location", readonly=True)
    item_code = fields.Char("Legacy item code", readonly=True)
    location_code = fields.Char("Legacy location code", readonly=True)
    lot_name = fields.Char("Lot", readonly=True)
    lot_id = fields.Many2one("stock.lot", "Odoo lot", readonly=True)
    expiry_date = fields.Date(readonly=True)
    expired = fields.Boolean(readonly=True, help="The lot's expiry date has passed and the legacy system still "
                             "reports stock of it.")
    legacy_qty = fields.Float("Legacy quantity", digits="Product Unit", readonly=True)
    odoo_qty = fields.Float("Odoo quantity", digits="Product Unit", readonly=True)
    difference = fields.Float(digits="Product Unit", readonly=True, help="Legacy minus Odoo.")
    value = fields.Monetary(readonly=True, currency_field="currency_id", help="Difference at the product's cost.")
    value_abs = fields.Float(compute="_compute_value_abs", store=True)
    dismiss_reason = fields.Char(readonly=True)
    decided_by = fields.Many2one("res.users", readonly=True)
    decided_at = fields.Datetime(readonly=True)

    @api.depends("value")
    def _compute_value_abs(self):
        for line in self:
            line.value_abs = abs(line.value)

    def action_apply(self):
        """Apply the legacy quantity through Odoo's inventory mode (stock.quant apply)."""
        self.check_access("write")
        lines = self.filtered(lambda ln: ln.state == "open")
        if any(ln.issue != "quantity" for ln in lines):
            raise UserError(self.env._("Only quantity differences can be applied; dismiss the other lines."))
        Quant = self.env["stock.quant"].with_context(inventory_mode=True)
        for line in lines:
            lot = line.lot_id
            if line.lot_name and not lot:
                lot = self.env["stock.lot"].search(
                    [("product_id", "=", line.product_id.id), ("name", "=", line.lot_name)], limit=1)
                if not lot:
                    values = {"product_id": line.product_id.id, "name": line.lot_name}
                    if line.expiry_date and "expiration_date" in self.env["stock.lot"]._fields:
                        values["expiration_date"] = line.expiry_date
                    lot = self.env["stock.lot"].create(values)
            quant = Quant.search([("product_id", "=", line.product_id.id), ("location_id", "=", line.location_id.id),
                                  ("lot_id", "=", lot.id or False)], limit=1)
            if not quant:
                quant = Quant.create({"product_id": line.product_id.id, "location_id": line.location_id.id,
                                      "lot_id": lot.id or False, "inventory_quantity": 0.0})
            quant.inventory_quantity = quant.quantity + line.difference
            quant.with_context(inventory_name=line.reconciliation_id.name).action_apply_inventory()
        lines.write({"state": "applied", "decided_by": self.env.uid, "decided_at": fields.Datetime.now()})
        return True

    def _dismiss(self, reason):
        self.check_access("write")
        if not reason:
            raise UserError(self.env._("Say why the lines are dismissed."))
        self.filtered(lambda ln: ln.state == "open").write(
            {"state": "dismissed", "dismiss_reason": reason, "decided_by": self.env.uid,
             "decided_at": fields.Datetime.now()})

    def action_dismiss(self):
        return {
            "type": "ir.actions.act_window", "res_model": "hc.reconciliation.dismiss", "view_mode": "form",
            "target": "new", "context": {"default_line_ids": self.ids},
        }


class HcStockBalance(models.Model):
    """A legacy balance staged for one reconciliation (removed when a newer one completes)."""

    _name = "hc.stock.balance"
    _description = "Legacy Stock Balance"
    _log_access = False

    reconciliation_id = fields.Many2one("hc.reconciliation", required=True, ondelete="cascade", index=True)
    item_code = fields.Char()
    location_code = fields.Char()
    product_id = fields.Many2one("product.product", ondelete="cascade")
    location_id = fields.Many2one("stock.location", ondelete="cascade")
    lot_name = fields.Char()
    lot_id = fields.Many2one("stock.lot", ondelete="set null")
    expiry_date = fields.Date()
    qty = fields.Float(digits="Product Unit")
