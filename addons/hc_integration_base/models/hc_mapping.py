import json
import threading

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
    payload_format = fields.Selection([("json", "JSON"), ("xml", "XML")], default="json", required=True)
    namespaces = fields.Text(help='XML namespaces as JSON, e.g. {"p": "urn:hc:legacy:procurement"}.')
    line_ids = fields.One2many("hc.mapping.line", "mapping_id", string="Lines", copy=True)
    note = fields.Text()

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

    @api.constrains("namespaces")
    def _check_namespaces(self):
        for mapping in self.filtered("namespaces"):
            try:
                value = json.loads(mapping.namespaces)
            except ValueError as exc:
                raise ValidationError(self.env._("Namespaces must be a JSON object: %s", exc)) from exc
            if not isinstance(value, dict):
                raise ValidationError(self.env._("Namespaces must be a JSON object of prefix: URI."))

    def write(self, vals):
        if set(vals) & {"line_ids", "direction", "payload_format", "namespaces"}:
            self._check_draft()
        return super().write(vals)

    def _check_draft(self):
        if any(m.state != "draft" for m in self):
            raise UserError(self.env._("Only a draft version can be edited: duplicate it into a new draft."))

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

        def value_map(table, code):
            tables = _CURRENT.tables
            if table not in tables:
                record = _CURRENT.env["hc.value.map"].sudo().search([("code", "=", table)], limit=1)
                if not record:
                    raise KeyError(code)
                tables[table] = record._lookup_dict()
            return tables[table][str(code)]

        def resolve(kind, model, key, params):
            env = _CURRENT.env
            if model not in env:
                return None
            if kind == "binding":
                binding = env["hc.binding"].sudo()._lookup(env["hc.backend"].browse(backend_id), model, str(key))
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
                                   namespaces=namespaces, context=self._context(), trace=trace)
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
        help="JSON path (supplier.code, lines[0].qty, lines[*].code) or XPath (p:Vendor/@code). "
        "Several paths separated by | for Concatenate."
    )
    target = fields.Char(required=True, help="Odoo field name (inbound) or payload path (outbound).")
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

    @api.depends("mapping_id.flow_id.model_id", "mapping_id.direction")
    def _compute_target_model(self):
        for line in self:
            inbound = line.mapping_id.direction == "inbound"
            line.target_model = line.mapping_id.flow_id.model_id.model if inbound else False

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
        return lines

    def write(self, vals):
        self.mapping_id._check_draft()
        return super().write(vals)

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
