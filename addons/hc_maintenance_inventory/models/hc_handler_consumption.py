from odoo import api, models


class HcHandlerConsumption(models.AbstractModel):
    """Spare parts used on a work order: the consumption document names the work order, the move is
    linked to its maintenance request. A work order Odoo does not know yet makes the usage wait
    while the CMMS's work-order flows may still bring it, else fail naming it (nothing is moved)."""

    _inherit = "hc.handler.consumption"

    @api.model
    def _apply_event(self, message, event, locations, products):
        request = self._work_order_request(message, event)
        move, effect = super()._apply_event(message, event, locations, products)
        if request and not move.hc_maintenance_request_id:
            move.hc_maintenance_request_id = request
        return move, effect

    @api.model
    def _work_order_request(self, message, event):
        code = str(event.get("work_order") or "").strip()
        Request = self.env["maintenance.request"]
        if not code:
            return Request
        request = self._applied(message, "maintenance.request", code) or Request.search(
            [("hc_work_order", "=", code), ("company_id", "in", (message.backend_id.company_id.id, False))], limit=1)
        if not request:
            self._missing_reference(
                message, self._flows_bringing(["maintenance.request"], message.backend_id),
                self.env._("Consumption %(ref)s: work order %(code)s is unknown in Odoo.",
                           ref=event.get("reference"), code=code))
        return request
