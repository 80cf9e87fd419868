import base64
import json

from odoo import api, fields, models
from odoo.exceptions import UserError

FORMAT = "hc-integration-config/1"
BACKEND_FIELDS = [
    "name", "protocol", "environment", "base_url", "health_path", "wsdl_url", "connect_timeout", "read_timeout",
    "tls_verify", "tls_ca_bundle", "tls_client_cert", "rate_limit", "auth_type", "auth_username",
    "api_key_name", "api_key_location", "oauth_token_url", "oauth_client_id", "oauth_scope", "wsse_digest",
    "inbound_replay_window", "inbound_max_bytes", "inbound_rate_limit", "breaker_threshold", "breaker_cooldown",
    "job_capacity", "payload_retention_days", "exception_payload_retention_days", "message_retention_days",
    "alert_error_rate", "alert_backlog", "alert_oldest_minutes", "mllp_host", "mllp_port", "mllp_listen_port",
    "mllp_encoding",
]
FLOW_FIELDS = [
    "name", "object_type", "direction", "system_of_record", "ownership_policy", "mode", "criticality",
    "latency_class", "urgent",
    "priority", "remote_resource", "sensitive_paths", "inbound_schema", "inbound_xsd", "external_id_path",
    "idempotency_key_path", "paging_style", "page_size", "paging_page_param", "paging_size_param",
    "paging_offset_param", "paging_limit_param", "paging_cursor_param", "paging_records_path", "paging_next_path",
    "paging_total_path", "paging_cursor_path", "changed_since_param", "changed_since_template", "max_attempts",
    "request_method", "request_path", "request_method_update", "request_path_update",
    "request_method_cancel", "request_path_cancel", "request_query", "request_headers", "response_version_header",
    "remote_version_path", "payload_format", "xml_root", "operation_create",
    "operation_update", "operation_cancel", "push_trigger", "push_trigger_fields", "push_domain",
    "hl7_message_types",
]
# What makes a backend point at one environment's systems: an import into an existing backend keeps
# the target's values unless the administrator asks for the file's (promoting test -> production
# must not repoint production at the test systems).
ENDPOINT_FIELDS = ("environment", "base_url", "wsdl_url", "health_path", "oauth_token_url", "auth_username",
                   "oauth_client_id", "tls_ca_bundle", "tls_client_cert", "mllp_host", "mllp_port",
                   "mllp_listen_port")
LINE_FIELDS = ["sequence", "source", "target", "transform", "params", "required", "default", "validation_regex",
               "validation_min", "validation_max", "validation_allowed"]


def _plain(record, names):
    return {name: record[name] for name in names}


def _record_ref(record):
    """A record as a configuration file names it: its XML id (the same in every database that has
    it) and its name (to find it where it was made by hand)."""
    if not record:
        return None
    return {"xmlid": record.get_external_id().get(record.id) or None, "name": record.display_name}


def _resolve_ref(env, model, ref, where):
    """The record of ``model`` a file's reference names: by XML id, else the one of that name; else
    a UserError naming ``where`` it was used."""
    if not ref:
        return env[model]
    record = env.ref(ref["xmlid"], raise_if_not_found=False) if ref.get("xmlid") else None
    if record is not None and record._name == model:
        return record
    found = env[model].search([("display_name", "=", ref.get("name"))], limit=2)
    if len(found) != 1:
        raise UserError(env._("%(where)s: no record of %(model)s named %(name)s here (or more than one).", where=where,
                              model=env["ir.model"]._get(model).name, name=ref.get("name")))
    return found


class HcFlow(models.Model):
    _inherit = "hc.flow"

    def _config_field_names(self):
        """The flow's fields a configuration file carries. A domain addon that adds settings to
        flows adds their names (``super()`` plus its own): links travel by XML id and name."""
        return list(FLOW_FIELDS)

    def _config_values(self):
        self.ensure_one()
        values = {}
        for name in self._config_field_names():
            field = self._fields[name]
            values[name] = _record_ref(self[name]) if field.type == "many2one" else self[name]
        return values

    @api.model
    def _config_write_values(self, data, where):
        """What a file says of a flow, as values to write: only the configuration fields."""
        values = {}
        for name in self._config_field_names():
            if name not in data:
                continue
            field = self._fields[name]
            values[name] = (_resolve_ref(self.env, field.comodel_name, data[name], where).id or False
                            if field.type == "many2one" else data[name])
        return values


