import json

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.hc_mapping import sample_nodes, tree_html
from ..payload.redact import redact_json
from ..transports.errors import TransportError


class HcMappingOperation(models.TransientModel):
    """A SOAP operation of a flow's backend, to pick in the draft wizard."""

    _name = "hc.mapping.operation"
    _description = "SOAP operation of a backend"
    _order = "name"

    flow_id = fields.Many2one("hc.flow", required=True, ondelete="cascade")
    name = fields.Char(required=True)


class HcMappingDraft(models.TransientModel):
    """Draft a flow's mappings from what the system says about itself: a SOAP operation's WSDL
    elements (outbound request and response) or a sample of a REST answer (inbound). Lines are
    paired by name; what finds no partner is left for the consultant, listed in the note."""

    _name = "hc.mapping.draft"
    _description = "Draft a mapping from a SOAP operation or a sample"

    flow_id = fields.Many2one("hc.flow", required=True, ondelete="cascade")
    protocol = fields.Selection(related="flow_id.backend_id.protocol")
    flow_direction = fields.Selection(related="flow_id.direction")
    operation_id = fields.Many2one(
        "hc.mapping.operation", "SOAP operation", domain="[('flow_id', '=', flow_id)]",
        help="The operation of the backend's WSDL this flow calls; its elements are shown below.")
    input_tree = fields.Html("Request elements", compute="_compute_trees", sanitize=False)
    output_tree = fields.Html("Answer elements", compute="_compute_trees", sanitize=False)
    sample = fields.Text(
        help="A JSON answer or record of the system: paste one, or fetch one from the flow's endpoint.")
    sample_paths = fields.Html("Paths of the sample", compute="_compute_sample_paths", sanitize=False)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        flow = self.env["hc.flow"].browse(values.get("flow_id") or self.env.context.get("active_id"))
        if flow and "flow_id" in fields_list:
            values["flow_id"] = flow.id
        if flow and flow.backend_id.protocol == "soap" and flow.direction == "push":
            operations = self.env["hc.mapping.operation"].search([("flow_id", "=", flow.id)])
            if not operations:
                names = self._client(flow).operations()
                operations = self.env["hc.mapping.operation"].create(
                    [{"flow_id": flow.id, "name": name} for name in names])
            chosen = operations.filtered(lambda op: op.name == flow.remote_resource)[:1]
            values["operation_id"] = chosen.id or False
        return values

    @api.model
    def _client(self, flow):
        """The backend's own transport client (its origin, credentials and TLS; nothing else is called)."""
        try:
            return flow.backend_id._get_client()
        except TransportError as exc:
            raise UserError(self.env._("The backend %(backend)s cannot be reached: %(err)s",
                                       backend=flow.backend_id.display_name, err=exc.user_message)) from exc

    def _describe(self):
        self.ensure_one()
        try:
            return self._client(self.flow_id).describe_operation(self.operation_id.name)
        except TransportError as exc:
            raise UserError(exc.user_message) from exc

    @api.depends("operation_id")
    def _compute_trees(self):
        for wizard in self:
            if not wizard.operation_id:
                wizard.input_tree = wizard.output_tree = False
                continue
            tree = wizard._describe()
            empty = Markup("<p class='text-muted'>%s</p>") % self.env._("none")
            wizard.input_tree = tree_html(tree["input"]) if tree["input"] else empty
            wizard.output_tree = tree_html(tree["output"]) if tree["output"] else empty

    def _sample_document(self):
        self.ensure_one()
        if not self.sample:
            return None
        try:
            value = json.loads(self.sample)
        except ValueError as exc:
            raise UserError(self.env._("The sample is not valid JSON: %s", exc)) from exc
        if isinstance(value, list):
            value = next((item for item in value if isinstance(item, dict)), None)
        if not isinstance(value, dict):
            raise UserError(self.env._("The sample must be a JSON object (or a list of objects)."))
        return value

    @api.depends("sample")
    def _compute_sample_paths(self):
        for wizard in self:
            try:
                document = wizard._sample_document()
            except UserError as exc:
                wizard.sample_paths = Markup("<p class='text-danger'>%s</p>") % exc.args[0]
                continue
            wizard.sample_paths = tree_html(sample_nodes(document)) if document else False

    def _reopen(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new", "name": self.env._("Draft a mapping")}

    def action_fetch_sample(self):
        """One page of the flow's endpoint through the backend's transport and the flow's page
        contract; its first record becomes the sample (sensitive paths masked)."""
        self.ensure_one()
        flow = self.flow_id
        if not flow.remote_resource:
            raise UserError(self.env._("Flow %s has no remote resource to fetch a sample from.", flow.name))
        client = self._client(flow)
        try:
            page = client.fetch_page(flow.remote_resource, flow._paging_contract())
        except TransportError as exc:
            raise UserError(self.env._("The sample could not be fetched: %s", exc.user_message)) from exc
        finally:
            flow.backend_id._sync_breaker_state()
        records = [record for record in page.records or [] if isinstance(record, dict)]
        if not records:
            raise UserError(self.env._("The endpoint %s answered no record to take as a sample.",
                                       flow.remote_resource))
        document = redact_json(records[0], flow._sensitive_path_list())
        self.sample = json.dumps(document, indent=2, ensure_ascii=False, default=str)
        return self._reopen()

    def _new_mapping(self, direction, lines, note, wire_tree=None, operation=None):
        flow = self.flow_id
        latest = max(self.env["hc.mapping"].search([("flow_id", "=", flow.id)]).mapped("version") or [0])
        return self.env["hc.mapping"].create({
            "flow_id": flow.id, "direction": direction, "version": latest + 1,
            "line_ids": [(0, 0, line) for line in lines], "note": note,
            "wire_tree": json.dumps(wire_tree) if wire_tree is not None else False,
            "wire_operation": operation or False,
        })

    def action_generate(self):
        """Create the draft mapping(s) and open the first."""
        self.ensure_one()
        mappings = self.env["hc.mapping"]
        canonical = mappings.new({"flow_id": self.flow_id.id, "direction": "outbound"})._canonical_nodes()
        if self.operation_id and self.flow_id.direction == "push":
            tree = self._describe()
            lines = mappings._draft_lines(canonical, tree["input"])
            outbound = self._new_mapping("outbound", lines, mappings._unmatched_note(canonical, tree["input"], lines),
                                         tree["input"], tree["operation"])
            ack = mappings._ack_nodes()
            response_lines = mappings._draft_lines(tree["output"], ack)
            response = self._new_mapping(
                "response", response_lines,
                mappings._unmatched_note(tree["output"], ack, response_lines) + " " + self.env._(
                    "Translate the system's status codes to accepted/rejected with a code table on the status line."),
                tree["output"], tree["operation"])
            mappings = outbound | response
        else:
            document = self._sample_document()
            if document is None:
                raise UserError(self.env._("Paste a sample or fetch one from the flow's endpoint first."))
            nodes = sample_nodes(document)
            lines = mappings._draft_lines(nodes, canonical)
            mappings = self._new_mapping("inbound", lines, mappings._unmatched_note(nodes, canonical, lines), nodes)
        return {"type": "ir.actions.act_window", "res_model": "hc.mapping", "res_id": mappings[0].id,
                "view_mode": "form", "target": "current"}
