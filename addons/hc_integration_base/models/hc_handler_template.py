from datetime import date, datetime

from markupsafe import Markup, escape

from odoo import api, fields, models

from ..exceptions import PermanentError
from ..mapping.paths import MISSING
from .hc_handler_generic import SIMPLE_TYPES
from .hc_handler_push import _validator, load_schema, schema_errors
from .hc_mapping import batch_references


def jsonable(value):
    """A mapped value as JSON data: dates as YYYY-MM-DD, date-times as YYYY-MM-DDTHH:MM:SS (UTC)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def handler_schema(handler):
    """The JSON Schema of a handler's canonical document, or None (the generic record)."""
    path = getattr(handler, "_document_schema", None)
    return load_schema(path) if path else None


def canonical_targets(handler):
    """What an inbound mapping line may fill for this handler: the canonical document's fields,
    and whether the model's own fields are allowed too (None: no canonical document)."""
    schema = handler_schema(handler)
    if schema is None:
        return None
    # "x-odoo-fields": the document is the model's own values (suppliers, items): any field of the
    # model may be filled beside those the schema documents.
    return set(schema.get("properties", {})), bool(schema.get("x-odoo-fields"))


class HcHandlerDocument(models.AbstractModel):
    """The inbound template: a domain handler implements only its business effect.

    Each entry of a message (one JSON object, or each object of a JSON list: a pulled page) is
    turned into the object type's canonical document: through the flow's active inbound mapping
    when it has one (wire -> canonical), else taken as it is (the demo simulators speak the
    canonical dialect). The document is checked against its schema (``_document_schema``); a
    document that does not fit stops the message in the exception queue with a *validation*
    error naming the path. The handler's ``_apply_document`` then reads only canonical keys and
    returns the records it made and whether it made them now; the template counts them, links
    a single message to its record and offers the bindings that make an effect happen once.
    """

    _name = "hc.handler.document"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: inbound document template"

    # "<addon>/schemas/<type>.v<n>.json"; set by each handler.
    _document_schema = None
    # The canonical key naming the document (its reference), shown as the message's external ID.
    _document_key = "reference"

    # --- canonical documents ---------------------------------------------------------------------
    @api.model
    def _canonical_schema(self):
        return handler_schema(self)

    @api.model
    def _entries(self, message):
        """The message's entries as they came (one object, or the objects of a list) and whether
        it was a list."""
        payload = self._payload(message)
        if isinstance(payload, list):
            return payload, True
        return [payload], False

    @api.model
    def _to_canonical(self, message, entry):
        """One entry as the canonical document: the flow's active inbound mapping applied to it."""
        document = self._through_mapping(message, entry, "inbound", lambda mapping, errors: self.env._(
            "The inbound mapping %(name)s cannot read the %(type)s: %(errors)s", name=mapping.name,
            type=self._type_title(), errors=errors))
        return entry if document is entry else jsonable(document)

    @api.model
    def _type_title(self):
        schema = self._canonical_schema()
        return (schema or {}).get("title", self._description)

    @api.model
    def _check_canonical(self, document, index=None):
        """Refuse a document that does not fit the schema, naming where (``/2/lines/0/quantity``
        for the third document of a page)."""
        if not isinstance(document, dict):
            raise PermanentError(
                self.env._("The %(type)s must be a JSON object%(where)s.", type=self._type_title(),
                           where=f" (entry {index + 1})" if index is not None else ""),
                category="validation",
            )
        if not self._document_schema or _validator(self._document_schema).is_valid(document):
            return
        errors = schema_errors(self._document_schema, document)
        if errors:
            prefix = f"/{index}" if index is not None else ""
            raise PermanentError(
                self.env._("The %(type)s document does not match its schema: %(errors)s",
                           type=self._type_title(), errors="; ".join(prefix + e for e in errors[:10])),
                category="validation",
            )

    @api.model
    def _documents(self, message):
        """The message's canonical documents, each checked; and whether the message was a list."""
        entries, many = self._entries(message)
        documents = []
        with batch_references():
            for index, entry in enumerate(entries):
                document = self._to_canonical(message, entry)
                self._check_canonical(document, index if many else None)
                documents.append(document)
        return documents, many

    @api.model
    def _documents_or_none(self, message):
        """The documents, or [] when they cannot be read (for decisions taken before the job, such
        as urgency: the job itself reports why)."""
        try:
            return self._documents(message)[0]
        except PermanentError:
            return []

    # --- applying -------------------------------------------------------------------------------
    @api.model
    def _import_message(self, message):
        documents, many = self._documents(message)
        entries = self._entries(message)[0]
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        records = []
        for records_of, effect in self._apply_documents(message, documents):
            counts[effect] += 1
            records.append(records_of)
        self._remember_remote_versions(message, entries if many else [entries[0]], records)
        if not many and records and records[0]:
            message.write({"res_model": records[0]._name, "res_id": records[0][:1].id,
                           "external_id": str(documents[0].get(self._document_key) or message.external_id or "")
                           or False})
        return self._import_result(counts, records)

    @api.model
    def _import_result(self, counts, records):
        return {"counts": counts}

    @api.model
    def _remember_remote_versions(self, message, entries, records):
        """With a Remote version path on the flow: each entry's remote ID (External ID path) and version
        kept on the bindings of the records it made, for a push naming {binding.version}. The paths
        read the entry as the external ID path does (JSON paths; HL7 paths on an HL7 record, e.g.
        ORC-4 and MSH-10: the requisition and the control id of the message that carried it)."""
        flow = message.flow_id
        version_path, id_path = (flow.remote_version_path or "").strip(), (flow.external_id_path or "").strip()
        if not (version_path and id_path):
            return
        Binding = self.env["hc.binding"].sudo()
        for entry, records_of in zip(entries, records, strict=False):
            if not records_of or entry is None or isinstance(entry, (list, str, bytes)):
                continue
            version, remote_id = (self._external_id_of(message, entry, path) for path in (version_path, id_path))
            if version in (MISSING, None, "") or remote_id in (MISSING, None, ""):
                continue
            Binding._remember_remote(message.backend_id, records_of, remote_id, version)

    @api.model
    def _apply_documents(self, message, documents):
        """``[(records, effect)]`` for the documents: effect is created, updated or unchanged."""
        return [self._apply_document(message, document) for document in documents]

    @api.model
    def _apply_document(self, message, document):
        """The business effect of one canonical document: ``(records, effect)``."""
        raise NotImplementedError

    # --- bindings -------------------------------------------------------------------------------
    @api.model
    def _applied(self, message, model_name, key):
        """The record a document of this key made earlier on this backend (empty: not applied)."""
        binding = self.env["hc.binding"].sudo()._lookup(message.backend_id, model_name, str(key))
        return self.env[model_name].browse(binding.res_id).exists() if binding else self.env[model_name]

    @api.model
    def _bind(self, message, record, key):
        return self.env["hc.binding"].sudo()._bind(message.backend_id, record, str(key))


