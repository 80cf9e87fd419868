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

    def _hc_push_flows(self):
        """``{order: flow}``: where each order goes. An order the integration already sent goes on
        with the flow that sent it (its updates and cancellation reach the same gateway); another
        goes to the first active purchase-order push flow of its company (by sequence) whose
        condition it meets, so orders can be split between gateways (pharmacy, general stores) by
        the flows' conditions set in the UI."""
        # The integration acts with its own rights: buyers need no access to its configuration.
        Flow = self.env["hc.flow"].sudo()
        flows = Flow.search(
            [("object_type", "=", "purchase_order"), ("direction", "=", "push"), ("active", "=", True),
             ("backend_id.active", "=", True), ("company_id", "in", [False, *self.company_id.ids])],
            order="sequence, id",
        )
        if not flows:
            return {}
        sent = {}
        for message in self.env["hc.message"].sudo().search_fetch(
                [("res_model", "=", self._name), ("res_id", "in", self.ids), ("direction", "=", "outbound"),
                 ("flow_id", "in", flows.ids)], ["res_id", "flow_id"], order="id"):
            sent.setdefault(message.res_id, message.flow_id)
        meeting = {flow: self.sudo().filtered_domain(flow._push_domain()) for flow in flows}
        routes = {}
        for order in self:
            flow = sent.get(order.id) or next(
                (flow for flow in flows if (not flow.company_id or flow.company_id == order.company_id)
                 and order in meeting[flow]), None)
            if flow:
                routes[order] = flow
        return routes

    def _hc_push(self):
        for order, flow in self._hc_push_flows().items():
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
