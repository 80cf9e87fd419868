"""The mapping engine on its own: every transform, path syntax, error collection, the cache."""

import json
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hc_integration_base.mapping import CompileError, MappingCache, MappingContext, compile_mapping

UNITS = {"BX": 10, "EA": 1}


def context(**kwargs):
    def value_map(table, code, reverse=False):
        if reverse:
            codes = {odoo: legacy for legacy, odoo in UNITS.items()}
            if table == "uom" and code in codes:
                return codes[code]
        elif table == "uom" and code in UNITS:
            return UNITS[code]
        raise KeyError(code)

    def resolve(kind, model, key, params):
        return {"binding": {"SUP-1": 7}, "search": {"ACME": 9}}.get(kind, {}).get(key)

    def evaluate(expression, names):  # a tiny restricted evaluator standing in for safe_eval
        return eval(expression, {"__builtins__": {}}, names)  # noqa: S307 - test only

    return MappingContext(value_map=value_map, resolve=resolve, evaluate=evaluate, **kwargs)


def run(lines, payload, **kwargs):
    return compile_mapping(lines, context=context(), **kwargs)(payload)


def line(source, target, transform="direct", **extra):
    return {"ref": target, "source": source, "target": target, "transform": transform, **extra}


# --- paths -----------------------------------------------------------------------------------
def test_json_paths():
    payload = {"a": {"b": 1}, "lines": [{"qty": 2, "code": "X"}, {"qty": 3, "code": "Y"}], "unit-code": "BX"}
    result = run([
        line("a.b", "dotted"), line("$.a.b", "dollar"), line("lines[0].qty", "index"), line("lines[-1].code", "neg"),
        line("lines[*].code", "wild"), line("['unit-code']", "bracket"), line("a.missing", "missing"),
    ], payload)
    assert result.values == {"dotted": 1, "dollar": 1, "index": 2, "neg": "Y", "wild": ["X", "Y"], "bracket": "BX"}
    assert result.errors == []


NS = {"p": "urn:hc:legacy:procurement"}
XML = b"""<p:Order xmlns:p="urn:hc:legacy:procurement" number="PO-7">
  <p:Vendor code="SUP-1">Acme</p:Vendor>
  <p:Lines><p:Line><p:Item>ITM-1</p:Item></p:Line><p:Line><p:Item>ITM-2</p:Item></p:Line></p:Lines>
</p:Order>"""


def test_xml_paths_with_namespaces():
    lines = [line("@number", "ref"), line("p:Vendor/@code", "vendor"), line("p:Vendor", "vendor_name"),
             line("p:Lines/p:Line/p:Item", "items"),
             line("p:Lines/p:Line[1]/p:Item", "first", params={"multiple": True}),
             line("p:Nothing", "absent")]
    result = run(lines, XML, payload_format="xml", namespaces=NS)
    assert result.values == {"ref": "PO-7", "vendor": "SUP-1", "vendor_name": "Acme", "items": ["ITM-1", "ITM-2"],
                             "first": ["ITM-1"]}
    element = etree.fromstring(XML)
    assert run(lines, element, payload_format="xml", namespaces=NS).values == result.values


def test_invalid_xpath_and_regex_are_compile_errors_naming_the_line():
    with pytest.raises(CompileError, match="line bad_xpath"):
        compile_mapping([{"ref": "bad_xpath", "source": "p:[", "target": "x"}], payload_format="xml", namespaces=NS)
    with pytest.raises(CompileError, match="line bad_regex"):
        compile_mapping([{"ref": "bad_regex", "source": "a", "target": "x", "validation": {"regex": "("}}])
    with pytest.raises(CompileError, match="unknown transform"):
        compile_mapping([{"ref": "t", "source": "a", "target": "x", "transform": "teleport"}])


