"""The inbound API's checks that need no database (payload/inbound.py, payload/xmlsafe.py): body
parsing by media type, schema validation, HMAC signatures and their window, rate limits, and the
hardened XML parser the inbound path and the WSDL loader share. The redaction and path parts of
payload/ are in test_payload_paths.py, HL7 v2 in test_hl7v2.py."""

import json

import pytest

from hc_integration_base.payload.inbound import (
    InboundError,
    RateLimiter,
    json_path_value,
    media_type,
    parse_body,
    sign,
    validate_json,
    validate_xml,
    verify_signature,
)
from hc_integration_base.payload.xmlsafe import XmlSecurityError, XmlSyntaxError, parse_xml

SCHEMA = json.dumps({
    "type": "object", "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string", "minLength": 1},
                   "lines": {"type": "array", "items": {"type": "object", "required": ["qty"],
                                                        "properties": {"qty": {"type": "number"}}}}},
})
XSD = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="contact"><xs:complexType>'
       '<xs:sequence><xs:element name="id" type="xs:string"/><xs:element name="qty" type="xs:integer"/>'
       '</xs:sequence></xs:complexType></xs:element></xs:schema>')


def refused(call, *args, **kwargs):
    """The InboundError ``call`` raises."""
    with pytest.raises(InboundError) as raised:
        call(*args, **kwargs)
    return raised.value


# --- bodies ------------------------------------------------------------------------------------
@pytest.mark.parametrize("content_type, kind", [
    ("application/json", "json"), ("application/json; charset=utf-8", "json"), ("Application/JSON", "json"),
    ("application/xml", "xml"), ("text/xml; charset=utf-8", "xml"),
])
def test_media_types_pick_the_parser(content_type, kind):
    body = b'{"id": "1"}' if kind == "json" else b"<contact><id>1</id></contact>"
    parsed_kind, parsed = parse_body(body, content_type)
    assert parsed_kind == kind
    assert (parsed["id"] if kind == "json" else parsed.findtext("id")) == "1"


def test_media_type_ignores_parameters_and_case():
    assert media_type("Application/XML ; charset=latin-1") == "application/xml"
    assert media_type(None) == media_type("") == ""


@pytest.mark.parametrize("body, content_type, status, code", [
    (b"{not json", "application/json", 400, "malformed"),
    (b"\xff\xfe{}", "application/json", 400, "bad_encoding"),
    (b'{"id": "N\\u0000UL"}', "application/json", 400, "nul_character"),
    (b'{"N\\u0000UL": 1}', "application/json", 400, "nul_character"),
    (b'[["\\u0000"]]', "application/json", 400, "nul_character"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "too_deep"),
    (b"<a><b></a>", "application/xml", 400, "malformed"),
    (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "text/xml", 400, "xml_forbidden"),
    (b"a,b", "text/csv", 415, "unsupported_media_type"),
    (b"{}", "", 415, "unsupported_media_type"),
])
def test_unreadable_bodies_are_refused_with_their_code(body, content_type, status, code):
    error = refused(parse_body, body, content_type)
    assert (error.status, error.code) == (status, code)
    assert error.as_json() == {"error": {"code": code, "message": error.message, "details": []}}
    assert error.message and "Traceback" not in error.message


def test_a_json_scalar_or_list_is_a_body_like_any_other():
    assert parse_body(b"[1, 2]", "application/json") == ("json", [1, 2])
    assert parse_body(b'"text"', "application/json") == ("json", "text")


# --- schemas -----------------------------------------------------------------------------------
def test_a_valid_document_passes_its_json_schema():
    validate_json({"id": "D1", "name": "Ward", "lines": [{"qty": 2}]}, SCHEMA)


def test_every_failing_path_of_a_json_document_is_listed_in_order():
    error = refused(validate_json, {"id": 3, "name": "", "lines": [{"qty": "two"}, {}]}, SCHEMA)
    assert (error.status, error.code) == (400, "schema_invalid")
    assert [detail["path"] for detail in error.details] == ["/id", "/lines/0/qty", "/lines/1", "/name"]
    assert all(detail["message"] for detail in error.details)


def test_a_missing_key_is_named_at_the_document_root():
    error = refused(validate_json, {"id": "D2"}, SCHEMA)
    assert error.details == [{"path": "/", "message": "'name' is a required property"}]


def test_schema_errors_are_capped_at_fifty():
    many = json.dumps({"type": "object", "properties": {f"k{i}": {"type": "string"} for i in range(80)}})
    error = refused(validate_json, {f"k{i}": i for i in range(80)}, many)
    assert len(error.details) == 50


