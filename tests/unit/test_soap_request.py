"""A SOAP request built against the operation's WSDL signature (no Odoo): arguments fitted to it,
and a request the operation cannot take named as such, before anything is sent."""

import pytest

from hc_integration_base.transports.auth import build_auth
from hc_integration_base.transports.errors import TransportError
from hc_integration_base.transports.soap import SoapClient
from legacy_sim import start_simulators

ORDER = {"reference": "P00042", "vendor_code": "SUP-0001", "currency": "EUR", "order_date": "2026-01-02",
         "idempotency_key": "P00042:create:0", "action": "create",
         "lines": [{"line_ref": "7", "item_code": "ITM-000001", "quantity": 2.0, "uom_code": "Units",
                    "unit_price": 3.5}]}


def test_lists_fill_the_repeated_child_of_their_wrapper(gateway, client):
    gateway.reset()
    document = {"DocNo": "D-1", "SupplierCode": "V-100", "Lines": [{"ItemCode": "A", "Qty": 2, "UnitPrice": 1.5}]}
    answer = client.call("PlaceOrder", PurchaseDocument=document).body
    assert answer == {"Status": "ACCEPTED", "GatewayOrderNo": "GW-00001", "Reason": None}
    assert gateway.orders[0]["Lines"] == [{"ItemCode": "A", "Qty": 2.0, "UnitPrice": 1.5}]


def test_a_document_naming_no_parameter_fills_the_only_one(gateway, client):
    gateway.reset()
    answer = client.call("PlaceOrder", DocNo="D-2", SupplierCode="V-300", Lines=[]).body
    assert answer["Status"] == "NACK"
    assert "credit hold" in answer["Reason"]


def test_an_argument_the_operation_does_not_take_is_a_request_error(gateway, client):
    gateway.reset()
    with pytest.raises(TransportError) as raised:
        client.call("PlaceOrder", order=ORDER)
    error = raised.value
    assert (error.category, error.transient) == ("request", False)
    assert "request for the SOAP operation PlaceOrder cannot be built" in str(error)
    assert "does not accept the element or argument 'order'" in str(error)
    assert "DocNo" in str(error), "it says what the element accepts"
    assert gateway.state.calls == 0, "nothing was sent"


def test_a_nested_unknown_element_is_named(gateway, client):
    with pytest.raises(TransportError) as raised:
        client.call("PlaceOrder", PurchaseDocument={"DocNo": "D-3", "SupplierCode": "V-100", "Supplier": "x"})
    assert raised.value.category == "request"
    assert "PurchaseDocument does not accept the element or argument 'Supplier'" in str(raised.value)


def test_the_canonical_order_reaches_the_procurement_simulator_unwrapped():
    """The demo needs no mapping: the canonical document is the one parameter of
    SubmitPurchaseOrder, its lines fill OrderLine."""
    sims = start_simulators(items=5, suppliers=5)
    try:
        auth = build_auth({"type": "basic", "username": "odoo", "password": "odoo-secret"})
        client = SoapClient(sims.wsdl_url, auth=auth, connect_timeout=2, read_timeout=5)
        answer = client.call("SubmitPurchaseOrder", **ORDER).body
        assert (answer["status"], answer["remote_order_number"]) == ("accepted", "LPO-000001")
        [stored] = sims.state.orders
        assert stored["lines"] == [{"line_ref": "7", "item_code": "ITM-000001", "quantity": 2.0,
                                    "uom_code": "Units", "unit_price": 3.5}]
    finally:
        sims.stop()