# --- transforms ----------------------------------------------------------------------------------
def test_every_transform_success():
    payload = {"name": "  Gloves  ", "uom": "BX", "day": "24/11/2026", "at": "2026-11-24 10:30",
               "price": "1.234,50", "count": "12", "flag": "Y", "ml": "500", "first": "Ada", "last": "Lovelace",
               "full": "Lovelace, Ada", "vendor": "SUP-1", "company": "ACME", "qty": 4}
    result = run([
        line("name", "name", params={"strip": True, "case": "upper"}),
        line("uom", "uom_id", "value_map", params={"table": "uom"}),
        line("day", "date", "date", params={"format": "%d/%m/%Y"}),
        line("at", "when", "datetime", params={"format": "%Y-%m-%d %H:%M", "tz": "Europe/Paris"}),
        line("price", "price", "number", params={"decimal_separator": ",", "digits": 2}),
        line("count", "count", "integer"),
        line("flag", "flag", "boolean"),
        line("ml", "liters", "unit_conversion", params={"from": "ML", "to": "L"}),
        line("qty", "boxes", "unit_conversion", params={"factor": 0.5}),
        line(["first", "last"], "display", "concat", params={"separator": " "}),
        line("full", "first_name", "split", params={"separator": ",", "index": 1}),
        {"ref": "kind", "target": "kind", "transform": "constant", "params": {"value": "supplier"}},
        line("vendor", "partner_id", "many2one", params={"model": "res.partner", "by": "binding"}),
        line("company", "company_id", "many2one", params={"model": "res.company", "by": "search", "field": "ref"}),
        line("qty", "double", "expression", params={"expression": "value * 2 + values[\"count\"]"}),
    ], payload)
    assert result.errors == []
    assert result.values["name"] == "GLOVES"
    assert result.values["uom_id"] == 10
    assert result.values["date"] == date(2026, 11, 24)
    assert result.values["when"] == datetime(2026, 11, 24, 9, 30)  # naive UTC
    assert result.values["price"] == 1234.5
    assert result.values["count"] == 12 and result.values["flag"] is True
    assert result.values["liters"] == 0.5 and result.values["boxes"] == 2.0
    assert result.values["display"] == "Ada Lovelace" and result.values["first_name"] == "Ada"
    assert result.values["kind"] == "supplier"
    assert (result.values["partner_id"], result.values["company_id"]) == (7, 9)
    assert result.values["double"] == 8 + 12


@pytest.mark.parametrize(
    ("spec", "value", "code", "reason"),
    [
        (line("v", "t", "value_map", params={"table": "uom"}), "XBX", "value_map_missing",
         "code 'XBX' not found in value map 'uom'"),
        (line("v", "t", "date"), "31/02/2026", "transform", "is not a date"),
        (line("v", "t", "datetime"), "noon", "transform", "is not a date-time"),
        (line("v", "t", "number"), "12,3,4.x", "transform", "is not a number"),
        (line("v", "t", "integer"), "1.5", "transform", "is not a whole number"),
        (line("v", "t", "boolean"), "maybe", "transform", "is not a yes/no value"),
        (line("v", "t", "split", params={"separator": "-", "index": 3}), "a-b", "transform", "has no part 3"),
        (line("v", "t", "many2one", params={"model": "res.partner"}), "SUP-404", "not_found", "no res.partner"),
        (line("v", "t", "expression", params={"expression": "value / 0"}), 1, "transform", "expression failed"),
    ],
)
def test_every_transform_failure(spec, value, code, reason):
    result = run([spec], {"v": value})
    assert result.values == {}
    [error] = result.errors
    assert (error.code, error.value, error.path) == (code, value, "v")
    assert reason in error.reason


def test_required_default_and_validation():
    lines = [
        line("code", "code", required=True, validation={"regex": r"ITM-\d+"}),
        line("qty", "qty", "number", validation={"min": 1, "max": 100}),
        line("uom", "uom", default="EA", validation={"allowed": ["EA", "BX"]}),
        line("note", "note", required=True),
    ]
    result = run(lines, {"code": "XYZ", "qty": "500", "uom": ""})
    assert result.values == {"uom": "EA"}
    assert {(e.line_ref, e.code) for e in result.errors} == {
        ("code", "validation"), ("qty", "validation"), ("note", "required_missing")}
    ok = run(lines, {"code": "ITM-1", "qty": "5", "uom": "BX", "note": "n"})
    assert ok.errors == [] and ok.values == {"code": "ITM-1", "qty": 5.0, "uom": "BX", "note": "n"}


