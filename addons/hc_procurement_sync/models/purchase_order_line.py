from odoo import api, models


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._hc_push_changes()
        return lines

    def write(self, vals):
        result = super().write(vals)
        if set(vals) & {"product_qty", "price_unit", "product_id", "date_planned"}:
            self.order_id._hc_push_changes()
        return result
