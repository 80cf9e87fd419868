"""List filters of the path grammar (``[?key=value]``): how FHIR resources name their parts
(a Bundle's next link, an identifier by its system); no database."""

import pytest

from hc_integration_base.mapping import compile_mapping
from hc_integration_base.mapping.paths import (
    MISSING,
    Filter,
    PathError,
    json_getter,
    json_setter,
    looks_like_xpath,
    parse_path,
    xml_xpath,
)
from hc_integration_base.payload.redact import MASK, redact_json
from hc_integration_base.transports.paging import PageContract

BUNDLE = {
    "resourceType": "Bundle",
    "link": [{"relation": "self", "url": "https://fhir.test/SupplyRequest?_count=2"},
             {"relation": "next", "url": "https://fhir.test/SupplyRequest?_count=2&_page=2"}],
    "entry": [
        {"resource": {"resourceType": "SupplyRequest", "id": "sr1",
                      "identifier": [{"system": "urn:mrn", "value": "M-77"},
                                     {"system": "urn:oid:1.2.3", "value": "REQ-1"}],
                      "quantity": {"value": 4}}},
        {"resource": {"resourceType": "SupplyRequest", "id": "sr2", "identifier": [], "urgent": True}},
    ],
}


def test_parse_and_read_a_filter():
    assert parse_path("link[?relation=next].url") == ["link", Filter("relation", "next"), "url"]
    assert parse_path("identifier[?system='urn:oid:1.2.3'].value")[1] == Filter("system", "urn:oid:1.2.3")
    assert parse_path('a[? code = "x]y" ]')[1] == Filter("code", "x]y"), "a quoted value may hold ]"
    assert json_getter("link[?relation=next].url")(BUNDLE).endswith("_page=2")
    first = BUNDLE["entry"][0]
    assert json_getter("resource.identifier[?system=urn:oid:1.2.3].value")(first) == "REQ-1"
    assert json_getter("resource.identifier[?system=urn:none].value")(first) is MISSING
    assert json_getter("entry[*].resource.identifier[?system=urn:mrn].value")(BUNDLE) == ["M-77"]
    assert json_getter("entry[?resource=x]")(BUNDLE) is MISSING, "a dict is never equal to text"
    assert json_getter("entry[*].resource[?id=sr1]")(BUNDLE) == [], "a filter on a non-list finds nothing"


def test_values_compare_as_text():
    lines = {"lines": [{"no": 1, "ok": False}, {"no": 2, "ok": True}]}
    assert json_getter("lines[?no=2].ok")(lines) is True
    assert json_getter("lines[?ok=false].no")(lines) == 1


def test_a_filter_is_not_an_xpath_and_not_a_target():
    assert not looks_like_xpath("identifier[?system=urn:oid:1.2].value")
    assert looks_like_xpath("Line[Code='A1']/Item") and looks_like_xpath("//ssn")
    with pytest.raises(PathError, match="without list steps or filters"):
        json_setter("identifier[?system=x].value")
    with pytest.raises(PathError, match="XPath predicate"):
        xml_xpath("lines[?code=A1].qty")
    with pytest.raises(PathError, match="Invalid path"):
        parse_path("a[?=x]")


def test_redaction_masks_the_filtered_value_only():
    """A patient's medical record number, named by its identifier system, is masked; the
    requisition number beside it stays."""
    masked = redact_json(BUNDLE, ["entry[*].resource.identifier[?system=urn:mrn].value"])
    identifiers = masked["entry"][0]["resource"]["identifier"]
    assert [i["value"] for i in identifiers] == [MASK, "REQ-1"]
    assert BUNDLE["entry"][0]["resource"]["identifier"][0]["value"] == "M-77", "the original is untouched"


def test_mapping_lines_read_filters():
    run = compile_mapping([
        {"ref": "reference", "source": "identifier[?system=urn:oid:1.2.3].value", "target": "reference"},
        {"ref": "quantity", "source": "quantity.value", "target": "quantity"},
    ])
    assert run(BUNDLE["entry"][0]["resource"]).values == {"reference": "REQ-1", "quantity": 4}


def test_a_bundle_is_paged_by_its_next_link():
    """FHIR searches page through the Bundle's link with relation next; the last page has none."""
    contract = PageContract(style="link", records_path="entry[*].resource", next_path="link[?relation=next].url",
                            size_param="_count", page_size=2)
    page = contract.parse(BUNDLE, url="https://fhir.test/SupplyRequest?_count=2")
    assert [r["id"] for r in page.records] == ["sr1", "sr2"]
    assert page.next["url"] == "https://fhir.test/SupplyRequest?_count=2&_page=2"
    last = dict(BUNDLE, link=[BUNDLE["link"][0]], entry=[{"resource": {"id": "sr3"}}])
    assert contract.parse(last, checkpoint=page.next).next is None


def test_a_record_path_masks_every_record_of_a_page():
    """Sensitive paths are written for one record; a pulled page (a list of records) is masked
    record by record, and a path that starts with a list step still reads the page itself."""
    page = [entry["resource"] for entry in BUNDLE["entry"]] + [{"reasonReference": [{"reference": "Patient/9"}]}]
    masked = redact_json(page, ["reasonReference[*].reference", "[0].id"])
    assert [r["reasonReference"][0]["reference"] for r in masked[2:]] == [MASK]
    assert masked[0]["id"] == MASK and masked[1]["id"] == "sr2"
    assert redact_json({"reasonReference": [{"reference": "Patient/1"}]},
                       ["reasonReference[*].reference"])["reasonReference"][0]["reference"] == MASK
