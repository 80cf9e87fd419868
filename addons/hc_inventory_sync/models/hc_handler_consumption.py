from odoo import api, fields, models
from odoo.tools import float_compare

from odoo.addons.hc_integration_base.exceptions import PermanentError


def legacy_locations(env):
    """legacy location or department code -> stock.location id (code table legacy_location)."""
    table = env["hc.value.map"].sudo().search([("code", "=", "legacy_location")], limit=1)
    return table._lookup_dict() if table else {}


class HcHandlerConsumption(models.AbstractModel):
    """Usage reported by departmental systems becomes done stock moves.

    An event (canonical document schemas/consumption.v1.json) names the item (the backend's
    item cross-reference), quantity, location (or department) and, for tracked products, the
    lot; the move goes from that location to its consumption location. An event of kind
    ``return`` (a credited charge, an unused part brought back) goes the other way, from the
    consumption location back to the location. Each event is applied once (binding on its
    reference). A shortage follows the flow's policy. When a critical supply falls below its
    threshold, the urgent replenishment starts in the same transaction.
    """

    _name = "hc.handler.consumption"
    _inherit = "hc.handler.document"
    _description = "Integration Handler: consumption"
    _document_schema = "hc_inventory_sync/schemas/consumption.v1.json"

    @api.model
    def _is_urgent(self, message):
        # Consumption can take a critical supply below its threshold: it runs on the fast lane.
        return True

    @api.model
    def _apply_documents(self, message, documents):
        locations = legacy_locations(self.env)
        products = self.env["hc.item.reference"]._products(message.backend_id, [d.get("item_code") for d in documents])
        return [self._apply_event(message, event, locations, products) for event in documents]

    @api.model
    def _resolve(self, message, event, locations, products):
        reference = str(event["reference"])
        code = event.get("item_code")
        if not code or not isinstance(code, str):
            raise PermanentError(self.env._("Consumption %s names no item code.", reference), category="mapping")
        product = products.get(code)
        if not product:
            error = self.env._("Consumption %(ref)s: unknown item %(code)s.", ref=reference, code=code)
            self._missing_reference(message, self.env["hc.item.reference"]._flows_bringing_items(), error)
        place = event.get("location_code") or event.get("department_code")
        location = self.env["stock.location"].browse(locations.get(str(place))).exists() if place else None
        if not location:
            raise PermanentError(self.env._(
                "Consumption %(ref)s: location %(code)s is not in the code table legacy_location.",
                ref=reference, code=place), category="mapping")
        try:
            quantity = float(event.get("quantity"))
        except (TypeError, ValueError):
            quantity = 0.0
        if quantity <= 0:
            raise PermanentError(self.env._("Consumption %(ref)s needs a positive quantity.", ref=reference))
        return reference, product, location, quantity

    @api.model
    def _apply_event(self, message, event, locations, products):
        reference, product, location, quantity = self._resolve(message, event, locations, products)
        returned = (event.get("kind") or "use") == "return"
        # A return is bound apart: a credit may name the transaction id of the charge it takes back.
        key = f"{reference}:return" if returned else reference
        applied = self._applied(message, "stock.move", key)
        if applied:
            return applied, "unchanged"
        policy = message.flow_id.hc_shortage_policy
        # A lot comes back only if Odoo knows it: a return never makes a lot up, whatever the policy.
        lot = self._lot(reference, product, event, "exception" if returned else policy)
        when = self._consumed_at(reference, event)
        consumption = location.hc_consumption_location_id or self.env.ref(
            "hc_inventory_sync.location_patient_consumption")
        company = location.company_id or self.env.company  # the event's own store's, both ways
        if returned:
            # Taken back: nothing to allocate from stock, and stock only grows (no threshold to check).
            move = self._done_move(reference, product, quantity, consumption, location, [(consumption, quantity)],
                                   lot, when, company)
            self._bind(message, move, key)
            return move, "created"
        allocations, missing = self._allocate(product, location, lot, quantity)
        if missing > 0 and policy == "exception":
            raise PermanentError(self.env._(
                "Consumption %(ref)s: %(qty)s %(uom)s of %(product)s used at %(location)s, only %(available)s "
                "available in Odoo. Receive or count the stock, then retry; or allow negative stock on the flow.",
                ref=reference, qty=quantity, uom=product.uom_id.name, product=product.display_name,
                location=location.display_name, available=quantity - missing), category="conflict")
        if missing > 0:
            allocations.append((location, missing))
        move = self._done_move(reference, product, quantity, location, consumption, allocations, lot, when, company)
        self._bind(message, move, key)
        self.env["stock.warehouse.orderpoint"]._hc_check_breach(product, location, message)
        return move, "created"

    @api.model
    def _consumed_at(self, reference, event):
        consumed_at = str(event.get("consumed_at") or "")[:19].replace("T", " ")
        try:
            return fields.Datetime.to_datetime(consumed_at) if consumed_at else None
        except ValueError as exc:
            raise PermanentError(self.env._("Consumption %(ref)s: consumed_at %(value)s is not a date and time.",
                                            ref=reference, value=event.get("consumed_at"))) from exc

    @api.model
    def _done_move(self, reference, product, quantity, location, destination, allocations, lot, when, company):
        """A done move of ``company`` of ``quantity`` from ``location`` to ``destination``, its lines
        taken from ``allocations`` ([(source location, quantity)]), dated ``when`` (None: now)."""
        move = self.env["stock.move"].create({
            "product_id": product.id,
            "product_uom_qty": quantity,
            "product_uom": product.uom_id.id,
            "location_id": location.id,
            "location_dest_id": destination.id,
            "origin": reference,
            "company_id": company.id,
        })
        move._action_confirm()
        move.move_line_ids.unlink()
        self.env["stock.move.line"].create([{
            "move_id": move.id, "product_id": product.id, "product_uom_id": product.uom_id.id,
            "quantity": qty, "location_id": source.id, "location_dest_id": destination.id,
            "lot_id": lot.id if lot else False,
        } for source, qty in allocations])
        move.picked = True
        move._action_done()
        if when:
            move.write({"date": when})
            move.move_line_ids.write({"date": when})
        return move

    @api.model
    def _lot(self, reference, product, event, policy):
        if product.tracking == "none":
            return None
        name = event.get("lot")
        if not name:
            raise PermanentError(self.env._(
                "Consumption %(ref)s: %(product)s is tracked by lot; the event names no lot.",
                ref=reference, product=product.display_name), category="mapping")
        Lot = self.env["stock.lot"]
        lot = Lot.search([("product_id", "=", product.id), ("name", "=", name)], limit=1)
        if lot:
            return lot
        if policy == "exception":
            raise PermanentError(self.env._(
                "Consumption %(ref)s: lot %(lot)s of %(product)s is unknown in Odoo.",
                ref=reference, lot=name, product=product.display_name), category="conflict")
        values = {"product_id": product.id, "name": name}
        if event.get("expiry_date") and "expiration_date" in Lot._fields:
            values["expiration_date"] = event["expiry_date"]
        return Lot.create(values)

    @api.model
    def _allocate(self, product, location, lot, quantity):
        """Take the quantity from the quants of the location and its sublocations (the location
        itself first): [(location, qty)] and what is missing."""
        domain = [("product_id", "=", product.id), ("location_id", "child_of", location.id), ("quantity", ">", 0)]
        if lot:
            domain.append(("lot_id", "=", lot.id))
        quants = self.env["stock.quant"].search(domain).sorted(lambda q: (q.location_id != location, q.id))
        allocations, left = [], quantity
        rounding = product.uom_id.rounding
        for quant in quants:
            if float_compare(left, 0, precision_rounding=rounding) <= 0:
                break
            available = quant.quantity - quant.reserved_quantity
            if float_compare(available, 0, precision_rounding=rounding) <= 0:
                continue
            take = min(available, left)
            allocations.append((quant.location_id, take))
            left -= take
        return allocations, max(left, 0.0) if float_compare(left, 0, precision_rounding=rounding) > 0 else 0.0
