import json
from collections import defaultdict

from odoo import api, fields, models

from odoo.addons.hc_integration_base.models.hc_handler_generic import ITEM_MODELS
from odoo.addons.hc_integration_base.models.hc_message import PermanentError


class HcHandlerDemand(models.AbstractModel):
    """Approved departmental requisitions become draft RFQs: one per vendor, lines merged per
    product, the requisition's reference as origin. A requisition is applied once (bindings
    per requisition and vendor), whatever the number of times it arrives."""

    _name = "hc.handler.demand"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: demand signal"

    @api.model
    def _is_urgent(self, message):
        try:
            payload = json.loads(message.sudo().payload_raw or message.payload or "{}")
        except ValueError:
            return False
        items = payload if isinstance(payload, list) else [payload]
        return message.flow_id.urgent or any(isinstance(i, dict) and i.get("urgency") == "urgent" for i in items)

    @api.model
    def _import_message(self, message):
        payload = self._payload(message)
        requisitions = payload if isinstance(payload, list) else [payload]
        created = self.env["purchase.order"]
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        for requisition in requisitions:
            orders = self._apply_requisition(message, requisition)
            counts["created" if orders else "unchanged"] += 1
            created |= orders
        if len(requisitions) == 1 and created:
            message.write({"res_model": "purchase.order", "res_id": created[0].id,
                           "external_id": requisitions[0].get("reference")})
        return {"counts": counts, "rfqs": created.ids}

    @api.model
    def _department_analytic(self, department):
        """The analytic account (cost centre) of a department, when the code table
        ``department_analytic`` maps it."""
        table = self.env["hc.value.map"].sudo().search([("code", "=", "department_analytic")], limit=1)
        return table._lookup_dict().get(str(department)) if table and department else None

    @api.model
    def _apply_requisition(self, message, requisition):
        if not isinstance(requisition, dict) or not requisition.get("reference"):
            raise PermanentError(self.env._("The demand signal has no reference."))
        reference = str(requisition["reference"])
        if not requisition.get("approved", True):
            raise PermanentError(self.env._("Requisition %s is not approved.", reference))
        Binding = self.env["hc.binding"].sudo()
        backend = message.backend_id
        if Binding.search_count([("backend_id", "=", backend.id), ("res_model", "=", "purchase.order"),
                                 ("external_id", "=like", f"{reference}:%")]):
            return self.env["purchase.order"]  # already applied: a repeated event changes nothing
        by_vendor = defaultdict(lambda: defaultdict(float))
        Product = self.env["product.product"]
        for line in requisition.get("lines") or []:
            code = line.get("item_code")
            if not code or not isinstance(code, str):
                raise PermanentError(
                    self.env._("Requisition %s: a line names no item code.", reference), category="mapping"
                )
            product = Product.search([("default_code", "=", code)], limit=1)
            if not product:
                error = self.env._("Requisition %(ref)s: unknown item %(code)s.", ref=reference, code=code)
                self._missing_reference(message, self._flows_bringing(ITEM_MODELS), error)
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
            by_vendor[seller.partner_id][product] += quantity
        if not by_vendor:
            raise PermanentError(self.env._("Requisition %s has no lines.", reference))
        planned = requisition.get("needed_by") and fields.Datetime.to_datetime(requisition["needed_by"])
        analytic = self._department_analytic(requisition.get("department_code"))
        orders = self.env["purchase.order"]
        for vendor, products in by_vendor.items():
            order = self.env["purchase.order"].create({
                "partner_id": vendor.id,
                "origin": reference,
                "priority": "1" if requisition.get("urgency") == "urgent" else "0",
                "order_line": [(0, 0, {"product_id": product.id, "product_qty": qty,
                                       **({"date_planned": planned} if planned else {}),
                                       **({"analytic_distribution": {str(analytic): 100}} if analytic else {})})
                               for product, qty in products.items()],
            })
            Binding._bind(backend, order, f"{reference}:{vendor.id}")
            orders |= order
        return orders
