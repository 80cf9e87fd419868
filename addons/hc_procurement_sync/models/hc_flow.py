from odoo import fields, models


class HcFlow(models.Model):
    _inherit = "hc.flow"

    object_type = fields.Selection(
        selection_add=[("supplier", "Supplier"), ("item", "Catalog item")],
        ondelete={"supplier": "set default", "item": "set default"},
    )
