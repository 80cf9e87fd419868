import json
import re
import threading
from contextlib import contextmanager

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from ..mapping import CompileError, MappingCache, MappingContext, compile_mapping

_CACHE = MappingCache(size=256)
# Compiled mappings live across requests and jobs, but an environment (its cursor) lives for one
# transaction: the engine's lookups read the caller's environment from here, bound by
# _bind_environment() each time a mapping is handed out, never one captured at compile time.
_CURRENT = threading.local()
# Bumped when a code table changes, so this process reads the tables again.
_TABLES_VERSION = [0]


@contextmanager
def batch_references():
    """While a batch (a page) is mapped, each reference found is looked up once: a page of 1,000
    items naming 40 suppliers makes 40 binding queries, not 1,000. Only references found are kept
    (a record made later in the batch may still be found), and only until the batch ends."""
    outer = _CURRENT.__dict__.get("references")
    _CURRENT.references = {} if outer is None else outer
    try:
        yield
    finally:
        _CURRENT.references = outer

# Words spelled differently by each system: matched as one when a draft pairs names.
_SYNONYMS = {"number": "no", "num": "no", "nr": "no", "nbr": "no", "quantity": "qty", "reference": "ref",
             "identifier": "id", "description": "desc", "vendor": "supplier"}


def name_tokens(name):
    """The words of a field or element name: ``GatewayOrderNo``, ``gateway_order_no`` and
    ``gateway-order-no`` are all ``[gateway, order, no]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name or "")
    words = [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]
    return [_SYNONYMS.get(w, w) for w in words]


def name_score(left, right):
    """How well two names match (0: not at all): the same words, or the same last words (two at
    least, or all of the shorter name)."""
    a, b = name_tokens(left), name_tokens(right)
    if not a or not b:
        return 0
    if a == b:
        return 100
    common = 0
    while common < min(len(a), len(b)) and a[-1 - common] == b[-1 - common]:
        common += 1
    if common >= 2 or (common and common == min(len(a), len(b)) and len(a[-1]) > 2):
        return 10 * common
    return 0


def best_pairs(sources, targets):
    """``{source: target}`` pairing each name with its best match by :func:`name_score`, each used once."""
    scored = sorted(((name_score(s, t), i, j) for i, s in enumerate(sources) for j, t in enumerate(targets)),
                    key=lambda x: (-x[0], x[1], x[2]))
    pairs, used_s, used_t = {}, set(), set()
    for score, i, j in scored:
        if score and i not in used_s and j not in used_t:
            pairs[sources[i]] = targets[j]
            used_s.add(i)
            used_t.add(j)
    return pairs


def schema_nodes(schema, prefix=""):
    """A JSON Schema's properties as nodes; a list of objects keeps its items' properties as children."""
    nodes = []
    required = set(schema.get("required") or [])
    for name, spec in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        kind = spec.get("type", "")
        kind = next((k for k in kind if k != "null"), "") if isinstance(kind, list) else kind
        children = []
        if kind == "array" and isinstance(spec.get("items"), dict) and spec["items"].get("properties"):
            children = schema_nodes(spec["items"], path)
        elif kind == "object" and spec.get("properties"):
            children = schema_nodes(spec, path)
        nodes.append({"path": path, "type": kind, "description": spec.get("description") or "",
                      "required": name in required, "repeats": kind == "array", "children": children})
    return nodes


def sample_nodes(value, prefix=""):
    """The paths of a sample document as nodes: objects by their keys, a list of objects by the
    keys of its items (its first items, as a consultant reads them)."""
    nodes = []
    if not isinstance(value, dict):
        return nodes
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, list):
            merged = {}
            for entry in item[:20]:
                if isinstance(entry, dict):
                    merged.update({k: v for k, v in entry.items() if k not in merged or merged[k] in (None, "")})
            nodes.append({"path": path, "type": "array", "repeats": True, "children": sample_nodes(merged, path),
                          "description": _example(item)})
        elif isinstance(item, dict):
            nodes.append({"path": path, "type": "object", "children": sample_nodes(item, path), "description": ""})
        else:
            kind = "null" if item is None else type(item).__name__
            nodes.append({"path": path, "type": kind, "children": [], "description": _example(item)})
    return nodes


def _example(value):
    if isinstance(value, list):
        return f"{len(value)} item(s)"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return f"e.g. {text[:40]}"


def flatten(nodes):
    for node in nodes:
        yield node
        yield from flatten(node.get("children") or [])


def tree_html(nodes):
    """Nodes as a nested list: path, type, required or repeated."""
    def render(items):
        rows = Markup("").join(
            Markup("<li><code>%s</code> <small class='text-muted'>%s%s%s</small>%s</li>") % (
                node.get("name") or node["path"].split(".")[-1], node.get("type") or "",
                Markup(" &middot; <strong>required</strong>") if node.get("required") else "",
                Markup(" &middot; repeated") if node.get("repeats") else "",
                render(node["children"]) if node.get("children") else "",
            )
            for node in items
        )
        return Markup("<ul class='mb-0'>%s</ul>") % rows
    return render(nodes)


TRANSFORMS = [
    ("direct", "Direct"), ("value_map", "Code table"), ("date", "Date"), ("datetime", "Date and time"),
    ("number", "Number"), ("integer", "Whole number"), ("boolean", "Yes/no"),
    ("unit_conversion", "Unit conversion"), ("concat", "Concatenate"), ("split", "Split"),
    ("constant", "Constant"), ("many2one", "Related record"), ("expression", "Expression"),
    ("one2many", "Lines (one2many)"),
]


class HcMapping(models.Model):
    """A versioned field mapping of one flow: draft -> active -> archived, one active at a time."""

    _name = "hc.mapping"
    _description = "Integration Mapping Version"
    _inherit = ["mail.thread"]
    _order = "flow_id, version desc"

    name = fields.Char(compute="_compute_name", store=True)
    flow_id = fields.Many2one("hc.flow", required=True, ondelete="cascade", index=True, tracking=True)
    version = fields.Integer(required=True, default=1, readonly=True)
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("archived", "Archived")],
        default="draft", required=True, readonly=True, tracking=True, index=True,
    )
    direction = fields.Selection(
        [("inbound", "Payload to Odoo"), ("outbound", "Odoo to payload"),
         ("response", "Answer to acknowledgement")],
        default="inbound", required=True,
        help="Payload to Odoo: what a pull or an inbound event brings. Odoo to payload: the request a push "
        "sends, from the object's canonical document. Answer to acknowledgement: how a push reads the "
        "system's answer (status accepted/rejected, remote reference, reason).",
    )
    payload_format = fields.Selection(
        [("json", "JSON"), ("xml", "XML"), ("hl7v2", "HL7 v2 (ER7)")], default="json", required=True,
        help="How sources are read. JSON: dotted paths. XML: XPath or dotted element paths. HL7 v2: HL7 "
        "paths on an ER7 message - ITM-1 (segment, field), RQD-2.1 (component), IVT[*]-3 (every IVT), "
        "PID-3[0].1 (first repetition) - as an MLLP backend's listener receives it; outbound, the targets are "
        "HL7 paths of the message sent (MSH-9.1, ORC-5; a one2many to ORC[*] repeats a group of segments "
        "per item).",
    )
    record_segment = fields.Char(
        "Record segment",
        help="HL7 v2: the segment that starts each record of a message, e.g. MFE for the items of an MFN^M16 "
        "(one item per MFE group) or VND for its vendors. Each record holds the message's header (MSH, MFI...) "
        "and the segments from one occurrence to the next, so ITM-1 reads that record's item. Empty: the "
        "whole message is one record.",
    )
    namespaces = fields.Text(help='XML namespaces as JSON, e.g. {"p": "urn:hc:legacy:procurement"}.')
    body_root = fields.Selection(
        [("object", "JSON object"), ("list", "JSON list")], "Request body", default="object", required=True,
        help="Odoo to payload, JSON: what the request body is. A JSON object: the targets are its keys "
        "(status, lines.qty). A JSON list, as a JSON Patch (application/json-patch+json, set as the flow's "
        "Content-Type request header) or a batch of items: each target begins with the item's position, "
        "[0].op, [0].path, [0].value, [1].op... - the body is the items in the order of their positions.",
    )
    line_ids = fields.One2many("hc.mapping.line", "mapping_id", string="Lines", copy=True)
    note = fields.Text()
    wire_operation = fields.Char(
        "SOAP operation", readonly=True, help="The operation whose WSDL elements this mapping was drafted from.")
    wire_tree = fields.Text(
        readonly=True, help="The wire side of this mapping as read once (the operation's request or answer elements, "
        "or the paths of a sample): JSON, the choices offered for sources or targets.")
    wire_tree_html = fields.Html("Elements", compute="_compute_wire_tree_html", sanitize=False)

    # A push flow has two contracts, the request (or an inbound/pull payload) and the answer: one
    # active version of each.
    _one_active = models.UniqueIndex(
        "(flow_id, (direction = 'response')) WHERE state = 'active'",
        "A flow has one active mapping version, and one active response mapping.",
    )

    @api.depends("flow_id.name", "version")
    def _compute_name(self):
        for mapping in self:
            mapping.name = f"{mapping.flow_id.name or ''} v{mapping.version}"

    @api.depends("wire_tree", "wire_operation", "direction")
    def _compute_wire_tree_html(self):
        for mapping in self:
            nodes = json.loads(mapping.wire_tree) if mapping.wire_tree else []
            mapping.wire_tree_html = tree_html(nodes) if nodes else False

    @api.constrains("record_segment", "payload_format", "direction")
    def _check_record_segment(self):
        for mapping in self:
            segment = (mapping.record_segment or "").strip()
            if mapping.payload_format == "hl7v2" and mapping.direction == "response":
                raise ValidationError(self.env._(
                    "Mapping %s: the HL7 v2 format reads inbound messages (sources are HL7 paths) and writes "
                    "outbound ones (targets are HL7 paths); an MLLP answer is its ACK, read by the transport.",
                    mapping.name))
            if segment and mapping.direction != "inbound":
                raise ValidationError(self.env._(
                    "Mapping %s: a record segment splits received messages; an outbound mapping builds one.",
                    mapping.name))
            if segment and (mapping.payload_format != "hl7v2" or not re.fullmatch(r"[A-Z][A-Z0-9]{2}", segment)):
                raise ValidationError(self.env._(
                    "Mapping %(name)s: the record segment %(segment)s must be an HL7 segment id of three capitals "
                    "or digits (MFE, VND, RQD), on a mapping in HL7 v2 format.", name=mapping.name, segment=segment))

    def _hl7_records(self, message):
        """The records of an HL7 message (a parsed ``hl7v2.Message``) this mapping applies to."""
        from ..payload import hl7v2  # noqa: PLC0415

        self.ensure_one()
        return hl7v2.records(message, (self.record_segment or "").strip() or None)

    @api.constrains("body_root", "direction", "payload_format")
    def _check_body_root(self):
        for mapping in self.filtered(lambda m: m.body_root == "list"):
            if mapping.direction != "outbound" or mapping.payload_format != "json":
                raise ValidationError(self.env._(
                    "Mapping %s: only an outbound mapping in JSON format (Odoo to payload) writes a JSON list "
                    "body.", mapping.name))

    @api.constrains("namespaces")
    def _check_namespaces(self):
        for mapping in self.filtered("namespaces"):
            try:
                value = json.loads(mapping.namespaces)
            except ValueError as exc:
                raise ValidationError(self.env._("Namespaces must be a JSON object: %s", exc)) from exc
            if not isinstance(value, dict):
                raise ValidationError(self.env._("Namespaces must be a JSON object of prefix: URI."))

    @api.model_create_multi
    def create(self, vals_list):
        mappings = super().create(vals_list)
        self.env["hc.mapping.path"]._ensure(mappings)
        return mappings

    def write(self, vals):
        if set(vals) & {"line_ids", "direction", "payload_format", "namespaces", "record_segment", "body_root"}:
            self._check_draft()
        result = super().write(vals)
        if set(vals) & {"line_ids", "direction", "wire_tree", "flow_id"}:
            self.env["hc.mapping.path"]._ensure(self)
        return result

    def _check_draft(self):
        if any(m.state != "draft" for m in self):
            raise UserError(self.env._("Only a draft version can be edited: duplicate it into a new draft."))

    # --- what sources and targets may be --------------------------------------------------------
    def _canonical_nodes(self):
        """The flow's canonical document as nodes (``path``, ``type``, ``description``, ``children``
        for lists of objects): its JSON Schema, or the model's own fields for a generic flow."""
        from .hc_handler_template import handler_schema  # noqa: PLC0415 - the handlers load after the mapping

        self.ensure_one()
        flow = self.flow_id
        handler = flow._handler() if f"hc.handler.{flow.object_type}" in self.env else None
        schema = handler_schema(handler) if handler is not None else None
        nodes = schema_nodes(schema) if schema is not None else []
        extra = schema is not None and schema.get("x-odoo-fields")
        if (schema is None or extra) and flow.model_name in self.env:
            known = {node["path"] for node in nodes}
            model = self.env[flow.model_name]
            nodes += [{"path": name, "type": field.type, "description": field.string, "children": []}
                      for name, field in sorted(model._fields.items())
                      if name not in known and not field.compute and field.store and name not in models.MAGIC_COLUMNS]
        return nodes

    @api.model
    def _ack_nodes(self):
        return schema_nodes(self.env["hc.handler.push"]._acknowledgement_schema())

    def _wire_nodes(self):
        self.ensure_one()
        return json.loads(self.wire_tree) if self.wire_tree else []

    def _path_choices(self, kind):
        """``[(path, description)]`` a line's source (kind ``source``) or target may be picked from."""
        self.ensure_one()
        if kind == "source":
            nodes = self._canonical_nodes() if self.direction == "outbound" else self._wire_nodes()
        elif self.direction == "inbound":
            nodes = self._canonical_nodes()
        elif self.direction == "response":
            nodes = self._ack_nodes()
        else:
            nodes = self._wire_nodes()
        return [(node["path"], node.get("description") or node.get("type") or "") for node in flatten(nodes)]

    # --- drafts -----------------------------------------------------------------------------------
    @api.model
    def _draft_lines(self, sources, targets):
        """Lines pairing ``sources`` with ``targets`` (both node lists) by name: a list of objects
        becomes a Lines (one2many) line with its own sub-lines. Targets that must be filled and
        found no source get a line without one, for the consultant to complete."""
        lines, sequence = [], 0

        def leaves(nodes):
            return [n for n in nodes if not n.get("children")]

        def lists(nodes, found=None):
            found = [] if found is None else found
            for node in nodes:
                if node.get("repeats") and node.get("children") or node.get("type") == "array" and node.get("children"):
                    found.append(node)
                elif node.get("children"):
                    lists(node["children"], found)
            return found

        def scalars(nodes, found=None):
            found = [] if found is None else found
            for node in nodes:
                if node.get("repeats") or node.get("type") == "array":
                    continue
                if node.get("children"):
                    scalars(node["children"], found)
                else:
                    found.append(node)
            return found

        def list_name(node):
            # A repeated Line under a Lines wrapper is named by the wrapper as well.
            parts = node["path"].split(".")
            return " ".join(parts[-2:]) if len(parts) > 1 else parts[-1]

        source_leaves, target_leaves = scalars(sources), scalars(targets)
        pairs = best_pairs([n["path"] for n in source_leaves], [n["path"] for n in target_leaves])
        matched_targets = set(pairs.values())
        for node in source_leaves:
            if node["path"] in pairs:
                sequence += 10
                lines.append({"sequence": sequence, "source": node["path"], "target": pairs[node["path"]]})
        source_lists, target_lists = lists(sources), lists(targets)
        list_pairs = best_pairs([n["path"] for n in source_lists], [n["path"] for n in target_lists])
        if not list_pairs and len(source_lists) == 1 and len(target_lists) == 1:
            list_pairs = {source_lists[0]["path"]: target_lists[0]["path"]}
        for source_list in source_lists:
            if source_list["path"] not in list_pairs:
                # Retry with the wrapper's name (Lines holding Line).
                for target_list in target_lists:
                    if target_list["path"] not in list_pairs.values() and \
                            name_score(source_list["path"].split(".")[-1], list_name(target_list).split(" ")[0]):
                        list_pairs[source_list["path"]] = target_list["path"]
                        break
        for source_list in source_lists:
            target_path = list_pairs.get(source_list["path"])
            if not target_path:
                continue
            target_list = next(n for n in target_lists if n["path"] == target_path)
            relative = [dict(n, path=n["path"][len(source_list["path"]) + 1:]) for n in leaves(source_list["children"])]
            relative_targets = [dict(n, path=n["path"][len(target_path) + 1:]) for n in leaves(target_list["children"])]
            sub = best_pairs([n["path"] for n in relative], [n["path"] for n in relative_targets])
            sequence += 10
            lines.append({"sequence": sequence, "source": source_list["path"], "target": target_path,
                          "transform": "one2many",
                          "params": json.dumps({"lines": [{"source": s, "target": t} for s, t in sub.items()]})})
            matched_targets.add(target_path)
        for node in target_leaves:
            if node.get("required") and node["path"] not in matched_targets:
                sequence += 10
                lines.append({"sequence": sequence, "source": False, "target": node["path"]})
        return lines

    @api.model
    def _unmatched_note(self, sources, targets, lines):
        used_sources = {line["source"] for line in lines if line.get("source")}
        used_targets = {line["target"] for line in lines if line.get("source")}
        for line in lines:
            for sub in json.loads(line.get("params") or "{}").get("lines", []):
                used_sources.add(f"{line['source']}.{sub['source']}")
                used_targets.add(f"{line['target']}.{sub['target']}")
        left_sources = [n["path"] for n in flatten(sources) if not n.get("children") and n["path"] not in used_sources]
        left_targets = [n["path"] for n in flatten(targets) if not n.get("children") and n["path"] not in used_targets]
        return self.env._(
            "Drafted by name. Not mapped yet: sources %(sources)s; targets %(targets)s.",
            sources=", ".join(left_sources) or "-", targets=", ".join(left_targets) or "-",
        )

    def action_activate(self):
        """Activate this draft; the previously active version of the flow is archived."""
        self.ensure_one()
        if self.state != "draft":
            raise UserError(self.env._("Only a draft version can be activated."))
        self._compile()  # refuse a version that does not compile
        previous = self.search([("flow_id", "=", self.flow_id.id), ("state", "=", "active")]).filtered(
            lambda m: (m.direction == "response") == (self.direction == "response"))
        previous.write({"state": "archived"})
        # Archived in its own statement first: one UPDATE of both rows may meet the unique index
        # of active versions in either order.
        previous.flush_recordset(["state"])
        self.state = "active"
        self.flow_id.message_post(
            body=self.env._("Mapping version %(new)s activated (was %(old)s).", new=self.version,
                            old=previous.version or "-")
        )

    def _activate_drafts(self):
        """Activate those of these versions that are still drafts. Demo data calls it at each update:
        a version added to an existing database is activated there too, one activated or archived since
        is left alone."""
        for mapping in self.filtered(lambda m: m.state == "draft"):
            mapping.action_activate()
        return True

    def action_duplicate_draft(self):
        self.ensure_one()
        latest = max(self.search([("flow_id", "=", self.flow_id.id)]).mapped("version") or [0])
        draft = self.copy({"state": "draft", "version": latest + 1})
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": draft.id, "view_mode": "form"}

    # --- engine ----------------------------------------------------------------------------------
    def _bind_environment(self):
        """Make this transaction's environment the one the compiled mappings read (per thread).
        Code tables are read once per transaction (and again after a change)."""
        state = _CURRENT.__dict__
        if state.get("cr") is not self.env.cr or state.get("tables_version") != _TABLES_VERSION[0]:
            _CURRENT.tables = {}
            _CURRENT.cr = self.env.cr
            _CURRENT.tables_version = _TABLES_VERSION[0]
        _CURRENT.env = self.env

    def _context(self):
        backend_id = self.flow_id.backend_id.id

        def value_map(table, code, reverse=False):
            tables = _CURRENT.tables
            key = (table, reverse)
            if key not in tables:
                record = _CURRENT.env["hc.value.map"].sudo().search([("code", "=", table)], limit=1)
                if not record:
                    raise KeyError(code)
                tables[key] = record._reverse_lookup_dict() if reverse else record._lookup_dict()
            found = tables[key]
            if reverse and not isinstance(code, str) and code in found:
                return found[code]  # a record id
            return found[str(code)]

        def resolve(kind, model, key, params):
            env = _CURRENT.env
            if model not in env:
                return None
            if kind == "binding":
                known = _CURRENT.__dict__.get("references")
                if known is not None and (backend_id, model, str(key)) in known:
                    return known[backend_id, model, str(key)]
                binding = env["hc.binding"].sudo()._lookup(env["hc.backend"].browse(backend_id), model, str(key))
                if binding.res_id and known is not None:
                    known[backend_id, model, str(key)] = binding.res_id
                return binding.res_id or None
            if kind == "search":
                found = env[model].search([(params.get("field") or "name", "=", key)], limit=2)
                return found.id if len(found) == 1 else None
            return None

        def evaluate(expression, names):
            return safe_eval(expression, names)

        return MappingContext(value_map=value_map, resolve=resolve, evaluate=evaluate,
                              timezone=self.env.user.tz or "UTC")

    def _compile(self, trace=False):
        self.ensure_one()
        self._bind_environment()
        lines = [line._spec() for line in self.line_ids]
        namespaces = json.loads(self.namespaces) if self.namespaces else None
        try:
            # A response mapping reads an answer as an inbound one reads a payload: paths -> values.
            direction = "outbound" if self.direction == "outbound" else "inbound"
            return compile_mapping(lines, direction=direction, payload_format=self.payload_format,
                                   namespaces=namespaces, context=self._context(), trace=trace,
                                   root=self.body_root or "object")
        except CompileError as exc:
            raise UserError(self.env._("The mapping %(name)s does not compile: %(err)s", name=self.name,
                                       err=exc)) from exc

    def _compiled(self):
        """The compiled version, cached per process until the version or a line changes."""
        self.ensure_one()
        stamp = max([self.write_date] + self.line_ids.mapped("write_date"))
        key = (self.env.cr.dbname, self.id, str(stamp))
        compiled = _CACHE.get(key, self._compile)
        self._bind_environment()
        return compiled


