from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    hc_maintenance_request_id = fields.Many2one(
        "maintenance.request", "Maintenance request", index="btree_not_null", readonly=True, ondelete="set null",
        help="The request of the work order the CMMS reported these spare parts used on.",
    )
