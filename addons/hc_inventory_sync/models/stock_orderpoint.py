import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_compare

from odoo.addons.queue_job.exception import RetryableJobError

_logger = logging.getLogger(__name__)


class StockWarehouseOrderpoint(models.Model):
    """Reordering rules of critical supplies double as urgent thresholds: when a consumption (or
    a legacy balance) takes the stock below the minimum, Odoo's own procurement creates or extends
    the vendor's RFQ, which is confirmed and pushed at once on the backend's urgent channel."""

    _inherit = "stock.warehouse.orderpoint"

    hc_urgent = fields.Boolean(
        "Urgent replenishment", compute="_compute_hc_urgent", store=True, readonly=False,
        help="Falling below the minimum orders at once (confirmed and sent to the supplier system on the "
        "high-priority channel) instead of waiting for the scheduler. Set for critical supplies.",
    )
    hc_last_trigger_at = fields.Datetime("Last urgent trigger", readonly=True, copy=False)

    @api.depends("product_id.product_tmpl_id.hc_critical")
    def _compute_hc_urgent(self):
        for orderpoint in self:
            orderpoint.hc_urgent = orderpoint.product_id.product_tmpl_id.hc_critical

    @api.model
    def _hc_check_breach(self, product, location, message, legacy_qty=None):
        """Urgent rules of ``product`` covering ``location`` (the rule's location or a parent of it)
        that are now below their minimum order at once. ``legacy_qty``: a balance reported by the
        legacy system for exactly the rule's location, used instead of Odoo's forecast."""
        if not product.product_tmpl_id.hc_critical:
            return self.env["purchase.order"]
        domain = [("product_id", "=", product.id), ("hc_urgent", "=", True), ("trigger", "=", "auto")]
        domain.append(("location_id", "=", location.id) if legacy_qty is not None
                      else ("location_id", "parent_of", location.id))
        orders = self.env["purchase.order"]
        for orderpoint in self.sudo().search(domain):
            orders |= orderpoint._hc_replenish(message, legacy_qty=legacy_qty)
        return orders

    def _hc_quantity_needed(self, legacy_qty=None):
        self.ensure_one()
        self.invalidate_recordset(["qty_forecast", "qty_on_hand", "qty_to_order", "qty_to_order_computed"])
        if legacy_qty is None:
            return self.qty_to_order
        rounding = self.product_uom.rounding
        if float_compare(legacy_qty, self.product_min_qty, precision_rounding=rounding) >= 0:
            return 0.0
        # What is already coming (open receipts and RFQs of this rule) counts against the gap.
        incoming = (self.qty_forecast - self.qty_on_hand)
        needed = max(self.product_max_qty, self.product_min_qty) - legacy_qty - incoming
        return self._get_multiple_rounded_qty(needed) if needed > 0 else 0.0

    @api.model
    def _hc_hold_scheduler(self):
        """Whether Odoo's procurement scheduler is idle; if so, hold it off until this transaction ends.

        The scheduler rewrites reordering rules; a job of ours committing changes to the same rules
        while it runs makes it fail on a serialization error. Its cron runner locks the cron row
        (FOR NO KEY UPDATE SKIP LOCKED) while it runs: a shared lock on that row is refused then, and
        while we hold it the runner skips the scheduler for a turn. Shared: our jobs do not wait for
        each other."""
        scheduler = self.env.ref("stock.ir_cron_scheduler_action", raise_if_not_found=False)
        if not scheduler:
            return True
        self.env.cr.execute(SQL("SELECT id FROM ir_cron WHERE id = %s FOR SHARE SKIP LOCKED", scheduler.id))
        return bool(self.env.cr.fetchone())

    def _hc_wait_for_scheduler(self):
        """Postpone (no attempt spent) while the procurement scheduler runs."""
        if not self._hc_hold_scheduler():
            raise RetryableJobError(
                "Odoo's procurement scheduler is running: the urgent replenishment waits for it",
                seconds=5, ignore_retry=True,
            )

    def _hc_replenish(self, message, legacy_qty=None):
        """Order what this rule needs now, confirm and push the order; at most once per shortage."""
        self.ensure_one()
        self._hc_wait_for_scheduler()
        # One trigger at a time per rule: a concurrent twin waits for this row, then fails with a
        # serialization error and queue_job runs it again on a snapshot that sees this order.
        self.env.cr.execute(SQL(
            "UPDATE stock_warehouse_orderpoint SET hc_last_trigger_at = now() AT TIME ZONE 'UTC' WHERE id = %s",
            self.id))
        quantity = self._hc_quantity_needed(legacy_qty)
        if float_compare(quantity, 0, precision_rounding=self.product_uom.rounding) <= 0:
            return self.env["purchase.order"]
        reference = message.external_id or message.correlation_id or f"message {message.id}"
        Rule = self.env["stock.rule"]
        procurement = Rule.Procurement(
            self.product_id, quantity, self.product_uom, self.location_id, self.name,
            f"{self.name} - {reference}", self.company_id, self._prepare_procurement_values())
        try:
            with self.env.cr.savepoint():
                Rule.with_context(from_orderpoint=True).run([procurement])
        except UserError as exc:
            reason = exc.args[0] if exc.args else str(exc)
            _logger.info("Urgent replenishment of %s failed (activity scheduled): %s", self.display_name, reason)
            self.product_id.product_tmpl_id.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Urgent replenishment failed"),
                note=self.env._("%(product)s fell below %(min)s at %(location)s and could not be ordered: %(reason)s",
                                product=self.product_id.display_name, min=self.product_min_qty,
                                location=self.location_id.display_name, reason=reason),
                user_id=(self.product_id.responsible_id or self.env.user).id,
            )
            return self.env["purchase.order"]
        order = self.env["purchase.order.line"].search(
            [("orderpoint_id", "=", self.id), ("order_id.state", "in", ("draft", "sent"))],
            order="id desc", limit=1).order_id
        if not order:
            return order
        order.write({"priority": "1", "hc_trigger_message_id": order.hc_trigger_message_id.id or message.id})
        message.sudo().write({"replenishment_order_id": order.id})
        order.button_confirm()
        return order
