from odoo import fields, models


class StockLocation(models.Model):
    _name = "stock.location"
    _inherit = ["stock.location", "hc.sync.mixin"]

    hc_consumption_location_id = fields.Many2one(
        "stock.location", string="Consumed into",
        domain="[('usage', 'in', ('inventory', 'production', 'customer'))]",
        help="Where consumption reported by the department of this location goes. Empty: the "
        "company's Patient consumption location.",
    )
    hc_legacy_codes = fields.Char(
        "Legacy codes", compute="_compute_hc_legacy_codes",
        help="Codes the departmental systems use for this location (code table legacy_location).",
    )

    def _compute_hc_legacy_codes(self):
        entries = self.env["hc.value.map.entry"].sudo().search(
            [("map_id.code", "=", "legacy_location"), ("res_id", "in", self.ids)])
        codes = {}
        for entry in entries:
            codes.setdefault(entry.res_id, []).append(entry.legacy_code)
        for location in self:
            location.hc_legacy_codes = ", ".join(sorted(codes.get(location.id, [])))
