import ast
import json
import re
from urllib.parse import quote

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain

from ..exceptions import PermanentError
from ..lifecycle import runs
from ..mapping.paths import MISSING, PathError, json_getter, looks_like_xpath, parse_path, xml_selector
from ..transports.base import Request
from ..transports.paging import PageContract, PagingError

# Fields that change which flow an inbound URL names (hc.flow._inbound_route is cached).
ROUTING_FIELDS = frozenset({"code", "active", "direction", "backend_id"})
# Every column an inbound post reads, down to queueing its job (the job's user; the flow's channel
# from its latency class), cached with the route (hc.flow._inbound_route): read per post, they
# were two queries, as many as storing the message and its job. A write of one clears the cache
# in every worker (``model_id``: model_name is stored from it).
INBOUND_BACKEND_FIELDS = (
    "code", "name", "company_id", "inbound_api_key", "inbound_hmac_secret", "inbound_replay_window",
    "inbound_max_bytes", "inbound_rate_limit", "integration_user_id",
)
INBOUND_FLOW_FIELDS = (
    "code", "name", "backend_id", "object_type", "model_name", "system_of_record", "urgent", "priority",
    "max_attempts", "inbound_schema", "inbound_xsd", "external_id_path", "idempotency_key_path",
    "sensitive_paths", "latency_class",
)
INBOUND_CACHED_FLOW_FIELDS = ROUTING_FIELDS | set(INBOUND_FLOW_FIELDS) | {"model_id"}
# What a push sends a document for; a document's "action" key names one (default: create).
ACTIONS = ("create", "update", "cancel")
# {reference}, {patient.id}, {lines[0].item_code}: a path of the canonical document in braces.
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
# {binding.external_id}, {binding.version}: the pushed record's binding at the flow's backend.
BINDING_PLACEHOLDER = "binding"
BINDING_VALUES = ("external_id", "version")
# Headers a flow may not set: credentials belong to the backend (admin-only, never exported).
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "apikey"})
# Fields of the flow its sending rule (base.automation) is generated from.
PUSH_RULE_FIELDS = frozenset({"push_trigger", "push_trigger_fields", "push_domain", "model_id", "direction",
                              "active", "name"})


