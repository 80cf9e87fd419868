from odoo import api, models

from .crossovered_budget_lines import distribution_accounts

WATCHED = {"product_qty", "price_unit", "discount", "tax_ids", "analytic_distribution", "product_uom_id"}


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    def _hc_open_amount(self):
        """Untaxed amount of the line not billed yet by a posted bill, in the company's currency."""
        self.ensure_one()
        if not self.product_qty:
            return 0.0
        billed = 0.0
        for bill_line in self.invoice_lines.filtered(lambda ln: ln.parent_state == "posted"):
            quantity = bill_line.quantity
            if bill_line.product_uom_id and self.product_uom_id and bill_line.product_uom_id != self.product_uom_id:
                quantity = bill_line.product_uom_id._compute_quantity(quantity, self.product_uom_id)
            billed += -quantity if bill_line.move_id.move_type == "in_refund" else quantity
        open_qty = max(self.product_qty - billed, 0.0)
        amount = self.price_subtotal * open_qty / self.product_qty
        order = self.order_id
        return order.currency_id._convert(amount, order.company_id.currency_id, order.company_id,
                                          (order.date_order or order.create_date).date())

    def _hc_amount(self):
        """The line's untaxed amount in the company's currency."""
        self.ensure_one()
        order = self.order_id
        return order.currency_id._convert(self.price_subtotal, order.company_id.currency_id, order.company_id,
                                          (order.date_order or order.create_date).date())

    def _hc_refresh_budgets(self, distributions=()):
        confirmed = self.filtered(lambda ln: ln.order_id.state == "purchase")
        accounts = distribution_accounts([*confirmed.mapped("analytic_distribution"), *distributions])
        self.env["crossovered.budget.lines"]._hc_refresh(accounts)

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._hc_refresh_budgets()
        return lines

    def write(self, vals):
        before = self.mapped("analytic_distribution") if "analytic_distribution" in vals else []
        result = super().write(vals)
        if WATCHED & set(vals):
            self._hc_refresh_budgets(before)
        return result

    def unlink(self):
        accounts = distribution_accounts(self.filtered(lambda ln: ln.order_id.state == "purchase")
                                         .mapped("analytic_distribution"))
        result = super().unlink()
        self.env["crossovered.budget.lines"]._hc_refresh(accounts)
        return result