def test_errors_are_collected_not_stopped_at_first():
    lines = [line("a", "a", "integer"), line("b", "b", "integer"), line("c", "c", "integer"), line("d", "d")]
    result = run(lines, {"a": "x", "b": "y", "c": "z", "d": "good"})
    assert len(result.errors) == 3 and result.values == {"d": "good"}


def test_one2many_inbound_and_outbound():
    sub = [line("item", "product_code"), line("qty", "product_qty", "number")]
    inbound = run([{"ref": "lines", "target": "order_line", "transform": "one2many",
                    "params": {"item_path": "lines", "lines": sub}}],
                  {"lines": [{"item": "ITM-1", "qty": "2"}, {"item": "ITM-2", "qty": "3.5"}]})
    assert inbound.values == {"order_line": [{"product_code": "ITM-1", "product_qty": 2.0},
                                             {"product_code": "ITM-2", "product_qty": 3.5}]}
    bad = run([{"ref": "lines", "target": "order_line", "transform": "one2many",
                "params": {"item_path": "lines", "lines": sub}}], {"lines": [{"item": "X", "qty": "many"}]})
    assert "line 1: 'many' is not a number" in bad.errors[0].reason
    out_sub = [line("product_code", "item_code"), line("qty", "quantity")]
    outbound = run([line("name", "order.reference"),
                    {"ref": "lines", "target": "order.lines", "transform": "one2many",
                     "params": {"item_path": "order_line", "lines": out_sub}},
                    line("date", "order.date", "date", params={"format": "%Y%m%d"})],
                   {"name": "PO-1", "date": date(2026, 1, 2),
                    "order_line": [{"product_code": "ITM-1", "qty": 2}]}, direction="outbound")
    assert outbound.values == {"order": {"reference": "PO-1", "lines": [{"item_code": "ITM-1", "quantity": 2}],
                                         "date": "20260102"}}


def test_trace_for_the_try_it_wizard():
    compiled = compile_mapping([line("a", "a", "integer"), line("b", "b")], context=context(), trace=True)
    result = compiled({"a": "nope", "b": "x"})
    assert result.trace[0] == {"line": "a", "source": "nope", "value": None, "target": "a",
                               "error": "'nope' is not a number"}
    assert result.trace[1]["value"] == "x"


def test_cache_compiles_once_per_key():
    cache = MappingCache(size=2)
    builds = []

    def build():
        builds.append(1)
        return compile_mapping([line("a", "a")])

    first = cache.get((1, "2026-01-01"), build)
    assert cache.get((1, "2026-01-01"), build) is first
    assert (cache.hits, cache.misses, len(builds)) == (1, 1, 1)
    cache.get((1, "2026-02-01"), build)  # the version changed
    cache.get((2, "x"), build)
    cache.get((1, "2026-01-01"), build)  # evicted by the LRU
    assert cache.misses == 4


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_number_round_trip_with_comma_decimals(value):
    text = f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    result = run([line("v", "v", "number", params={"decimal_separator": ","})], {"v": text})
    assert result.errors == [] and result.values["v"] == pytest.approx(float(value))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_engine_never_raises_on_arbitrary_payloads(payload):
    lines = [line("a.b", "x", "number"), line("lines[*].q", "y", "integer"), line("c", "z", "date", required=True),
             line("d", "w", "value_map", params={"table": "uom"}), line("e", "v", "boolean")]
    result = run(lines, payload)
    json.dumps([e.as_dict() for e in result.errors], default=str)


TRICKY = [
    line("a", "a", "integer", validation={"min": 1, "max": 10}),
    line("b", "b", validation={"regex": "x{1,2}\"'\\\\{b}", "allowed": ["x", "{a}", "'"]}),
    line("c.d", "c", "number", params={"decimal_separator": ","}, required=True),
    line("e", "e", params={"strip": True, "case": "lower"}, default="dflt"),
    {"ref": "k", "target": "k", "transform": "constant", "params": {"value": "{__import__}"}},
]


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_generated_code_and_traced_closures_agree(payload):
    """The generated fast path and the traced reference path give the same values and errors,
    even with consultant texts full of quotes and braces (they are bound, never pasted in)."""
    fast = compile_mapping(TRICKY, context=context())(payload)
    traced = compile_mapping(TRICKY, context=context(), trace=True)(payload)
    assert fast.values == traced.values
    assert [e.as_dict() for e in fast.errors] == [e.as_dict() for e in traced.errors]
    assert fast.values.get("k") == "{__import__}"


