from odoo import api, fields, models


class HcRecordRefMixin(models.AbstractModel):
    """A clickable link to the Odoo record named by ``res_model`` and ``res_id``."""

    _name = "hc.record.ref.mixin"
    _description = "Integration link to an Odoo record"

    record_ref = fields.Reference(
        selection="_selection_record_ref", compute="_compute_record_ref", string="Odoo record"
    )

    @api.model
    def _selection_record_ref(self):
        return [(m.model, m.name) for m in self.env["ir.model"].sudo().search([])]

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for record in self:
            linked = record.res_model in self.env and record.res_id
            record.record_ref = f"{record.res_model},{record.res_id}" if linked else False