class HcHandlerGeneric(models.AbstractModel):
    """XML payloads are read by the flow's XML mapping; a schema's sensitive keys are its flows'
    default sensitive paths."""

    _inherit = "hc.handler.generic"

    @api.model
    def _sensitive_keys(self):
        """The canonical document's keys its schema marks ``x-sensitive`` (none without a schema)."""
        schema = handler_schema(self) or {}
        return [key for key, spec in schema.get("properties", {}).items() if spec.get("x-sensitive")]

    @api.model
    def _default_sensitive_paths(self):
        """The schema's sensitive keys as redaction paths, of one event and of each record of a page
        (False: none); a flow of this object type starts with them (hc.flow._object_type_defaults)."""
        keys = self._sensitive_keys()
        return "\n".join([*keys, *(f"[*].{key}" for key in keys)]) or False

    @api.model
    def _payload(self, message):
        """An XML message (an inbound post the door let through: its flow has an active inbound
        mapping in XML format) is handed over as its text, which that mapping parses and reads by
        XPath; JSON as before."""
        text = message.sudo().payload_raw or message.payload
        mapping = message.flow_id.active_mapping_id
        if text and text.lstrip().startswith("<") and mapping.payload_format == "xml" \
                and mapping.direction == "inbound":
            return text
        return super()._payload(message)


