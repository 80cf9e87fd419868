"""SOAP transport through zeep: WSDL loaded once per process (and cached on disk).

XML is parsed with DTDs, entities and external references forbidden, both for the WSDL and
for every answer.
"""

import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass

import requests
import zeep
from zeep.cache import SqliteCache
from zeep.exceptions import DTDForbidden, EntitiesForbidden, Fault, XMLSyntaxError
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import TransportError as ZeepTransportError
from zeep.exceptions import ValidationError as ZeepValidationError
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.xsd.elements import Element as XsdElement

from .auth import Auth
from .base import Reply
from .errors import TransportError, classify_exception, foreign_origin_error, http_error, origin

_CLIENTS = {}
_CLIENTS_LOCK = threading.Lock()


@dataclass
class SoapResult:
    body: object
    elapsed_ms: float
    correlation_id: str


def get_soap_client(key, wsdl_url, **options):
    """The process-wide SoapClient for ``key`` (backend id + configuration fingerprint)."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
    if client is None:
        client = SoapClient(wsdl_url, **options)
        with _CLIENTS_LOCK:
            _CLIENTS[key] = client
    return client


# zeep's words for an argument the operation's signature does not have.
_UNEXPECTED = re.compile(
    r"^(?:\{[^}]*\})?(?P<type>[\w.-]+)\(\) got an unexpected keyword argument '(?P<arg>[^']+)'"
    r"(?:\. Signature: `(?P<signature>.*)`)?", re.S,
)


def _children(xsd_type):
    """The child elements of a complex type, by name (empty for simple types)."""
    try:
        elements = xsd_type.elements
    except AttributeError:
        return {}
    return {name: element for name, element in elements if isinstance(element, XsdElement)}


def _repeats(element):
    return element.max_occurs == "unbounded" or (element.max_occurs or 1) > 1


def _fit_type(value, xsd_type):
    if not isinstance(value, dict):
        return value
    children = _children(xsd_type)
    return {key: _fit(item, children[key]) if key in children else item for key, item in value.items()}


def _fit(value, element):
    """``value`` shaped for ``element``: a list given for a wrapper element whose only child
    repeats (``Lines`` holding ``Line``…) fills that child, as zeep wants it spelled."""
    if isinstance(value, list):
        if not _repeats(element):
            children = _children(element.type)
            if len(children) == 1:
                [(name, child)] = children.items()
                if _repeats(child):
                    return {name: [_fit_type(item, child.type) for item in value]}
            return value
        return [_fit_type(item, element.type) for item in value]
    return _fit_type(value, element.type)


def request_error(operation, exc):
    """The TransportError of a request that cannot be built for ``operation``: it names the
    element or argument the WSDL does not accept, and is never retried (nothing was sent)."""
    text = str(exc)
    found = _UNEXPECTED.match(text)
    if found:
        accepted = found["signature"] or "-"
        detail = (f"{found['type']} does not accept the element or argument {found['arg']!r} "
                  f"(it accepts: {accepted})")
    else:
        detail = f"{type(exc).__name__}: {text[:300]}"
    return TransportError(
        f"The request for the SOAP operation {operation} cannot be built: {detail}. "
        "Check the flow's outbound mapping against the operation's WSDL signature.",
        category="request", transient=False, detail=text[:1000],
    )


def _fault_is_transient(code):
    local = (code or "").split(":")[-1]
    return local.startswith(("Server", "Receiver"))


class SoapClient:
    def __init__(self, wsdl_url, *, auth=None, connect_timeout=5.0, read_timeout=30.0, verify=True,
                 cert=None, headers=None, breaker=None, cache_dir=None):
        self.wsdl_url = wsdl_url
        self.auth = auth or Auth()
        self.breaker = breaker
        self.read_timeout = read_timeout
        session = requests.Session()
        session.verify = verify
        session.cert = cert
        session.headers.update(headers or {})
        session.auth = self.auth.http_auth()
        cache = None
        if cache_dir:
            os.makedirs(cache_dir, exist_ok=True)
            cache = SqliteCache(path=os.path.join(cache_dir, "wsdl-cache.sqlite"), timeout=3600)
        transport = Transport(
            session=session,
            cache=cache,
            timeout=(connect_timeout, read_timeout),
            operation_timeout=(connect_timeout, read_timeout),
        )
        settings = zeep.Settings(
            strict=False,
            xml_huge_tree=False,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        self._lock = threading.Lock()
        self.client = self._guard(
            lambda: self._load(wsdl_url, transport, settings), wsdl=True,
        )

    def _load(self, wsdl_url, transport, settings):
        client = zeep.Client(wsdl_url, transport=transport, settings=settings, wsse=self.auth.wsse())
        if not client.wsdl.services:
            raise ValueError("the document defines no SOAP service (is it a WSDL?)")
        return client

    def operations(self):
        """Names of the operations the WSDL offers (all services and ports)."""
        names = set()
        for service in self.client.wsdl.services.values():
            for port in service.ports.values():
                names.update(port.binding._operations)
        return sorted(names)

    def _check_address(self):
        """Refuse to call a service address outside the WSDL's origin: the call carries the
        backend's credentials (HTTP authentication, WS-Security) to whatever host the WSDL names."""
        address = (self.client.service._binding_options or {}).get("address") or ""
        allowed = origin(self.wsdl_url)
        if address and origin(address) != allowed:
            raise foreign_origin_error(address, allowed)

    def _operation(self, name):
        for service in self.client.wsdl.services.values():
            for port in service.ports.values():
                if name in port.binding._operations:
                    return port.binding._operations[name]
        return None

    def describe_operation(self, name):
        """The input and output element trees of operation ``name``, as plain data.

        ``{"operation", "input": [node], "output": [node]}``, a node being ``{"name", "path",
        "type", "required", "repeats", "children"}``. Input paths are those an outbound mapping
        targets (the operation's parameters first: ``PurchaseDocument.Lines.Line``); output paths
        are those of the answer as :meth:`call` returns it (zeep unwraps a response element
        holding one child, so ``PlaceOrderResult.Status`` is read as ``Status``).
        """
        found = self._operation(name)
        if found is None:
            raise TransportError(
                f"The WSDL has no operation {name!r} (operations: {', '.join(self.operations()) or '-'}).",
                category="configuration", transient=False,
            )

        def nodes(xsd_type, prefix, depth, seen):
            result = []
            if depth > 8:
                return result
            for child_name, element in _children(xsd_type).items():
                path = f"{prefix}.{child_name}" if prefix else child_name
                child_type = element.type
                type_name = getattr(getattr(child_type, "qname", None), "localname", None) or type(child_type).__name__
                key = id(child_type)
                result.append({
                    "name": child_name, "path": path, "type": type_name,
                    "required": (element.min_occurs or 0) > 0,
                    "repeats": _repeats(element),
                    # A type met again further down (a recursive schema) is not unfolded twice.
                    "children": nodes(child_type, path, depth + 1, seen | {key}) if key not in seen else [],
                })
            return result

        def body_type(message):
            body = message.body if message is not None else None
            return body.type if body is not None else None

        output_type = body_type(found.output)
        # The answer as call() returns it: a response element holding exactly one element (and
        # no attribute) is unwrapped to that element's content, as zeep's deserialize does.
        children = _children(output_type) if output_type is not None else {}
        if len(children) == 1 and not getattr(output_type, "attributes", None):
            [child] = children.values()
            if _children(child.type):
                output_type = child.type
        input_type = body_type(found.input)
        return {
            "operation": name,
            "input": nodes(input_type, "", 0, set()) if input_type is not None else [],
            "output": nodes(output_type, "", 0, set()) if output_type is not None else [],
        }

    def bind_arguments(self, operation, payload):
        """Keyword arguments of ``operation`` for a document, fitted to its WSDL signature.

        The document's keys are the operation's parameters; a document naming none of the
        parameters of an operation that takes one (document/literal wrapped: one element holds
        the whole document) is that parameter. Lists given for wrapper elements whose only
        child repeats (``Lines`` holding ``Line``) fill that child.
        """
        found = self._operation(operation)
        body = found.input.body if found is not None and found.input is not None else None
        params = _children(body.type) if body is not None else {}
        if not params or not isinstance(payload, dict):
            return payload
        if len(params) == 1 and not set(payload) & set(params):
            payload = {next(iter(params)): payload}
        return {key: _fit(value, params[key]) if key in params else value for key, value in payload.items()}

    def call(self, operation, *args, correlation_id=None, **kwargs):
        """Call ``operation``; return its answer as plain Python (dicts, lists, values).

        The request is built once before anything is sent: arguments the operation does not
        accept are a ``request`` error naming them, not a failure of the answer.
        """
        correlation_id = correlation_id or uuid.uuid4().hex
        if operation not in self.operations():
            raise TransportError(
                f"The WSDL has no operation {operation!r}.", category="configuration", transient=False
            )
        self._check_address()
        kwargs = self.bind_arguments(operation, kwargs)
        try:
            self.client.create_message(self.client.service, operation, *args, **kwargs)
        except (TypeError, ValueError, AttributeError, KeyError, ZeepValidationError) as exc:
            raise request_error(operation, exc) from exc
        started = time.monotonic()

        def invoke():
            with self.client.settings(extra_http_headers={"X-Correlation-ID": correlation_id}):
                return getattr(self.client.service, operation)(*args, **kwargs)

        result = self._guard(invoke)
        return SoapResult(serialize_object(result, dict), (time.monotonic() - started) * 1000, correlation_id)

    def _guard(self, func, wsdl=False):
        """Run func with the breaker, turning every failure into a classified TransportError."""
        if self.breaker:
            self.breaker.before_call()
        try:
            result = func()
        except Fault as exc:
            code = str(exc.code or "")
            error = TransportError(
                f"SOAP fault {code}: {exc.message}", category="soap_fault",
                transient=_fault_is_transient(code), fault_code=code, fault_string=str(exc.message),
            )
        except (DTDForbidden, EntitiesForbidden) as exc:
            error = TransportError(
                f"Refused XML from {self.wsdl_url}: it declares a DTD or entities ({type(exc).__name__}).",
                category="security", transient=False,
            )
        except ZeepTransportError as exc:
            error = http_error(exc.status_code or 500, self.wsdl_url, str(exc.content or exc.message)[:200])
        except XMLSyntaxError as exc:
            error = TransportError(
                f"The WSDL could not be parsed: {str(exc)[:200]}" if wsdl
                else f"The SOAP answer is not well-formed XML: {str(exc)[:200]}",
                category="invalid_response", transient=False,
            )
        except requests.RequestException as exc:
            error = classify_exception(exc, url=self.wsdl_url, read_timeout=self.read_timeout)
        except (ZeepError, ValueError, AttributeError, KeyError, TypeError) as exc:
            error = TransportError(
                f"The WSDL could not be parsed: {type(exc).__name__}: {str(exc)[:200]}" if wsdl
                else f"The SOAP answer could not be read: {type(exc).__name__}: {str(exc)[:200]}",
                category="invalid_response", transient=False,
            )
        else:
            if self.breaker:
                self.breaker.record_success()
            return result
        if self.breaker:
            self.breaker.record_failure(error)
        raise error

    # --- the transport interface -------------------------------------------------------------------
    def send(self, request):
        """Call the operation of one :class:`~.base.Request` with its body as the arguments,
        fitted to the operation's WSDL signature; a body the operation cannot take is a
        ``request`` error naming what it refused (nothing is sent)."""
        operation = request.operation
        if not operation:
            raise TransportError(
                "No SOAP operation to call: set the flow's operation for this action (or its remote resource).",
                category="configuration", transient=False,
            )
        body = request.body if request.body is not None else {}
        if not isinstance(body, dict):
            raise TransportError(
                f"The request for the SOAP operation {operation} must be an object of its arguments, not "
                f"{type(body).__name__}. Check the flow's outbound mapping.", category="request", transient=False,
            )
        if request.only_operation_params:
            body = self._own_params(operation, body)
        answer = self.call(operation, correlation_id=request.correlation_id, **body)
        return Reply(answer.body, json.dumps(answer.body, default=str, ensure_ascii=False), answer.elapsed_ms,
                     answer.correlation_id)

    def _own_params(self, operation, body):
        """The part of ``body`` that ``operation`` declares as its parameters; a body naming none
        of them is left whole (a wrapped document, or a request error naming what is refused)."""
        found = self._operation(operation)
        message = found.input.body if found is not None and found.input is not None else None
        params = _children(message.type) if message is not None else {}
        own = {key: value for key, value in body.items() if key in params}
        return own if own else body

    def probe(self, health_path=None):
        """Load the WSDL (done by the client) and check its service address; return what it offers."""
        self._check_address()
        operations = self.operations()
        return f"WSDL loaded, {len(operations)} operations: {', '.join(operations)}"

    # --- paging -----------------------------------------------------------------------------------
    def fetch_page(self, resource, contract, checkpoint=None, *, correlation_id=None):
        """One page of a list: call the list operation ``resource`` with the paging arguments of
        the page ``contract`` (:mod:`.paging`) and read the records from its answer by path."""
        operations = self.operations()
        if resource not in operations:
            raise TransportError(
                f"The WSDL has no list operation {resource!r} to pull from: set the flow's remote "
                f"resource to the operation that lists the records (operations: {', '.join(operations)}).",
                category="configuration", transient=False,
            )
        page_request = contract.request(checkpoint)
        if contract.style == "link" or page_request.url:
            raise TransportError(
                "A SOAP list cannot be paged by following a next link: choose the paging style page, "
                "offset, cursor or none for this flow.", category="configuration", transient=False,
            )
        answer = self.call(resource, correlation_id=correlation_id, **page_request.params)
        page = contract.parse(answer.body, {}, checkpoint)
        # Stored as JSON messages: decimals and dates from the WSDL's types become their text.
        page.records = json.loads(json.dumps(page.records, default=str))
        page.correlation_id = answer.correlation_id
        return page
