"""The transport interface (no Odoo): REST and SOAP both ``send`` a Request and ``probe``, so a
backend never branches on its protocol; XML bodies over REST."""

import pytest
from lxml import etree

from hc_integration_base.transports.auth import build_auth
from hc_integration_base.transports.base import Request
from hc_integration_base.transports.errors import TransportError
from hc_integration_base.transports.rest import RestClient
from hc_integration_base.transports.soap import SoapClient
from hc_integration_base.transports.xmlbody import XmlBodyError, to_data, to_xml

ORDER = {"reference": "P00077", "vendor_code": "SUP-0001", "currency": "EUR", "order_date": "2026-01-02",
         "idempotency_key": "P00077:create:0", "action": "create",
         "lines": [{"line_ref": "7", "item_code": "ITM-000001", "quantity": 2.0, "uom_code": "Units",
                    "unit_price": 3.5}]}


def rest(sims):
    return RestClient(sims.rest_url, auth=build_auth({"type": "api_key", "key": "sim-api-key"}),
                      connect_timeout=2, read_timeout=5)


def soap(sims):
    auth = build_auth({"type": "basic", "username": "odoo", "password": "odoo-secret"})
    return SoapClient(sims.wsdl_url, auth=auth, connect_timeout=2, read_timeout=5)


def test_rest_send_posts_with_idempotency_key_and_correlation_id(sims):
    request = Request(body=ORDER, method="POST", path="/api/v1/purchase-orders", correlation_id="corr-77",
                      idempotency_key="P00077:create:0")
    reply = rest(sims).send(request)
    again = rest(sims).send(request)
    assert reply.body["status"] == "accepted" and reply.correlation_id == "corr-77"
    assert again.body["remote_order_number"] == reply.body["remote_order_number"], "the key made it once"
    assert [o["reference"] for o in sims.state.orders].count("P00077") == 1


def test_soap_send_calls_the_operation_and_classifies_a_bad_request(sims):
    client = soap(sims)
    reply = client.send(Request(body=dict(ORDER, reference="P00078"), operation="SubmitPurchaseOrder",
                                correlation_id="corr-78"))
    assert (reply.body["status"], reply.correlation_id) == ("accepted", "corr-78")
    number = reply.body["remote_order_number"]
    cancel = {"order": ORDER, "remote_order_number": number, "reason": "no longer needed"}
    reply = client.send(Request(body=cancel, operation="CancelPurchaseOrder", only_operation_params=True))
    assert reply.body["status"] == "cancelled", "the cancel operation took only its own parameters"
    with pytest.raises(TransportError) as raised:
        client.send(Request(body={"remote_order_number": number, "colour": "red"}, operation="CancelPurchaseOrder"))
    assert raised.value.category == "request" and "'colour'" in str(raised.value)
    with pytest.raises(TransportError) as raised:
        client.send(Request(body=ORDER))
    assert raised.value.category == "configuration"


def test_probe_on_both_transports(sims):
    assert rest(sims).probe("/api/v1/health") == "/api/v1/health answered (HTTP 200)"
    detail = soap(sims).probe()
    assert detail.startswith("WSDL loaded") and "SubmitPurchaseOrder" in detail


def test_xml_bodies_written_and_read():
    xml = to_xml({"Order": {"@number": "PO-7", "Ref": "A&B", "Line": [{"Qty": 2}, {"Qty": 3}], "Urgent": True}})
    root = etree.fromstring(xml)
    assert root.tag == "Order" and root.get("number") == "PO-7" and root.findtext("Ref") == "A&B"
    assert [line.findtext("Qty") for line in root.findall("Line")] == ["2", "3"]
    assert root.findtext("Urgent") == "true"
    assert etree.fromstring(to_xml({"a": 1, "b": 2}, root="request")).tag == "request"
    assert to_data(root) == {"@number": "PO-7", "Ref": "A&B", "Line": [{"Qty": "2"}, {"Qty": "3"}], "Urgent": "true"}
    with pytest.raises(XmlBodyError, match="'bad key'"):
        to_xml({"bad key": 1})
