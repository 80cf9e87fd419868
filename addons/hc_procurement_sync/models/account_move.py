from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._hc_push_bill_outcomes()
        return posted

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self._hc_push_bill_outcomes()
        return result

    def _hc_push_bill_outcomes(self):
        """Tell the downstream system how these vendor bills of purchase orders stand now."""
        bills = self.filtered(lambda m: m.move_type == "in_invoice" and m.invoice_line_ids.purchase_line_id)
        if not bills:
            return
        flow = self.env["hc.flow"].sudo().search(
            [("object_type", "=", "bill_outcome"), ("direction", "=", "push"), ("active", "=", True),
             ("backend_id.active", "=", True)], limit=1)
        for bill in bills if flow else []:
            outcome = flow._handler()._outcome(bill)
            flow._push_records(bill, idempotency_key=f"bill-{outcome}")