def parse_query(text):
    """Extra query parameters: a JSON object, or one ``key=value`` per line (``#`` comments)."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            query = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"the query parameters are not a valid JSON object: {exc}") from exc
        if not isinstance(query, dict) or any(isinstance(v, (dict, list)) for v in query.values()):
            raise ValueError("the query parameters must be a JSON object of plain values")
        return {str(k): "" if v is None else str(v) for k, v in query.items()}
    query = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"line {number} of the query parameters is not key=value: {line!r}")
        query[key.strip()] = value.strip()
    return query


def parse_headers(text):
    """Request header templates: one ``Name: value`` per line (``#`` comments)."""
    headers = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name):
            raise ValueError(f"line {number} of the request headers is not Name: value: {line!r}")
        if name.lower() in CREDENTIAL_HEADERS:
            raise ValueError(f"the request header {name} carries credentials: set them on the backend "
                             "(authentication), where only administrators read them")
        headers[name] = value.strip()
    return headers


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
    # --- the request (push flows) -----------------------------------------------------------------
    request_method = fields.Selection(
        [("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH"), ("DELETE", "DELETE")],
        string="HTTP method", default="POST", required=True,
        help="REST: the HTTP method of each request this flow sends.",
    )
    request_path = fields.Char(
        "Path template",
        help="REST: the path of each request, with placeholders from the canonical document in braces, e.g. "
        "/orders/{reference} or /patients/{patient.id}/results (values are URL-encoded). A placeholder the "
        "document does not have stops the message with a mapping error naming it. Empty: the remote resource.",
    )
    request_method_update = fields.Selection(
        [("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH"), ("DELETE", "DELETE")],
        string="HTTP method: update",
        help="REST: the method of a change of an object the remote system has (a document whose action is "
        "update, e.g. PUT or PATCH). Empty: the HTTP method above.",
    )
    request_path_update = fields.Char(
        "Path template: update",
        help="REST: the path of an update, e.g. /orders/{remote_order_number}. Empty: the path template above.",
    )
    request_method_cancel = fields.Selection(
        [("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH"), ("DELETE", "DELETE")],
        string="HTTP method: cancel",
        help="REST: the method of a cancellation (action cancel, e.g. DELETE, or POST to a cancel path). "
        "Empty: the HTTP method above.",
    )
    request_path_cancel = fields.Char(
        "Path template: cancel",
        help="REST: the path of a cancellation, e.g. /orders/{remote_order_number}/cancel. Empty: the path "
        "template above.",
    )
    request_query = fields.Text(
        "Query parameters",
        help="REST: extra query parameters of each request: a JSON object ({\"site\": \"north\"}) or one "
        "key=value per line. Values may hold placeholders as the path template does.",
    )
    request_headers = fields.Text(
        "Request headers",
        help="REST: headers of each request, one Name: value per line, with placeholders as the path template "
        "has, e.g. If-Match: W/\"{binding.version}\" for a conditional update. {binding.external_id} and "
        "{binding.version} read the pushed record's binding at this backend: the remote ID and version "
        "its last pull (Remote version path) or push (Version header of the answer) stored. A record "
        "without one stops with a mapping error naming it. Credentials belong on the backend.",
    )
    response_version_header = fields.Char(
        "Version header of the answer",
        help="REST push: the answer header carrying the object's new version, e.g. ETag. After each accepted "
        "request its value (the entity tag without W/ and quotes) is stored on the record's binding, for "
        "the next request's {binding.version}.",
    )
    remote_version_path = fields.Char(
        "Remote version path",
        help="Pull and inbound flows: the path of each record's version in the payload, e.g. meta.versionId. "
        "Its value is stored with the record's external ID (External ID path) on the binding of each record "
        "the entry made, for a push flow's {binding.version} and {binding.external_id}.",
    )
    payload_format = fields.Selection(
        [("json", "JSON"), ("xml", "XML")], string="Payload format", default="json", required=True,
        help="REST: how request bodies are written and answers read. XML: the request (the outbound mapping's "
        "result) is written as XML under the root element below — a request with one key is that element — "
        "and sent as application/xml; an XML answer is read by a response mapping in XML format (XPath "
        "sources), or without one as plain data (elements by name). (Inbound flows read XML bodies through an "
        "active inbound mapping in XML format; without one they refuse XML with 415.)",
    )
    xml_root = fields.Char(
        "XML root element", default="request",
        help="REST, XML format: the root element of a request whose document has several keys.",
    )
    operation_create = fields.Char(
        "Operation: create",
        help="SOAP: the operation called for a new object (a document whose action is create, e.g. a confirmed "
        "order). Empty: the remote resource.",
    )
    operation_update = fields.Char(
        "Operation: update",
        help="SOAP: the operation called for a change of an object the remote system has (action update). "
        "Empty: the remote resource.",
    )
    operation_cancel = fields.Char(
        "Operation: cancel",
        help="SOAP: the operation called when the object is cancelled (action cancel). Empty: the remote "
        "resource. When the actions call different operations, each takes from the request only the "
        "parameters its WSDL signature declares, so one outbound mapping serves them all.",
    )
    # --- when a push flow sends (a generated base.automation rule) --------------------------------------
    push_trigger = fields.Selection(
        [("none", "By the object type's own events"), ("create", "On create"),
         ("fields", "On a change of listed fields"), ("domain", "When a condition becomes true")],
        string="Send", default="none", required=True,
        help="When a record of the flow's model is queued on this push flow, through an automation rule the "
        "Sending rule button generates (Odoo's base_automation): on its creation; when one of the listed "
        "fields changes (and on creation); or when the condition becomes true for it (it did not hold "
        "before the change, or the record is created holding it). The rule only queues the record: "
        "the message is built with the integration user's rights and sent by a job, in order per record.",
    )
    push_trigger_fields = fields.Char(
        "Fields watched",
        help="Technical names of the fields of the flow's model whose change sends the record, separated by "
        "commas, e.g. phone, email (trigger: on a change of listed fields).",
    )
    push_domain = fields.Char(
        "Condition", default="[]",
        help="A domain on the flow's model, e.g. [(\"state\", \"=\", \"done\")]. Trigger 'when a "
        "condition becomes true': records are sent when it becomes true; other triggers: only records "
        "meeting it are sent.",
    )
    push_rule_id = fields.Many2one(
        "base.automation", string="Sending rule", readonly=True, copy=False, groups="base.group_system",
        ondelete="set null",
        help="The automation rule generated from the trigger above; its action only queues the record.",
    )
    push_rule_state = fields.Char(compute="_compute_push_rule_state", string="Sending rule status")
    sensitive_paths = fields.Text(
        help="One payload path per line (e.g. patient.name, lines[*].note, patient['national-id'] for a key "
        "with other characters; for XML, element paths such as Patient.Name or an XPath such as //PID); their "
        "values are replaced by *** in the stored payload and answer shown to users. A pulled page is masked "
        "record by record: write the path of one record.",
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
        "Idempotency-Key header: a JSON path (header.message_id), or an XPath for XML bodies "
        "(MessageHeader/MessageId or @number)."
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
    changed_since_template = fields.Char(
        "Changed-since value", default="{since}",
        help="How the changed-since time is written: {since} stands for it (ISO 8601 UTC), e.g. gt{since} for "
        "FHIR's _lastUpdated=gt2025-01-31T22:00:00Z.",
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

    # --- the request ------------------------------------------------------------------------------
    @api.constrains("request_query", "request_headers")
    def _check_request_query(self):
        for flow in self:
            try:
                parse_query(flow.request_query)
                parse_headers(flow.request_headers)
            except ValueError as exc:
                raise ValidationError(self.env._("Flow %(flow)s: %(error)s.", flow=flow.name, error=exc)) from exc

    def _render(self, template, document, what, binding=None):
        """``template`` with each {path} replaced by the document's value there (URL-encoded for
        the path); {binding.external_id} and {binding.version} read ``binding`` (a dict, see
        ``_request``). A placeholder the document (or binding) lacks is a mapping error naming it."""

        def value(found):
            path = found.group(1).strip()
            head, _dot, rest = path.partition(".")
            if head == BINDING_PLACEHOLDER and binding is not None:
                if rest not in BINDING_VALUES:
                    raise PermanentError(self.env._(
                        "The %(what)s %(template)s of flow %(flow)s names {%(path)s}: a binding gives only "
                        "{binding.external_id} and {binding.version}.", what=what, template=template,
                        flow=self.name, path=path), category="mapping")
                got = binding.get(rest) or MISSING
                if got is MISSING:
                    raise PermanentError(self.env._(
                        "The %(what)s %(template)s of flow %(flow)s names {%(path)s}, but %(record)s has no "
                        "binding at %(backend)s holding it: pull the record from there first (the pull flow "
                        "stores the remote ID and version with its Remote version path).", what=what,
                        template=template, flow=self.name, path=path, record=binding.get("record") or "-",
                        backend=self.backend_id.name), category="mapping")
            else:
                got = json_getter(path)(document) if isinstance(document, (dict, list)) else MISSING
            if got is MISSING or got is None or got == "" or isinstance(got, (dict, list)):
                raise PermanentError(self.env._(
                    "The %(what)s %(template)s of flow %(flow)s names {%(path)s}, which the document does not "
                    "have (or holds no single value there).", what=what, template=template, flow=self.name,
                    path=path), category="mapping")
            text = ("true" if got else "false") if isinstance(got, bool) else str(got)
            return quote(text, safe="") if what == "path template" else text

        return PLACEHOLDER.sub(value, template)

    def _request(self, message, body, document=None):
        """The transport request sending ``body`` (the wire request) for ``message``: method, path
        and query from the flow's configuration, placeholders filled from ``document`` (the canonical
        document; the body itself when there is none); the document's action picks the SOAP operation
        and, when the flow names them, the REST method and path of an update or a cancellation."""
        self.ensure_one()
        document = body if document is None else document
        action = document.get("action") if isinstance(document, dict) else None
        action = action if action in ACTIONS else "create"
        operations = {name: (self[f"operation_{name}"] or "").strip() or (self.remote_resource or "").strip()
                      for name in ACTIONS}
        path = (self.request_path or "").strip() or (self.remote_resource or "").strip()
        method = self.request_method or "POST"
        if action != "create":  # REST: the action's own method and path, when the flow names them
            path = (self[f"request_path_{action}"] or "").strip() or path
            method = self[f"request_method_{action}"] or method
        if not (path or operations[action]):
            raise UserError(self.env._("Flow %s has no remote resource to send to.", self.name))
        templates = [path, self.request_query or "", self.request_headers or ""]
        binding = None
        if any(f"{{{BINDING_PLACEHOLDER}." in text for text in templates):
            record = message.record_ref
            remote = self.env["hc.binding"].sudo()._remote_of(self.backend_id, record)
            binding = {"external_id": remote.external_id, "version": remote.external_version,
                       "record": record.display_name if record else None}
        query = {key: self._render(value, document, "query parameter", binding) if "{" in value else value
                 for key, value in parse_query(self.request_query).items()}
        headers = {key: self._render(value, document, f"request header {key}", binding) if "{" in value else value
                   for key, value in parse_headers(self.request_headers).items()}
        return Request(
            body=body,
            method=method,
            path=self._render(path, document, "path template", binding) if "{" in path else path,
            query=query,
            headers=headers,
            operation=operations[action],
            payload_format=self.payload_format or "json",
            xml_root=(self.xml_root or "").strip() or "request",
            correlation_id=message.correlation_id,
            idempotency_key=message.idempotency_key or message.correlation_id,
            only_operation_params=len(set(operations.values())) > 1,
        )

    # --- the sending rule (base.automation) ---------------------------------------------------------
    @api.constrains("push_trigger", "push_trigger_fields", "push_domain", "model_id", "direction")
    def _check_push_trigger(self):
        for flow in self:
            flow._push_domain()
            if flow.push_trigger == "none":
                continue
            if flow.direction != "push" or not flow.model_id:
                raise ValidationError(self.env._(
                    "Flow %s: only a push flow naming its Odoo model can send on create, on changes or on a "
                    "condition.", flow.name))
            if flow.push_trigger == "fields" and not flow._push_field_names():
                raise ValidationError(self.env._("Flow %s sends on a change of listed fields: list them.", flow.name))
            if flow.push_trigger == "domain" and not flow._push_domain():
                raise ValidationError(self.env._("Flow %s sends when a condition becomes true: write the condition.",
                                                 flow.name))

    def _push_field_names(self):
        """The watched fields' names, each checked to be a stored field of the flow's model."""
        self.ensure_one()
        text = (self.push_trigger_fields or "").replace("\n", ",")
        names = [name.strip() for name in text.split(",") if name.strip()]
        model = self.env[self.model_id.model] if self.model_id else None
        wrong = [name for name in names if model is None or name not in model._fields or not model._fields[name].store]
        if wrong:
            raise ValidationError(self.env._(
                "Flow %(flow)s watches %(fields)s, which %(model)s has no stored field of.", flow=self.name,
                fields=", ".join(wrong), model=self.model_id.model or "-"))
        return names

    def _push_domain(self):
        """The condition as a domain list; only a literal domain (no expression) is accepted."""
        self.ensure_one()
        text = (self.push_domain or "").strip() or "[]"
        try:
            domain = ast.literal_eval(text)
            if not isinstance(domain, (list, tuple)):
                raise ValueError("not a list")
            if domain and self.model_id:
                Domain(list(domain)).validate(self.env[self.model_id.model])
        except (ValueError, SyntaxError, TypeError, KeyError) as exc:
            raise ValidationError(self.env._(
                "Flow %(flow)s: the condition %(domain)s is not a domain of %(model)s (%(error)s).",
                flow=self.name, domain=text, model=self.model_id.model or "-", error=exc)) from exc
        return list(domain)

    @api.depends("push_trigger")
    def _compute_push_rule_state(self):
        rules = {flow.id: flow.push_rule_id for flow in self.sudo()}
        for flow in self:
            rule = rules.get(flow.id)
            if flow.push_trigger == "none":
                flow.push_rule_state = False
            elif not rule:
                flow.push_rule_state = self.env._("Not generated yet: press Sending rule.")
            else:
                flow.push_rule_state = self.env._("%(rule)s (%(state)s)", rule=rule.name,
                                                  state=self.env._("active") if rule.active else self.env._("off"))

    def _push_rule_values(self):
        """The automation rule of this flow, generated: its one action queues the records on the
        flow (a fixed line naming the flow's id; nothing a consultant types becomes code)."""
        self.ensure_one()
        domain = self._push_domain()
        trigger = self.push_trigger
        vals = {
            "name": self.env._("Integration: send on %s", self.display_name),
            "model_id": self.model_id.id,
            "trigger": "on_create" if trigger == "create" else "on_create_or_write",
            "filter_domain": repr(domain) if domain else False,
            "filter_pre_domain": repr(list(~Domain(domain))) if trigger == "domain" else False,
            "active": bool(self.active and self.direction == "push" and trigger != "none"),
            "action_server_ids": [(5, 0, 0), (0, 0, {
                "name": self.env._("Queue on integration flow %s", self.display_name),
                "model_id": self.model_id.id,
                "state": "code",
                "usage": "base_automation",
                "code": f"env['hc.flow'].browse({int(self.id)})._push_from_rule(records)",
            })],
        }
        if trigger == "fields":
            watched = self.env["ir.model.fields"].sudo().search(
                [("model", "=", self.model_id.model), ("name", "in", self._push_field_names())])
            vals["trigger_field_ids"] = [(6, 0, watched.ids)]
        elif trigger == "create":
            vals["trigger_field_ids"] = [(5, 0, 0)]
        return vals

    def _sync_push_rule(self, create=False):
        """Create (``create``) or bring up to date the sending rule of each flow, as superuser: only
        Settings administrators may edit automation rules, and this one is generated."""
        for flow in self:
            rule = flow.sudo().push_rule_id
            if not rule and not create:
                continue
            if flow.push_trigger == "none" or flow.direction != "push" or not flow.model_id:
                if rule:
                    rule.active = False
                continue
            vals = flow._push_rule_values()
            if rule:
                rule.write(vals)
            else:
                flow.sudo().push_rule_id = self.env["base.automation"].sudo().create(vals)

    def action_sending_rule(self):
        """Generate (or update) the flow's sending rule; Settings administrators see it."""
        self.ensure_one()
        if self.push_trigger == "none":
            raise UserError(self.env._("Choose when flow %s sends (Send) first.", self.name))
        self.check_access("write")
        self._sync_push_rule(create=True)
        rule = self.sudo().push_rule_id
        if self.env.user.has_group("base.group_system"):
            return {"type": "ir.actions.act_window", "res_model": "base.automation", "res_id": rule.id,
                    "view_mode": "form", "target": "current"}
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"type": "success", "title": self.env._("Sending rule"),
                       "message": self.env._("%(rule)s is active: records of %(model)s are queued on this flow "
                                             "as set.", rule=rule.name, model=self.model_id.name)},
        }

    def _push_from_rule(self, records):
        """The sending rule's action: queue ``records`` on this flow with the rights of the backend's
        integration user (the rule itself runs as superuser), one message per record, so the job
        layer keeps their order per record and the idempotency key of each sending."""
        self.ensure_one()
        flow = self.sudo()
        if not (records and flow.active and flow.direction == "push" and flow.backend_id.active):
            return self.env["hc.message"]
        user = flow.backend_id._job_user()
        try:
            # A watched field may change without changing the status (a partial receipt; the state and
            # the receipt status of one confirmation): nothing to send, no duplicate to keep.
            return flow.with_user(user)._push_records(records.with_user(user), skip_sent_status=True)
        except AccessError as exc:
            raise UserError(self.env._(
                "Flow %(flow)s cannot send %(model)s: its integration user may not read them (%(error)s).",
                flow=flow.name, model=records._description, error=exc)) from exc

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

    @api.constrains("sensitive_paths", "external_id_path", "idempotency_key_path")
    def _check_paths(self):
        """Paths are read with the one path grammar (mapping/paths.py): a path it cannot read is
        refused here, naming it, rather than failing every message (or answering a post with 500)."""
        for flow in self:
            paths = flow._sensitive_path_list() + [p for p in (flow.external_id_path, flow.idempotency_key_path) if p]
            for path in paths:
                try:
                    xml_selector(path) if looks_like_xpath(path) else parse_path(path)
                except PathError as exc:
                    raise ValidationError(self.env._("Flow %(flow)s: %(error)s", flow=flow.name, error=exc)) from exc

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
        since = self.changed_since_watermark.strftime("%Y-%m-%dT%H:%M:%SZ")
        template = (self.changed_since_template or "").strip() or "{since}"
        return template.replace("{since}", since) if "{since}" in template else template + since

    def _compute_batch_run_count(self):
        counts = dict(self.env["hc.batch.run"]._read_group([("flow_id", "in", self.ids)], ["flow_id"], ["__count"]))
        for flow in self:
            flow.batch_run_count = counts.get(flow, 0)

    def action_pull_now(self):
        """Start a paged pull (one job per page) and open its run."""
        self.ensure_one()
        if self.direction != "pull" or not self.remote_resource:
            raise UserError(self.env._("Only a pull flow with a remote resource can be pulled."))
        if self.batch_run_ids.filtered(lambda r: r.state == runs.RUNNING):
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
            if not flow.batch_run_ids.filtered(lambda r: r.state == runs.RUNNING):
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
    def _inbound_targets(self, backend_code, flow_code):
        """``(backend, flow)`` pairs (superuser recordsets) of the active backends and inbound flows
        an inbound URL names: one per company using these codes (codes are unique per company),
        empty if none; the caller's API key tells which company's backend is meant. What a post
        reads of them (INBOUND_BACKEND_FIELDS, INBOUND_FLOW_FIELDS) is already in their cache: a
        post reads no row of either."""
        env = self.env(su=True)
        targets = []
        for backend_id, backend_values, flow_id, flow_values in self._inbound_route(backend_code, flow_code):
            backend, flow = env["hc.backend"].browse(backend_id), env["hc.flow"].browse(flow_id)
            for records, values in ((backend, backend_values), (flow, flow_values)):
                for name, value in values:
                    records._fields[name]._update_cache(records, value)
            targets.append((backend, flow))
        return targets

    @api.model
    @tools.ormcache("backend_code", "flow_code")
    def _inbound_route(self, backend_code, flow_code):
        """``(backend id, its values, flow id, its values)`` of :meth:`_inbound_targets`, each
        ``values`` the cache values of INBOUND_BACKEND_FIELDS or INBOUND_FLOW_FIELDS as
        ``(name, value)`` pairs.

        Cached per worker (every post resolves it: two searches and two reads cost as much as
        storing the message); a change of one of these fields, or of a backend's activity or a
        flow's direction, clears it in every worker.
        """
        env = self.env(su=True)
        flows = env["hc.flow"].search([
            ("backend_id.code", "=", backend_code), ("backend_id.active", "=", True), ("code", "=", flow_code),
            ("direction", "=", "inbound"),
        ], order="id")
        flows.fetch(INBOUND_FLOW_FIELDS)
        flows.backend_id.fetch(INBOUND_BACKEND_FIELDS)

        def values(record, names):
            return tuple((name, record._fields[name].convert_to_cache(record[name], record)) for name in names)

        return tuple(
            (flow.backend_id.id, values(flow.backend_id, INBOUND_BACKEND_FIELDS), flow.id,
             values(flow, INBOUND_FLOW_FIELDS))
            for flow in flows
        )

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create([self._with_object_type_defaults(vals) for vals in vals_list])

    def write(self, vals):
        if INBOUND_CACHED_FLOW_FIELDS & set(vals):
            self.env.registry.clear_cache()
        res = super().write(vals)
        if "object_type" in vals:
            for flow in self:
                defaults = self._object_type_defaults(flow.object_type)
                missing = {key: value for key, value in defaults.items() if key not in vals and not flow[key]}
                if missing:
                    flow.write(missing)
        if PUSH_RULE_FIELDS & set(vals):
            self._sync_push_rule()
        return res

    def unlink(self):
        self.env.registry.clear_cache()
        rules = self.sudo().push_rule_id
        res = super().unlink()
        rules.unlink()
        return res

    def _owned_fields(self):
        """Fields of the flow's model that this flow fills (targets of its active inbound mapping,
        or every simple field it applies without a mapping)."""
        self.ensure_one()
        mapping = self.active_mapping_id
        if mapping and mapping.direction == "inbound":
            return set(mapping.line_ids.mapped("target"))
        return set()

    def _push_records(self, records, idempotency_key=None, skip_sent_status=False):
        """Queue one outbound message per record, its payload built by the handler. A status push
        (the handler's ``_status_push``) keys each message by the record's current status
        (``_status_key``): a record moved into a status already queued gets a duplicate message
        that sends nothing (``skip_sent_status``: no message at all, as the sending rule does when a
        watched field changes without changing the status), and a record with no status to send
        is skipped."""
        self.ensure_one()
        handler = self._handler()
        Message = self.env["hc.message"]
        if handler._status_push:
            # The records' pending computations first: a watched stored field recomputed while the
            # payload is read (an order's receipt status when it is cancelled with its receipt) would
            # run the sending rule inside this push, which would store the same status before it.
            records.flush_recordset()
        ids = []
        for record in records:
            key = idempotency_key
            if not key and handler._status_push:
                key = handler._status_key(self, record)
                if not key or (skip_sent_status and Message._find_by_key(
                        self.backend_id.id, "outbound", f"{key}:{record.id}")):
                    continue
            ids.append(Message._receive_push(self, handler._prepare_payload(self, record), record=record,
                                             idempotency_key=key and f"{key}:{record.id}").id)
        return Message.browse(ids)

    def _handler(self):
        """The handler model of this flow's object type (domain addons add theirs)."""
        self.ensure_one()
        return self.env[f"hc.handler.{self.object_type}"]

    # --- what an object type gives its flows ----------------------------------------------------------
    @api.model
    def _object_type_defaults(self, object_type):
        """What a flow of ``object_type`` starts with where it has none: the model of its handler's
        records (``_record_model``) and the keys its schema marks sensitive, as sensitive paths."""
        if not object_type or f"hc.handler.{object_type}" not in self.env:
            return {}
        handler = self.env[f"hc.handler.{object_type}"]
        defaults = {}
        if handler._record_model:
            defaults["model_id"] = self.env["ir.model"]._get_id(handler._record_model)
        paths = handler._default_sensitive_paths()
        if paths:
            defaults["sensitive_paths"] = paths
        return defaults

    @api.model
    def _with_object_type_defaults(self, vals):
        """The values of a new flow with its object type's defaults: a model chosen wins, and so do
        sensitive paths given (even empty ones)."""
        defaults = self._object_type_defaults(vals.get("object_type"))
        if vals.get("model_id"):
            defaults.pop("model_id", None)
        if "sensitive_paths" in vals:
            defaults.pop("sensitive_paths", None)
        return {**vals, **defaults}

    @api.onchange("object_type")
    def _onchange_object_type(self):
        """A consultant picking the object type gets its model and sensitive paths, where empty."""
        for key, value in self._object_type_defaults(self.object_type).items():
            if not self[key]:
                self[key] = value

    def _sensitive_path_list(self):
        return [p.strip() for p in (self.sensitive_paths or "").splitlines() if p.strip()]

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_message_action")
        action["domain"] = [("flow_id", "=", self.id)]
        action["context"] = {"default_flow_id": self.id}
        return action
