from odoo import fields, models


class HcFlow(models.Model):
    """The test object type: what a domain addon adds, with nothing of a domain."""

    _inherit = "hc.flow"

    object_type = fields.Selection(
        selection_add=[("test_record", "Synced record (tests)")], ondelete={"test_record": "set default"})
