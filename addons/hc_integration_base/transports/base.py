"""The transport interface every protocol implements: ``send``, ``fetch_page`` and ``probe``.

A backend hands a transport one :class:`Request` (built from the flow's configuration) and
reads one :class:`Reply`; which protocol carries it is the transport's business, so no model
branches on the protocol. REST reads ``method``, ``path``, ``query`` and ``payload_format``;
``headers``; SOAP reads ``operation``; both send ``body`` and carry the correlation id and the
idempotency key of the message.
"""

from dataclasses import dataclass, field


@dataclass
class Request:
    body: object = None
    method: str = "POST"
    path: str = ""
    query: dict = field(default_factory=dict)
    operation: str = ""
    # "json" or "xml": how the body is written and the answer read (REST).
    payload_format: str = "json"
    # The root element of an XML body built from a dict (REST, payload_format "xml").
    xml_root: str = "request"
    correlation_id: str = None
    idempotency_key: str = None
    # REST: headers of this one request (the flow's header templates filled for the document), e.g.
    # a conditional update's If-Match; the backend's default headers and its authentication stay apart.
    headers: dict = field(default_factory=dict)
    # SOAP: take from the body only the operation's own parameters (flows calling one operation
    # per action build one request that serves every action's operation).
    only_operation_params: bool = False


@dataclass
class Reply:
    body: object
    raw_text: str
    elapsed_ms: float
    correlation_id: str
    status: int = None
    # REST: the answer's headers (e.g. the new ETag of an updated resource).
    headers: dict = field(default_factory=dict)
