"""One exception type for every transport failure, classified for the job layer.

*Transient* failures (timeouts, refused connections, 5xx, 429, an open circuit) are worth
retrying; *permanent* ones (other 4xx, SOAP client faults, unparsable answers, refused XML,
configuration mistakes) need a person. ``user_message`` is one sentence an administrator can
act on; it never contains credentials.
"""

import socket
import ssl
from urllib.parse import urlsplit

import requests

TRANSIENT_CATEGORIES = {"dns", "connection", "timeout", "http_5xx", "rate_limited", "circuit_open"}


class TransportError(Exception):
    def __init__(self, message, *, category, transient=None, status_code=None, retry_after=None,
                 detail=None, fault_code=None, fault_string=None):
        super().__init__(message)
        self.category = category
        self.transient = category in TRANSIENT_CATEGORIES if transient is None else transient
        self.status_code = status_code
        self.retry_after = retry_after
        self.detail = detail
        self.fault_code = fault_code
        self.fault_string = fault_string

    @property
    def user_message(self):
        return str(self)

    def __repr__(self):
        return f"TransportError({self.category}, transient={self.transient}, {self!s})"


def _root_cause(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (socket.gaierror, ssl.SSLError, ConnectionRefusedError)):
            return exc
        nxt = exc.__cause__ or exc.__context__
        if nxt is None and exc.args and isinstance(exc.args[0], BaseException):
            nxt = exc.args[0]
        if nxt is None and hasattr(exc, "reason") and isinstance(exc.reason, BaseException):
            nxt = exc.reason
        exc = nxt
    return None


def _text(exc):
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.append(str(exc))
        exc = exc.__cause__ or exc.__context__ or (
            exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        )
    return " ".join(parts)


def classify_exception(exc, *, url="", read_timeout=None):
    """Turn a requests/urllib3/socket/ssl exception into a TransportError."""
    if isinstance(exc, TransportError):
        return exc
    host = requests.utils.urlparse(url).netloc if url else "the host"
    hostname = requests.utils.urlparse(url).hostname if url else host
    if isinstance(exc, requests.exceptions.SSLError) or isinstance(_root_cause(exc), ssl.SSLError):
        reason = _root_cause(exc)
        detail = getattr(reason, "reason", None) or str(reason or exc).split(":")[-1].strip()
        return TransportError(
            f"TLS handshake with {host} failed ({detail}) — check the URL scheme, the CA bundle "
            "and the client certificate.",
            category="tls", transient=False,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransportError(
            f"No connection to {host} within the connect timeout — the host may be down or "
            "filtered.",
            category="timeout",
        )
    if isinstance(exc, (requests.exceptions.ReadTimeout, socket.timeout, TimeoutError)):
        seconds = f"{read_timeout:g} s" if read_timeout else "the read timeout"
        return TransportError(f"No answer within {seconds} (read timeout) from {host}.", category="timeout")
    text = _text(exc)
    if isinstance(_root_cause(exc), socket.gaierror) or "Name or service not known" in text \
            or "Failed to resolve" in text or "nodename nor servname" in text:
        return TransportError(
            f"Could not resolve host '{hostname}' — check the URL.", category="dns", transient=True
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "refused" in text.lower():
            return TransportError(
                f"Connection refused by {host} — is the system running and the port right?",
                category="connection",
            )
        return TransportError(
            f"The connection to {host} failed or was reset ({type(exc).__name__}).", category="connection"
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return TransportError(f"The URL '{url}' is not valid.", category="configuration", transient=False)
    return TransportError(f"Transport failure: {type(exc).__name__}: {exc}", category="connection")


def http_error(status, url, body_excerpt="", retry_after=None, conditions=None):
    """The TransportError for a non-2xx HTTP answer; ``conditions`` are the conditional headers the
    request carried (If-Match, ...), named when the remote system refuses the precondition."""
    excerpt = (body_excerpt or "").strip().replace("\n", " ")[:200]
    suffix = f" Answer: {excerpt}" if excerpt else ""
    if status == 412:
        sent = ", ".join(f"{name}: {value}" for name, value in (conditions or {}).items()) or "none"
        return TransportError(
            f"Version conflict (HTTP 412 Precondition Failed on {url}): the remote record changed since the "
            f"version this request names ({sent}); nothing was changed there. Pull the record again, check "
            f"the change, then retry.{suffix}",
            category="http_4xx", transient=False, status_code=status,
        )
    if status == 428:
        return TransportError(
            f"The remote system only takes conditional updates (HTTP 428 Precondition Required on {url}): "
            f"give the flow a request header such as If-Match with the version read.{suffix}",
            category="http_4xx", transient=False, status_code=status,
        )
    if status == 401:
        return TransportError(
            f"Authentication failed (HTTP 401) — check the credentials.{suffix}",
            category="authentication", transient=False, status_code=status,
        )
    if status == 403:
        return TransportError(
            f"Access denied (HTTP 403) — the credentials are valid but not allowed here.{suffix}",
            category="authentication", transient=False, status_code=status,
        )
    if status == 429:
        wait = f" Retry after {retry_after:g} s." if retry_after else ""
        return TransportError(
            f"Rate limited by the remote system (HTTP 429).{wait}",
            category="rate_limited", status_code=status, retry_after=retry_after,
        )
    if status == 408:
        return TransportError("The remote system timed out the request (HTTP 408).",
                              category="timeout", status_code=status)
    if status >= 500:
        return TransportError(
            f"The remote system failed (HTTP {status}).{suffix}",
            category="http_5xx", status_code=status, retry_after=retry_after,
        )
    return TransportError(
        f"The remote system refused the request (HTTP {status} on {url}).{suffix}",
        category="http_4xx", transient=False, status_code=status,
    )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url):
    """``scheme://host:port`` of ``url`` (RFC 6454), the unit credentials are bound to."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def foreign_origin_error(url, allowed, reason="request"):
    what = {
        "request": "Refused to call",
        "redirect": "Refused to follow the remote system's redirect to",
    }[reason]
    return TransportError(
        f"{what} {url}: it is outside the backend's origin {allowed}. Requests, and the credentials "
        "they carry, only go to the backend's own host; use a path relative to the backend's base URL.",
        category="security", transient=False,
    )
