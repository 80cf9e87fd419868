from odoo import api, models

from odoo.addons.hc_integration_base.exceptions import PermanentError


class HcHandlerReceipt(models.AbstractModel):
    """Receipt confirmations from the legacy receiving system validate Odoo's receipts.

    A confirmation (canonical document schemas/receipt.v1.json) names the order (reference, remote
    order number, or the ID this backend knows the order by: the order's binding, e.g. the request
    it was made from) and, per line, the order line (``line_ref``) or the item code (the item
    cross-reference of the backend), the received quantity, and for tracked products the lot (and
    expiry date when Odoo tracks expiry). A partial delivery leaves a backorder; an over-receipt
    or an unknown line stops the whole confirmation in the exception queue. Each confirmation is
    applied once (binding on its reference).
    """

    _name = "hc.handler.receipt"
    _inherit = "hc.handler.document"
    _description = "Integration Handler: receipt"
    _document_schema = "hc_procurement_sync/schemas/receipt.v1.json"

    @api.model
    def _apply_document(self, message, confirmation):
        picking = self._apply_confirmation(message, confirmation)
        return picking, "created" if picking else "unchanged"

    @api.model
    def _apply_confirmation(self, message, confirmation):
        reference = str(confirmation["reference"])
        if self._applied(message, "stock.picking", reference):
            return self.env["stock.picking"]
        order = self.env["purchase.order"].search(
            ["|", ("name", "=", confirmation.get("po_reference")),
             ("hc_remote_order_number", "=", confirmation.get("remote_order_number") or "-")], limit=1)
        if not order and confirmation.get("order_external_id"):
            order = self._applied(message, "purchase.order", confirmation["order_external_id"])
        if not order:
            # An order a pull of this backend is still bringing (FHIR requests → RFQs) is waited for.
            self._missing_reference(message, self._flows_bringing(["purchase.order"], message.backend_id), self.env._(
                "Receipt %(ref)s: unknown purchase order %(po)s.", ref=reference,
                po=confirmation.get("po_reference") or confirmation.get("remote_order_number")
                or confirmation.get("order_external_id")))
        picking = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state not in ("done", "cancel"))[:1]
        if not picking:
            raise PermanentError(self.env._("Receipt %(ref)s: order %(po)s has nothing left to receive.",
                                            ref=reference, po=order.name), category="conflict")
        received = {}
        lines = confirmation.get("lines") or []
        products = self.env["hc.item.reference"]._products(
            message.backend_id, [line.get("item_code") for line in lines if not line.get("line_ref")])
        for line in lines:
            move = self._find_move(picking, line, products)
            if not move:
                raise PermanentError(self.env._("Receipt %(ref)s: line %(line)s is not on order %(po)s.", ref=reference,
                                                line=line.get("line_ref") or line.get("item_code"), po=order.name),
                                     category="mapping")
            received.setdefault(move, []).append(line)
        for move, lines in received.items():
            # Quantities come in the order line's unit (a pack of 6); the move counts in its own
            # (the product's unit, when Odoo split the purchase unit).
            ordered_in = move.purchase_line_id.product_uom_id or move.product_uom
            for line in lines:
                line["quantity"] = ordered_in._compute_quantity(float(line.get("quantity") or 0), move.product_uom)
            quantity = sum(line["quantity"] for line in lines)
            if move.product_uom.compare(quantity, move.product_uom_qty) > 0:
                raise PermanentError(self.env._(
                    "Receipt %(ref)s: %(qty)s %(product)s received, more than the %(ordered)s expected.",
                    ref=reference, qty=quantity, product=move.product_id.display_name, ordered=move.product_uom_qty),
                    category="conflict")
            move.move_line_ids.unlink()
            for line in lines:
                values = {"move_id": move.id, "picking_id": picking.id, "product_id": move.product_id.id,
                          "product_uom_id": move.product_uom.id, "quantity": line["quantity"],
                          "location_id": move.location_id.id, "location_dest_id": move.location_dest_id.id}
                if move.product_id.tracking != "none":
                    if not line.get("lot"):
                        raise PermanentError(self.env._("Receipt %(ref)s: %(product)s is tracked by lot; the line "
                                                        "names no lot.", ref=reference,
                                                        product=move.product_id.display_name), category="mapping")
                    values["lot_name"] = line["lot"]
                    if line.get("expiry_date") and "expiration_date" in self.env["stock.move.line"]._fields:
                        values["expiration_date"] = line["expiry_date"]
                self.env["stock.move.line"].create(values)
            move.picked = True
        picking.with_context(skip_backorder=True, skip_sms=True).button_validate()
        self._bind(message, picking, reference)
        return picking

    @api.model
    def _find_move(self, picking, line, products):
        """The open move of the line: by order line, else by the product its item code names."""
        moves = picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        if line.get("line_ref"):
            return moves.filtered(lambda m: str(m.purchase_line_id.id) == str(line["line_ref"]))[:1]
        product = products.get(str(line.get("item_code")))
        return moves.filtered(lambda m: m.product_id == product)[:1] if product else moves.browse()