class HcFlow(models.Model):
    """The flow form shows the canonical document of its object type."""

    _inherit = "hc.flow"

    canonical_document = fields.Html(
        compute="_compute_canonical_document", sanitize=False,
        help="The document this flow's handler reads or builds: the targets of an inbound mapping, the "
        "sources of an outbound one.",
    )

    @api.depends("object_type", "model_id")
    def _compute_canonical_document(self):
        for flow in self:
            handler = flow._handler() if f"hc.handler.{flow.object_type}" in self.env else None
            schema = handler_schema(handler) if handler is not None else None
            if schema is not None:
                flow.canonical_document = flow._schema_html(schema)
            elif flow.model_id:
                flow.canonical_document = flow._model_fields_html(self.env[flow.model_id.model])
            else:
                flow.canonical_document = False

    def _owned_fields(self):
        """A canonical document that is not the model's own values fills the fields its keys name
        (``x-fills`` of each property): of the keys the active inbound mapping fills, or of every
        key without a mapping (the payload is the document)."""
        self.ensure_one()
        handler = self._handler() if f"hc.handler.{self.object_type}" in self.env else None
        canonical = canonical_targets(handler) if handler is not None else None
        if canonical is None or canonical[1]:
            return super()._owned_fields()
        properties = handler_schema(handler).get("properties", {})
        mapping = self.active_mapping_id
        keys = set(mapping.line_ids.mapped("target")) if mapping and mapping.direction == "inbound" else set(properties)
        return {name for key in keys for name in properties.get(key, {}).get("x-fills", ())}

    def _schema_html(self, schema):
        rows = []

        def walk(properties, required, prefix):
            for name, spec in properties.items():
                kind = spec.get("type", "")
                kind = " or ".join(kind) if isinstance(kind, list) else kind
                if spec.get("enum"):
                    kind = f"{kind}: {', '.join(map(str, spec['enum']))}"
                if spec.get("format"):
                    kind = f"{kind} ({spec['format']})"
                rows.append((f"{prefix}{name}", kind, name in required, spec.get("description", "")))
                items = spec.get("items") if isinstance(spec.get("items"), dict) else None
                if items and items.get("properties"):
                    walk(items["properties"], set(items.get("required", [])), f"{prefix}{name}[*].")

        walk(schema.get("properties", {}), set(schema.get("required", [])), "")
        title = escape(f"{schema.get('title', '')} v{schema.get('version', 1)}")
        head = Markup("<p><strong>%s</strong> (%s): %s</p>") % (
            title, escape(schema.get("$id", "")), escape(schema.get("description", "")))
        if schema.get("x-odoo-fields") and self.model_id:
            head += Markup("<p>%s</p>") % self.env._(
                "Other fields of %s may be filled as well.", self.model_id.name)
        return head + self._rows_html(rows)

    def _model_fields_html(self, model):
        rows = [
            (name, field.type, field.required, field.string + (f": {field.help}" if field.help else ""))
            for name, field in sorted(model._fields.items())
            if (field.type in SIMPLE_TYPES or field.type == "many2one") and field.store and not field.readonly
            and not field.groups and not name.startswith(("message_", "activity_", "website_message"))
        ]
        head = Markup("<p>%s</p>") % self.env._(
            "Generic record: the document is the fields of %s (many2one: the record's ID).", model._description)
        return head + self._rows_html(rows)

    def _rows_html(self, rows):
        body = Markup("").join(
            Markup("<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                name, kind, self.env._("required") if required else "", description)
            for name, kind, required, description in rows
        )
        return Markup(
            '<table class="table table-sm o_hc_canonical"><thead><tr><th>%s</th><th>%s</th><th></th><th>%s</th>'
            "</tr></thead><tbody>%s</tbody></table>"
        ) % (self.env._("Field"), self.env._("Type"), self.env._("Description"), body)