class HcBackend(models.Model):
    _inherit = "hc.backend"

    def _export_config(self):
        """The backend with its flows, mapping versions and the code tables they use — never a secret."""
        self.ensure_one()
        tables = self.env["hc.value.map"]
        flows = []
        for flow in self.flow_ids:
            mappings = []
            for mapping in flow.mapping_ids.filtered(lambda m: m.state != "archived"):
                lines = [_plain(line, LINE_FIELDS) for line in mapping.line_ids]
                for line in mapping.line_ids.filtered(lambda ln: ln.params):
                    table = json.loads(line.params).get("table")
                    if table:
                        tables |= self.env["hc.value.map"].search([("code", "=", table)])
                mappings.append({"version": mapping.version, "state": mapping.state, "direction": mapping.direction,
                                 "payload_format": mapping.payload_format, "namespaces": mapping.namespaces,
                                 "record_segment": mapping.record_segment, "body_root": mapping.body_root,
                                 "note": mapping.note, "lines": lines})
            flows.append({"code": flow.code, "model": flow.model_name, **flow._config_values(),
                          "mappings": mappings})
        return {
            "format": FORMAT,
            "backend": {"code": self.code, **_plain(self, BACKEND_FIELDS)},
            "flows": flows,
            "code_tables": [table._export_entries() for table in tables],
        }

    def action_export_config(self):
        self.ensure_one()
        data = json.dumps(self._export_config(), indent=2, ensure_ascii=False, default=str)
        attachment = self.env["ir.attachment"].create({
            "name": f"{self.code}-integration-config.json", "raw": data.encode(), "mimetype": "application/json",
            "res_model": self._name, "res_id": self.id,
        })
        return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "self"}

    @api.model
    def _import_config(self, data, replace_endpoints=False):
        """Create or update the backend, flows, code tables and mappings described by ``data``.

        Mapping versions arrive as new drafts (or a new active version when the source had one
        active), so what was running here stays in the history. Secrets are never imported: set
        them on the backend after the import. An existing backend keeps its endpoints and
        environment (ENDPOINT_FIELDS) unless ``replace_endpoints``; only the exported fields are
        read from the file, whatever else it holds.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(self.env._("This file is not an integration configuration (%s).", FORMAT))
        for table in data.get("code_tables", []):
            self.env["hc.value.map"]._import_entries(table)
        values = {k: v for k, v in data["backend"].items() if k in BACKEND_FIELDS or k == "code"}
        backend = self.with_context(active_test=False).search([("code", "=", values["code"])], limit=1)
        if backend:
            if not replace_endpoints:
                values = {k: v for k, v in values.items() if k not in ENDPOINT_FIELDS}
            backend.write(values)
        else:
            backend = self.create(values)
        for flow_data in data.get("flows", []):
            if "items_key" in flow_data:  # files exported before the page contract
                flow_data = {"paging_records_path": flow_data["items_key"], **flow_data}
            flow_values = self.env["hc.flow"]._config_write_values(
                flow_data, self.env._("Flow %s", flow_data.get("name") or flow_data["code"]))
            flow_values["code"] = flow_data["code"]
            model = self.env["ir.model"]._get(flow_data["model"]) if flow_data.get("model") else False
            flow_values.update(backend_id=backend.id, model_id=model.id if model else False)
            flow = self.env["hc.flow"].with_context(active_test=False).search(
                [("backend_id", "=", backend.id), ("code", "=", flow_data["code"])], limit=1)
            if flow:
                flow.write(flow_values)
            else:
                flow = self.env["hc.flow"].create(flow_values)
            for mapping_data in flow_data.get("mappings", []):
                latest = max(flow.mapping_ids.mapped("version") or [0])
                mapping = self.env["hc.mapping"].create({
                    "flow_id": flow.id, "version": latest + 1,
                    "direction": mapping_data["direction"], "payload_format": mapping_data["payload_format"],
                    "namespaces": mapping_data.get("namespaces") or False,
                    "record_segment": mapping_data.get("record_segment") or False,
                    "body_root": mapping_data.get("body_root") or "object",
                    "note": mapping_data.get("note")
                    or self.env._("Imported (was version %s)", mapping_data["version"]),
                    "line_ids": [(0, 0, line) for line in mapping_data["lines"]],
                })
                if mapping_data.get("state") == "active":
                    mapping.action_activate()
        return backend


class HcValueMap(models.Model):
    _inherit = "hc.value.map"

    def _export_entries(self):
        self.ensure_one()
        entries = []
        for entry in self.entry_ids:
            item = {"legacy_code": entry.legacy_code, "value": entry.value or None, "note": entry.note or None}
            if self.model_id and entry.res_id:
                item["record"] = _record_ref(self.env[self.model_name].browse(entry.res_id))
            entries.append(item)
        return {"code": self.code, "name": self.name, "model": self.model_name or None, "entries": entries}

    @api.model
    def _import_entries(self, data):
        model = self.env["ir.model"]._get(data["model"]) if data.get("model") else False
        table = self.search([("code", "=", data["code"])], limit=1) or self.create(
            {"code": data["code"], "name": data["name"], "model_id": model.id if model else False})
        existing = {e.legacy_code: e for e in table.entry_ids}
        for item in data["entries"]:
            values = {"value": item.get("value") or False, "note": item.get("note") or False}
            ref = item.get("record")
            if ref and model:
                values["res_id"] = _resolve_ref(self.env, model.model, ref, self.env._(
                    "Code table %(table)s, code %(code)s", table=data["code"], code=item["legacy_code"])).id
            if item["legacy_code"] in existing:
                existing[item["legacy_code"]].write(values)
            else:
                self.env["hc.value.map.entry"].create({"map_id": table.id, "legacy_code": item["legacy_code"],
                                                       **values})
        return table


class HcConfigImport(models.TransientModel):
    _name = "hc.config.import"
    _description = "Import an integration configuration"

    file = fields.Binary(required=True, help="A file made by Export configuration on a backend.")
    filename = fields.Char()
    replace_endpoints = fields.Boolean(
        "Take the file's endpoints",
        help="Off (the default): a backend that exists here keeps its URLs, WSDL, token URL, user names, "
        "certificates and environment, so a configuration promoted from test never repoints this database "
        "at the test systems. On: take them from the file. Secrets are never in a file.",
    )

    def action_import(self):
        self.ensure_one()
        try:
            data = json.loads(base64.b64decode(self.file))
        except ValueError as exc:
            raise UserError(self.env._("The file is not valid JSON: %s", exc)) from exc
        backend = self.env["hc.backend"]._import_config(data, replace_endpoints=self.replace_endpoints)
        return {"type": "ir.actions.act_window", "res_model": "hc.backend", "res_id": backend.id, "view_mode": "form"}
