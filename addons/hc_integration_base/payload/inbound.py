"""Checks on inbound requests that need no ORM: signatures, rate limits, bodies.

Each check raises :class:`InboundError` carrying the HTTP status, a stable error code and
a human message, which the controller turns into the JSON error answer.
"""

import functools
import hashlib
import hmac
import json
import threading
import time

from lxml import etree

from ..mapping.paths import json_value
from .xmlsafe import XmlSecurityError, XmlSyntaxError, parse_xml

JSON_TYPES = ("application/json",)
XML_TYPES = ("application/xml", "text/xml")


class InboundError(Exception):
    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def as_json(self):
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def sign(secret, timestamp, body):
    """The signature a caller sends: hex HMAC-SHA256 of ``'<timestamp>.<body>'``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(secret, header, body, window, now=None):
    """Check ``X-HC-Signature: t=<unix time>,v1=<hex>`` against the body and the time window."""
    if not header:
        raise InboundError(401, "signature_missing", "This backend requires a signed body (X-HC-Signature).")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise InboundError(401, "signature_malformed", "X-HC-Signature must look like t=<unix time>,v1=<hex>.") from exc
    now = time.time() if now is None else now
    if abs(now - timestamp) > window:
        raise InboundError(
            401, "signature_expired",
            f"The signature timestamp is outside the {window} s window (replayed or clock skew).",
        )
    if not hmac.compare_digest(sign(secret, timestamp, body), given.strip().lower()):
        raise InboundError(401, "signature_invalid", "The body signature does not match.")


class RateLimiter:
    """Token buckets per key (one per backend), shared by the threads of one process."""

    def __init__(self):
        self._buckets = {}
        self._lock = threading.Lock()

    def take(self, key, rate, now=None):
        """Take one token; return 0 when allowed, else the seconds to wait."""
        if not rate or rate <= 0:
            return 0
        now = time.monotonic() if now is None else now
        burst = max(rate, 1.0)
        with self._lock:
            tokens, last = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / rate


def media_type(content_type):
    return (content_type or "").split(";")[0].strip().lower()


def _has_nul(document):
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def parse_body(body, content_type):
    """Parse a JSON or XML body; return ``(kind, parsed)``."""
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InboundError(400, "bad_encoding", "The body is not valid UTF-8.") from exc
        try:
            document = json.loads(text)
        except RecursionError as exc:
            raise InboundError(400, "too_deep", "The JSON body is nested too deeply.") from exc
        except ValueError as exc:
            raise InboundError(400, "malformed", f"The body is not valid JSON: {exc}") from exc
        if _has_nul(document):
            raise InboundError(
                400, "nul_character",
                "The body holds a NUL character (\\u0000), which cannot be stored; remove it.",
            )
        return "json", document
    if kind in XML_TYPES:
        try:
            return "xml", parse_xml(body)
        except XmlSecurityError as exc:
            raise InboundError(400, "xml_forbidden", str(exc)) from exc
        except XmlSyntaxError as exc:
            raise InboundError(400, "malformed", f"The body is not well-formed XML: {exc}") from exc
    raise InboundError(
        415, "unsupported_media_type",
        "Send application/json or application/xml (Content-Type header).",
    )


@functools.lru_cache(maxsize=64)
def _json_validator(schema_text):
    import jsonschema  # noqa: PLC0415 - only inbound flows with a schema need it

    return jsonschema.Draft202012Validator(json.loads(schema_text))


@functools.lru_cache(maxsize=64)
def _xml_schema(xsd_text):
    return etree.XMLSchema(parse_xml(xsd_text.encode()))


def validate_json(document, schema_text):
    """Validate against a JSON Schema (given as text, compiled once); every failing path is listed."""
    validator = _json_validator(schema_text)
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise InboundError(
            400, "schema_invalid", "The body does not match the flow's schema.",
            details=[
                {"path": "/" + "/".join(str(p) for p in error.absolute_path), "message": error.message}
                for error in errors[:50]
            ],
        )


def validate_xml(element, xsd_text):
    schema = _xml_schema(xsd_text)
    if not schema.validate(element):
        raise InboundError(
            400, "schema_invalid", "The body does not match the flow's XML schema.",
            details=[{"path": f"line {e.line}", "message": e.message} for e in list(schema.error_log)[:50]],
        )


def json_path_value(document, path):
    """Value at a path of a JSON document (the suite's path grammar, e.g. ``order.lines[0].ref``,
    ``patient['national-id']``), or None: external-ID and idempotency-key paths."""
    return json_value(document, path)
