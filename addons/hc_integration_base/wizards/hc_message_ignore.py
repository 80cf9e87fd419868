from odoo import fields, models


class HcMessageIgnore(models.TransientModel):
    _name = "hc.message.ignore"
    _description = "Ignore integration messages with a reason"

    message_ids = fields.Many2many("hc.message", required=True)
    reason = fields.Text(required=True, help="Why no one needs to process these messages.")

    def action_ignore(self):
        self.ensure_one()
        self.message_ids._ignore(self.reason)
        return {"type": "ir.actions.act_window_close"}
