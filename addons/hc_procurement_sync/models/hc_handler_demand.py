from collections import defaultdict

from odoo import api, fields, models

from odoo.addons.hc_integration_base.exceptions import PermanentError


class HcHandlerDemand(models.AbstractModel):
    """Approved departmental requisitions become draft RFQs: one per vendor and place of delivery,
    lines merged per product, the requisition's reference as origin. A requisition is applied once
    (bindings per requisition, vendor and place), whatever the number of times it arrives.

    Reads the canonical demand document (schemas/demand.v1.json); the flow's inbound mapping
    turns another system's event into it."""

    _name = "hc.handler.demand"
    _inherit = "hc.handler.document"
    _description = "Integration Handler: demand signal"
    _document_schema = "hc_procurement_sync/schemas/demand.v1.json"

    @api.model
    def _is_urgent(self, message):
        return message.flow_id.urgent or any(
            d.get("urgency") == "urgent" for d in self._documents_or_none(message))

    @api.model
    def _import_result(self, counts, records):
        return {"counts": counts, "rfqs": [order.id for orders in records for order in orders]}

    @api.model
    def _department_analytic(self, department, backend):
        """The analytic account (cost centre) id of the requisition's department code, or None:
        the code table ``department_analytic`` when it maps it (other addons, such as the
        workforce bridge, look the department's own cost centre up first)."""
        table = self.env["hc.value.map"].sudo().search([("code", "=", "department_analytic")], limit=1)
        return table._lookup_dict().get(str(department)) if table and department else None

    @api.model
    def _deliver_to(self, code, reference):
        """The receipt operation type (the RFQ's *Deliver To*) of a deliver-to code, through the code
        table ``deliver_to``; an empty picking type without a code (Odoo's default receipts). A code
        the table does not map to a receipt type of the company stops the requisition: its goods
        would be received in the wrong place."""
        PickingType = self.env["stock.picking.type"]
        if code in (None, ""):
            return PickingType
        table = self.env["hc.value.map"].sudo().search([("code", "=", "deliver_to")], limit=1)
        type_id = table._lookup_dict().get(str(code)) if table.model_id.model == "stock.picking.type" else None
        picking_type = PickingType.browse(type_id).exists() if type_id else PickingType
        foreign = picking_type.company_id and picking_type.company_id != self.env.company
        if not picking_type or picking_type.code != "incoming" or foreign:
            raise PermanentError(self.env._(
                "Requisition %(ref)s: deliver-to %(code)s is not a receipt operation type of %(company)s in the "
                "code table deliver_to (Integrations > Configuration > Code tables): map the code there, then "
                "retry.", ref=reference, code=code, company=self.env.company.name), category="mapping")
        return picking_type

    @api.model
    def _apply_document(self, message, requisition):
        reference = str(requisition["reference"])
        Binding = self.env["hc.binding"].sudo()
        backend = message.backend_id
        applied = Binding.search_fetch([("backend_id", "=", backend.id), ("res_model", "=", "purchase.order"),
                                        ("external_id", "=like", f"{reference}:%")], ["res_id"])
        if applied:
            # Already applied: a repeated event changes nothing, also once the requisition moved on there
            # (ordered, cancelled: what its orders' status pushes told it); its orders are named, not changed.
            return self.env["purchase.order"].browse(applied.mapped("res_id")).exists(), "unchanged"
        if not requisition.get("approved", True):
            raise PermanentError(self.env._("Requisition %s is not approved.", reference))
        lines = requisition.get("lines") or []
        products = self.env["hc.item.reference"]._products(backend, [line.get("item_code") for line in lines])
        by_vendor = defaultdict(lambda: defaultdict(float))  # (vendor, receipt type) -> product -> quantity
        places = {}
        for line in lines:
            code = line.get("item_code")
            if not code or not isinstance(code, str):
                raise PermanentError(
                    self.env._("Requisition %s: a line names no item code.", reference), category="mapping"
                )
            product = products.get(code)
            if not product:
                error = self.env._("Requisition %(ref)s: unknown item %(code)s.", ref=reference, code=code)
                self._missing_reference(message, self.env["hc.item.reference"]._flows_bringing_items(), error)
            seller = product.seller_ids[:1]
            if not seller:
                raise PermanentError(
                    self.env._("Requisition %(ref)s: item %(code)s has no supplier.", ref=reference, code=code),
                    category="mapping",
                )
            try:
                quantity = float(line.get("quantity") or 0)
            except (TypeError, ValueError):
                quantity = 0
            if quantity <= 0:
                raise PermanentError(self.env._("Requisition %(ref)s: item %(code)s needs a positive quantity.",
                                                ref=reference, code=code))
            code = line.get("deliver_to") or requisition.get("deliver_to")
            if code not in places:
                places[code] = self._deliver_to(code, reference)
            by_vendor[seller.partner_id, places[code]][product] += quantity
        if not by_vendor:
            raise PermanentError(self.env._("Requisition %s has no lines.", reference))
        planned = requisition.get("needed_by") and fields.Datetime.to_datetime(requisition["needed_by"])
        analytic = self._department_analytic(requisition.get("department_code"), backend)
        orders = self.env["purchase.order"]
        for (vendor, place), quantities in by_vendor.items():
            order = self.env["purchase.order"].create({
                "partner_id": vendor.id,
                "origin": reference,
                **({"picking_type_id": place.id} if place else {}),
                "priority": "1" if requisition.get("urgency") == "urgent" else "0",
                "order_line": [(0, 0, {"product_id": product.id, "product_qty": qty,
                                       **({"date_planned": planned} if planned else {}),
                                       **({"analytic_distribution": {str(analytic): 100}} if analytic else {})})
                               for product, qty in quantities.items()],
            })
            # reference:vendor as before places: requisitions applied then stay recognised.
            Binding._bind(backend, order, f"{reference}:{vendor.id}" + (f":{place.id}" if place else ""))
            orders |= order
        return orders, "created"
