import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..exceptions import PermanentError
from ..lifecycle import EXCEPTION, PENDING
from ..transports import errors as transport_errors
from ..transports.auth import build_auth
from ..transports.breaker import CircuitBreaker
from ..transports.rest import RestClient, get_client
from ..transports.soap import get_soap_client

_logger = logging.getLogger(__name__)

# The backend's secrets, declared once. Each is a field readable only by Settings administrators
# (groups=SECRET_GROUP, checked by a test against this list), never copied, exported or tracked;
# data/neutralize.sql wipes every column restricted to that group on the integration's models.
SECRET_GROUP = "base.group_system"
SECRET_FIELDS = (
    "auth_password",
    "api_key",
    "bearer_token",
    "oauth_client_secret",
    "tls_client_key",
    "inbound_api_key",
    "inbound_hmac_secret",
    "default_headers",
)

SECRET_COLUMNS_PARAM = "hc_integration_base.secret_columns"
# Data that can be a secret; a restricted link (the jobs' user) is a setting, not a secret.
SECRET_TYPES = ("char", "text", "binary", "html")


def secret_columns(env):
    """``table.column`` of every stored field of an ``hc.*`` model restricted to SECRET_GROUP."""
    return sorted(
        f"{model._table}.{name}"
        for model in (env[name] for name in env.registry if name.startswith("hc."))
        if not model._abstract and not model._transient
        for name, field in model._fields.items()
        if field.store and field.type in SECRET_TYPES and field.groups == SECRET_GROUP
    )


def _private_tls_root():
    """``<tmp>/hc-tls-<uid>``, created private (0700) and refused when another user owns it."""
    root = os.path.join(tempfile.gettempdir(), f"hc-tls-{os.getuid()}")
    os.makedirs(root, mode=0o700, exist_ok=True)
    info = os.stat(root)
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{root} is not a private folder of this user: TLS material is not written there.")
    return root


