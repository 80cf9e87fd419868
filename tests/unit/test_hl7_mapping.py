"""The mapping engine's ``hl7v2`` payload format: HL7 paths as sources, one record per repeating group."""

import pytest

from hc_integration_base.mapping import CompileError, compile_mapping
from hc_integration_base.payload import hl7v2
from legacy_sim import hl7_peer


def lines(*specs):
    return [{"sequence": n, "source": source, "target": target, **extra}
            for n, (source, target, extra) in enumerate(specs, 1)]


def test_item_records_of_an_mfn_m16_map_to_item_values():
    message = hl7v2.parse(hl7_peer.mfn_m16("CTRL-7"))
    items = hl7v2.records(message, "MFE")
    assert len(items) == 2, "one record per MFE group"
    run = compile_mapping(lines(
        ("ITM-1", "default_code", {"required": True}),
        ("ITM-2", "name", {}),
        ("VND-2", "hc_vendor_code", {}),
        ("PKG-5.1", "hc_vendor_price", {"transform": "number"}),
        ("IVT[*]-2", "locations", {}),
        ("MSH-10", "control", {}),
    ), payload_format="hl7v2")
    first, second = (run(item) for item in items)
    assert not first.errors and not second.errors, (first.errors, second.errors)
    assert first.values == {"default_code": "GZ-1010", "name": "Gauze swab 10&10 cm", "hc_vendor_code": "V-MEDLINE",
                            "hc_vendor_price": 12.5, "locations": ["CS-MAIN", "WARD-3"], "control": "CTRL-7"}
    assert (second.values["default_code"], second.values["locations"]) == ("SY-0005", ["CS-MAIN"]), \
        "a record reads its own group only"


def test_vendor_records_and_the_whole_message_as_one_record():
    message = hl7v2.parse(hl7_peer.mfn_m16())
    vendors = [hl7v2.getter("VND-2")(record) for record in hl7v2.records(message, "VND")]
    assert vendors == ["V-MEDLINE", "V-BD"]
    assert hl7v2.records(message, None) == [message]
    assert hl7v2.records(message, "ZZZ") == []


def test_text_is_parsed_and_missing_required_values_are_line_errors():
    run = compile_mapping(lines(("ITM-9", "default_code", {"required": True}), ("MSH-9.2", "event", {})),
                          payload_format="hl7v2")
    result = run(hl7_peer.mfn_m16())
    assert result.values == {"event": "M16"}
    assert [e.code for e in result.errors] == ["required_missing"] and "ITM-9" in result.error_text()


def test_one2many_over_repeating_segments():
    run = compile_mapping(lines(("RQD[*]", "lines", {"transform": "one2many", "params": {"lines": [
        {"source": "RQD-2.1", "target": "item_code"},
        {"source": "RQD-5", "target": "quantity", "transform": "number"},
    ]}}), ("RQD-7", "department_code", {})), payload_format="hl7v2")
    result = run(hl7_peer.oms_o05("OMS-1"))
    assert not result.errors, result.errors
    assert result.values == {"department_code": "CC-ICU", "lines": [
        {"item_code": "GZ-1010", "quantity": 20.0}, {"item_code": "SY-0005", "quantity": 2.0}]}


def test_an_invalid_hl7_path_does_not_compile():
    with pytest.raises(CompileError, match="ITM-0"):
        compile_mapping(lines(("ITM-0", "name", {})), payload_format="hl7v2")
    with pytest.raises(CompileError, match="line"):
        compile_mapping(lines(("not a path", "name", {})), payload_format="hl7v2")


def test_content_hash_ignores_msh7_only():
    text = hl7_peer.mfn_m16("CTRL-1")
    restamped = text.replace(text.split("|")[6], "19990101000000", 1)
    assert restamped != text
    assert hl7v2.content_hash(text) == hl7v2.content_hash(restamped) == hl7v2.content_hash(text.replace("\r", "\n"))
    assert hl7v2.content_hash(text) != hl7v2.content_hash(text.replace("GZ-1010", "GZ-1011"))


def test_an_hl7_refusal_is_a_remote_business_error():
    from hc_integration_base.lifecycle import classify
    from hc_integration_base.transports.errors import TransportError

    for category in ("hl7_error", "hl7_reject"):
        decision = classify(TransportError("MMIS refused message 1: unknown item", category=category, transient=False),
                            1, 3)
        assert (decision.state, decision.category) == ("exception", "remote")
        assert "unknown item" in decision.reason


