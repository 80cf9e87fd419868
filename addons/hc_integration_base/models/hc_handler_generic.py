import json

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..exceptions import PermanentError, ReferenceWait
from ..payload.inbound import json_path_value
from .hc_binding import content_hash
from .hc_mapping import batch_references

SIMPLE_TYPES = {"char", "text", "integer", "float", "monetary", "boolean", "date", "datetime", "selection", "html"}


class HcHandlerGeneric(models.AbstractModel):
    """Applies a payload to the flow's Odoo model, or sends a record, field by field.

    The handler interface (shared by the domain addons' handlers):
    ``_import_message(message)`` applies an inbound message and returns a dict describing
    the effect; ``_export_message(message)`` sends an outbound one and returns a dict with
    the ``response``. Both must be idempotent: running one twice has a single effect.
    """

    _name = "hc.handler.generic"
    _description = "Integration Handler: generic record"

    # The Odoo model of the records this handler applies or sends (a domain handler sets it); a
    # flow of its object type is given this model unless one is chosen (hc.flow._object_type_defaults).
    # None: the generic record, whose flow names its model itself.
    _record_model = None
    # A status push: each record is sent once per status, keyed by _status_key (hc.flow._push_records).
    _status_push = False

    @api.model
    def _status_key(self, flow, record):
        """A status push's message key of ``record``'s current status (None: nothing to send for it)."""
        return None

    @api.model
    def _extra_targets(self):
        """Mapping targets this handler understands beside the model's fields."""
        return ()

    @api.model
    def _missing_reference(self, message, flows, error):
        """A record this message names is unknown: wait while ``flows`` may still bring it (see
        ``hc.message._references_may_arrive``), else fail for good."""
        if message._references_may_arrive(flows):
            raise ReferenceWait(self.env._("%s Waiting for the records still being received.", error))
        raise PermanentError(error, category="mapping")

    @api.model
    def _flows_bringing(self, model_names, backend=None):
        """Flows that bring records of ``model_names`` into Odoo: of ``backend`` for references
        through its bindings, of any backend for references by code (items)."""
        domain = [("model_name", "in", list(model_names)), ("direction", "in", ("pull", "inbound"))]
        if backend:
            domain.append(("backend_id", "=", backend.id))
        return self.env["hc.flow"].sudo().search(domain) if model_names else self.env["hc.flow"]

    @api.model
    def _models_not_found(self, mapping, errors):
        """Models the mapping's ``many2one`` lines could not find a record of; none unless every
        error is such one (another error fails the message whatever arrives)."""
        lines = {f"{line.sequence}:{line.target}": line for line in mapping.line_ids}
        models_missing = set()
        for error in errors:
            line = lines.get(error.line_ref)
            if error.code != "not_found" or not line:
                return set()
            models_missing.add(json.loads(line.params or "{}").get("model"))
        return models_missing

    @api.model
    def _is_urgent(self, message):
        """Whether this message goes to the backend's high-priority channel (handlers decide)."""
        return message.flow_id.urgent

    @api.model
    def _payload(self, message):
        text = message.sudo().payload_raw or message.payload
        if not text:
            raise PermanentError(self.env._("The message has no payload."))
        try:
            return json.loads(text)
        except ValueError as exc:
            raise PermanentError(
                self.env._("The payload is not valid JSON: %s", exc), category="validation"
            ) from exc

    @api.model
    def _through_mapping(self, message, data, direction, failure):
        """``data`` through the flow's active mapping of ``direction`` (``data`` itself without
        one); a mapping that cannot stops the message with a *mapping* error whose sentence
        ``failure(mapping, errors)`` gives."""
        mapping = message.flow_id.active_mapping_id
        if not mapping or mapping.direction != direction:
            return data
        result = mapping._compiled()(data)
        if result.errors:
            raise PermanentError(failure(mapping, result.error_text()), category="mapping")
        return result.values

    @api.model
    def _values(self, message, payload):
        """Values for the target model: through the flow's active mapping version when it has one,
        else the payload's keys that are simple fields of the model; checked against the
        handler's document schema when it has one (``_document_schema``: suppliers, items)."""
        mapping = message.flow_id.active_mapping_id
        if mapping:
            result = mapping._compiled()(payload)
            if result.errors:
                error = result.error_text()
                flows = self._flows_bringing(self._models_not_found(mapping, result.errors), message.backend_id)
                self._missing_reference(message, flows, error)
            self._check_record_document(result.values)
            return result.values
        model = self.env[message.flow_id.model_name]
        if not isinstance(payload, dict):
            raise PermanentError(self.env._("The payload must be a JSON object."))
        values = {
            key: value
            for key, value in payload.items()
            if key in model._fields and model._fields[key].type in SIMPLE_TYPES
            and not model._fields[key].readonly
        }
        if not values:
            raise PermanentError(
                self.env._(
                    "No field of %(model)s found in the payload (keys: %(keys)s).",
                    model=model._description,
                    keys=", ".join(sorted(payload)) or "-",
                ),
                category="mapping",
            )
        self._check_record_document(values)
        return values

    @api.model
    def _check_record_document(self, values):
        """Refuse values that do not fit the handler's document schema, naming the path."""
        path = getattr(self, "_document_schema", None)
        if not path:
            return
        from .hc_handler_push import _validator, load_schema, schema_errors  # noqa: PLC0415 - defined after this

        if _validator(path).is_valid(values):  # the common case, a quarter cheaper than listing errors
            return
        errors = schema_errors(path, values)
        if errors:
            raise PermanentError(
                self.env._("The %(type)s document does not match its schema: %(errors)s",
                           type=load_schema(path).get("title", path), errors="; ".join(errors[:10])),
                category="validation",
            )

    @api.model
    def _import_message(self, message):
        """Apply one record, or a page of records (a JSON list), to the flow's model."""
        payload = self._payload(message)
        path = message.flow_id.external_id_path or "id"
        if isinstance(payload, list):
            entries = [(self._external_id_of(message, item, path), item) for item in payload]
        else:
            external_id = message.external_id or json_path_value(payload, path) or (
                payload.get("external_id") if isinstance(payload, dict) else None
            )
            entries = [(external_id, payload)]
        result = self._apply(message, entries)
        if not isinstance(payload, list):
            if result["counts"]["failed"]:
                raise PermanentError(result["errors"][0][1], category=result["categories"][0])
            record = result["records"][0]
            message.write({"res_model": record._name, "res_id": record.id, "external_id": result["external_ids"][0]})
            return {"effect": result["effects"][0], "res_id": record.id, "counts": result["counts"]}
        if result["errors"] and not result["records"]:
            raise PermanentError(
                self.env._("No record of the page could be applied; first error: %s", result["errors"][0][1]),
                category="mapping", counts=result["counts"],
            )
        response = None
        if result["errors"]:
            response = json.dumps([{"external_id": e, "error": r} for e, r in result["errors"][:200]])
        return {"counts": result["counts"], "response": response}

    @api.model
    def _external_id_of(self, message, item, path):
        """The external ID of one record of a page (an HL7 record reads it by an HL7 path)."""
        return json_path_value(item, path)

    @api.model
    def _apply(self, message, entries):
        """Create, update or skip each (external_id, item): bindings are fetched in one query,
        new records created in one batch, unchanged ones (same content hash) left alone."""
        backend = message.backend_id
        # The sync itself may write fields the legacy system owns (ownership rules stop people).
        model = self.env[message.flow_id.model_name].with_context(hc_sync_apply=True)
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        errors, categories, prepared = [], [], {}
        with batch_references():
            for external_id, item in entries:
                if external_id in (None, "") or isinstance(external_id, (dict, list)):
                    counts["failed"] += 1
                    errors.append(
                        (None, self.env._("The record names no external ID (%s).", message.flow_id.external_id_path))
                    )
                    categories.append("mapping")
                    continue
                try:
                    values = self._values(message, item)
                except PermanentError as exc:
                    counts["failed"] += 1
                    errors.append((str(external_id), str(exc)))
                    categories.append(exc.category)
                    continue
                prepared[str(external_id)] = (values, content_hash(values))
        Binding = self.env["hc.binding"].sudo()
        bindings = {
            b.external_id: b
            for b in Binding.search([
                ("backend_id", "=", backend.id), ("res_model", "=", model._name),
                ("external_id", "in", list(prepared)),
            ])
        }
        existing = model.browse([b.res_id for b in bindings.values()]).exists()
        existing_ids = set(existing.ids)
        records, effects, external_ids, to_create = {}, {}, [], []
        now = fields.Datetime.now()
        for external_id, (values, digest) in prepared.items():
            binding = bindings.get(external_id)
            if binding and binding.res_id in existing_ids:
                record = model.browse(binding.res_id)
                if binding.content_hash == digest:
                    effects[external_id] = "unchanged"
                else:
                    record.write(values)
                    binding.write({"content_hash": digest, "last_sync": now})
                    effects[external_id] = "updated"
                records[external_id] = record
            else:
                to_create.append(external_id)
        if to_create:
            # No "created" note nor follower per record: the message and the binding record where
            # the record came from, and a pull of 100k records must not write 100k chatter notes.
            created = model.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(
                [prepared[e][0] for e in to_create])
            stale = [bindings[e] for e in to_create if e in bindings]
            for binding in stale:
                binding.write({"res_id": created[to_create.index(binding.external_id)].id})
            Binding.create([
                {"backend_id": backend.id, "res_model": model._name, "external_id": e, "res_id": record.id,
                 "content_hash": prepared[e][1], "last_sync": now}
                for e, record in zip(to_create, created, strict=True) if e not in bindings
            ])
            for external_id, record in zip(to_create, created, strict=True):
                records[external_id] = record
                effects[external_id] = "created"
        for effect in effects.values():
            counts[effect] += 1
        external_ids = list(records)
        return {
            "counts": counts,
            "errors": errors,
            "categories": categories,
            "records": [records[e] for e in external_ids],
            "effects": [effects[e] for e in external_ids],
            "external_ids": external_ids,
        }

    @api.model
    def _record_payload(self, record, depth=1):
        """A record as plain data for outbound mappings: simple fields as they are, many2one as
        ``{"id", "name"}`` and x2many as lists of their records' data (one level deep)."""
        data = {"id": record.id}
        for name, field in record._fields.items():
            if (field.groups and not record._has_field_access(field, "read")) or (
                    field.relational and not self.env[field.comodel_name].has_access("read")):
                continue  # what the sending user may not read (a sending rule acts as the integration user)
            if field.type in SIMPLE_TYPES:
                value = record[name]
                data[name] = None if value is False and field.type != "boolean" else value  # Odoo's empty
            elif field.type == "many2one":
                data[name] = {"id": record[name].id, "name": record[name].display_name} if record[name] else None
            elif field.type in ("one2many", "many2many") and depth > 0 and not field.groups:
                data[name] = [self._record_payload(line, depth - 1) for line in record[name]]
        return data

    @api.model
    def _prepare_payload(self, flow, record):
        """The outbound payload of ``record``: the flow's active outbound mapping applied to it."""
        mapping = flow.active_mapping_id
        if not mapping or mapping.direction != "outbound":
            raise UserError(self.env._("Flow %s needs an active outbound mapping to send records.", flow.name))
        result = mapping._compiled()(self._record_payload(record))
        if result.errors:
            raise UserError(result.error_text())
        return result.values

    @api.model
    def _export_message(self, message):
        record = message.record_ref
        if not record:
            raise PermanentError(self.env._("The record to send no longer exists."))
        payload = self._payload(message)
        return message.backend_id._send(message, payload)
