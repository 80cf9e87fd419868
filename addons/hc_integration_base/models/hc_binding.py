import hashlib
import json

from odoo import api, fields, models, tools
from odoo.tools import SQL


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
    def _bound_record(self, backend_id, model, external_id):
        """``(res_model, res_id)`` of the binding of ``external_id`` at the backend for ``model``, or
        None: the lookup of :meth:`_lookup` for a message the ORM's create stores, in one plain
        query (``hc.message._insert_rows``: its own INSERT finds the binding otherwise)."""
        rows = self.env.execute_query(SQL(
            "SELECT %s, %s", self._bound_sql("res_model", backend_id, model, external_id),
            self._bound_sql("res_id", backend_id, model, external_id),
        ))
        return rows[0] if rows and rows[0][0] else None

    @api.model
    def _bound_sql(self, column, backend_id, model, external_id):
        """``column`` (``res_model`` or ``res_id``) of the binding of ``external_id`` at the backend
        for ``model`` as a scalar subquery, NULL when there is none (the unique constraint: one row
        at most): the one spelling of that lookup in SQL, for :meth:`_bound_record` and the INSERT
        of new messages (``hc.message._insert_rows``). The binding fields it reads are flushed
        before a query holding it runs (``to_flush``)."""
        code, to_flush = self._bound_sql_code(column)
        return SQL(code, backend_id, model, external_id, to_flush=to_flush)

    @api.model
    @tools.ormcache("column")
    def _bound_sql_code(self, column):
        """The code of :meth:`_bound_sql` for ``column`` and the fields it reads, per registry (every
        message stored holds it twice: composed from identifiers each time, it cost every post)."""
        names = (column, "backend_id", "res_model", "external_id")
        ident = {name: SQL.identifier(name).code for name in names}
        code = (f"(SELECT {ident[column]} FROM {SQL.identifier(self._table).code} WHERE {ident['backend_id']} = %s "
                f"AND {ident['res_model']} = %s AND {ident['external_id']} = %s)")
        return code, tuple(self._fields[name] for name in names)

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

    @api.model
    def _remote_of(self, backend, record):
        """The binding of ``record`` at ``backend`` naming its remote object with a version (the last
        synced one), or an empty recordset."""
        if not record:
            return self.browse()
        return self.search([("backend_id", "=", backend.id), ("res_model", "=", record._name),
                            ("res_id", "=", record.id), ("external_version", "!=", False)],
                           order="last_sync desc, id desc", limit=1)

    @api.model
    def _remember_remote(self, backend, records, external_id, version):
        """Keep the remote object ``external_id`` at ``version`` on each record's binding (made when
        missing), leaving the content hash of the handler's own binding alone.

        A binding names one record: when one remote object made several (a requisition split into one
        order per vendor), each keeps the version on the binding its handler gave it at this backend
        (the remote ID on the first record's binding when it has none)."""
        external_id, version = str(external_id), str(version)
        if len(records) > 1:
            now = fields.Datetime.now()
            own = self.search([("backend_id", "=", backend.id), ("res_model", "=", records._name),
                               ("res_id", "in", records.ids), ("external_id", "!=", external_id)])
            own.write({"external_version": version, "last_sync": now})
            records = records[:1] - records.browse(own.mapped("res_id"))
        for record in records:
            binding = self._lookup(backend, record._name, external_id)
            vals = {"res_id": record.id, "external_version": version, "last_sync": fields.Datetime.now()}
            if binding:
                binding.write(vals)
            else:
                self.create({"backend_id": backend.id, "res_model": record._name, "external_id": external_id,
                             **vals})

    @api.model
    def _remember_version(self, backend, record, version):
        """A push was accepted at ``version``: the record's remote binding moves to it."""
        binding = self._remote_of(backend, record)
        if binding and version:
            binding.write({"external_version": str(version), "last_sync": fields.Datetime.now()})
        return binding
