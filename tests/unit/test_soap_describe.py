"""The element trees of a SOAP operation, read from its WSDL (no Odoo): what the consultant sees
when choosing the operation of a push flow, and what drafts its mappings."""

import pytest

from hc_integration_base.transports.errors import TransportError
from hc_integration_base.transports.soap import SoapClient
from legacy_sim import start_simulators


def flat(nodes):
    for node in nodes:
        yield node
        yield from flat(node["children"])


def test_input_tree_names_the_parameters_and_their_elements(client):
    tree = client.describe_operation("PlaceOrder")
    paths = {node["path"]: node for node in flat(tree["input"])}
    assert list(paths) == [
        "PurchaseDocument", "PurchaseDocument.DocNo", "PurchaseDocument.SupplierCode", "PurchaseDocument.OrderDate",
        "PurchaseDocument.Lines", "PurchaseDocument.Lines.Line", "PurchaseDocument.Lines.Line.ItemCode",
        "PurchaseDocument.Lines.Line.Qty", "PurchaseDocument.Lines.Line.UnitPrice",
    ]
    assert paths["PurchaseDocument.DocNo"]["required"] is True
    assert paths["PurchaseDocument.OrderDate"]["required"] is False
    assert paths["PurchaseDocument.Lines.Line"]["repeats"] is True
    assert paths["PurchaseDocument.Lines"]["repeats"] is False
    assert paths["PurchaseDocument.Lines.Line.Qty"]["type"] == "decimal"


def test_output_tree_is_the_answer_as_the_call_returns_it(gateway, client):
    """zeep unwraps PlaceOrderResponse/PlaceOrderResult: the answer's keys are Status... and so
    are the output tree's paths, which a response mapping reads."""
    tree = client.describe_operation("PlaceOrder")
    assert [node["path"] for node in tree["output"]] == ["Status", "GatewayOrderNo", "Reason"]
    gateway.reset()
    answer = client.call("PlaceOrder", PurchaseDocument={"DocNo": "D-9", "SupplierCode": "V-100"}).body
    assert set(answer) == {node["path"] for node in tree["output"]}


def test_unknown_operation_is_a_configuration_error_naming_the_operations(client):
    with pytest.raises(TransportError) as raised:
        client.describe_operation("SubmitOrder")
    assert raised.value.category == "configuration"
    assert "no operation 'SubmitOrder'" in str(raised.value)
    assert "PlaceOrder" in str(raised.value)


def test_demo_gateway_operation_with_two_parameters():
    sims = start_simulators()
    try:
        client = SoapClient(sims.wsdl_url, connect_timeout=2, read_timeout=5)
        tree = client.describe_operation("CancelPurchaseOrder")
        assert [node["path"] for node in tree["input"]] == ["remote_order_number", "reason"]
        submit = client.describe_operation("SubmitPurchaseOrder")
        paths = [node["path"] for node in flat(submit["input"])]
        assert "order.reference" in paths and "order.lines" in paths
        assert "status" in [node["path"] for node in submit["output"]]
    finally:
        sims.stop()
