import hashlib
import json

from odoo import api, fields, models


def content_hash(values):
    """Stable hash of a payload or of mapped values: unchanged data gives the same hash."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class HcBinding(models.Model):
    """Links an external identifier of one backend to one Odoo record."""

    _name = "hc.binding"
    _description = "Integration Binding"
    _inherit = ["hc.record.ref.mixin"]
    _order = "last_sync desc, id desc"

    backend_id = fields.Many2one("hc.backend", required=True, index=True, ondelete="cascade")
    res_model = fields.Char("Odoo model", required=True, index=True)
    res_id = fields.Many2oneReference("Odoo record ID", model_field="res_model", index=True)
    external_id = fields.Char(required=True, index=True)
    external_version = fields.Char(help="Version or timestamp given by the legacy system.")
    content_hash = fields.Char(help="Hash of the last applied content: unchanged data is skipped.")
    last_sync = fields.Datetime(default=fields.Datetime.now)

    _external_uniq = models.Constraint(
        "unique(backend_id, res_model, external_id)",
        "An external ID is bound once per backend and model.",
    )

    @api.model
    def _lookup(self, backend, model, external_id):
        return self.search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", model),
                ("external_id", "=", external_id),
            ],
            limit=1,
        )

    @api.model
    def _bind(self, backend, record, external_id, digest=None, version=None):
        binding = self._lookup(backend, record._name, external_id)
        vals = {
            "res_id": record.id,
            "content_hash": digest,
            "external_version": version,
            "last_sync": fields.Datetime.now(),
        }
        if binding:
            binding.write(vals)
            return binding
        return self.create(
            {"backend_id": backend.id, "res_model": record._name, "external_id": external_id, **vals}
        )
