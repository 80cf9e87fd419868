from odoo import api, models
from odoo.tools import float_compare


class HcHandlerBillOutcome(models.AbstractModel):
    """Posted vendor bills tell the downstream system how they matched their purchase orders."""

    _name = "hc.handler.bill_outcome"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: vendor bill outcome"

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
            "vendor_code": self.env["hc.handler.purchase_order"]._vendor_code(flow, bill.partner_id),
            "outcome": self._outcome(bill),
            "amount": bill.amount_total,
            "currency": bill.currency_id.name,
        }

    @api.model
    def _export_message(self, message):
        payload = self._payload(message)
        return message.backend_id._send(message, payload)
