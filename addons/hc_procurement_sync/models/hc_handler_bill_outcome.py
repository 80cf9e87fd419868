from odoo import api, models
from odoo.tools import float_compare

from odoo.addons.hc_integration_base.exceptions import PermanentError


class HcHandlerBillOutcome(models.AbstractModel):
    """Posted vendor bills tell the downstream system how they matched their purchase orders.

    The handler builds the canonical bill-outcome document (schemas/bill_outcome.v1.json); the
    flow's outbound mapping turns it into the system's request (hc.handler.push). The answer is
    read as an acknowledgement only when the flow has a response mapping (the demo system answers
    "received"): a rejection then goes to the exception queue with the system's reason.
    """

    _name = "hc.handler.bill_outcome"
    _inherit = "hc.handler.push"
    _description = "Integration Handler: vendor bill outcome"
    _document_schema = "hc_procurement_sync/schemas/bill_outcome.v1.json"

    @api.model
    def _outcome(self, bill):
        if bill.payment_state in ("paid", "in_payment"):
            return "paid"
        precision = self.env["decimal.precision"].precision_get("Product Price")
        for line in bill.invoice_line_ids.filtered("purchase_line_id"):
            po_line = line.purchase_line_id
            if float_compare(line.price_unit, po_line.price_unit, precision_digits=precision):
                return "price_difference"
            if float_compare(line.quantity, po_line.product_qty, precision_rounding=line.product_uom_id.rounding):
                return "quantity_difference"
        return "matched"

    @api.model
    def _prepare_payload(self, flow, bill):
        orders = bill.invoice_line_ids.purchase_line_id.order_id
        return {
            "bill_reference": bill.name,
            "po_reference": ", ".join(orders.mapped("name")),
            "remote_order_number": ", ".join(filter(None, orders.mapped("hc_remote_order_number"))),
            "vendor_code": self.env["hc.handler.purchase_order"]._vendor_code(flow, bill.partner_id) or None,
            "outcome": self._outcome(bill),
            "amount": bill.amount_total,
            "currency": bill.currency_id.name,
        }

    @api.model
    def _export_message(self, message):
        document = self._payload(message)
        self._check_document(document)
        result = message.backend_id._send(message, self._wire_request(message, document))
        if message.flow_id.response_mapping_id:
            ack = self._acknowledgement(message, result["body"])
            if ack["status"] == "rejected":
                raise PermanentError(
                    self.env._("%(backend)s rejected the outcome of %(bill)s: %(reason)s",
                               backend=message.backend_id.name, bill=document["bill_reference"],
                               reason=ack.get("reason")),
                    category="remote",
                )
        return result
