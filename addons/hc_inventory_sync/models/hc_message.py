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
