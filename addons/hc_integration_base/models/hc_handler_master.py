from odoo import api, fields, models

from ..exceptions import PermanentError
from .hc_binding import content_hash


class HcHandlerMaster(models.AbstractModel):
    """The master-data template: records a legacy system owns, one Odoo record per legacy code
    (cost centres, departments and employees of the HR system, equipment of a CMMS...). A domain
    handler sets ``_record_model`` and ``_code_field`` and writes ``_upsert``.

    - The record of a code is the one this backend's binding names, else the record holding that
      code (``_code_field``; archived ones too): a database loaded another way is adopted.
    - A document whose read keys hash as at the last apply is *unchanged*: nothing is written.
    - A reference to a record of another object type (a department's cost centre) that is not
      there yet waits while a flow of the backend may still bring it, then fails naming the code;
      references within the same list (parents, managers) are kept as codes and linked when the
      record they name arrives, so the order of the pages does not matter.
    - Keys marked ``x-sensitive`` in the schema are never read (not even hashed); they are also the
      default sensitive paths of the type's flows (``_default_sensitive_paths``, for any handler).
    """

    _name = "hc.handler.master"
    _inherit = "hc.handler.document"
    _description = "Integration Handler: master data by legacy code (template)"
    _document_key = "code"
    _code_field = None

    @api.model
    def _read_document(self, document):
        """The keys the handler reads (the sensitive ones dropped): what is hashed and applied."""
        sensitive = set(self._sensitive_keys())
        return {key: value for key, value in document.items() if key not in sensitive}

    # --- records by legacy code ------------------------------------------------------------------
    @api.model
    def _code(self, value):
        return str(value).strip() if value not in (None, "") else None

    @api.model
    def _by_code(self, message, model_name, code_field, code, domain=()):
        """The record of ``model_name`` a legacy ``code`` names for this backend (empty: unknown)."""
        Model = self.env[model_name].with_context(active_test=False)
        if not code:
            return Model
        record = self._applied(message, model_name, code)
        if not record:
            record = Model.search([(code_field, "=", code), *domain], limit=1)
        return record.with_context(active_test=False)

    @api.model
    def _required_reference(self, message, object_type, model_name, code_field, code, label, domain=()):
        """The record a document names by code; unknown, it waits for the flows of this backend that
        bring that object type, else fails naming the code."""
        record = self._by_code(message, model_name, code_field, code, domain)
        if code and not record:
            flows = self.env["hc.flow"].sudo().search([
                ("backend_id", "=", message.backend_id.id), ("object_type", "=", object_type),
                ("direction", "in", ("pull", "inbound")),
            ])
            self._missing_reference(message, flows, self.env._(
                "%(what)s: unknown %(label)s %(code)s (not received from %(backend)s yet).",
                what=self._type_title(), label=label, code=code, backend=message.backend_id.name))
        return record

    # --- applying ----------------------------------------------------------------------------------
    @api.model
    def _read_code(self, document):
        """``(read keys, code, content hash)`` of a document; a document without code is refused."""
        read = self._read_document(document)
        code = self._code(read.get(self._document_key))
        if not code:
            raise PermanentError(self.env._("The %(type)s names no %(key)s.", type=self._type_title(),
                                            key=self._document_key), category="mapping")
        return read, code, content_hash(read)

    @api.model
    def _apply_document(self, message, document):
        read, code, digest = self._read_code(document)
        record = self._by_code(message, self._record_model, self._code_field, code)
        binding = self.env["hc.binding"].sudo()._lookup(message.backend_id, self._record_model, code)
        if record and binding and binding.res_id == record.id and binding.content_hash == digest:
            return record, "unchanged"
        record, effect = self._upsert(message, record.with_context(hc_sync_apply=True), code, read)
        self._bind(message, record, code).write({"content_hash": digest, "last_sync": fields.Datetime.now()})
        self._link_waiting(record, code)
        return record, effect

    @api.model
    def _apply_documents(self, message, documents):
        """The documents of a page in order, except that records new to Odoo whose handler gives
        their values (``_create_values``) are created together in one batch, as Odoo's own import
        does, then bound and linked: a nightly list of 20,000 is not 20,000 creates. A code that
        appears twice in the page is applied document by document."""
        if type(self)._create_values == HcHandlerMaster._create_values or len(documents) < 2:
            return super()._apply_documents(message, documents)
        read = [self._read_code(document) for document in documents]
        seen, repeated = set(), set()
        for _read, code, _digest in read:
            (repeated if code in seen else seen).add(code)
        Model = self.env[self._record_model].with_context(active_test=False)
        codes = [r[1] for r in read]
        bound = set(self.env["hc.binding"].sudo().search([
            ("backend_id", "=", message.backend_id.id), ("res_model", "=", self._record_model),
            ("external_id", "in", codes)]).mapped("external_id"))
        known = bound | {code for code in codes if code not in bound
                         and self._by_code(message, self._record_model, self._code_field, code)}
        results, batch = [None] * len(documents), []
        for index, (document, code, digest) in enumerate(read):
            if code in known or code in repeated:
                continue
            values = self._create_values(message, code, document)
            if values is not None:
                batch.append((index, code, document, digest, values))
        if batch:
            created = Model.with_context(mail_create_nolog=True, mail_create_nosubscribe=True, hc_sync_apply=True) \
                .create([values for *_rest, values in batch])
            now = fields.Datetime.now()
            self.env["hc.binding"].sudo().create([
                {"backend_id": message.backend_id.id, "res_model": self._record_model, "external_id": code,
                 "res_id": record.id, "content_hash": digest, "last_sync": now}
                for (_index, code, _document, digest, _values), record in zip(batch, created, strict=True)])
            for (index, code, document, _digest, _values), record in zip(batch, created, strict=True):
                self._after_create(message, record, code, document)
                results[index] = (record, "created")
            for (_index, code, _document, _digest, _values), record in zip(batch, created, strict=True):
                self._link_waiting(record, code)
        for index, document in enumerate(documents):
            if results[index] is None:
                results[index] = self._apply_document(message, document)
        return results

    @api.model
    def _create_values(self, message, code, document):
        """The values creating the record of ``code`` with the other new records of a page, or
        None: it is created alone by ``_upsert``. Handlers that give them also implement
        ``_after_create`` for what follows a creation."""
        return None

    @api.model
    def _after_create(self, message, record, code, document):
        """What follows the creation of a record made in a batch (a leaver archived...)."""

    @api.model
    def _upsert(self, message, record, code, document):
        """Create or update the record of ``code`` from the document: ``(record, effect)``."""
        raise NotImplementedError

    @api.model
    def _save(self, record, values):
        """``record`` updated with the values that changed, or created from them when empty:
        ``(record, effect)``; no creation note nor follower (the message and binding tell where
        the record came from)."""
        if record:
            record.write(self._changed_values(record, values))
            return record, "updated"
        return record.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(values), "created"

    @api.model
    def _link_waiting(self, record, code):
        """Link the records that named ``code`` before it arrived (parents, managers)."""

    @api.model
    def _changed_values(self, record, values):
        """The values that differ from what ``record`` holds (links compared by id): writing only
        those keeps an update from touching what did not change (and Odoo's side effects of it)."""
        changed = {}
        for name, value in values.items():
            field = record._fields[name]
            current = record[name]
            if field.type == "many2one":
                current = current.id
            elif field.type == "date" and isinstance(value, str):
                value = fields.Date.to_date(value)
            if (current or False) != (value or False):
                changed[name] = value
        return changed

    @api.model
    def _date(self, document, key):
        value = document.get(key)
        if not value:
            return False
        try:
            return fields.Date.to_date(value)
        except ValueError as exc:
            raise PermanentError(
                self.env._("%(type)s %(code)s: %(key)s %(value)s is not a date (YYYY-MM-DD).",
                           type=self._type_title(), code=document.get(self._document_key), key=key, value=value),
                category="validation",
            ) from exc
