from datetime import datetime, timezone

from odoo import fields, models
from odoo.tools import SQL


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    hc_trigger_message_id = fields.Many2one(
        "hc.message", string="Triggered by", readonly=True, copy=False, index="btree_not_null",
        help="The integration event (consumption or stock balance) that put a critical supply below its "
        "threshold and created this urgent order.",
    )

    def _hc_on_pushed(self, message):
        """An urgent order the gateway accepted: the time from the event that triggered it to the
        acknowledgement goes on that event's message."""
        res = super()._hc_on_pushed(message)
        trigger = self.hc_trigger_message_id.sudo()
        if trigger and not trigger.replenishment_acked_at and self.hc_remote_state == "accepted":
            # create_date keeps the microseconds of the event's arrival (received_at is to the second).
            arrived = self.env.execute_query(SQL("SELECT create_date FROM hc_message WHERE id = %s", trigger.id))[0][0]
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            trigger.write({
                "replenishment_acked_at": fields.Datetime.now(),
                "replenishment_latency_ms": max(int((now - arrived).total_seconds() * 1000), 0),
            })
        return res
