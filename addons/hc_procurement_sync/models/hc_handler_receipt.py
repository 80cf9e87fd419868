from odoo import api, models

from odoo.addons.hc_integration_base.models.hc_message import PermanentError


class HcHandlerReceipt(models.AbstractModel):
    """Receipt confirmations from the legacy receiving system validate Odoo's receipts.

    A confirmation names the order (reference or remote order number) and, per line, the
    order line (``line_ref``) or the item code, the received quantity, and for tracked products
    the lot (and expiry date when Odoo tracks expiry). A partial delivery leaves a backorder;
    an over-receipt or an unknown line stops the whole confirmation in the exception queue.
    Each confirmation is applied once (binding on its reference).
    """

    _name = "hc.handler.receipt"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: receipt"

    @api.model
    def _import_message(self, message):
        payload = self._payload(message)
        confirmations = payload if isinstance(payload, list) else [payload]
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        for confirmation in confirmations:
            picking = self._apply_confirmation(message, confirmation)
            counts["created" if picking else "unchanged"] += 1
            if picking and len(confirmations) == 1:
                message.write({"res_model": "stock.picking", "res_id": picking.id})
        return {"counts": counts}

    @api.model
    def _apply_confirmation(self, message, confirmation):
        reference = str(confirmation.get("reference") or "")
        if not reference:
            raise PermanentError(self.env._("The receipt confirmation has no reference."))
        Binding = self.env["hc.binding"].sudo()
        if Binding._lookup(message.backend_id, "stock.picking", reference):
            return self.env["stock.picking"]
        order = self.env["purchase.order"].search(
            ["|", ("name", "=", confirmation.get("po_reference")),
             ("hc_remote_order_number", "=", confirmation.get("remote_order_number") or "-")], limit=1)
        if not order:
            raise PermanentError(self.env._("Receipt %(ref)s: unknown purchase order %(po)s.", ref=reference,
                                            po=confirmation.get("po_reference")), category="mapping")
        picking = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state not in ("done", "cancel"))[:1]
        if not picking:
            raise PermanentError(self.env._("Receipt %(ref)s: order %(po)s has nothing left to receive.",
                                            ref=reference, po=order.name), category="conflict")
        received = {}
        for line in confirmation.get("lines") or []:
            move = self._find_move(picking, line)
            if not move:
                raise PermanentError(self.env._("Receipt %(ref)s: line %(line)s is not on order %(po)s.", ref=reference,
                                                line=line.get("line_ref") or line.get("item_code"), po=order.name),
                                     category="mapping")
            received.setdefault(move, []).append(line)
        for move, lines in received.items():
            quantity = sum(float(line.get("quantity") or 0) for line in lines)
            if move.product_uom.compare(quantity, move.product_uom_qty) > 0:
                raise PermanentError(self.env._(
                    "Receipt %(ref)s: %(qty)s %(product)s received, more than the %(ordered)s expected.",
                    ref=reference, qty=quantity, product=move.product_id.display_name, ordered=move.product_uom_qty),
                    category="conflict")
            move.move_line_ids.unlink()
            for line in lines:
                values = {"move_id": move.id, "picking_id": picking.id, "product_id": move.product_id.id,
                          "product_uom_id": move.product_uom.id, "quantity": float(line.get("quantity") or 0),
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
        Binding._bind(message.backend_id, picking, reference)
        return picking

    @api.model
    def _find_move(self, picking, line):
        moves = picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        if line.get("line_ref"):
            return moves.filtered(lambda m: str(m.purchase_line_id.id) == str(line["line_ref"]))[:1]
        return moves.filtered(lambda m: m.product_id.default_code == line.get("item_code"))[:1]
