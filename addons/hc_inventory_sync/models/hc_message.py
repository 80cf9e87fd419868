from odoo import fields, models


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

    def _notify_exception(self):
        """A page of a balance pull in exception fails its reconciliation at once (the steward
        learns it now, not when the watchdog looks)."""
        result = super()._notify_exception()
        if self.batch_run_id and self.object_type == "stock_balance":
            self.env["hc.reconciliation"].sudo().search(
                [("batch_run_id", "=", self.batch_run_id.id)])._on_page_failed(self)
        return result
