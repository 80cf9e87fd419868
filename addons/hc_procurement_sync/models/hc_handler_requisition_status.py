from odoo import api, models

from odoo.addons.hc_integration_base.exceptions import PermanentError

# Order states whose news a requisition's system hears, and how the canonical document names them.
REQUISITION_STATUSES = {"purchase": "ordered", "cancel": "cancelled"}


def requisition_status(order):
    """The status a requisition's system hears of ``order``: ordered, received (a confirmed order
    whose goods have all come in), cancelled; None while it is an RFQ."""
    status = REQUISITION_STATUSES.get(order.state)
    if status == "ordered" and order.receipt_status == "full":
        return "received"
    return status


class HcHandlerRequisitionStatus(models.AbstractModel):
    """What became of a requisition pulled as demand, pushed back to the system that sent it: its
    RFQ was confirmed (ordered), its goods all received (received: for a flow whose sending rule
    watches the order's receipt status), or it was cancelled (schemas/requisition_status.v1.json).

    Only orders made from a requisition of the flow's backend are sent: those whose binding there
    names the requisition's remote ID (the demand pull stores it with the flow's Remote version
    path). One message per order and status (``requisition_status:<status>``): confirming an order
    again sends nothing more. The flow says how the update travels — e.g. a PUT of the remote
    resource with an If-Match header naming the version the binding holds ({binding.version}), the
    new version read from the answer's ETag — and its outbound mapping writes the remote system's
    resource from the document; an MLLP flow's outbound mapping in HL7 v2 format builds the order
    response message (ORS^O06 in the demo) and the ACK says whether it was taken.
    """

    _name = "hc.handler.requisition_status"
    _inherit = "hc.handler.push"
    _description = "Integration Handler: requisition status"
    _document_schema = "hc_procurement_sync/schemas/requisition_status.v1.json"
    _record_model = "purchase.order"
    _status_push = True

    @api.model
    def _status_key(self, flow, order):
        """The message key of the order's current status (None: nothing to send for it)."""
        status = requisition_status(order)
        if not status or not order.origin:
            return None
        if not self.env["hc.binding"].sudo()._remote_of(flow.backend_id, order):
            return None
        return f"requisition_status:{status}"

    @api.model
    def _prepare_payload(self, flow, order):
        status = requisition_status(order)
        remote = self.env["hc.binding"].sudo()._remote_of(flow.backend_id, order)
        if not status or not remote or not order.origin:
            raise PermanentError(self.env._(
                "Order %(order)s was made from no requisition of %(backend)s, or is in no state to report.",
                order=order.display_name, backend=flow.backend_id.name), category="mapping")
        lines = order.order_line.filtered(lambda ln: ln.product_id and not ln.display_type)
        codes = self.env["hc.item.reference"]._codes(flow.backend_id, lines.product_id)
        return {
            "reference": order.origin,
            "remote_id": remote.external_id,
            "remote_version": remote.external_version or None,
            "status": status,
            "action": "update",
            "order": order.name,
            "vendor_name": order.partner_id.commercial_partner_id.name,
            "lines": [{"item_code": codes[line.product_id.id], "quantity": line.product_qty} for line in lines],
            "idempotency_key": f"{order.origin}:{status}",
        }

    @api.model
    def _rejection_text(self, message, order, ack):
        return self.env._("%(backend)s refused the status of requisition %(ref)s: %(reason)s",
                          backend=message.backend_id.name, ref=self._payload(message).get("reference"),
                          reason=ack.get("reason"))
