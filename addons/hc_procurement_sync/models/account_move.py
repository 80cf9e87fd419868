from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        bills = posted.filtered(lambda m: m.move_type == "in_invoice" and m.invoice_line_ids.purchase_line_id)
        if bills:
            flow = self.env["hc.flow"].search(
                [("object_type", "=", "bill_outcome"), ("direction", "=", "push"), ("active", "=", True),
                 ("backend_id.active", "=", True)], limit=1)
            for bill in bills if flow else []:
                outcome = flow._handler()._outcome(bill)
                flow._push_records(bill, idempotency_key=f"bill-{outcome}")
        return posted