def test_xml_schema_names_the_line_of_each_error():
    validate_xml(parse_xml("<contact><id>X9</id><qty>3</qty></contact>"), XSD)
    error = refused(validate_xml, parse_xml("<contact>\n<id>X9</id>\n<qty>three</qty></contact>"), XSD)
    assert (error.status, error.code) == (400, "schema_invalid")
    assert error.details[0]["path"] == "line 3"
    assert "qty" in error.details[0]["message"]


def test_an_xsd_with_a_doctype_is_refused_like_a_body():
    with pytest.raises(XmlSecurityError):
        validate_xml(parse_xml("<contact/>"), '<!DOCTYPE s [<!ENTITY a "a">]>' + XSD)


# --- signatures ----------------------------------------------------------------------------------
BODY = b'{"id": "S1", "name": "Signed"}'
NOW = 1_800_000_000


def header(secret="sign-secret", timestamp=NOW, body=BODY):
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def test_sign_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib  # noqa: PLC0415
    import hmac  # noqa: PLC0415

    expected = hmac.new(b"k", b"42." + BODY, hashlib.sha256).hexdigest()
    assert sign("k", 42, BODY) == expected


def test_a_good_signature_inside_the_window_passes():
    verify_signature("sign-secret", header(), BODY, window=300, now=NOW + 299)
    verify_signature("sign-secret", header(timestamp=NOW + 200), BODY, window=300, now=NOW)  # clock skew
    upper = header().replace(sign("sign-secret", NOW, BODY), sign("sign-secret", NOW, BODY).upper())
    verify_signature("sign-secret", upper, BODY, window=300, now=NOW)


@pytest.mark.parametrize("given, body, now, code", [
    (None, BODY, NOW, "signature_missing"),
    ("", BODY, NOW, "signature_missing"),
    ("garbage", BODY, NOW, "signature_malformed"),
    ("t=soon,v1=abc", BODY, NOW, "signature_malformed"),
    (f"t={NOW}", BODY, NOW, "signature_malformed"),
    (header(), BODY.replace(b"Signed", b"Forged"), NOW, "signature_invalid"),
    (header(secret="other-secret"), BODY, NOW, "signature_invalid"),
    (header(), BODY, NOW + 301, "signature_expired"),
    (header(timestamp=NOW + 301), BODY, NOW, "signature_expired"),
])
def test_bad_signatures_are_refused_with_their_code(given, body, now, code):
    error = refused(verify_signature, "sign-secret", given, body, window=300, now=now)
    assert (error.status, error.code) == (401, code)


# --- rate limits -----------------------------------------------------------------------------------
def test_rate_limit_allows_a_burst_then_says_how_long_to_wait():
    limiter = RateLimiter()
    assert [limiter.take("lab", 2, now=100.0) for _ in range(2)] == [0, 0]
    wait = limiter.take("lab", 2, now=100.0)
    assert wait == pytest.approx(0.5)
    assert limiter.take("lab", 2, now=100.5) == 0, "a token came back after half a second"
    assert limiter.take("pharmacy", 2, now=100.5) == 0, "each key has its own bucket"


def test_rate_limit_below_one_per_second_keeps_a_burst_of_one():
    limiter = RateLimiter()
    assert limiter.take("slow", 0.5, now=0.0) == 0
    assert limiter.take("slow", 0.5, now=0.0) == pytest.approx(2.0)
    assert limiter.take("slow", 0.5, now=2.0) == 0


@pytest.mark.parametrize("rate", [0, None, -1])
def test_no_rate_means_no_limit(rate):
    limiter = RateLimiter()
    assert all(limiter.take("any", rate) == 0 for _ in range(100))


# --- key paths and hardened XML --------------------------------------------------------------------
def test_json_path_value_reads_the_suites_grammar_or_none():
    document = {"order": {"lines": [{"ref": "L1"}]}, "patient": {"national-id": "N1"}}
    assert json_path_value(document, "order.lines[0].ref") == "L1"
    assert json_path_value(document, "patient['national-id']") == "N1"
    assert json_path_value(document, "order.lines[5].ref") is None


def test_parse_xml_takes_text_bytes_and_bytearrays():
    for data in ("<a><b>1</b></a>", b"<a><b>1</b></a>", bytearray(b"<a><b>1</b></a>")):
        assert parse_xml(data).findtext("b") == "1"


def test_parse_xml_refuses_a_doctype_in_any_case_and_names_syntax_errors():
    with pytest.raises(XmlSecurityError):
        parse_xml('<!doctype html [<!ENTITY x "y">]><html>&x;</html>')
    with pytest.raises(XmlSyntaxError, match="line 1"):
        parse_xml("<a>")
    with pytest.raises(XmlSyntaxError):
        parse_xml("")


def test_parse_xml_neither_expands_nor_fetches_anything():
    root = parse_xml('<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></r>')
    assert "root:" not in (root.text or "")
    assert root[0].get("href") == "file:///etc/passwd", "an XInclude stays an element, never resolved"