# One breaker per backend and process; its state is copied onto the record so the
# form shows it, and restored from the record when a process builds its first client.
_BREAKERS = {}


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
    secret_rotate_by = fields.Date(
        "Rotate secrets by",
        tracking=True,
        help="The responsible user gets an activity when this date is near.",
    )
    secret_warning_days = fields.Integer(
        "Warn days before", default=14
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
    breaker_state = fields.Selection(
        [("closed", "Closed"), ("open", "Open"), ("half_open", "Half-open")],
        default="closed",
        readonly=True,
        copy=False,
    )
    breaker_failure_count = fields.Integer(readonly=True, copy=False)
    breaker_opened_at = fields.Datetime(readonly=True, copy=False)
    breaker_last_error = fields.Text(readonly=True, copy=False)

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

    # --- last connection test -------------------------------------------------------------
    last_test_date = fields.Datetime(readonly=True, copy=False)
    last_test_ok = fields.Boolean(readonly=True, copy=False)
    last_test_message = fields.Text(readonly=True, copy=False)

    _code_company_uniq = models.Constraint(
        "unique(code, company_id)", "A backend code must be unique per company."
    )

    def init(self):
        """Record the secret columns of the integration's models for data/neutralize.sql, and the
        database of backends configured before it was recorded (they were configured here)."""
        res = super().init()
        self.env["ir.config_parameter"].sudo().set_param(SECRET_COLUMNS_PARAM, ",".join(secret_columns(self.env)))
        self.env.cr.execute(
            SQL("UPDATE hc_backend SET configured_database = %s WHERE configured_database IS NULL",
                self._database_fingerprint())
        )
        # TLS material was once written into the filestore, which travels with every backup.
        shutil.rmtree(os.path.join(self.env["ir.attachment"]._filestore(), "hc_tls"), ignore_errors=True)
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
        if {"code", "active"} & set(vals):
            self.env.registry.clear_cache()
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

    @api.constrains("integration_user_id")
    def _check_integration_user(self):
        for backend in self.sudo():
            user = backend.integration_user_id
            if user and (user._is_superuser() or user.has_group(SECRET_GROUP)):
                raise ValidationError(self.env._(
                    "%(user)s is a Settings administrator: jobs of %(backend)s must act with an integration "
                    "user's rights only (for example Integration jobs).", user=user.name, backend=backend.name,
                ))

    def _job_user(self):
        """The user the backend's jobs run as: its integration user, never the superuser."""
        self.ensure_one()
        user = self.sudo().integration_user_id or self.env.ref("hc_integration_base.user_integration")
        return user.id

    @api.constrains("protocol", "auth_type")
    def _check_auth_protocol(self):
        for backend in self:
            if backend.auth_type == "wsse" and backend.protocol != "soap":
                raise ValidationError(
                    self.env._("WS-Security authentication is only available for SOAP backends.")
                )

    # --- transport ----------------------------------------------------------------------------
    def _transport_config(self):
        """Everything a transport needs, secrets included: call on a sudo'ed record only."""
        self.ensure_one()
        headers = json.loads(self.default_headers) if self.default_headers else {}
        auth = {
            "none": {"type": "none"},
            "basic": {
                "type": "basic",
                "username": self.auth_username or "",
                "password": self.auth_password or "",
            },
            "api_key": {
                "type": "api_key",
                "key": self.api_key or "",
                "name": self.api_key_name or "X-API-Key",
                "location": self.api_key_location or "header",
            },
            "bearer": {"type": "bearer", "token": self.bearer_token or ""},
            "oauth2": {
                "type": "oauth2_client_credentials",
                "token_url": self.oauth_token_url or "",
                "client_id": self.oauth_client_id or "",
                "client_secret": self.oauth_client_secret or "",
                "scope": self.oauth_scope or None,
            },
            "wsse": {
                "type": "wsse_username",
                "username": self.auth_username or "",
                "password": self.auth_password or "",
                "digest": self.wsse_digest,
            },
        }[self.auth_type]
        return {
            "protocol": self.protocol,
            "url": self.base_url if self.protocol == "rest" else self.wsdl_url,
            "auth": auth,
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "verify": self._tls_file("ca.pem", self.tls_ca_bundle) or self.tls_verify,
            "cert": self._tls_cert(),
            "headers": headers,
            "rate_limit": self.rate_limit or None,
        }

    def _tls_file(self, name, content):
        """Write PEM content to a private file the HTTP stack can read; return its path.

        The files live in a private folder of the machine's temporary directory, never in the
        filestore: a copied filestore (backup, staging restore) must not carry a client key.
        """
        if not content:
            return None
        folder = os.path.join(_private_tls_root(), self.env.cr.dbname, str(self.id))
        os.makedirs(folder, mode=0o700, exist_ok=True)
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                if handle.read() == content:
                    return path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        return path

    def _tls_cert(self):
        cert = self._tls_file("client.pem", self.tls_client_cert)
        key = self._tls_file("client.key", self.tls_client_key)
        if cert and key:
            return (cert, key)
        return cert

    def _breaker(self):
        """This process's breaker of the backend, opened when another process opened it."""
        breaker = self._local_breaker()
        # Each worker process has its own breaker; one that opened wrote it on the record, so the
        # others stop calling too instead of each spending messages' attempts to learn it.
        if self.breaker_state == "open" and self.breaker_opened_at and breaker.state == "closed":
            opened = self.breaker_opened_at.replace(tzinfo=timezone.utc).timestamp()
            if time.time() - opened < self.breaker_cooldown:
                breaker.trip(opened, self.breaker_last_error)
        return breaker

    def _local_breaker(self):
        self.ensure_one()
        key = (self.env.cr.dbname, self.id)
        breaker = _BREAKERS.get(key)
        if (
            breaker is None
            or breaker.threshold != self.breaker_threshold
            or breaker.cooldown != self.breaker_cooldown
        ):
            breaker = CircuitBreaker(
                threshold=max(self.breaker_threshold, 1), cooldown=max(self.breaker_cooldown, 0)
            )
            _BREAKERS[key] = breaker
        return breaker

    def _get_client(self):
        """The process-wide transport client of this backend (REST session or SOAP client)."""
        self.ensure_one()
        if not self.active:
            raise UserError(
                self.env._("Backend %s is archived: it makes no calls.", self.display_name)
            )
        if self.database_mismatch:
            raise UserError(self.env._(
                "Backend %(backend)s was configured on database %(db)s, not on this one (%(here)s): a copy "
                "makes no call to its systems. If this database really must call them, an administrator "
                "presses Confirm this database on the backend.",
                backend=self.display_name, db=self.configured_database.split(":")[0], here=self.env.cr.dbname,
            ))
        config = self.sudo()._transport_config()
        if not config["url"]:
            raise UserError(
                self.env._("Backend %s has no URL configured.", self.display_name)
            )
        breaker = self._breaker()
        # The token endpoint is called with the backend's TLS settings and timeouts too.
        auth = build_auth(config["auth"], timeout=(config["connect_timeout"], config["read_timeout"]),
                          verify=config["verify"])
        fingerprint = json.dumps(
            {k: v for k, v in config.items() if k != "auth"}, sort_keys=True, default=str
        ) + json.dumps(config["auth"], sort_keys=True, default=str)
        common = {
            "auth": auth,
            "connect_timeout": config["connect_timeout"],
            "read_timeout": config["read_timeout"],
            "verify": config["verify"],
            "cert": config["cert"],
            "headers": config["headers"],
            "breaker": breaker,
        }
        key = (self.env.cr.dbname, self.id, hash(fingerprint))
        client = self._build_client(key, config, common)
        # A cached client keeps working with the backend's current breaker (its thresholds may
        # have changed since the client was built).
        client.breaker = breaker
        return client

    def _build_client(self, key, config, common):
        """The transport client of the backend's protocol (cached per process under ``key``)."""
        if self.protocol == "soap":
            cache_dir = os.path.join(self.env["ir.attachment"]._filestore(), "hc_wsdl_cache")
            return get_soap_client(key, config["url"], cache_dir=cache_dir, **common)
        return get_client(key, lambda: RestClient(config["url"], rate_limit=config["rate_limit"], **common))

    def _sync_breaker_state(self):
        """Copy the in-process breaker state onto the record (for the form)."""
        for backend in self:
            snap = backend._local_breaker().snapshot()
            vals = {
                "breaker_state": snap["state"],
                "breaker_failure_count": snap["failure_count"],
                "breaker_last_error": snap.get("last_error") or False,
                "breaker_opened_at": snap["opened_at_wall"]
                and datetime.fromtimestamp(snap["opened_at_wall"], tz=timezone.utc).replace(tzinfo=None)
                or False,
            }
            if any(backend[k] != v for k, v in vals.items()):
                backend.sudo().write(vals)

    def _sync_breaker_state_apart(self):
        """The same, committed in its own transaction: a failed job's transaction is rolled back,
        and the form must still show that the circuit opened."""
        with self.env.registry.cursor() as cr:
            self.with_env(self.env(cr=cr))._sync_breaker_state()

    def _send(self, message, payload, document=None):
        """Send one outbound message's request ``payload`` to this backend; return its answer.

        The flow describes the request (``hc.flow._request``: REST method, path template and query,
        the SOAP operation of the document's action, JSON or XML); the backend's transport sends it
        with the message's idempotency key and correlation id, so a retry after a timeout never
        creates a second object remotely. A request the transport cannot build (an argument the
        SOAP operation does not take, a key XML cannot name) is a mapping error of this message
        (permanent, nothing was sent).
        """
        self.ensure_one()
        request = message.flow_id._request(message, payload, document)
        client = self._get_client()
        try:
            reply = client.send(request)
        except transport_errors.TransportError as exc:
            if exc.category == "request":
                raise PermanentError(exc.user_message, category="mapping") from exc
            raise
        finally:
            self._sync_breaker_state()
        body = reply.body
        response = reply.raw_text if request.payload_format == "xml" and reply.raw_text \
            else json.dumps(body, default=str, ensure_ascii=False)
        return {"response": response, "body": body, "raw": reply.raw_text}

    # --- actions ------------------------------------------------------------------------------------
    def action_test_connection(self):
        """Call the backend once and tell the user, in one sentence, what happened."""
        self.ensure_one()
        start = time.monotonic()
        try:
            detail = self._get_client().probe(self.health_path)
            ok = True
            message = self.env._(
                "Connection OK in %(ms)d ms. %(detail)s",
                ms=(time.monotonic() - start) * 1000,
                detail=detail,
            )
        except transport_errors.TransportError as exc:
            ok, message = False, exc.user_message
        except UserError as exc:
            ok, message = False, str(exc.args[0])
        self._sync_breaker_state()
        self.write(
            {
                "last_test_date": fields.Datetime.now(),
                "last_test_ok": ok,
                "last_test_message": message,
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Connection test: %s", self.display_name),
                "message": message,
                "type": "success" if ok else "danger",
                "sticky": not ok,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_generate_inbound_key(self):
        """Replace the inbound API key by a random one, shown once in a notification to copy."""
        self.ensure_one()
        if not self.env.user.has_group(SECRET_GROUP):
            raise AccessError(self.env._("Only Settings administrators set inbound credentials."))
        key = secrets.token_urlsafe(32)
        self.sudo().inbound_api_key = key
        self.message_post(body=self.env._("A new inbound API key was generated; the previous one no longer works."))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("New inbound API key of %s", self.display_name),
                "message": self.env._("Copy it now and give it to the legacy system; it is not shown again: %s", key),
                "type": "warning",
                "sticky": True,
            },
        }

    def action_reset_breaker(self):
        self.ensure_one()
        self._breaker().record_success()
        self._sync_breaker_state()
