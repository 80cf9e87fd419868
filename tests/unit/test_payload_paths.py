"""The one path grammar (mapping/paths.py) and the redaction, external-ID and idempotency-key
paths that read through it; no database."""

import json

import pytest
from lxml import etree

from hc_integration_base.mapping import CompileError, compile_mapping
from hc_integration_base.mapping.paths import (
    MISSING,
    WILDCARD,
    PathError,
    json_getter,
    json_locations,
    json_value,
    parse_path,
    xml_getter,
    xml_xpath,
)
from hc_integration_base.payload.inbound import json_path_value
from hc_integration_base.payload.redact import MASK, redact_json, redact_text, redact_xml

PATIENT = {
    "patient": {"national-id": "750101-1234", "name": "Ada Lovelace", "mrn": "M-1"},
    "lines": [
        {"item": "GLOVE", "note": "HIV+ ward", "sub": [{"note": "deep one"}, {"note": "deep two"}]},
        {"item": "MASK", "note": "private"},
        {"item": "SYRINGE"},
    ],
    "odata.count": 3,
    "*": "a key named star",
}


# --- the grammar -----------------------------------------------------------------------------
def test_parse_every_form():
    assert parse_path("patient.name") == ["patient", "name"]
    assert parse_path("$.patient.name") == ["patient", "name"]
    assert parse_path("patient['national-id']") == ["patient", "national-id"]
    assert parse_path('patient["national-id"].x') == ["patient", "national-id", "x"]
    assert parse_path("lines[0].note") == ["lines", 0, "note"]
    assert parse_path("lines[-1]") == ["lines", -1]
    assert parse_path("$['odata.count']") == ["odata.count"]
    assert parse_path("") == [] and parse_path("$") == []
    steps = parse_path("lines[*].note")
    assert steps == ["lines", "*", "note"] and steps[1] is WILDCARD
    assert parse_path("['*']")[0] is not WILDCARD, "a quoted star is a key, not the wildcard"


@pytest.mark.parametrize("path", ["a..b", "a[x]", "a[0", "a]", "a[0]b", "a.", "$."])
def test_unreadable_paths_are_errors_naming_the_path(path):
    with pytest.raises(PathError, match="Invalid path"):
        parse_path(path)


def test_getter_and_locations_agree():
    assert json_value(PATIENT, "patient['national-id']") == "750101-1234"
    assert json_value(PATIENT, "lines[*].note") == ["HIV+ ward", "private"]
    assert json_value(PATIENT, "lines[*].sub[*].note") == [["deep one", "deep two"]]
    assert json_value(PATIENT, "$['odata.count']") == 3
    assert json_value(PATIENT, "['*']") == "a key named star"
    assert json_value(PATIENT, "lines[7].note") is None
    assert json_getter("patient.missing")(PATIENT) is MISSING
    places = json_locations(PATIENT, "lines[*].note")
    assert [container[key] for container, key in places] == ["HIV+ ward", "private"]


def test_external_id_and_idempotency_paths_read_the_same_grammar():
    """json_path_value (external-ID and idempotency-key paths of the inbound API) reads quoted keys:
    with its own grammar it used to look up the key "'national-id'", quotes included."""
    assert json_path_value(PATIENT, "patient['national-id']") == "750101-1234"
    assert json_path_value(PATIENT, "$.lines[-1].item") == "SYRINGE"
    assert json_path_value({"event": {"id": 7}}, "event.id") == 7
    assert json_path_value(PATIENT, "nothing.here") is None


def test_mapping_engine_reads_the_grammar_and_refuses_bad_paths_at_compile():
    run = compile_mapping([{"ref": "nid", "source": "patient['national-id']", "target": "ref"}])
    assert run(PATIENT).values == {"ref": "750101-1234"}
    with pytest.raises(CompileError, match="line broken"):
        compile_mapping([{"ref": "broken", "source": "patient..name", "target": "x"}])
    with pytest.raises(CompileError, match="line target"):
        compile_mapping([{"ref": "target", "source": "a", "target": "lines[0].x"}], direction="outbound")


# --- redaction, JSON -------------------------------------------------------------------------
def test_redacts_a_bracket_quoted_key_with_a_dash():
    redacted = redact_json(PATIENT, ["patient['national-id']"])
    assert redacted["patient"] == {"national-id": MASK, "name": "Ada Lovelace", "mrn": "M-1"}
    assert PATIENT["patient"]["national-id"] == "750101-1234", "the input is not modified"


