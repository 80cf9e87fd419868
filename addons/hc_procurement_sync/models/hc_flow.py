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
