from odoo import fields, models


class HcFlow(models.Model):
    _inherit = "hc.flow"

    object_type = fields.Selection(
        selection_add=[("supplier", "Supplier"), ("item", "Catalog item"), ("demand", "Demand signal"),
                       ("purchase_order", "Purchase order"), ("bill_outcome", "Vendor bill outcome"),
                       ("receipt", "Receipt"), ("requisition_status", "Requisition status")],
        ondelete={"supplier": "set default", "item": "set default", "demand": "set default",
                  "purchase_order": "set default", "bill_outcome": "set default", "receipt": "set default",
                  "requisition_status": "set default"},
    )

    def _push_records(self, records, idempotency_key=None):
        """Requisition status: one message per order and status (the handler's key), so confirming an
        order again queues a duplicate that sends nothing; orders made from no requisition of this
        backend, or in no state to report, are skipped."""
        self.ensure_one()
        if self.object_type != "requisition_status" or idempotency_key:
            return super()._push_records(records, idempotency_key=idempotency_key)
        handler = self._handler()
        messages = self.env["hc.message"]
        for order in records:
            key = handler._status_key(self, order)
            if key:
                messages |= super()._push_records(order, idempotency_key=key)
        return messages
