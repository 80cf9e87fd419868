from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..transports.paging import PageContract, PagingError

# Fields that change which flow an inbound URL names (hc.flow._inbound_route is cached).
ROUTING_FIELDS = frozenset({"code", "active", "direction", "backend_id"})


class HcFlow(models.Model):
    """One kind of business object exchanged with one backend, in one direction."""

    _name = "hc.flow"
    _description = "Integration Flow"
    _inherit = ["mail.thread"]
    _order = "backend_id, sequence, name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Technical code, unique per backend; used in inbound URLs (/hc/in/<backend>/<flow>).",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    backend_id = fields.Many2one(
        "hc.backend", required=True, ondelete="cascade", index=True, tracking=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    object_type = fields.Selection(
        [("generic", "Generic record")],
        required=True,
        default="generic",
        tracking=True,
        help="Business object exchanged; it selects the handler that applies or builds "
        "the messages. Domain addons add their own types.",
    )
    model_id = fields.Many2one(
        "ir.model",
        string="Odoo model",
        ondelete="cascade",
        help="Odoo model the generic handler creates or updates.",
    )
    # Stored: every message reads it (bindings, handler); unstored it costs an ir.model fetch each time.
    model_name = fields.Char(related="model_id.model", string="Model name", store=True)
    direction = fields.Selection(
        [("pull", "Pull (Odoo fetches)"), ("push", "Push (Odoo sends)"), ("inbound", "Inbound event")],
        required=True,
        default="inbound",
        tracking=True,
    )
    system_of_record = fields.Selection(
        [("legacy", "Legacy system"), ("odoo", "Odoo")],
        required=True,
        default="legacy",
        tracking=True,
        help="Who owns the data: objects owned by the legacy system are never pushed back.",
    )
    ownership_policy = fields.Selection(
        [("warn", "Warn"), ("block", "Read-only in Odoo")],
        default="warn",
        required=True,
        help="When the legacy system owns the data: warn a user who edits a field this flow fills, "
        "or refuse the change.",
    )
    mode = fields.Selection(
        [("event", "Real-time event"), ("batch", "Scheduled batch"), ("both", "Both")],
        default="event",
        required=True,
    )
    latency_class = fields.Selection(
        [("realtime", "Seconds"), ("minutes", "Minutes"), ("daily", "Overnight")],
        default="minutes",
        required=True,
        help="How fast a change must reach the other side. Seconds: its jobs run on the backend's "
        "urgent channel and its backend alerts when a message has waited 5 minutes (or the backend's "
        "'Alert: oldest pending' limit if lower). Minutes: that limit. Overnight: that limit, at least "
        "12 hours.",
    )
    criticality = fields.Selection(
        [("low", "Low"), ("normal", "Normal"), ("high", "High"), ("critical", "Critical")],
        default="normal",
        required=True,
        help="Scales the age limit of the oldest pending message set by the latency class: high x 0.75, "
        "critical x 0.5 (alert sooner), low x 2.",
    )
    urgent = fields.Boolean(
        help="Messages of this flow run first (priority 0) on the backend's high-priority channel.",
    )
    priority = fields.Integer(
        default=10, help="Job priority: lower numbers run first (queue_job convention)."
    )
    remote_resource = fields.Char(
        help="REST path (e.g. /api/v1/purchase-orders) or SOAP operation (e.g. SubmitPurchaseOrder)."
    )
    sensitive_paths = fields.Text(
        help="One payload path per line (e.g. patient.name, lines[*].note); their values are "
        "replaced by *** in the stored payload shown to users.",
    )
    inbound_schema = fields.Text(
        "JSON Schema",
        help="Inbound JSON bodies are validated against this JSON Schema (draft 2020-12).",
    )
    inbound_xsd = fields.Text(
        "XSD", help="Inbound XML bodies are validated against this XML Schema."
    )
    external_id_path = fields.Char(
        default="id", help="Payload path of the object's external ID (e.g. reference)."
    )
    idempotency_key_path = fields.Char(
        help="Payload path of the idempotency key, used when the caller sends no "
        "Idempotency-Key header."
    )
    # --- paging (pull flows): the page contract, see transports/paging.py ---------------------------
    paging_style = fields.Selection(
        [("page", "Page number"), ("offset", "Offset"), ("cursor", "Cursor"), ("link", "Link header"),
         ("none", "No paging (one answer)")],
        default="page",
        help="How the remote system pages its lists (pull flows). Page number: page 1, 2, 3… Offset: "
        "records skipped. Cursor: a token the previous answer gave. Link header: follow the answer's "
        "Link rel=\"next\" (or the URL at the next-page path). No paging: the whole list in one answer.",
    )
    page_size = fields.Integer(
        default=100,
        help="Records asked per page; one job per page. A server may answer fewer (its own cap) or more: "
        "the pull goes on until the answer says it is the last page, the total is reached, or a page is empty.",
    )
    paging_page_param = fields.Char(
        "Page number parameter", default="page",
        help="Query parameter (SOAP: argument) carrying the page number, e.g. page or pagina.",
    )
    paging_size_param = fields.Char(
        "Page size parameter", default="page_size",
        help="Parameter carrying the page size in the page number and Link styles, e.g. page_size or "
        "tamano. Empty: no size is sent and the server's own page size applies.",
    )
    paging_offset_param = fields.Char(
        "Offset parameter", default="offset", help="Parameter carrying the number of records to skip (offset style).",
    )
    paging_limit_param = fields.Char(
        "Limit parameter", default="limit",
        help="Parameter carrying the page size in the offset and cursor styles. Empty: none is sent.",
    )
    paging_cursor_param = fields.Char(
        "Cursor parameter", default="cursor", help="Parameter carrying the cursor of the next page (cursor style).",
    )
    paging_records_path = fields.Char(
        "Records path", default="items",
        help="Path of the list of records in each answer, e.g. items or data.results (dots for nesting, "
        "['a-b'] for odd keys). Empty: the answer itself is the list.",
    )
    paging_next_path = fields.Char(
        "Next page path", default="next_page",
        help="Path of the next page in the answer: a page number or offset, true, or a URL to follow; "
        "null or false marks the last page. When the answer has nothing there, the total (or an empty "
        "page) ends the pull.",
    )
    paging_total_path = fields.Char(
        "Total path", default="total",
        help="Path of the total number of records in the answer (e.g. meta.totalRows): the pull ends once "
        "that many were read, and the run shows its page count.",
    )
    paging_cursor_path = fields.Char(
        "Next cursor path", default="next_cursor",
        help="Path of the next cursor in the answer (cursor style); null or empty marks the last page.",
    )
    changed_since_param = fields.Char(
        "Changed-since parameter",
        help="Incremental pulls: parameter sent with every page carrying the start time of the last "
        "completed pull (ISO 8601 UTC, e.g. 2025-01-31T22:00:00Z), e.g. updated_since. Empty: every pull "
        "reads the whole list.",
    )
    changed_since_watermark = fields.Datetime(
        "Changed since", copy=False,
        help="Start time of the last pull whose every page was fetched; the next pull asks for the records "
        "changed since then. Clear it to read the whole list again.",
    )
    batch_run_ids = fields.One2many("hc.batch.run", "flow_id", string="Batch runs")
    batch_run_count = fields.Integer(compute="_compute_batch_run_count")
    max_attempts = fields.Integer(
        default=5,
        help="Attempts for transient failures (timeouts, 5xx...) before the message goes to the "
        "exception queue.",
    )
    mapping_ids = fields.One2many("hc.mapping", "flow_id", string="Mapping versions")
    active_mapping_id = fields.Many2one(
        "hc.mapping", compute="_compute_active_mapping", string="Active mapping",
        help="The version applied to messages of this flow; without one, payload keys that are fields "
        "of the model are applied as they are.",
    )
    channel = fields.Char(compute="_compute_channel", help="queue_job channel of this flow's jobs.")
    message_count = fields.Integer(compute="_compute_message_count")

    _code_backend_uniq = models.Constraint(
        "unique(backend_id, code)", "A flow code must be unique per backend."
    )

    @api.depends("mapping_ids.state")
    def _compute_active_mapping(self):
        for flow in self:
            flow.active_mapping_id = flow.mapping_ids.filtered(lambda m: m.state == "active")[:1]

    @api.depends("backend_id.code", "urgent")
    def _compute_channel(self):
        for flow in self:
            flow.channel = flow.backend_id._channel_name(urgent=flow.urgent)

    def _compute_message_count(self):
        counts = dict(
            self.env["hc.message"]._read_group(
                [("flow_id", "in", self.ids)], ["flow_id"], ["__count"]
            )
        )
        for flow in self:
            flow.message_count = counts.get(flow, 0)

    @api.constrains("code")
    def _check_code(self):
        for flow in self:
            if not flow.code.replace("_", "").replace("-", "").isalnum():
                raise ValidationError(
                    self.env._("Flow code %s may only hold letters, digits, - and _.", flow.code)
                )

    @api.constrains("object_type", "model_id")
    def _check_generic_model(self):
        for flow in self:
            if flow.object_type == "generic" and not flow.model_id:
                raise ValidationError(
                    self.env._("Flow %s is generic: choose the Odoo model it applies to.", flow.name)
                )

    # --- paging ----------------------------------------------------------------------------------
    @api.constrains(
        "direction", "paging_style", "page_size", "paging_page_param", "paging_offset_param",
        "paging_cursor_param", "paging_cursor_path",
    )
    def _check_paging(self):
        for flow in self.filtered(lambda f: f.direction == "pull"):
            try:
                flow._paging_contract()
            except PagingError as exc:
                raise ValidationError(self.env._("Flow %(flow)s: %(error)s", flow=flow.name, error=exc)) from exc

    def _paging_contract(self, since=None):
        """The page contract of this pull flow; ``since`` is the changed-since value to send."""
        self.ensure_one()
        params = {}
        if self.changed_since_param and since:
            params[self.changed_since_param.strip()] = since
        return PageContract(
            style=self.paging_style or "page",
            page_size=self.page_size,
            page_param=(self.paging_page_param or "").strip(),
            size_param=(self.paging_size_param or "").strip(),
            offset_param=(self.paging_offset_param or "").strip(),
            limit_param=(self.paging_limit_param or "").strip(),
            cursor_param=(self.paging_cursor_param or "").strip(),
            records_path=(self.paging_records_path or "").strip(),
            next_path=(self.paging_next_path or "").strip(),
            total_path=(self.paging_total_path or "").strip(),
            cursor_path=(self.paging_cursor_path or "").strip(),
            params=params,
        )

    def _changed_since_value(self):
        """What a pull starting now sends as its changed-since value (False: nothing)."""
        self.ensure_one()
        if not (self.changed_since_param and self.changed_since_watermark):
            return False
        return self.changed_since_watermark.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _compute_batch_run_count(self):
        counts = dict(self.env["hc.batch.run"]._read_group([("flow_id", "in", self.ids)], ["flow_id"], ["__count"]))
        for flow in self:
            flow.batch_run_count = counts.get(flow, 0)

    def action_pull_now(self):
        """Start a paged pull (one job per page) and open its run."""
        self.ensure_one()
        if self.direction != "pull" or not self.remote_resource:
            raise UserError(self.env._("Only a pull flow with a remote resource can be pulled."))
        if self.batch_run_ids.filtered(lambda r: r.state == "running"):
            raise UserError(self.env._("A pull of %s is already running.", self.name))
        run = self.env["hc.batch.run"].create(
            {"flow_id": self.id, "trigger": self.env.context.get("hc_trigger", "manual")}
        )
        run._enqueue_fetch()
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.batch.run",
            "res_id": run.id,
            "view_mode": "form",
        }

    @api.model
    def _cron_scheduled_pulls(self):
        for flow in self.search([("direction", "=", "pull"), ("mode", "in", ("batch", "both")),
                                 ("backend_id.active", "=", True)]):
            if not flow.batch_run_ids.filtered(lambda r: r.state == "running"):
                flow.with_context(hc_trigger="scheduled").action_pull_now()

    def action_view_batch_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_batch_run_action")
        action["domain"] = [("flow_id", "=", self.id)]
        return action

    def _channel_for_jobs(self):
        self.ensure_one()
        return self.channel

    # --- inbound routing --------------------------------------------------------------------------
    @api.model
    @tools.ormcache("backend_code", "flow_code")
    def _inbound_route(self, backend_code, flow_code):
        """``(backend id, flow id)`` pairs of the active backends and inbound flows an inbound URL
        names: one per company using these codes (codes are unique per company), empty if none.
        The caller's API key tells which company's backend is meant.

        Cached per worker (every post resolves it; two searches cost as much as storing the
        message); any change of codes, activity or direction clears it in every worker.
        """
        env = self.env(su=True)
        flows = env["hc.flow"].search([
            ("backend_id.code", "=", backend_code), ("backend_id.active", "=", True), ("code", "=", flow_code),
            ("direction", "=", "inbound"),
        ], order="id")
        return tuple((flow.backend_id.id, flow.id) for flow in flows)

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        if ROUTING_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

    def _owned_fields(self):
        """Fields of the flow's model that this flow fills (targets of its active inbound mapping,
        or every simple field it applies without a mapping)."""
        self.ensure_one()
        mapping = self.active_mapping_id
        if mapping and mapping.direction == "inbound":
            return set(mapping.line_ids.mapped("target"))
        return set()

    def _push_records(self, records, idempotency_key=None):
        """Queue one outbound message per record, its payload built by the handler."""
        self.ensure_one()
        handler = self._handler()
        return self.env["hc.message"].browse([
            self.env["hc.message"]._receive(
                self.backend_id, self, handler._prepare_payload(self, record), direction="outbound",
                record=record, idempotency_key=idempotency_key and f"{idempotency_key}:{record.id}",
                external_id=f"{record._name}:{record.id}",
            ).id
            for record in records
        ])

    def _handler(self):
        """The handler model of this flow's object type (domain addons add theirs)."""
        self.ensure_one()
        return self.env[f"hc.handler.{self.object_type}"]

    def _sensitive_path_list(self):
        return [p.strip() for p in (self.sensitive_paths or "").splitlines() if p.strip()]

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_message_action")
        action["domain"] = [("flow_id", "=", self.id)]
        action["context"] = {"default_flow_id": self.id}
        return action
