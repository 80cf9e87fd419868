"""REST transport: one requests.Session per backend and thread, timeouts always on."""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import requests

from ..payload.xmlsafe import XmlSecurityError, XmlSyntaxError, parse_xml
from .auth import Auth
from .base import Reply
from .errors import TransportError, classify_exception, foreign_origin_error, http_error, origin
from .xmlbody import XmlBodyError, to_data, to_xml

_CLIENTS = {}
_CLIENTS_LOCK = threading.Lock()


def get_client(key, factory):
    """The client for ``key`` in this thread, built by ``factory()`` the first time.

    requests.Session is not guaranteed thread-safe, so each thread of a process keeps its
    own client per backend configuration (``key`` includes a configuration fingerprint).
    """
    full_key = (key, threading.get_ident())
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(full_key)
    if client is None:
        client = factory()
        with _CLIENTS_LOCK:
            _CLIENTS[full_key] = client
    return client


@dataclass
class RestResponse:
    status: int
    headers: dict
    body: object
    raw_text: str
    elapsed_ms: float
    correlation_id: str
    url: str = ""
    checkpoint: object = None
    items: list = field(default_factory=list)


class RateLimiter:
    """Token bucket: at most ``rate`` requests per second (bursts of one second)."""

    def __init__(self, rate):
        self.rate = rate
        self._tokens = max(rate, 1.0)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self):
        with self._lock:
            now = time.monotonic()
            self._tokens = min(max(self.rate, 1.0), self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens < 1:
                time.sleep((1 - self._tokens) / self.rate)
                self._tokens = 0
                self._last = time.monotonic()
            else:
                self._tokens -= 1


MAX_REDIRECTS = 5
# Conditional request headers (RFC 9110 13.1): named in the error of a refused precondition.
CONDITIONS = frozenset({"if-match", "if-none-match", "if-unmodified-since", "if-modified-since"})


def entity_tag_value(value):
    """The opaque value of an entity tag (RFC 9110 8.8.3): ``W/"4"`` and ``"4"`` give ``4``; None
    when there is none."""
    text = (value or "").strip()
    if text[:2] in ("W/", "w/"):
        text = text[2:]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text or None


def _retry_after_seconds(value):
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


class RestClient:
    def __init__(self, base_url, *, auth=None, connect_timeout=5.0, read_timeout=30.0, verify=True,
                 cert=None, headers=None, rate_limit=None, breaker=None, max_retry_after=60.0,
                 retry_after_retries=1, session=None):
        self.base_url = base_url.rstrip("/")
        self.origin = origin(self.base_url)
        self.auth = auth or Auth()
        self.timeout = (connect_timeout, read_timeout)
        self.breaker = breaker
        self.max_retry_after = max_retry_after
        self.retry_after_retries = retry_after_retries
        self.limiter = RateLimiter(rate_limit) if rate_limit else None
        self.session = session or requests.Session()
        self.session.verify = verify
        self.session.cert = cert
        self.session.headers.update(headers or {})

    def url(self, path):
        """The absolute URL of ``path``, refused unless it is on the backend's origin: a flow's
        resource or a next-page link naming another host would receive the backend's credentials."""
        full = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        if origin(full) != self.origin:
            raise foreign_origin_error(full, self.origin)
        return full

    def request(self, method, path, *, params=None, json=None, data=None, xml=None, headers=None,
                correlation_id=None, idempotency_key=None, expect="json"):
        """Send one request; return a RestResponse or raise a classified TransportError."""
        correlation_id = correlation_id or uuid.uuid4().hex
        all_headers = {"X-Correlation-ID": correlation_id, **(headers or {})}
        if idempotency_key:
            all_headers["Idempotency-Key"] = idempotency_key
        if xml is not None:
            data = xml if isinstance(xml, (bytes, str)) else None
            all_headers.setdefault("Content-Type", "application/xml")
        if expect == "xml":
            all_headers.setdefault("Accept", "application/xml")
        elif expect == "json":
            all_headers.setdefault("Accept", "application/json")
        url = self.url(path)
        retries_left = self.retry_after_retries
        refreshed = False
        while True:
            if self.breaker:
                self.breaker.before_call()
            if self.limiter:
                self.limiter.acquire()
            started = time.monotonic()
            try:
                response = self._send_following_redirects(method, url, params=params, json=json, data=data,
                                                          headers=all_headers)
            except requests.RequestException as exc:
                error = classify_exception(exc, url=url, read_timeout=self.timeout[1])
                self._failed(error)
                raise error from exc
            except TransportError as error:  # raised by the auth (token endpoint) or a foreign redirect
                if error.category != "security":
                    self._failed(error)
                raise
            elapsed = (time.monotonic() - started) * 1000
            status = response.status_code
            if status == 401 and self.auth.retry_on_401 and not refreshed:
                self.auth.refresh()
                refreshed = True
                continue
            if status in (429, 503):
                wait = _retry_after_seconds(response.headers.get("Retry-After"))
                if wait is not None and wait <= self.max_retry_after and retries_left > 0:
                    retries_left -= 1
                    time.sleep(wait)
                    continue
            if status >= 400:
                error = http_error(status, url, response.text,
                                   retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
                                   conditions={k: v for k, v in all_headers.items() if k.lower() in CONDITIONS})
                self._failed(error)
                raise error
            body = self._parse(response, expect, url)
            if self.breaker:
                self.breaker.record_success()
            return RestResponse(status, dict(response.headers), body, response.text, elapsed,
                                correlation_id, url=url)

    def _send_following_redirects(self, method, url, **kwargs):
        """One request; redirects are followed here, not by requests, and only on the backend's
        origin (requests would send custom credential headers such as an API key to any host)."""
        for _hop in range(MAX_REDIRECTS + 1):
            response = self.session.request(method, url, auth=self.auth, timeout=self.timeout,
                                            allow_redirects=False, **kwargs)
            location = response.headers.get("Location") if response.is_redirect else None
            if not location:
                return response
            target = urljoin(url, location)
            if origin(target) != self.origin:
                raise foreign_origin_error(target, self.origin, reason="redirect")
            if response.status_code in (301, 302, 303) and method != "HEAD":
                method, kwargs = "GET", {**kwargs, "json": None, "data": None}
            url, kwargs = target, {**kwargs, "params": None}
        raise TransportError(f"More than {MAX_REDIRECTS} redirects from {url}.", category="invalid_response",
                             transient=False)

    def _failed(self, error):
        if self.breaker:
            self.breaker.record_failure(error)

    def _parse(self, response, expect, url):
        if expect in ("none", "text") or response.status_code == 204:
            return response.text if expect == "text" else None
        try:
            if expect == "xml":
                return parse_xml(response.content)
            return json.loads(response.content.decode(response.encoding or "utf-8"))
        except XmlSecurityError as exc:
            error = TransportError(f"Refused XML answer from {url}: {exc}", category="security", transient=False)
        except (ValueError, XmlSyntaxError) as exc:
            error = TransportError(
                f"The answer of {url} is not valid {expect.upper()}: {str(exc)[:150]}",
                category="invalid_response", transient=False,
            )
        self._failed(error)
        raise error

    # --- the transport interface -------------------------------------------------------------------
    def send(self, request):
        """Send one :class:`~.base.Request`: its method to its path with its query, the body as
        JSON or XML (``payload_format``), its own ``headers``, the message's idempotency key and correlation id as
        headers; the answer is read in the same format (an XML answer as plain data, its text
        kept for a response mapping reading it by XPath)."""
        xml = request.payload_format == "xml"
        body = request.body
        try:
            data = to_xml(body, request.xml_root) if xml and body is not None else None
        except XmlBodyError as exc:
            raise TransportError(
                f"The request cannot be written as XML: {exc} Check the flow's outbound mapping.",
                category="request", transient=False,
            ) from exc
        response = self.request(
            request.method or "POST", request.path, params=request.query or None,
            json=None if xml else body, xml=data, correlation_id=request.correlation_id,
            idempotency_key=request.idempotency_key, expect="xml" if xml else "json",
            headers=request.headers or None,
        )
        answer = response.body
        if xml and answer is not None:
            answer = to_data(answer)
        return Reply(answer, response.raw_text, response.elapsed_ms, response.correlation_id,
                     status=response.status, headers=response.headers)

    def probe(self, health_path=None):
        """Call the health path once; return what answered (raises a TransportError otherwise)."""
        path = health_path or "/"
        response = self.request("GET", path, expect="text")
        return f"{path} answered (HTTP {response.status})"

    # --- paging -----------------------------------------------------------------------------------
    def fetch_page(self, resource, contract, checkpoint=None, *, correlation_id=None):
        """One page of ``resource``: one GET built and read by the page ``contract``
        (:mod:`.paging`); the returned Page carries the checkpoint of the next page."""
        page_request = contract.request(checkpoint)
        if page_request.url:  # a next link or URL the previous answer gave; it carries its own query
            response = self.request("GET", page_request.url, correlation_id=correlation_id)
        else:
            response = self.request("GET", resource, params=page_request.params, correlation_id=correlation_id)
        page = contract.parse(response.body, response.headers, checkpoint, url=response.url)
        page.correlation_id = response.correlation_id
        return page
