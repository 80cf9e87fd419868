from odoo import api, models


class HcHandlerPurchaseOrder(models.AbstractModel):
    """Confirmed purchase orders sent to the legacy procurement gateway (SOAP or REST).

    The handler builds the canonical purchase-order document and reads the canonical
    acknowledgement; the flow's outbound and response mappings translate them to and from the
    gateway's dialect (hc.handler.push). The document carries an idempotency key per order
    revision, so a retry after a timeout (even one after the gateway stored the order) never
    creates a second order remotely. The acknowledgement is written on the order; a rejection
    gives the buyer an activity and puts the message in the exception queue (remote business
    error).

    The document's action tells the flow which request carries it: confirm -> create, a change
    of an order the gateway has -> update, cancel -> cancel; a flow may call one SOAP operation
    per action (hc.flow operation_create / operation_update / operation_cancel). Once the gateway
    gave its number, the document carries it (``remote_order_number``) for the update and cancel
    operations that name the order by it.
    """

    _name = "hc.handler.purchase_order"
    _inherit = "hc.handler.push"
    _description = "Integration Handler: purchase order"
    _document_schema = "hc_procurement_sync/schemas/purchase_order.v1.json"
    # The records this handler sends (Try it on an outbound mapping picks one).
    _record_model = "purchase.order"

    @api.model
    def _is_urgent(self, message):
        # Urgent (starred) orders, e.g. replenishment of a critical supply, take the fast lane.
        order = message.record_ref
        return message.flow_id.urgent or bool(order and order._name == "purchase.order" and order.priority == "1")

    @api.model
    def _vendor_code(self, flow, partner):
        """How the flow's backend names the vendor: its own binding, else another backend's (the demo's
        suppliers come from the REST system, orders go to the SOAP gateway), else the partner's reference."""
        bindings = self.env["hc.binding"].sudo().search_fetch(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.commercial_partner_id.id)],
            ["backend_id", "external_id"], order="id")
        own = bindings.filtered(lambda b: b.backend_id == flow.backend_id)[:1] or bindings[:1]
        return own.external_id or partner.commercial_partner_id.ref or False

    @api.model
    def _prepare_payload(self, flow, order):
        """The order's canonical document (schemas/purchase_order.v1.json); the flow's outbound
        mapping, when it has one, turns it into the gateway's request at sending. Items are named
        as the flow's backend names them (item cross-reference)."""
        lines = order.order_line.filtered(lambda ln: ln.product_id and not ln.display_type)
        codes = self.env["hc.item.reference"]._codes(flow.backend_id, lines.product_id)
        action = "cancel" if order.state == "cancel" else ("update" if order.hc_remote_order_number else "create")
        document = {
            "reference": order.name,
            "vendor_code": self._vendor_code(flow, order.partner_id) or "",
            "currency": order.currency_id.name,
            "order_date": str(order.date_order.date()),
            "idempotency_key": f"{order.name}:{action}:{order.hc_push_revision}",
            "action": action,
            "lines": [
                {
                    "line_ref": str(line.id),
                    "item_code": codes[line.product_id.id],
                    "quantity": line.product_qty,
                    "uom_code": line.product_uom_id.name,
                    "unit_price": line.price_unit,
                }
                for line in lines
            ],
        }
        if action != "create" and order.hc_remote_order_number:
            document["remote_order_number"] = order.hc_remote_order_number
        return document

    @api.model
    def _record_answer(self, message, order, ack):
        """The gateway's answer on the order; a rejection also gives its buyer an activity."""
        order.sudo().write({
            "hc_remote_state": ack["status"],
            "hc_remote_order_number": ack.get("remote_order_number") or order.hc_remote_order_number,
            "hc_remote_reason": ack.get("reason") or False,
        })
        if ack["status"] == "rejected":
            order.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Order rejected by %s", message.backend_id.name),
                note=ack.get("reason") or "",
                user_id=(order.user_id or self.env.user).id,
            )
