from odoo import fields, models


class ProductTemplate(models.Model):
    _name = "product.template"
    _inherit = ["product.template", "hc.sync.mixin"]

    hc_critical = fields.Boolean(
        "Critical supply",
        help="Marked critical by the legacy catalog: running low triggers urgent replenishment.",
    )