def test_mllp_transport_builds_the_message_from_a_mapped_request_and_reads_the_ack():
    from hc_integration_base.transports.base import Request
    from hc_integration_base.transports.errors import TransportError
    from hc_integration_base.transports.mllp import MllpTransport

    peer = hl7_peer.Hl7Peer()
    try:
        transport = MllpTransport("127.0.0.1", peer.port, connect_timeout=2, read_timeout=2)
        assert "accepts MLLP connections" in transport.probe()
        reply = transport.send(Request(body={"ITM": {}, "ITM-1": "GZ-1010", "ITM-2": {"1": "Gauze"}},
                                       operation="MFN^M16", idempotency_key="PUSH-1", correlation_id="c1"))
        assert reply.body["status"] == "accepted" and reply.body["control_id"] == "PUSH-1"
        sent = hl7v2.parse(peer.received[-1])
        assert (sent.message_type, sent.control_id, sent.get("ITM-1"), sent.get("ITM-2.1")) == (
            "MFN^M16", "PUSH-1", "GZ-1010", "Gauze")
        peer.set_faults(ack="AE", ack_text="unknown item")
        with pytest.raises(TransportError) as refused:
            transport.send(Request(body={"ITM-1": "X"}, operation="MFN^M16", idempotency_key="PUSH-2"))
        assert (refused.value.transient, refused.value.category) == (False, "hl7_error")
        assert "unknown item" in str(refused.value)
    finally:
        peer.stop()


# --- outbound: HL7 paths as targets ---------------------------------------------------------------
STATUS = {"reference": "REQ-9", "status": "ordered", "order": "P00042", "remote_version": "OMS-9",
          "lines": [{"item_code": "GZ-1010", "quantity": 20.0}, {"item_code": "SY-0005", "quantity": 2}]}


def order_response(**group_params):
    return compile_mapping([
        {"sequence": 1, "target": "MSA-1", "transform": "constant", "params": {"value": "AA"}},
        {"sequence": 2, "source": "remote_version", "target": "MSA-2", "required": True},
        {"sequence": 3, "source": "lines", "target": "ORC[*]", "transform": "one2many", "params": {
            "parent_key": "requisition", **group_params, "lines": [
                {"source": "requisition.status", "target": "ORC-5"},
                {"source": "requisition.reference", "target": "ORC-4", "required": True},
                {"source": "item_code", "target": "RQD-2.1"},
                {"source": "quantity", "target": "RQD-5"},
            ]}},
    ], direction="outbound", payload_format="hl7v2")


def test_an_outbound_hl7_mapping_builds_one_group_of_segments_per_item():
    result = order_response()(STATUS)
    assert not result.errors, result.errors
    assert result.values["MSA-2"] == "OMS-9" and result.values["ORC[1]-4"] == "REQ-9"
    message = hl7v2.build_message(result.values, message_type="ORS^O06")
    assert [s.id for s in message.segments] == ["MSH", "MSA", "ORC", "RQD", "ORC", "RQD"], "ORC RQD per item"
    again = hl7v2.parse(message.to_er7())
    assert again.message_type == "ORS^O06"
    assert again.get("ORC[*]-5") == ["ordered", "ordered"], "the parent's status in every group"
    assert again.get("ORC[*]-4") == ["REQ-9", "REQ-9"]
    assert again.get("RQD[*]-2.1") == ["GZ-1010", "SY-0005"]
    assert again.get("RQD[1]-5") == "2"


def test_an_outbound_hl7_mapping_names_what_it_cannot_build():
    result = order_response()({**STATUS, "remote_version": None, "reference": ""})
    assert {e.path for e in result.errors} >= {"remote_version", "lines"}, result.errors
    with pytest.raises(CompileError, match="ORC-1x"):
        compile_mapping([{"source": "status", "target": "ORC-1x"}], direction="outbound", payload_format="hl7v2")
    with pytest.raises(CompileError, match=r"\[\*\]"):
        compile_mapping([{"source": "lines", "target": "ORC-1", "transform": "one2many",
                          "params": {"lines": [{"source": "item_code", "target": "RQD-2"}]}}],
                        direction="outbound", payload_format="hl7v2")
    with pytest.raises(CompileError, match="segment index"):
        compile_mapping([{"source": "lines", "target": "ORC[*]", "transform": "one2many",
                          "params": {"lines": [{"source": "item_code", "target": "RQD[0]-2"}]}}],
                        direction="outbound", payload_format="hl7v2")


def test_format_path_writes_what_parse_path_reads():
    for text in ("ORC", "ORC[2]", "RQD-2", "RQD[1]-2.1", "PID-3[0].1.2", "IVT[*]-3"):
        assert hl7v2.format_path(hl7v2.parse_path(text)) == text
    assert hl7v2.format_path(hl7v2.parse_path("RQD-2.1"), segment_index=3) == "RQD[3]-2.1"
