"""The backend's transport factory: the configuration a transport needs (secrets included), the
TLS files written for the HTTP stack, the process caches (one client per backend and
configuration, one circuit breaker per backend), sending one message and testing the connection.

Clients and breakers live in this process only (``transports.rest.get_client``,
``transports.soap.get_soap_client``, ``_BREAKERS``); the breaker's state is copied onto the
record so the form shows it and other processes learn that the circuit opened.
"""

import json
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone

from odoo import fields, models
from odoo.exceptions import UserError

from ..exceptions import PermanentError
from ..transports import errors as transport_errors
from ..transports.auth import build_auth
from ..transports.breaker import CircuitBreaker
from ..transports.rest import RestClient, entity_tag_value, get_client
from ..transports.soap import get_soap_client


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
    _inherit = "hc.backend"

    # --- circuit breaker state (thresholds are configuration) ------------------------------------
    breaker_state = fields.Selection(
        [("closed", "Closed"), ("open", "Open"), ("half_open", "Half-open")],
        default="closed",
        readonly=True,
        copy=False,
    )
    breaker_failure_count = fields.Integer(readonly=True, copy=False)
    breaker_opened_at = fields.Datetime(readonly=True, copy=False)
    breaker_last_error = fields.Text(readonly=True, copy=False)


    # --- last connection test -------------------------------------------------------------
    last_test_date = fields.Datetime(readonly=True, copy=False)
    last_test_ok = fields.Boolean(readonly=True, copy=False)
    last_test_message = fields.Text(readonly=True, copy=False)

    def init(self):
        res = super().init()
        # TLS material was once written into the filestore, which travels with every backup.
        shutil.rmtree(os.path.join(self.env["ir.attachment"]._filestore(), "hc_tls"), ignore_errors=True)
        return res

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
        header = (message.flow_id.response_version_header or "").strip().lower()
        if header:
            value = next((v for k, v in (reply.headers or {}).items() if k.lower() == header), None)
            self.env["hc.binding"].sudo()._remember_version(self, message.record_ref, entity_tag_value(value))
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

    def action_reset_breaker(self):
        self.ensure_one()
        self._breaker().record_success()
        self._sync_breaker_state()
