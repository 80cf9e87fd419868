from odoo import models


class HcHandlerTestRecord(models.AbstractModel):
    """The handler of the test object type: it names its records' model and its document's schema
    (with a sensitive key), as a domain handler does, for the base's object type defaults."""

    _name = "hc.handler.test_record"
    _inherit = "hc.handler.document"
    _description = "Integration Handler: synced record (tests)"
    _document_schema = "test_hc_integration/schemas/test_record.v1.json"
    _document_key = "code"
    _record_model = "test.hc.synced.record"
