import hashlib
import hmac
import logging
import time

from lxml import etree
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from ..exceptions import KeyAlreadyUsed
from ..mapping.paths import xml_getter
from ..payload.inbound import (
    JSON_TYPES,
    XML_TYPES,
    InboundError,
    RateLimiter,
    json_path_value,
    media_type,
    parse_body,
    validate_json,
    validate_xml,
    verify_signature,
)

_logger = logging.getLogger(__name__)
_RATE = RateLimiter()


def _json(data, status=200, headers=None):
    response = request.make_json_response(data, status=status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class InboundController(http.Controller):
    """Legacy systems push events here: accepted at once, processed by a job."""

    @http.route(
        "/hc/in/<string:backend_code>/<string:flow_code>",
        type="http", auth="none", methods=["POST"], csrf=False, save_session=False, readonly=False,
    )
    def receive(self, backend_code, flow_code, **_params):
        started = time.monotonic()
        try:
            backend, flow = self._route_target(backend_code, flow_code)
            self._authenticate(backend)
            wait = _RATE.take((request.db, backend.id), backend.inbound_rate_limit)
            if wait:
                raise InboundError(
                    429, "rate_limited", "Too many requests for this backend; retry later.",
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
            if media_type(request.httprequest.content_type) not in JSON_TYPES + XML_TYPES:
                # Before reading: a form body would be consumed by the form parser and look empty.
                raise InboundError(415, "unsupported_media_type",
                                   "Send application/json or application/xml (Content-Type header).")
            body = self._read_body(backend)
            if backend.inbound_hmac_secret:
                verify_signature(
                    backend.inbound_hmac_secret, request.httprequest.headers.get("X-HC-Signature"),
                    body, backend.inbound_replay_window,
                )
            kind, document = parse_body(body, request.httprequest.content_type)
            if kind == "xml" and not self._reads_xml(flow):
                # Accepted, it could never be applied: only an XML inbound mapping reads XML.
                raise InboundError(
                    415, "unsupported_media_type",
                    f"Flow {flow.code} cannot apply XML: it has no active inbound mapping in XML format. "
                    "Send application/json, or activate an XML mapping on the flow.",
                )
            if kind == "json" and flow.inbound_schema:
                validate_json(document, flow.inbound_schema)
            if kind == "xml" and flow.inbound_xsd:
                validate_xml(document, flow.inbound_xsd)
            return self._store(backend, flow, kind, document, body, started)
        except InboundError as exc:
            return _json(exc.as_json(), status=exc.status, headers=exc.headers)

    @http.route(
        "/hc/in/<string:backend_code>/<string:flow_code>",
        type="http", auth="none", methods=["GET", "PUT", "PATCH", "DELETE"], csrf=False, save_session=False,
    )
    def wrong_method(self, backend_code, flow_code, **_params):
        error = InboundError(405, "method_not_allowed", "Inbound events are sent with POST.", headers={"Allow": "POST"})
        return _json(error.as_json(), status=405, headers=error.headers)

    @http.route(
        "/hc/in/<string:backend_code>/<string:flow_code>/messages/<int:message_id>",
        type="http", auth="none", methods=["GET"], csrf=False, save_session=False,
    )
    def message_state(self, backend_code, flow_code, message_id, **_params):
        """Callers that poll read the state of a message they posted, and only theirs."""
        try:
            backend, flow = self._route_target(backend_code, flow_code)
            self._authenticate(backend)
            message = request.env["hc.message"].sudo().search(
                [("id", "=", message_id), ("backend_id", "=", backend.id), ("flow_id", "=", flow.id),
                 ("direction", "=", "inbound")],
                limit=1,
            )
            if not message:
                raise InboundError(404, "not_found", "No such message for this backend and flow.")
            return _json(self._answer(message))
        except InboundError as exc:
            return _json(exc.as_json(), status=exc.status, headers=exc.headers)

    # --- steps ---------------------------------------------------------------------------------
    def _route_target(self, backend_code, flow_code):
        """The backend and flow an inbound URL names, with what a post reads of them in their cache
        (``hc.flow._inbound_targets``: a post reads no row of either)."""
        targets = request.env["hc.flow"]._inbound_targets(backend_code, flow_code)
        if not targets:
            raise InboundError(404, "not_found", f"No inbound flow {backend_code}/{flow_code}.")
        if len(targets) > 1:  # companies using the same codes: the caller's key names its backend
            given = self._given_key()
            return next((target for target in targets if given and target[0].inbound_api_key
                         and hmac.compare_digest(given.encode(), target[0].inbound_api_key.encode())), targets[0])
        return targets[0]

    def _reads_xml(self, flow):
        """Whether the flow applies XML bodies: its active inbound mapping reads XML (XPath sources)."""
        return bool(request.env["hc.mapping"].sudo().search_count([
            ("flow_id", "=", flow.id), ("state", "=", "active"), ("direction", "=", "inbound"),
            ("payload_format", "=", "xml"),
        ], limit=1))

    def _given_key(self):
        headers = request.httprequest.headers
        given = headers.get("X-API-Key")
        if not given and headers.get("Authorization", "").startswith("Bearer "):
            given = headers["Authorization"][7:].strip()
        return given

    def _authenticate(self, backend):
        given = self._given_key()
        if not given:
            raise InboundError(401, "unauthenticated", "Send the backend's API key in X-API-Key.")
        if not backend.inbound_api_key or not hmac.compare_digest(
            given.encode(), backend.inbound_api_key.encode()
        ):
            raise InboundError(403, "forbidden", "This API key is not allowed to post to this backend.")

    def _read_body(self, backend):
        limit = backend.inbound_max_bytes or 1048576
        httprequest = request.httprequest
        if httprequest.content_length is not None and httprequest.content_length > limit:
            raise InboundError(413, "too_large", f"The body exceeds {limit} bytes.")
        httprequest.max_content_length = limit  # also caps chunked bodies while reading
        try:
            body = httprequest.get_data()  # cached: Odoo may retry the request
        except RequestEntityTooLarge as exc:
            raise InboundError(413, "too_large", f"The body exceeds {limit} bytes.") from exc
        if not body:
            raise InboundError(400, "empty", "The body is empty.")
        return body

    def _store(self, backend, flow, kind, document, body, started):
        headers = request.httprequest.headers
        digest = hashlib.sha256(body).hexdigest()
        key = headers.get("Idempotency-Key")
        if not key and kind == "json" and flow.idempotency_key_path:
            value = json_path_value(document, flow.idempotency_key_path)
            key = None if value is None else str(value)
        elif not key and kind == "xml" and flow.idempotency_key_path:
            key = self._xml_value(document, flow.idempotency_key_path)
        external_id = None
        if kind == "json" and flow.external_id_path:
            value = json_path_value(document, flow.external_id_path)
            external_id = None if value is None or isinstance(value, (dict, list)) else str(value)
        elif kind == "xml" and flow.external_id_path:
            external_id = self._xml_value(document, flow.external_id_path)
        payload = document if kind == "json" else etree.tostring(document, encoding="unicode")
        try:
            message = request.env["hc.message"].sudo()._receive_post(
                backend, flow, payload,
                external_id=external_id,
                correlation_id=(headers.get("X-Correlation-ID") or "")[:128] or None,
                idempotency_key=key,
                payload_hash=digest,
            )
        except KeyAlreadyUsed as repeat:
            if not repeat.same_body:
                raise InboundError(
                    409, "idempotency_conflict", "This Idempotency-Key was already used with a different body.",
                ) from repeat
            return _json(self._answer(repeat.original, duplicate=True), status=200)
        answer = self._answer(message)
        answer["accepted_in_ms"] = round((time.monotonic() - started) * 1000, 1)
        return _json(
            answer, status=202,
            headers={"Location": answer["url"], "X-Correlation-ID": message.correlation_id},
        )

    def _xml_value(self, document, path):
        """The external ID or idempotency key of an XML body: the flow's path read as an XPath
        (e.g. id or @number); none when it finds no single value."""
        try:
            value = xml_getter(path)(document)
        except etree.XPathError:
            return None
        return value if isinstance(value, str) and value else None

    def _answer(self, message, duplicate=False):
        flow = message.flow_id
        return {
            "message_id": message.id,
            "correlation_id": message.correlation_id,
            "state": message.state,
            "duplicate": duplicate,
            "url": f"/hc/in/{message.backend_id.code}/{flow.code}/messages/{message.id}",
            "error": message.error_message or None,
        }
