"""The backend's configuration: where the system is, how to authenticate, its limits, its queue
channels and who its jobs act as.

The other parts of ``hc.backend`` extend it from files of their own: ``hc_backend_transport.py``
(the transport factory, its TLS files and process caches, the circuit breaker, sending),
``hc_backend_secrets.py`` (the secret fields' rules, the inbound key, rotation reminders) and
``hc_backend_alerts.py`` (alert thresholds).
"""

import json

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..lifecycle import EXCEPTION, PENDING
from .hc_flow import INBOUND_BACKEND_FIELDS

# Fields whose change clears the inbound routes (hc.flow._inbound_route caches them).
INBOUND_CACHED_BACKEND_FIELDS = frozenset(INBOUND_BACKEND_FIELDS) | {"active"}


class HcBackend(models.Model):
    _name = "hc.backend"
    _description = "Integration Backend"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Short technical code used in queue channels and inbound URLs "
        "(lowercase letters, digits and underscores).",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", default=lambda self: self.env.company, tracking=True
    )
    protocol = fields.Selection(
        [("rest", "REST"), ("soap", "SOAP")],
        required=True,
        default="rest",
        tracking=True,
    )
    environment = fields.Selection(
        [
            ("development", "Development"),
            ("test", "Test"),
            ("production", "Production"),
        ],
        required=True,
        default="test",
        tracking=True,
        help="Production backends are highlighted; a neutralized database never "
        "calls any backend.",
    )
    base_url = fields.Char(
        "Base URL", tracking=True, help="Root URL of the REST API, e.g. https://lab.example/api"
    )
    health_path = fields.Char(
        default="/health",
        help="Path called by Test connection on REST backends.",
    )
    wsdl_url = fields.Char("WSDL URL", tracking=True)
    connect_timeout = fields.Float(
        required=True, default=5.0, tracking=True, help="Seconds to establish a connection."
    )
    read_timeout = fields.Float(
        required=True, default=30.0, tracking=True, help="Seconds to wait for an answer."
    )
    tls_verify = fields.Boolean(
        "Verify TLS certificates", default=True, tracking=True
    )
    tls_ca_bundle = fields.Text(
        "CA bundle (PEM)", help="Trusted certificate authorities, when not the system ones."
    )
    tls_client_cert = fields.Text(
        "Client certificate (PEM)", help="For mutual TLS."
    )
    tls_client_key = fields.Text(
        "Client key (PEM)", groups="base.group_system", copy=False
    )
    default_headers = fields.Text(
        groups="base.group_system",
        copy=False,
        help='JSON object of HTTP headers sent with every request, e.g. {"X-Site": "north"}. Tokens often '
        "end up here, so it is kept with the secrets: Settings administrators only, never exported.",
    )
    rate_limit = fields.Float(
        "Rate limit (requests/s)",
        help="Maximum outbound requests per second and worker; 0 means no limit.",
    )
    responsible_user_id = fields.Many2one(
        "res.users", string="Responsible", tracking=True, help="Receives activities for alerts and expiring secrets."
    )
    responsible_group_id = fields.Many2one(
        "res.groups",
        string="Responsible group",
        help="Its users receive activities for alerts when no responsible user is set.",
    )

    # --- authentication -------------------------------------------------------------
    auth_type = fields.Selection(
        [
            ("none", "None"),
            ("basic", "HTTP basic"),
            ("api_key", "API key"),
            ("bearer", "Bearer token"),
            ("oauth2", "OAuth2 client credentials"),
            ("wsse", "WS-Security UsernameToken (SOAP)"),
        ],
        required=True,
        default="none",
        tracking=True,
    )
    auth_username = fields.Char("Username", tracking=True)
    auth_password = fields.Char("Password", groups="base.group_system", copy=False)
    api_key = fields.Char("API key", groups="base.group_system", copy=False)
    api_key_name = fields.Char(default="X-API-Key", help="Header or query parameter name.")
    api_key_location = fields.Selection(
        [("header", "Header"), ("query", "Query parameter")], default="header"
    )
    bearer_token = fields.Char(groups="base.group_system", copy=False)
    oauth_token_url = fields.Char("Token URL")
    oauth_client_id = fields.Char("Client ID")
    oauth_client_secret = fields.Char(
        "Client secret", groups="base.group_system", copy=False
    )
    oauth_scope = fields.Char("Scope")
    wsse_digest = fields.Boolean(
        "Password digest", help="Send a PasswordDigest instead of the plain password."
    )

    # --- inbound endpoint ------------------------------------------------------------------
    inbound_api_key = fields.Char(
        "Inbound API key",
        groups="base.group_system",
        copy=False,
        help="The legacy system sends it in the X-API-Key header (or as a Bearer token) when "
        "it posts to /hc/in/<code>/<flow>.",
    )
    inbound_hmac_secret = fields.Char(
        "Inbound signing secret",
        groups="base.group_system",
        copy=False,
        help="When set, every inbound body must be signed: header X-HC-Signature: "
        "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>'>.",
    )
    inbound_replay_window = fields.Integer(
        "Signature window (s)",
        default=300,
        help="Signed requests older or newer than this are refused as replays.",
    )
    inbound_max_bytes = fields.Integer(
        "Maximum body (bytes)", default=1048576, help="Larger inbound bodies are refused (413)."
    )
    inbound_rate_limit = fields.Float(
        "Inbound rate limit (requests/s)",
        help="Per worker process; 0 means no limit. Excess requests get 429 with Retry-After.",
    )

    # --- circuit breaker ----------------------------------------------------------------
    breaker_threshold = fields.Integer(
        "Failures before opening",
        default=5,
        help="Consecutive transport failures after which calls fail fast.",
    )
    breaker_cooldown = fields.Integer(
        "Cool-down (s)", default=30, help="Seconds before one probe call is let through."
    )
    # --- messages and queue ---------------------------------------------------------------
    flow_ids = fields.One2many("hc.flow", "backend_id", string="Flows")
    channel_id = fields.Many2one(
        "queue.job.channel",
        readonly=True,
        copy=False,
        help="queue_job channel of this backend (root.hc.<code>): one slow system cannot "
        "starve the others. Its capacity is set in the [queue_job] channels of the Odoo "
        "configuration.",
    )
    job_capacity = fields.Integer(
        "Parallel jobs",
        default=2,
        help="How many of this backend's messages are processed at the same time, whatever the job "
        "runner's capacity: a slow system cannot take every worker. 0 means no limit.",
    )
    payload_retention_days = fields.Integer(
        default=30, help="Payloads of finished messages older than this are purged."
    )
    message_retention_days = fields.Integer(
        default=180, help="Done messages older than this are deleted."
    )
    exception_payload_retention_days = fields.Integer(
        "Unredacted payload retention in exception (days)",
        default=90,
        help="Unredacted payloads of messages in exception older than this are purged. The message keeps "
        "its redacted payload and its error and can still be retried or replayed, but the values masked "
        "in it can then no longer be restored.",
    )
    alert_error_rate = fields.Float(
        "Alert: error rate (%)",
        default=20.0,
        help="Alert when more than this share of the last hour's finished messages ended in exception.",
    )
    alert_backlog = fields.Integer(
        "Alert: backlog", default=500, help="Alert when more messages than this wait to be processed."
    )
    alert_oldest_minutes = fields.Integer(
        "Alert: oldest pending (min)", default=30, help="Alert when a message waits longer than this."
    )
    alert_state = fields.Text(readonly=True, copy=False, help="Thresholds crossed at the last check.")
    message_count = fields.Integer(compute="_compute_message_stats")
    exception_count = fields.Integer(compute="_compute_message_stats")
    backlog_count = fields.Integer(compute="_compute_message_stats")

    # --- who the jobs act as ---------------------------------------------------------------------
    integration_user_id = fields.Many2one(
        "res.users",
        string="Jobs act as",
        groups="base.group_system",
        default=lambda self: self.env.ref("hc_integration_base.user_integration", raise_if_not_found=False),
        domain=[("share", "=", False)],
        help="The user whose access rights the backend's jobs (pulls, inbound events, pushes) have. By default "
        "the technical user Integration jobs; never a Settings administrator nor the superuser.",
    )

    # --- the database the backend was configured on -----------------------------------------------
    configured_database = fields.Char(
        readonly=True,
        copy=False,
        help="Name and identifier of the database this backend was configured on. In any other database "
        "(a restored backup, a staging copy) it makes no call until an administrator confirms it.",
    )
    database_mismatch = fields.Boolean(
        compute="_compute_database_mismatch",
        help="This database is not the one the backend was configured on: it makes no call.",
    )


    _code_company_uniq = models.Constraint(
        "unique(code, company_id)", "A backend code must be unique per company."
    )

    def init(self):
        """Record the database of backends configured before it was recorded (they were configured here)."""
        res = super().init()
        self.env.cr.execute(
            SQL("UPDATE hc_backend SET configured_database = %s WHERE configured_database IS NULL",
                self._database_fingerprint())
        )
        return res


    @api.model
    def _database_fingerprint(self):
        """``<database name>:<database.uuid>``: a restore under another name, or Odoo's copy (a new
        uuid), changes it."""
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return f"{self.env.cr.dbname}:{uuid}"

    @api.depends("configured_database")
    def _compute_database_mismatch(self):
        here = self._database_fingerprint()
        for backend in self:
            backend.database_mismatch = bool(backend.configured_database) and backend.configured_database != here

    def action_confirm_database(self):
        """An administrator confirms that this database may call the backend's systems."""
        for backend in self:
            previous = backend.configured_database
            backend.configured_database = self._database_fingerprint()
            backend.message_post(body=self.env._(
                "Calls confirmed from database %(db)s (configured on %(previous)s).",
                db=self.env.cr.dbname, previous=(previous or "?").split(":")[0],
            ))

    @api.model_create_multi
    def create(self, vals_list):
        here = self._database_fingerprint()
        for vals in vals_list:
            vals["configured_database"] = here
        backends = super().create(vals_list)
        backends._ensure_channels()
        self.env.registry.clear_cache()  # inbound routes (hc.flow._inbound_route)
        return backends

    def write(self, vals):
        res = super().write(vals)
        if "code" in vals:
            self._ensure_channels()
        if INBOUND_CACHED_BACKEND_FIELDS & set(vals):
            self.env.registry.clear_cache()  # inbound routes (hc.flow._inbound_route)
        return res

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

    def _compute_message_stats(self):
        groups = self.env["hc.message"]._read_group(
            [("backend_id", "in", self.ids)], ["backend_id", "state"], ["__count"]
        )
        stats = {}
        for backend, state, count in groups:
            stats.setdefault(backend.id, {})[state] = count
        for backend in self:
            counts = stats.get(backend.id, {})
            backend.message_count = sum(counts.values())
            backend.exception_count = counts.get(EXCEPTION, 0)
            backend.backlog_count = sum(counts.get(s, 0) for s in PENDING)

    def _channel_name(self, urgent=False):
        if not self.code:
            return "root.hc"
        return f"root.hc.{self.code}" + (".urgent" if urgent else "")

    def _channel_for_jobs(self):
        return self._channel_name()

    def _ensure_channels(self):
        """One queue_job channel per backend, with a high-priority sub-channel."""
        Channel = self.env["queue.job.channel"].sudo()
        parent = self.env.ref("hc_integration_base.channel_hc")
        for backend in self:
            channel = backend.channel_id
            if channel:
                channel.sudo().name = backend.code
            else:
                channel = Channel.search(
                    [("name", "=", backend.code), ("parent_id", "=", parent.id)], limit=1
                ) or Channel.create({"name": backend.code, "parent_id": parent.id})
                backend.sudo().channel_id = channel
            if not Channel.search_count([("name", "=", "urgent"), ("parent_id", "=", channel.id)]):
                Channel.create({"name": "urgent", "parent_id": channel.id})

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_message_action")
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id}
        return action

    @api.constrains("code")
    def _check_code(self):
        for backend in self:
            code = backend.code or ""
            if not code.replace("_", "").isalnum() or code.lower() != code:
                raise ValidationError(
                    self.env._(
                        "Code %(code)s may only hold lowercase letters, digits and underscores.",
                        code=code,
                    )
                )

    @api.constrains("connect_timeout", "read_timeout", "rate_limit")
    def _check_limits(self):
        for backend in self:
            if backend.connect_timeout <= 0 or backend.read_timeout <= 0:
                raise ValidationError(self.env._("Timeouts must be positive numbers of seconds."))
            if backend.rate_limit < 0:
                raise ValidationError(self.env._("The rate limit cannot be negative."))

    @api.constrains("default_headers")
    def _check_default_headers(self):
        for backend in self.filtered("default_headers"):
            try:
                headers = json.loads(backend.default_headers)
            except ValueError as exc:
                raise ValidationError(
                    self.env._("Default headers must be a JSON object: %s", exc)
                ) from exc
            if not isinstance(headers, dict) or not all(
                isinstance(v, str) for v in headers.values()
            ):
                raise ValidationError(
                    self.env._("Default headers must be a JSON object of text values.")
                )


    def _job_user(self):
        """The user the backend's jobs run as: its integration user, never the superuser."""
        self.ensure_one()
        # The default user by its cached XML ID: env.ref() checks the row exists, a query on each
        # message queued.
        return self.sudo().integration_user_id.id or self.env["ir.model.data"]._xmlid_to_res_id(
            "hc_integration_base.user_integration", raise_if_not_found=True)

    @api.model
    @tools.ormcache("user_id")
    def _job_company(self, user_id):
        """The company of the jobs queued as ``user_id``: the user's main company, as queue_job
        takes it (``env.company``). Cached: reading it loads the user's row on every message
        queued; a change of a user's company clears Odoo's caches (res.users)."""
        return self.env["res.users"].sudo().browse(user_id).company_id.id

    @api.constrains("protocol", "auth_type")
    def _check_auth_protocol(self):
        for backend in self:
            if backend.auth_type == "wsse" and backend.protocol != "soap":
                raise ValidationError(
                    self.env._("WS-Security authentication is only available for SOAP backends.")
                )