def test_redacts_nested_lists():
    redacted = redact_json(PATIENT, ["lines[*].note", "lines[*].sub[*].note", "$['odata.count']"])
    assert [line.get("note") for line in redacted["lines"]] == [MASK, MASK, None]
    assert "note" not in redacted["lines"][2], "a path that matches nothing adds nothing"
    assert redacted["lines"][0]["sub"] == [{"note": MASK}, {"note": MASK}]
    assert redacted["odata.count"] == MASK
    assert redacted["lines"][0]["item"] == "GLOVE"


def test_redacted_text_keeps_unmatched_payloads_as_they_are():
    text = '{"a":  1}'
    assert redact_text(text, ["b"]) == text
    assert json.loads(redact_text(text, ["a"])) == {"a": MASK}
    assert redact_text("<html><body>Bad gateway", ["a"]) == "<html><body>Bad gateway"
    assert redact_text("not json", ["a"]) == "not json"
    with pytest.raises(PathError):
        redact_text(text, ["a[x]"])


def test_xpath_paths_of_the_same_flow_are_left_out_on_json():
    assert redact_json({"a": {"b": 1}}, ["//ssn", "Lines/Line[1]/Note", "a.b"]) == {"a": {"b": MASK}}


# --- redaction, XML --------------------------------------------------------------------------
XML = """<?xml version="1.0" encoding="UTF-8"?>
<h:Admission xmlns:h="urn:hc:legacy:pas" number="A-7">
  <h:patient nid="750101-1234"><h:national-id>750101-1234</h:national-id><h:name>Ada <h:b>L</h:b></h:name>
    <h:mrn>M-1</h:mrn></h:patient>
  <h:lines><h:note>HIV+ ward</h:note><h:item>GLOVE</h:item></h:lines>
  <h:lines><h:note>private</h:note><h:item>MASK</h:item></h:lines>
</h:Admission>"""


def test_redacts_xml_with_the_dotted_grammar():
    out = redact_text(XML, ["patient['national-id']", "lines[*].note", "patient.name"])
    assert "750101-1234</" not in out and "HIV+" not in out and "private" not in out and "Ada" not in out
    root = etree.fromstring(out.encode())
    ns = {"h": "urn:hc:legacy:pas"}
    assert root.findtext("h:patient/h:national-id", namespaces=ns) == MASK
    assert root.find("h:patient/h:name", namespaces=ns).getchildren() == []
    assert [n.text for n in root.findall("h:lines/h:note", namespaces=ns)] == [MASK, MASK]
    assert [n.text for n in root.findall("h:lines/h:item", namespaces=ns)] == ["GLOVE", "MASK"]
    assert root.findtext("h:patient/h:mrn", namespaces=ns) == "M-1"
    assert out.startswith("<?xml")


def test_redacts_xml_with_xpath_attributes_and_positions():
    out = redact_text(XML, ["h:patient/@nid", "//h:lines[2]/h:item", "@number", "lines[0].item"])
    root = etree.fromstring(out.encode())
    ns = {"h": "urn:hc:legacy:pas"}
    assert root.find("h:patient", namespaces=ns).get("nid") == MASK
    assert root.get("number") == MASK
    assert [n.text for n in root.findall("h:lines/h:item", namespaces=ns)] == [MASK, MASK]
    assert root.findtext("h:patient/h:national-id", namespaces=ns) == "750101-1234", "only what is named"


def test_redact_xml_leaves_its_input_alone_and_refuses_bad_xpath():
    root = etree.fromstring(XML.encode())
    redact_xml(root, ["patient.mrn"])
    assert "M-1" in etree.tostring(root, encoding="unicode")
    with pytest.raises(PathError, match="Invalid XML path"):
        redact_text(XML, ["h:patient/["])
    assert redact_text(XML, ["nothing.here"]) == XML


def test_dotted_xml_paths_are_xpath_by_local_name_with_zero_based_positions():
    text, variables = xml_xpath("lines[0].note")
    assert text == "*[local-name()=$k0][1]/*[local-name()=$k1]" and variables == {"k0": "lines", "k1": "note"}
    assert xml_xpath("lines[-1]")[0] == "*[local-name()=$k0][last()]"
    assert xml_xpath("p:Vendor/@code") == ("p:Vendor/@code", {})
    root = etree.fromstring(XML.encode())
    assert xml_getter("lines[-1].note")(root) == "private"
    assert xml_getter("patient['national-id']")(root) == "750101-1234"
    with pytest.raises(PathError, match="one position"):
        xml_xpath("lines[0][1]")
