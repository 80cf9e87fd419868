from odoo import api, fields, models


class PurchaseOrder(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "hc.sync.mixin"]

    hc_remote_state = fields.Selection(
        [("accepted", "Accepted"), ("rejected", "Rejected"), ("cancelled", "Cancelled")],
        string="Gateway answer", readonly=True, copy=False, tracking=True,
    )
    hc_remote_order_number = fields.Char("Remote order number", readonly=True, copy=False, tracking=True)
    hc_remote_reason = fields.Char("Gateway reason", readonly=True, copy=False)
    hc_push_revision = fields.Integer(readonly=True, copy=False, help="Changes pushed after the first sending.")

    @api.model
    def retrieve_dashboard(self):
        """Odoo's purchase dashboard, plus the orders waiting to be sent and those that failed."""
        result = super().retrieve_dashboard()
        result["hc"] = {
            "pending": self.search_count([("hc_sync_state", "=", "pending")]),
            "failed": self.search_count([("hc_sync_state", "=", "failed")]),
        }
        return result

    def _hc_push_flow(self):
        # The integration acts with its own rights: buyers need no access to its configuration.
        return self.env["hc.flow"].sudo().search(
            [("object_type", "=", "purchase_order"), ("direction", "=", "push"), ("active", "=", True),
             ("backend_id.active", "=", True), ("company_id", "in", [False, *self.company_id.ids])],
            limit=1,
        )

    def _hc_push(self):
        flow = self._hc_push_flow()
        if not flow:
            return
        for order in self:
            flow._push_records(order)

    def button_approve(self, force=False):
        """Push each order once, when it becomes a purchase order: Odoo's confirmation goes through
        here when no approval is needed, and a manager's approval (two-step validation) does too."""
        approving = self.filtered(lambda o: o.state != "purchase")
        result = super().button_approve(force=force)
        approving.filtered(lambda o: o.state == "purchase")._hc_push()
        return result

    def button_cancel(self):
        sent = self.filtered("hc_remote_order_number")
        result = super().button_cancel()
        sent.filtered(lambda o: o.state == "cancel")._hc_push()
        return result

    def _hc_push_changes(self):
        """Push a new revision of orders the gateway already has (update)."""
        sent = self.filtered(lambda o: o.hc_remote_order_number and o.state == "purchase")
        for order in sent:
            order.sudo().hc_push_revision += 1
        sent._hc_push()

    def write(self, vals):
        result = super().write(vals)
        if set(vals) & {"date_planned", "partner_ref", "notes"} and not self.env.context.get("hc_sync_apply"):
            self._hc_push_changes()
        return result

    def _hc_resync(self):
        """Send again, as a new revision: the gateway answers a repeated key with its first answer."""
        orders = self.filtered(lambda o: o.state in ("purchase", "done", "cancel"))
        for order in orders:
            order.sudo().hc_push_revision += 1
        orders._hc_push()