@pytest.mark.parametrize("raw", ["12", 12, "²", "١٢", "1,234", " 7 ", 3.5, True, "nan", "inf", "1_0"])
def test_number_fast_path_matches_the_full_transform(raw):
    for kind in ("number", "integer"):
        fast = compile_mapping([line("v", "v", kind)], context=context())({"v": raw})
        traced = compile_mapping([line("v", "v", kind)], context=context(), trace=True)({"v": raw})
        assert fast.values == traced.values
        assert [e.as_dict() for e in fast.errors] == [e.as_dict() for e in traced.errors]


def test_code_tables_read_the_other_way_in_outbound_mappings():
    """Odoo value (or a record given as {"id", "name"}) -> the legacy code, from the same table."""
    lines = [line("uom_id", "unit", "value_map", params={"table": "uom"}),
             line("pack", "pack_unit", "value_map", params={"table": "uom"})]
    result = run(lines, {"uom_id": 10, "pack": {"id": 1, "name": "Units"}}, direction="outbound")
    assert result.values == {"unit": "BX", "pack_unit": "EA"}
    assert not result.errors
    missing = run(lines[:1], {"uom_id": 99}, direction="outbound")
    assert [e.code for e in missing.errors] == ["value_map_missing"]
    assert "value '99' not found" in missing.errors[0].reason
    inbound = run([line("u", "uom_id", "value_map", params={"table": "uom"})], {"u": "BX"})
    assert inbound.values == {"uom_id": 10}


def test_an_outbound_mapping_may_write_a_list_body_such_as_a_json_patch():
    """root="list": the targets begin with the item's position; the body is the list of items in
    that order (a JSON Patch names each operation in a list), whichever order the lines run."""
    lines = [
        {"sequence": 1, "target": "[1].op", "transform": "constant", "params": {"value": "add"}},
        {"sequence": 2, "target": "[1].path", "transform": "constant", "params": {"value": "/note/-"}},
        {"sequence": 3, "source": "note", "target": "[1].value.text"},
        {"sequence": 4, "target": "[0].op", "transform": "constant", "params": {"value": "replace"}},
        {"sequence": 5, "target": "[0].path", "transform": "constant", "params": {"value": "/status"}},
        {"sequence": 6, "source": "status", "target": "[0].value", "required": True},
        {"sequence": 7, "source": "reference", "target": "[2]"},
    ]
    for trace in (False, True):
        mapping = compile_mapping(lines, direction="outbound", root="list", trace=trace)
        result = mapping({"status": "completed", "note": "Sent", "reference": "FR-1"})
        assert result.errors == []
        assert result.values == [{"op": "replace", "path": "/status", "value": "completed"},
                                 {"op": "add", "path": "/note/-", "value": {"text": "Sent"}}, "FR-1"]
        only_status = mapping({"status": "cancelled"}).values
        assert only_status == [{"op": "replace", "path": "/status", "value": "cancelled"},
                               {"op": "add", "path": "/note/-"}], "positions no line filled leave no hole"
        assert [e.reason for e in mapping({}).errors] == ["required value missing at status"]
    with pytest.raises(CompileError, match=r"line op: .*begins with the item's position"):
        compile_mapping([{"target": "op", "transform": "constant", "params": {"value": "x"}, "ref": "op"}],
                        direction="outbound", root="list")
    with pytest.raises(CompileError, match=r"without list steps"):
        compile_mapping([{"target": "[0].a[1]", "source": "a"}], direction="outbound", root="list")
    with pytest.raises(CompileError, match=r"without list steps"):
        compile_mapping(lines[3:6], direction="outbound")  # an object body: no positions
    with pytest.raises(CompileError, match="only an outbound JSON mapping"):
        compile_mapping([{"target": "a", "source": "a"}], direction="inbound", root="list")
    with pytest.raises(CompileError, match="only an outbound JSON mapping"):
        compile_mapping([{"target": "[0].a", "source": "a"}], direction="outbound", payload_format="xml", root="list")
