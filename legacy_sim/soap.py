"""The SOAP procurement gateway: a real WSDL and SOAP 1.1 stack (spyne), WS-Security checked."""

import base64
import hashlib
import io
import time

from lxml import etree
from spyne import Application, Array, ComplexModel, Decimal, Fault, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from . import credentials

NS = "urn:hc:legacy:procurement"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


class OrderLine(ComplexModel):
    __namespace__ = NS
    line_ref = Unicode
    item_code = Unicode
    quantity = Decimal
    uom_code = Unicode
    unit_price = Decimal


class PurchaseOrder(ComplexModel):
    __namespace__ = NS
    reference = Unicode
    vendor_code = Unicode
    currency = Unicode
    order_date = Unicode
    idempotency_key = Unicode
    action = Unicode
    remote_order_number = Unicode
    lines = Array(OrderLine)


class Acknowledgement(ComplexModel):
    __namespace__ = NS
    status = Unicode
    remote_order_number = Unicode
    reason = Unicode
    idempotency_key = Unicode


def _state(ctx):
    return ctx.transport.req_env["hc.state"]


def _plain(order):
    lines = [
        {k: (float(v) if k in ("quantity", "unit_price") and v is not None else v)
         for k, v in (("line_ref", ln.line_ref), ("item_code", ln.item_code), ("quantity", ln.quantity),
                      ("uom_code", ln.uom_code), ("unit_price", ln.unit_price))}
        for ln in (order.lines or [])
    ]
    return {"reference": order.reference, "vendor_code": order.vendor_code, "currency": order.currency,
            "order_date": order.order_date, "action": order.action or "create", "lines": lines}


class ProcurementGateway(ServiceBase):
    @rpc(_returns=Unicode)
    def Ping(ctx):  # noqa: N802, N805 - SOAP operation names
        return "pong"

    @rpc(PurchaseOrder, _returns=Acknowledgement)
    def SubmitPurchaseOrder(ctx, order):  # noqa: N802, N805
        if order is None or not order.reference:
            raise Fault(faultcode="Client.Validation", faultstring="The order needs a reference.")
        state = _state(ctx)
        faults = state.faults["soap"]
        hang = state.roll("soap", faults.timeout_after_store_rate)
        vendors = {f"SUP-{i + 1:04d}" for i in range(state.suppliers)}
        _status, answer = state.submit_order(
            _plain(order), order.idempotency_key, ctx.transport.req_env.get("HTTP_X_CORRELATION_ID"), vendors,
            before_answer=(lambda: time.sleep(faults.hang_seconds)) if hang else None,
        )
        if answer.get("status") == "conflict":
            raise Fault(faultcode="Client.Conflict", faultstring=answer["reason"])
        return Acknowledgement(**answer)

    @rpc(Unicode, Unicode, _returns=Acknowledgement)
    def CancelPurchaseOrder(ctx, remote_order_number, reason):  # noqa: N802, N805
        state = _state(ctx)
        order = state.find_order(remote_order_number)
        if not order:
            raise Fault(faultcode="Client.UnknownOrder", faultstring=f"Unknown order {remote_order_number}.")
        with state.lock:
            order["status"] = "cancelled"
            order["cancel_reason"] = reason
        return Acknowledgement(status="cancelled", remote_order_number=remote_order_number, reason=reason)

    @rpc(Unicode, _returns=Acknowledgement)
    def GetOrderStatus(ctx, remote_order_number):  # noqa: N802, N805
        order = _state(ctx).find_order(remote_order_number)
        if not order:
            raise Fault(faultcode="Client.UnknownOrder", faultstring=f"Unknown order {remote_order_number}.")
        return Acknowledgement(status=order["status"], remote_order_number=remote_order_number,
                               idempotency_key=order.get("idempotency_key"))


def _fault_response(code, text, status="500 Internal Server Error"):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap11env:Envelope xmlns:soap11env="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soap11env:Body><soap11env:Fault><faultcode>soap11env:{code}</faultcode>"
        f"<faultstring>{text}</faultstring></soap11env:Fault></soap11env:Body></soap11env:Envelope>"
    ).encode()
    return status, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))], body


def _wsse_ok(body):
    """Validate a WS-Security UsernameToken (PasswordText or PasswordDigest) in the envelope."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return False
    token = root.find(f".//{{{WSSE_NS}}}UsernameToken")
    if token is None:
        return False
    user = token.findtext(f"{{{WSSE_NS}}}Username")
    password = token.find(f"{{{WSSE_NS}}}Password")
    if user != credentials.WSSE_USER or password is None:
        return False
    if (password.get("Type") or "").endswith("#PasswordDigest"):
        nonce = base64.b64decode(token.findtext(f"{{{WSSE_NS}}}Nonce") or "")
        created = token.findtext(f"{{{WSU_NS}}}Created") or ""
        expected = base64.b64encode(
            hashlib.sha1(nonce + created.encode() + credentials.WSSE_PASSWORD.encode()).digest()
        ).decode()
        return password.text == expected
    return password.text == credentials.WSSE_PASSWORD


def _basic_ok(environ):
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return (user, password) == (credentials.BASIC_USER, credentials.BASIC_PASSWORD)


HOSTILE = {
    "/hostile/xxe.wsdl": (
        '<?xml version="1.0"?><!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" name="&xxe;" '
        'targetNamespace="urn:hostile"><documentation>&xxe;</documentation></definitions>'
    ),
    "/hostile/billion-laughs.wsdl": (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" targetNamespace="urn:hostile">'
        "<documentation>&lol4;</documentation></definitions>"
    ),
    "/hostile/not-a-wsdl": "<html><body><h1>Welcome to the intranet</h1><p>Login<br></p></body></html>",
}


def make_wsgi_app(state):
    spyne_app = WsgiApplication(
        Application([ProcurementGateway], tns=NS, name="ProcurementGateway",
                    in_protocol=Soap11(validator="lxml"), out_protocol=Soap11())
    )

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in HOSTILE:
            body = HOSTILE[path].encode()
            kind = "text/html" if path.endswith("not-a-wsdl") else "text/xml"
            start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
            return [body]
        if not path.startswith("/procurement"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        environ["hc.state"] = state
        if environ["REQUEST_METHOD"] == "GET":  # the WSDL: no auth, no faults
            return spyne_app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        state.log("POST", path, environ.get("HTTP_X_CORRELATION_ID"), None)
        faults = state.faults["soap"]
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if b"<!DOCTYPE" in body.upper():
            status, headers, out = _fault_response("Client.Security", "DOCTYPE is not allowed")
        elif not (_basic_ok(environ) or _wsse_ok(body)):
            status, headers, out = _fault_response("Client.Authentication", "Missing or invalid credentials")
        else:
            if state.roll("soap", faults.timeout_rate):
                time.sleep(faults.hang_seconds)
            if state.roll("soap", faults.error_rate) or state.roll("soap", faults.soap_fault_rate):
                status, headers, out = _fault_response("Server.Unavailable", "Injected server fault")
            elif state.roll("soap", faults.malformed_rate):
                out = b"<soap11env:Envelope><broken"
                status, headers = "200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(out)))]
            else:
                environ["wsgi.input"] = io.BytesIO(body)
                return spyne_app(environ, start_response)
        start_response(status, headers)
        return [out]

    return app
