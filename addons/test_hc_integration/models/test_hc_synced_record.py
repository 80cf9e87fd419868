from odoo import fields, models


class TestHcSyncedRecord(models.Model):
    """The smallest business record with the sync mixin: what the mixin's own tests apply messages
    to, so they need no domain addon (partners, products, orders all inherit the mixin there)."""

    _name = "test.hc.synced.record"
    _inherit = ["hc.sync.mixin"]
    _description = "Synced record (integration tests)"

    name = fields.Char(required=True)
    code = fields.Char()
    email = fields.Char()
    phone = fields.Char()
