"""A second SOAP gateway, unlike the procurement simulator: other names, nesting and vocabulary.

Written to prove that a purchase-order push is configured, not programmed: nothing in the addons
knows this system. Namespace ``urn:acme:supply-gateway:2``, HTTP basic authentication
(``GATEWAY_USER`` / ``GATEWAY_PASSWORD``), WSDL at ``/gateway?wsdl``:

- ``PlaceOrder(PurchaseDocument{DocNo, SupplierCode, OrderDate, Lines{Line{ItemCode, Qty,
  UnitPrice}}})`` answers ``PlaceOrderResult{Status: ACCEPTED|NACK, GatewayOrderNo, Reason}``.
  Orders are stored by ``DocNo``: the same document number again gets the first answer and
  creates nothing (a retry after a timeout orders once). A supplier on credit hold is refused
  with ``NACK`` and a reason; an unknown supplier is a SOAP fault ``Client.UnknownSupplier``.
- ``hang_after_store`` (count) and ``hang_seconds``: the order is stored, then the answer hangs.

In tests: ``gateway = start_supply_gateway()``, ``gateway.wsdl_url``, ``gateway.orders``,
``gateway.reset()``, ``gateway.stop()``.
"""

import base64
import threading
import time

from spyne import Application, Array, ComplexModel, Decimal, Fault, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from . import _QuietWsgiHandler, _ThreadingWsgiServer

NS = "urn:acme:supply-gateway:2"
GATEWAY_USER = "acme-odoo"
GATEWAY_PASSWORD = "acme-gw-pass"  # noqa: S105 - a simulator's fixed test credential


class Line(ComplexModel):
    __namespace__ = NS
    ItemCode = Unicode(min_occurs=1)
    Qty = Decimal(min_occurs=1)
    UnitPrice = Decimal


class PurchaseDocument(ComplexModel):
    __namespace__ = NS
    DocNo = Unicode(min_occurs=1)
    SupplierCode = Unicode(min_occurs=1)
    OrderDate = Unicode
    Lines = Array(Line)


class PlaceOrderResult(ComplexModel):
    __namespace__ = NS
    Status = Unicode
    GatewayOrderNo = Unicode
    Reason = Unicode


class GatewayState:
    def __init__(self, suppliers=("V-100", "V-200", "V-300"), credit_hold=("V-300",)):
        self.lock = threading.Lock()
        self.suppliers = set(suppliers)
        self.credit_hold = set(credit_hold)
        self.reset()

    def reset(self):
        with self.lock:
            self.orders = {}  # DocNo -> stored order with its answer
            self.calls = 0
            self.hang_after_store = 0
            self.hang_seconds = 2.0


class SupplyGatewayService(ServiceBase):
    @rpc(PurchaseDocument, _in_variable_names={"document": "PurchaseDocument"}, _returns=PlaceOrderResult)
    def PlaceOrder(ctx, document):  # noqa: N802, N805 - SOAP operation name
        state = ctx.transport.req_env["acme.state"]
        if document is None or not document.DocNo:
            raise Fault(faultcode="Client.Validation", faultstring="A purchase document needs its DocNo")
        if document.SupplierCode not in state.suppliers:
            raise Fault(faultcode="Client.UnknownSupplier",
                        faultstring=f"Supplier {document.SupplierCode} is not registered with the gateway")
        with state.lock:
            state.calls += 1
            stored = state.orders.get(document.DocNo)
            if stored is None:
                if document.SupplierCode in state.credit_hold:
                    answer = {"Status": "NACK", "GatewayOrderNo": None,
                              "Reason": f"supplier {document.SupplierCode} is on credit hold"}
                else:
                    number = f"GW-{len(state.orders) + 1:05d}"
                    answer = {"Status": "ACCEPTED", "GatewayOrderNo": number, "Reason": None}
                stored = {
                    "DocNo": document.DocNo, "SupplierCode": document.SupplierCode,
                    "OrderDate": document.OrderDate,
                    "Lines": [{"ItemCode": ln.ItemCode, "Qty": float(ln.Qty),
                               "UnitPrice": float(ln.UnitPrice) if ln.UnitPrice is not None else None}
                              for ln in (document.Lines or [])],
                    "answer": answer,
                }
                state.orders[document.DocNo] = stored
            hang = state.hang_after_store > 0
            if hang:
                state.hang_after_store -= 1
        if hang:
            time.sleep(state.hang_seconds)
        return PlaceOrderResult(**stored["answer"])


def _authorized(environ):
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return (user, password) == (GATEWAY_USER, GATEWAY_PASSWORD)


def make_wsgi_app(state):
    spyne_app = WsgiApplication(
        Application([SupplyGatewayService], tns=NS, name="SupplyGateway",
                    in_protocol=Soap11(validator="lxml"), out_protocol=Soap11())
    )

    def app(environ, start_response):
        if not environ.get("PATH_INFO", "").startswith("/gateway"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        if environ["REQUEST_METHOD"] != "GET" and not _authorized(environ):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", 'Basic realm="gateway"')])
            return [b"authentication required"]
        environ["acme.state"] = state
        return spyne_app(environ, start_response)

    return app


class SupplyGateway:
    def __init__(self, host="127.0.0.1", port=0, **state_options):
        self.host = host
        self.state = GatewayState(**state_options)
        self._server = _ThreadingWsgiServer((host, port), _QuietWsgiHandler)
        self._server.set_app(make_wsgi_app(self.state))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="supply-gateway", daemon=True)
        self._thread.start()

    @property
    def wsdl_url(self):
        return f"http://{self.host}:{self.port}/gateway?wsdl"

    @property
    def orders(self):
        with self.state.lock:
            return list(self.state.orders.values())

    def reset(self):
        self.state.reset()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._server.cut_connections()
        self._thread.join(5)


def start_supply_gateway(host="127.0.0.1", port=0, **state_options):
    """Start the gateway in a background thread; port 0 picks a free one."""
    return SupplyGateway(host, port, **state_options)
