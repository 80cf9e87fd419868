from odoo import api, fields, models

from .hc_mapping import _TABLES_VERSION


def _tables_changed():
    _TABLES_VERSION[0] += 1


class HcValueMap(models.Model):
    """A code cross-reference table: legacy code -> Odoo record or value, reusable by mappings."""

    _name = "hc.value.map"
    _description = "Integration Code Table"
    _inherit = ["mail.thread"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(required=True, help="Used by mapping lines (transform: value map, table: <code>).")
    model_id = fields.Many2one(
        "ir.model", string="Odoo model", ondelete="cascade",
        help="When set, entries point at records of this model (e.g. Units of Measure); otherwise at values.",
    )
    model_name = fields.Char(related="model_id.model")
    company_id = fields.Many2one(
        "res.company", help="The company whose users see and edit this table; empty: shared by every company.",
    )
    entry_ids = fields.One2many("hc.value.map.entry", "map_id", string="Entries", copy=True)
    entry_count = fields.Integer(compute="_compute_entry_count")

    _code_uniq = models.Constraint("unique(code)", "A code table's code must be unique.")

    @api.depends("entry_ids")
    def _compute_entry_count(self):
        for table in self:
            table.entry_count = len(table.entry_ids)

    def _lookup_dict(self):
        """legacy code -> record id (model tables) or value (value tables)."""
        self.ensure_one()
        if self.model_id:
            return {e.legacy_code: e.res_id for e in self.entry_ids if e.res_id}
        return {e.legacy_code: e.value for e in self.entry_ids}


    def _reverse_lookup_dict(self):
        """The table read the other way, for outbound mappings: Odoo value -> legacy code; for model
        tables both the record id and its name. Where several codes give the same Odoo value, the
        first code (in code order) is sent."""
        self.ensure_one()
        reverse = {}
        for entry in self.entry_ids.sorted("legacy_code"):
            if self.model_id and entry.res_id:
                reverse.setdefault(entry.res_id, entry.legacy_code)
                reverse.setdefault(entry.sudo().record_ref.display_name if entry.record_ref else "", entry.legacy_code)
            elif not self.model_id and entry.value not in (None, False):
                reverse.setdefault(str(entry.value), entry.legacy_code)
        reverse.pop("", None)
        return reverse


class HcValueMapEntry(models.Model):
    _name = "hc.value.map.entry"
    _description = "Integration Code Table Entry"
    _inherit = ["hc.record.ref.mixin"]
    _order = "legacy_code"

    map_id = fields.Many2one("hc.value.map", required=True, ondelete="cascade", index=True)
    legacy_code = fields.Char(required=True, index=True)
    res_model = fields.Char(related="map_id.model_name", store=True)
    res_id = fields.Many2oneReference("Odoo record ID", model_field="res_model")
    record_ref = fields.Reference(inverse="_inverse_record_ref")
    value = fields.Char(help="The Odoo value, for tables that map codes to values (e.g. a selection).")
    note = fields.Char()

    _code_uniq = models.Constraint("unique(map_id, legacy_code)", "A legacy code appears once per table.")

    @api.model_create_multi
    def create(self, vals_list):
        _tables_changed()
        return super().create(vals_list)

    def write(self, vals):
        _tables_changed()
        return super().write(vals)

    def unlink(self):
        _tables_changed()
        return super().unlink()

    def _inverse_record_ref(self):
        for entry in self:
            entry.res_id = entry.record_ref.id if entry.record_ref else False
