"""SOAP transport through zeep: WSDL loaded once per process (and cached on disk).

XML is parsed with DTDs, entities and external references forbidden, both for the WSDL and
for every answer.
"""

import json
import os
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
from zeep.helpers import serialize_object
from zeep.transports import Transport

from .auth import Auth
from .errors import TransportError, classify_exception, http_error

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

    def call(self, operation, *args, correlation_id=None, **kwargs):
        """Call ``operation``; return its answer as plain Python (dicts, lists, values)."""
        correlation_id = correlation_id or uuid.uuid4().hex
        if operation not in self.operations():
            raise TransportError(
                f"The WSDL has no operation {operation!r}.", category="configuration", transient=False
            )
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
