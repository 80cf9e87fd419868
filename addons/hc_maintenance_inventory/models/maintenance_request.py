from odoo import api, fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    hc_part_move_ids = fields.One2many("stock.move", "hc_maintenance_request_id", "Spare part moves", readonly=True,
                                       groups="stock.group_stock_user")
    hc_part_count = fields.Integer("Spare parts", compute="_compute_hc_part_count",
                                   groups="stock.group_stock_user")

    @api.depends("hc_part_move_ids")
    def _compute_hc_part_count(self):
        counts = dict(self.env["stock.move"]._read_group(
            [("hc_maintenance_request_id", "in", self.ids)], ["hc_maintenance_request_id"], ["__count"]))
        for request in self:
            request.hc_part_count = counts.get(request, 0)

    def action_hc_view_parts(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Spare parts of %(request)s", request=self.display_name),
            "res_model": "stock.move",
            "view_mode": "list,form",
            "domain": [("hc_maintenance_request_id", "=", self.id)],
            "context": {"create": False},
        }
