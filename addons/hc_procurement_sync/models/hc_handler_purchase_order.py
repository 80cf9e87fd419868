from odoo import api, models

from odoo.addons.hc_integration_base.models.hc_message import PermanentError


class HcHandlerPurchaseOrder(models.AbstractModel):
    """Confirmed purchase orders sent to the legacy procurement gateway (SOAP or REST).

    The payload carries an idempotency key per order revision, so a retry after a timeout
    (even one after the gateway stored the order) never creates a second order remotely.
    The gateway's acknowledgement is written on the order; a rejection gives the buyer an
    activity and puts the message in the exception queue (remote business error).
    """

    _name = "hc.handler.purchase_order"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: purchase order"

    @api.model
    def _is_urgent(self, message):
        # Urgent (starred) orders, e.g. replenishment of a critical supply, take the fast lane.
        order = message.record_ref
        return message.flow_id.urgent or bool(order and order._name == "purchase.order" and order.priority == "1")

    @api.model
    def _vendor_code(self, flow, partner):
        binding = self.env["hc.binding"].sudo().search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.commercial_partner_id.id)], limit=1
        )
        return binding.external_id or partner.commercial_partner_id.ref or False

    @api.model
    def _prepare_payload(self, flow, order):
        action = "cancel" if order.state == "cancel" else ("update" if order.hc_remote_order_number else "create")
        lines = [
            {
                "line_ref": str(line.id),
                "item_code": line.product_id.default_code or "",
                "quantity": line.product_qty,
                "uom_code": line.product_uom_id.name,
                "unit_price": line.price_unit,
            }
            for line in order.order_line.filtered(lambda ln: ln.product_id and not ln.display_type)
        ]
        return {"order": {
            "reference": order.name,
            "vendor_code": self._vendor_code(flow, order.partner_id) or "",
            "currency": order.currency_id.name,
            "order_date": str(order.date_order.date()),
            "idempotency_key": f"{order.name}:{action}:{order.hc_push_revision}",
            "action": action,
            "lines": {"OrderLine": lines} if flow.backend_id.protocol == "soap" else lines,
        }}

    @api.model
    def _export_message(self, message):
        order = message.record_ref
        if not order:
            raise PermanentError(self.env._("The purchase order no longer exists."))
        payload = self._payload(message)
        if message.flow_id.backend_id.protocol == "rest":
            payload = payload["order"]
        result = message.backend_id._send(message, payload)
        ack = result["body"] or {}

        def record_answer():
            order.sudo().write({
                "hc_remote_state": ack.get("status") or "accepted",
                "hc_remote_order_number": ack.get("remote_order_number") or order.hc_remote_order_number,
                "hc_remote_reason": ack.get("reason") or False,
            })
            if ack.get("status") == "rejected":
                order.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Order rejected by %s", message.backend_id.name),
                    note=ack.get("reason") or "",
                    user_id=(order.user_id or self.env.user).id,
                )

        if ack.get("status") == "rejected":
            raise PermanentError(
                self.env._("%(backend)s rejected the order: %(reason)s", backend=message.backend_id.name,
                           reason=ack.get("reason")),
                category="remote", keep=record_answer,
            )
        record_answer()
        return result
