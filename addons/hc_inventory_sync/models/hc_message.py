from odoo import fields, models

# Object types whose messages move stock or purchase lines (and so reordering rules' quantities).
SCHEDULER_SENSITIVE = ("demand", "receipt", "consumption", "stock_balance")


class HcMessage(models.Model):
    _inherit = "hc.message"

    replenishment_order_id = fields.Many2one(
        "purchase.order", string="Urgent order", readonly=True, copy=False,
        help="The purchase order this event triggered because a critical supply fell below its threshold.",
    )
    replenishment_acked_at = fields.Datetime("Order acknowledged", readonly=True, copy=False)
    replenishment_latency_ms = fields.Integer(
        "Event to acknowledgement (ms)", readonly=True, copy=False,
        help="From the event's arrival in Odoo to the supplier system's acknowledgement of the order.",
    )

    def _wait_for_others(self):
        """Messages that move stock or purchase lines recompute reordering rules; applied while Odoo's
        procurement scheduler runs, their commit makes the scheduler fail on a serialization error.
        They wait for it, and keep it from starting while they run (a shared hold on its cron row)."""
        res = super()._wait_for_others()
        if self.object_type in SCHEDULER_SENSITIVE and not self.env["stock.warehouse.orderpoint"]._hc_hold_scheduler():
            self._postpone(self.env._("Odoo's procurement scheduler is running."), 5)
        return res

    def _notify_exception(self):
        """A page of a balance pull in exception fails its reconciliation at once (the steward
        learns it now, not when the watchdog looks)."""
        result = super()._notify_exception()
        if self.batch_run_id and self.object_type == "stock_balance":
            self.env["hc.reconciliation"].sudo().search(
                [("batch_run_id", "=", self.batch_run_id.id)])._on_page_failed(self)
        return result
