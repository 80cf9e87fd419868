from odoo import fields, models


class HcReconciliationDismiss(models.TransientModel):
    _name = "hc.reconciliation.dismiss"
    _description = "Dismiss reconciliation lines"

    line_ids = fields.Many2many("hc.reconciliation.line", string="Lines")
    reason = fields.Char(required=True, help="Why Odoo's quantity stays as it is (kept on each line).")

    def action_confirm(self):
        self.line_ids._dismiss(self.reason)
        return {"type": "ir.actions.act_window_close"}
