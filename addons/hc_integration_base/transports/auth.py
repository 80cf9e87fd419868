"""Authentication strategies built from a plain configuration dict.

``build_auth({"type": ..., ...})`` returns an :class:`Auth` that a REST client applies to
each request (it is a ``requests`` auth) and a SOAP client asks for its HTTP auth or its
WS-Security header.
"""

import threading
import time

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from .errors import TransportError, classify_exception, http_error

# OAuth2 tokens shared by every client of the process: (token_url, client_id) -> (token, expiry)
_TOKENS = {}
_TOKENS_LOCK = threading.Lock()
TOKEN_MARGIN = 30  # seconds before expiry when a token is renewed


class Auth(AuthBase):
    """No authentication; the base of the others."""

    kind = "none"
    retry_on_401 = False

    def __call__(self, request):
        return request

    def http_auth(self):
        """Auth object for the HTTP layer of a SOAP client (or None)."""
        return None

    def wsse(self):
        """zeep WS-Security plugin for SOAP clients (or None)."""
        return None

    def refresh(self):
        """Called once after a 401 by clients that retry (OAuth2 renews its token)."""


class BasicAuth(Auth):
    kind = "basic"

    def __init__(self, username, password):
        self._basic = HTTPBasicAuth(username, password)

    def __call__(self, request):
        return self._basic(request)

    def http_auth(self):
        return self._basic


class ApiKeyAuth(Auth):
    kind = "api_key"

    def __init__(self, key, name="X-API-Key", location="header"):
        self.key, self.name, self.location = key, name or "X-API-Key", location or "header"

    def __call__(self, request):
        if self.location == "query":
            request.prepare_url(request.url, {self.name: self.key})
        else:
            request.headers[self.name] = self.key
        return request


class BearerAuth(Auth):
    kind = "bearer"

    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class OAuth2ClientCredentials(Auth):
    """Client-credentials grant: token fetched once, cached until expiry, renewed after a 401."""

    kind = "oauth2_client_credentials"
    retry_on_401 = True

    def __init__(self, token_url, client_id, client_secret, scope=None, timeout=(5, 30), verify=True):
        self.token_url, self.client_id, self.client_secret = token_url, client_id, client_secret
        self.scope, self.timeout, self.verify = scope, timeout, verify

    @property
    def _key(self):
        return (self.token_url, self.client_id)

    def token(self):
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._key)
            if cached and cached[1] > time.time():
                return cached[0]
            token, expires_in = self._fetch()
            _TOKENS[self._key] = (token, time.time() + max(expires_in - TOKEN_MARGIN, 1))
            return token

    def _fetch(self):
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        try:
            response = requests.post(
                self.token_url, data=data, auth=(self.client_id, self.client_secret),
                timeout=self.timeout, verify=self.verify,
            )
        except requests.RequestException as exc:
            raise classify_exception(exc, url=self.token_url, read_timeout=self.timeout[1]) from exc
        if response.status_code != 200:
            error = http_error(response.status_code, self.token_url)
            if response.status_code in (400, 401, 403):
                error = TransportError(
                    f"The OAuth2 token endpoint refused the client credentials "
                    f"(HTTP {response.status_code}) — check the client ID and secret.",
                    category="authentication", transient=False, status_code=response.status_code,
                )
            raise error
        try:
            payload = response.json()
            return payload["access_token"], float(payload.get("expires_in") or 3600)
        except (ValueError, KeyError) as exc:
            raise TransportError(
                "The OAuth2 token endpoint answered without an access_token.",
                category="invalid_response", transient=False,
            ) from exc

    def refresh(self):
        with _TOKENS_LOCK:
            _TOKENS.pop(self._key, None)

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request


class WsseUsernameToken(Auth):
    """WS-Security UsernameToken for SOAP (PasswordText, or PasswordDigest)."""

    kind = "wsse_username"

    def __init__(self, username, password, digest=False):
        self.username, self.password, self.digest = username, password, bool(digest)

    def wsse(self):
        from zeep.wsse.username import UsernameToken  # noqa: PLC0415

        return UsernameToken(self.username, self.password, use_digest=self.digest)


def build_auth(config, *, timeout=(5, 30), verify=True):
    """Build the strategy named by ``config["type"]``."""
    kind = (config or {}).get("type") or "none"
    if kind == "none":
        return Auth()
    if kind == "basic":
        return BasicAuth(config.get("username", ""), config.get("password", ""))
    if kind == "api_key":
        return ApiKeyAuth(config.get("key", ""), config.get("name"), config.get("location"))
    if kind == "bearer":
        return BearerAuth(config.get("token", ""))
    if kind == "oauth2_client_credentials":
        if not config.get("token_url"):
            raise TransportError("OAuth2 needs a token URL.", category="configuration", transient=False)
        return OAuth2ClientCredentials(
            config["token_url"], config.get("client_id", ""), config.get("client_secret", ""),
            scope=config.get("scope"), timeout=timeout, verify=verify,
        )
    if kind == "wsse_username":
        return WsseUsernameToken(config.get("username", ""), config.get("password", ""), config.get("digest"))
    raise TransportError(f"Unknown authentication type {kind!r}.", category="configuration", transient=False)