class HcMappingLine(models.Model):
    _name = "hc.mapping.line"
    _description = "Integration Mapping Line"
    _order = "sequence, id"

    mapping_id = fields.Many2one("hc.mapping", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    source = fields.Char(
        "Source path", help="JSON path (supplier.code, lines[0].qty, lines[*].code), XPath (p:Vendor/@code) or "
        "HL7 v2 path (ITM-1, RQD-2.1, IVT[*]-3). Several paths separated by | for Concatenate."
    )
    target = fields.Char("Target path", required=True, help="Odoo field name (inbound) or payload path (outbound).")
    target_model = fields.Char(compute="_compute_target_model", help="Model whose field an inbound line fills.")
    transform = fields.Selection(TRANSFORMS, default="direct", required=True)
    params = fields.Text(
        "Parameters", help='JSON, e.g. {"table": "uom"}, {"format": "%d/%m/%Y"}, {"decimal_separator": ","}.'
    )
    required = fields.Boolean()
    default = fields.Char(help="Used when the source is missing or empty.")
    validation_regex = fields.Char("Must match")
    validation_min = fields.Float("Minimum")
    validation_max = fields.Float("Maximum")
    validation_allowed = fields.Char("Allowed values", help="Comma-separated.")
    # The common parameters as form fields; ``params`` (JSON) stays the storage.
    param_table_id = fields.Many2one(
        "hc.value.map", "Code table", compute="_compute_param_fields", inverse="_inverse_param_table",
        help="Code table translating the value (transform Code table).")
    param_format = fields.Char(
        "Date format", compute="_compute_param_fields", inverse="_inverse_param_format",
        help="strftime format of the value, e.g. %d.%m.%Y (transforms Date, Date and time).")
    param_decimal_separator = fields.Selection(
        [(".", "Point (1234.5)"), (",", "Comma (1234,5)")], "Decimal separator",
        compute="_compute_param_fields", inverse="_inverse_param_decimal",
        help="How the system writes decimals (transforms Number, Whole number, Unit conversion).")
    param_expression = fields.Char(
        "Expression", compute="_compute_param_fields", inverse="_inverse_param_expression",
        help="Python expression of value, payload and values (transform Expression).")
    source_path_id = fields.Many2one(
        "hc.mapping.path", "Source", compute="_compute_path_ids", inverse="_inverse_source_path",
        domain="[('kind', '=', 'source')]",
        help="Pick a path from the list (the canonical document, the model's fields, the sample's or the "
        "operation's elements) or type one.")
    target_path_id = fields.Many2one(
        "hc.mapping.path", "Target", compute="_compute_path_ids", inverse="_inverse_target_path",
        domain="[('kind', '=', 'target')]", help="Pick the field or element this line fills.")

    @api.depends("mapping_id.flow_id.model_id", "mapping_id.direction")
    def _compute_target_model(self):
        for line in self:
            inbound = line.mapping_id.direction == "inbound"
            line.target_model = line.mapping_id.flow_id.model_id.model if inbound else False

    def _params_dict(self):
        try:
            value = json.loads(self.params) if self.params else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @api.depends("params")
    def _compute_param_fields(self):
        tables = {}
        for line in self:
            params = line._params_dict()
            code = params.get("table")
            if code and code not in tables:
                tables[code] = self.env["hc.value.map"].search([("code", "=", code)], limit=1)
            line.param_table_id = tables.get(code) or False
            line.param_format = params.get("format") or False
            line.param_decimal_separator = params.get("decimal_separator") if params.get("decimal_separator") in (
                ".", ",") else False
            line.param_expression = params.get("expression") or False

    def _set_param(self, key, value):
        for line in self:
            params = line._params_dict()
            if value in (False, None, ""):
                params.pop(key, None)
            else:
                params[key] = value
            text = json.dumps(params, ensure_ascii=False) if params else False
            if text != (line.params or False):
                line.params = text

    def _inverse_param_table(self):
        for line in self:
            line._set_param("table", line.param_table_id.code)

    def _inverse_param_format(self):
        for line in self:
            line._set_param("format", line.param_format)

    def _inverse_param_decimal(self):
        for line in self:
            line._set_param("decimal_separator", line.param_decimal_separator)

    def _inverse_param_expression(self):
        for line in self:
            line._set_param("expression", line.param_expression)

    @api.depends("source", "target", "mapping_id")
    def _compute_path_ids(self):
        paths = self.env["hc.mapping.path"]
        # In a form's onchange the lines and their mapping are new records: read the saved one.
        for line in self:
            mapping = line.mapping_id._origin
            line.source_path_id = paths._find(mapping, "source", line.source) if line.source and mapping else False
            line.target_path_id = paths._find(mapping, "target", line.target) if line.target and mapping else False

    def _inverse_source_path(self):
        for line in self:
            line.source = line.source_path_id.name or False

    def _inverse_target_path(self):
        for line in self.filtered("target_path_id"):
            line.target = line.target_path_id.name

    @api.onchange("source_path_id")
    def _onchange_source_path_id(self):
        for line in self:
            line.source = line.source_path_id.name or False

    @api.onchange("target_path_id")
    def _onchange_target_path_id(self):
        for line in self.filtered("target_path_id"):
            line.target = line.target_path_id.name

    @api.constrains("target", "mapping_id")
    def _check_target(self):
        """An inbound line fills the handler's canonical document when its object type has one
        (plus the model's fields when the document allows them: suppliers, items), else a field
        of the flow's model."""
        from .hc_handler_template import canonical_targets  # noqa: PLC0415 - the handlers load after the mapping

        for line in self.filtered(lambda ln: ln.mapping_id.direction == "inbound"):
            flow = line.mapping_id.flow_id
            handler = flow._handler()
            extra = set(handler._extra_targets())
            canonical = canonical_targets(handler)
            if canonical is not None:
                known, model_fields = canonical
                if line.target in known or line.target in extra or (
                        model_fields and line.target_model and line.target in self.env[line.target_model]._fields):
                    continue
                raise ValidationError(self.env._(
                    "The %(type)s document has no field %(field)s (line %(seq)s); its fields: %(known)s.",
                    type=dict(flow._fields["object_type"]._description_selection(self.env)).get(flow.object_type),
                    field=line.target,
                    seq=line.sequence, known=", ".join(sorted(known)),
                ))
            if line.target_model and line.target not in self.env[line.target_model]._fields \
                    and line.target not in extra:
                raise ValidationError(self.env._(
                    "%(model)s has no field %(field)s (line %(seq)s).",
                    model=self.env[line.target_model]._description, field=line.target, seq=line.sequence,
                ))

    @api.constrains("target", "mapping_id")
    def _check_response_target(self):
        fields_ = None
        for line in self.filtered(lambda ln: ln.mapping_id.direction == "response"):
            fields_ = fields_ or self.env["hc.handler.push"]._acknowledgement_fields()
            if line.target not in fields_:
                raise ValidationError(self.env._(
                    "A response mapping fills the acknowledgement: %(field)s is not one of its fields (%(known)s), "
                    "line %(seq)s.", field=line.target, known=", ".join(sorted(fields_)), seq=line.sequence,
                ))

    @api.constrains("params")
    def _check_params(self):
        for line in self.filtered("params"):
            try:
                value = json.loads(line.params)
            except ValueError as exc:
                raise ValidationError(self.env._("Parameters of line %(t)s must be JSON: %(e)s", t=line.target,
                                                 e=exc)) from exc
            if not isinstance(value, dict):
                raise ValidationError(self.env._("Parameters of line %s must be a JSON object.", line.target))

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.mapping_id._check_draft()
        self.env["hc.mapping.path"]._ensure(lines.mapping_id)
        return lines

    def write(self, vals):
        self.mapping_id._check_draft()
        result = super().write(vals)
        if set(vals) & {"source", "target"}:
            self.env["hc.mapping.path"]._ensure(self.mapping_id)
        return result

    def unlink(self):
        self.mapping_id._check_draft()
        return super().unlink()

    def _spec(self):
        self.ensure_one()
        validation = {}
        if self.validation_regex:
            validation["regex"] = self.validation_regex
        if self.validation_min or self.validation_max:
            validation.update(min=self.validation_min if self.validation_min else None,
                              max=self.validation_max if self.validation_max else None)
        if self.validation_allowed:
            validation["allowed"] = [v.strip() for v in self.validation_allowed.split(",")]
        source = self.source or None
        if source and "|" in source:
            source = [s.strip() for s in source.split("|")]
        return {
            "ref": f"{self.sequence}:{self.target}", "source": source, "target": self.target,
            "transform": self.transform, "params": json.loads(self.params) if self.params else {},
            "required": self.required, "default": self.default or None, "validation": validation,
            "sequence": self.sequence,
        }


class HcFlow(models.Model):
    """The flow's view of its mapping versions: the payload/request one and the response one.

    (Kept beside the mapping model while hc_flow.py is reworked elsewhere; it belongs there.)
    """

    _inherit = "hc.flow"

    response_mapping_id = fields.Many2one(
        "hc.mapping", compute="_compute_active_mapping", string="Active response mapping",
        help="How a push reads the system's answer; without one the answer's own keys are read "
        "(status, remote_order_number, reason).",
    )

    @api.depends("mapping_ids.state", "mapping_ids.direction")
    def _compute_active_mapping(self):
        for flow in self:
            active = flow.mapping_ids.filtered(lambda m: m.state == "active")
            flow.active_mapping_id = active.filtered(lambda m: m.direction != "response")[:1]
            flow.response_mapping_id = active.filtered(lambda m: m.direction == "response")[:1]


class HcMappingPath(models.Model):
    """A path a mapping line may pick as its source or target: a field of the canonical document
    or of the model, an element of the SOAP operation, a path of a sample. Filled when the
    mapping or its lines are written (never while they are read); typing a path that is not
    listed adds it. A small table, not a transient one: a line shows its path by this record."""

    _name = "hc.mapping.path"
    _description = "Integration Mapping Path"
    _order = "kind, sequence, id"
    _rec_name = "name"

    mapping_id = fields.Many2one("hc.mapping", required=True, ondelete="cascade", index=True)
    kind = fields.Selection([("source", "Source"), ("target", "Target")], required=True)
    name = fields.Char("Path", required=True)
    description = fields.Char()
    sequence = fields.Integer()

    _unique_path = models.Constraint("UNIQUE (mapping_id, kind, name)", "A path is listed once per mapping.")

    @api.depends("name", "description")
    def _compute_display_name(self):
        for path in self:
            path.display_name = f"{path.name} ({path.description})" if path.description else path.name

    @api.model
    def _ensure(self, mappings):
        """List every choice of ``mappings`` and every path their lines use (missing ones only)."""
        for mapping in mappings:
            existing = {(p.kind, p.name) for p in self.sudo().search([("mapping_id", "=", mapping.id)])}
            vals = []
            for kind in ("source", "target"):
                choices = list(mapping._path_choices(kind))
                choices += [(line.source if kind == "source" else line.target, "") for line in mapping.line_ids]
                for index, (path, description) in enumerate(choices):
                    if path and (kind, path) not in existing:
                        existing.add((kind, path))
                        vals.append({"mapping_id": mapping.id, "kind": kind, "name": path,
                                     "description": (description or "")[:120] or False, "sequence": index})
            if vals:
                # The list is derived data: a viewer reading the mapping never fills it, its writers do.
                self.sudo().create(vals)

    @api.model
    def _find(self, mapping, kind, name):
        return self.search([("mapping_id", "=", mapping.id), ("kind", "=", kind), ("name", "=", name)], limit=1)

    @api.model
    def _search_display_name(self, operator, value):
        return [("name", operator, value)]

    @api.model
    def name_search(self, name="", domain=None, operator="ilike", limit=100):
        mapping_id = self.env.context.get("hc_mapping_id")
        domain = list(domain or [])
        if mapping_id:
            domain += [("mapping_id", "=", mapping_id)]
        return super().name_search(name, domain, operator, limit)

    @api.model_create_multi
    def create(self, vals_list):
        # A path typed in the picker ("Create ...") belongs to the mapping being edited.
        mapping_id = self.env.context.get("hc_mapping_id")
        kind = self.env.context.get("hc_path_kind")
        for vals in vals_list:
            if mapping_id and not vals.get("mapping_id"):
                vals["mapping_id"] = mapping_id
            if kind and not vals.get("kind"):
                vals["kind"] = kind
        return super().create(vals_list)
