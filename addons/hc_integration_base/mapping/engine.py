"""Compile a mapping version's lines once into a tight callable."""

import re
from dataclasses import dataclass, field

from lxml import etree

from . import transforms
from .paths import MISSING, PathError, json_getter, json_setter, list_body, xml_getter

# The payload format of mappings whose sources are HL7 v2 paths (payload/hl7v2.py) on ER7 messages.
HL7V2 = "hl7v2"


class CompileError(ValueError):
    """A line cannot be compiled (bad path, regex or transform); names the line."""


@dataclass
class LineError:
    line_ref: object
    path: str
    value: object
    reason: str
    code: str

    def as_dict(self):
        return {"line": self.line_ref, "path": self.path, "value": self.value, "reason": self.reason,
                "code": self.code}


@dataclass
class MappingResult:
    values: dict  # a list when an outbound mapping writes a list body (root "list")
    errors: list
    trace: list = field(default_factory=list)

    def error_text(self, limit=10):
        """The first ``limit`` line errors as one sentence (``path: reason; ...``) for the user."""
        return "; ".join(f"{e.path or e.line_ref}: {e.reason}" for e in self.errors[:limit])


class MappingContext:
    """What the engine needs from outside, as plain callables (the ORM layer fills them)."""

    def __init__(self, value_map=None, resolve=None, evaluate=None, timezone="UTC"):
        self.value_map = value_map or self._no_value_map
        self.resolve = resolve or (lambda kind, model, key, params: None)
        self.evaluate = evaluate or self._no_evaluate
        self.timezone = timezone

    @staticmethod
    def _no_value_map(table, code):
        raise KeyError(code)

    @staticmethod
    def _no_evaluate(expression, names):
        raise ValueError("expressions are not available here")


def _validator(line_ref, validation):
    if not validation:
        return None
    checks = []
    if validation.get("regex"):
        try:
            pattern = re.compile(validation["regex"])
        except re.error as exc:
            raise CompileError(f"line {line_ref}: invalid regex {validation['regex']!r}: {exc}") from exc
        checks.append(lambda v: isinstance(v, str) and pattern.fullmatch(v) is not None
                      or f"'{v}' does not match {validation['regex']}")
    if validation.get("min") is not None:
        low = validation["min"]
        checks.append(lambda v: (isinstance(v, (int, float)) and v >= low) or f"{v!r} is below the minimum {low}")
    if validation.get("max") is not None:
        high = validation["max"]
        checks.append(lambda v: (isinstance(v, (int, float)) and v <= high) or f"{v!r} is above the maximum {high}")
    if validation.get("allowed"):
        allowed = set(validation["allowed"])
        checks.append(lambda v: v in allowed or f"{v!r} is not one of {sorted(map(str, allowed))}")

    def validate(value):
        for check in checks:
            outcome = check(value)
            if outcome is not True:
                return outcome
        return None
    return validate


def _setter(ref, target, payload_format="json", list_root=False):
    """How an outbound line writes its value: a JSON path, or (HL7 v2) the HL7 path itself as the key
    of a flat ``{path: value}`` that ``hl7v2.build_message`` turns into a message."""
    if payload_format == HL7V2:
        from ..payload import hl7v2  # noqa: PLC0415 - the codec imports this package's paths

        try:
            key = hl7v2.parse_path(target).text
        except ValueError as exc:
            raise CompileError(f"line {ref}: invalid HL7 target {target!r}: {exc}") from exc

        def set_hl7(out, value):
            out[key] = value
        return set_hl7
    try:
        return json_setter(target, list_root)
    except PathError as exc:
        raise CompileError(f"line {ref}: {exc}") from exc


def _hl7_group_setter(ref, target, sub_targets):
    """Outbound HL7 v2 one2many: ``target`` names the repeating group by its first segment with
    ``[*]`` (``ORC[*]``); row ``i`` of the items writes its sub-lines' paths (``ORC-1``, ``RQD-2.1``)
    in the ``i``-th occurrence of their segments, so groups follow each other (ORC RQD ORC RQD)."""
    from ..payload import hl7v2  # noqa: PLC0415

    try:
        group = hl7v2.parse_path(target)
    except ValueError as exc:
        raise CompileError(f"line {ref}: invalid HL7 target {target!r}: {exc}") from exc
    if group.segment_index != "*" or group.field is not None:
        raise CompileError(f"line {ref}: an HL7 one2many target names the repeating group by its first segment "
                           f"with [*], e.g. ORC[*], not {target!r}.")
    for sub in sub_targets:
        path = hl7v2.parse_path(sub)
        if path.segment_index is not None:
            raise CompileError(f"line {ref}: sub-line target {sub!r} gives a segment index; the group's row "
                               "gives it.")
    segment_of = {sub: hl7v2.parse_path(sub) for sub in sub_targets}

    def set_group(out, rows):
        for index, row in enumerate(rows):
            for sub, value in row.items():
                path = segment_of.get(sub) or hl7v2.parse_path(sub)
                out[hl7v2.format_path(path, segment_index=index)] = value
    return set_group


def _source_getter(source, direction, payload_format, namespaces, params):
    """The getter of one source path: XPath / dotted XML, HL7 v2 (``ITM-1``, ``IVT[*]-3``) or JSON."""
    if direction == "inbound" and payload_format == "xml":
        return xml_getter(source, namespaces, params.get("multiple"))
    if direction == "inbound" and payload_format == HL7V2:
        from ..payload import hl7v2  # noqa: PLC0415 - the codec imports this package's paths

        return hl7v2.getter(source)  # raises Hl7PathError (a ValueError) naming the fault
    return json_getter(source)


def _line_plan(line, direction, payload_format, namespaces, context, list_root=False):
    ref = line.get("ref", line.get("target"))
    kind = line.get("transform") or "direct"
    params = dict(line.get("params") or {})
    source = line.get("source")
    if kind == "one2many":
        return _one2many_plan(ref, line, params, direction, payload_format, namespaces, context, list_root)
    if kind not in transforms.FACTORIES:
        raise CompileError(f"line {ref}: unknown transform {kind!r}")
    try:
        if kind in transforms.OUTBOUND_AWARE:
            function = transforms.OUTBOUND_AWARE[kind](params, context, outbound=direction == "outbound")
        else:
            function = transforms.FACTORIES[kind](params, context)
    except transforms.TransformError as exc:
        raise CompileError(f"line {ref}: {exc.reason}") from exc
    getter = None
    if kind not in transforms.NO_SOURCE:
        if not source:
            raise CompileError(f"line {ref}: a source path is required for transform {kind}")
        sources = source if isinstance(source, list) else [source]
        try:
            getters = [_source_getter(s, direction, payload_format, namespaces, params) for s in sources]
        except (etree.XPathError, PathError, ValueError) as exc:
            raise CompileError(f"line {ref}: invalid path {source!r}: {exc}") from exc
        if len(getters) == 1:
            getter = getters[0]
        else:
            def getter(payload, getters=getters):
                found = [g(payload) for g in getters]
                return [value for value in found if value is not MISSING] or MISSING
    target = line["target"]
    setter = _setter(ref, target, payload_format, list_root) if direction == "outbound" else None
    return {
        "kind": kind, "params": params, "validation": line.get("validation") or {},
        "ref": ref, "path": source if isinstance(source, str) else ", ".join(source or []),
        "getter": getter, "function": function, "target": target, "setter": setter,
        "required": bool(line.get("required")), "default": line.get("default"),
        "has_default": line.get("default") not in (None, ""),
        "validate": _validator(ref, line.get("validation")),
    }


def _one2many_plan(ref, line, params, direction, payload_format, namespaces, context, list_root=False):
    # HL7 v2: the items are segments (RQD[*]) whose sub-lines read inside each one (RQD-2.1); outbound,
    # each item is one repeating group of segments (see _hl7_group_setter).
    hl7 = payload_format == HL7V2 and direction == "inbound"
    hl7_out = payload_format == HL7V2 and direction == "outbound"
    sub_lines = params.get("lines") or []
    sub = compile_mapping(sub_lines, direction=direction, payload_format=HL7V2 if hl7 or hl7_out else "json",
                          context=context)
    # Sub-lines read the item; with parent_key they also read the whole document under that key
    # (e.g. "document.status": a value every group repeats).
    parent_key = (params.get("parent_key") or "").strip()
    try:
        item_path = params.get("item_path") or line.get("source") or ""
        item_getter = _source_getter(item_path, direction, payload_format, namespaces, params) if hl7 \
            else json_getter(item_path)
    except (PathError, ValueError) as exc:
        raise CompileError(f"line {ref}: {exc}") from exc

    def function(items, payload, values):
        if isinstance(items, dict):
            items = [items]  # one object is one line (a FHIR SupplyRequest names one item)
        if not isinstance(items, list):
            raise transforms.TransformError("expected a list of lines")
        rows, errors = [], []
        for index, item in enumerate(items):
            if parent_key:
                item = {**item, parent_key: payload} if isinstance(item, dict) else {parent_key: payload}
            result = sub(item)
            rows.append(result.values)
            errors += [f"line {index + 1}: {e.reason}" for e in result.errors]
        if errors:
            raise transforms.TransformError("; ".join(errors[:5]))
        return rows

    target = line["target"]
    if hl7_out:
        setter = _hl7_group_setter(ref, target, [sub_line["target"] for sub_line in sub_lines])
    else:
        setter = _setter(ref, target, list_root=list_root) if direction == "outbound" else None
    return {
        "ref": ref, "path": params.get("item_path") or line.get("source"), "getter": item_getter,
        "function": function, "target": target,
        "setter": setter,
        "required": bool(line.get("required")), "default": None, "has_default": False, "validate": None,
    }


def _step(plan, outbound, trace):
    """One line as a closure ``(payload, values, errors, out, lines_trace)``: no per-call lookups."""
    ref, path, getter, function = plan["ref"], plan["path"], plan["getter"], plan["function"]
    target, setter, required = plan["target"], plan["setter"], plan["required"]
    default, has_default, validate = plan["default"], plan["has_default"], plan["validate"]
    TransformError = transforms.TransformError  # noqa: N806 - local alias for the hot path

    def note(lines_trace, source, value, error):
        if trace:
            lines_trace.append({"line": ref, "source": source, "value": value, "target": target, "error": error})

    def step(payload, values, errors, out, lines_trace):
        raw = getter(payload) if getter is not None else None
        if raw is MISSING or raw is None or raw == "" or (raw.__class__ is list and not raw):
            if has_default:
                raw = default
            elif getter is not None:
                if required:
                    errors.append(LineError(ref, path, None, f"required value missing at {path}", "required_missing"))
                note(lines_trace, None, None, None)
                return
        if function is not None:
            try:
                value = function(raw, payload, values)
            except TransformError as exc:
                errors.append(LineError(ref, path, raw, exc.reason, exc.code))
                note(lines_trace, raw, None, exc.reason)
                return
        else:
            value = raw
        if validate is not None:
            problem = validate(value)
            if problem:
                errors.append(LineError(ref, path, raw, problem, "validation"))
                note(lines_trace, raw, value, problem)
                return
        if outbound:
            setter(out, value)
        else:
            values[target] = value
        if trace:
            note(lines_trace, raw, value, None)

    return step


def compile_mapping(lines, direction="inbound", payload_format="json", namespaces=None, context=None, trace=False,
                    root="object"):
    """Compile mapping lines (dicts, in sequence order) into ``payload -> MappingResult``.

    ``root`` (outbound): ``"object"``, the result is a JSON object of the targets' keys;
    ``"list"``, a JSON list (a JSON Patch, a batch of items) whose targets begin with the item's
    position (``[0].op``, ``[0].path``, ``[1].op``...), the items in the order of their positions."""
    context = context or MappingContext()
    if root not in ("object", "list"):
        raise CompileError(f"unknown body root {root!r}: object or list")
    outbound = direction == "outbound"
    if root == "list" and (not outbound or payload_format != "json"):
        raise CompileError("only an outbound JSON mapping writes a list body")
    list_root = root == "list"
    ordered = sorted(lines, key=lambda line: line.get("sequence", 0))
    plans = [_line_plan(line, direction, payload_format, namespaces, context, list_root) for line in ordered]
    parse = payload_format == "xml" and not outbound
    parse_hl7 = payload_format == HL7V2 and not outbound
    if trace:
        steps = tuple(_step(plan, outbound, trace) for plan in plans)

        def apply(payload):
            values, errors, lines_trace = {}, [], []
            out = {} if outbound else None
            for step in steps:
                step(payload, values, errors, out, lines_trace)
            result = (list_body(out) if list_root else out) if outbound else values
            return MappingResult(result, errors, lines_trace)
    else:
        generated = _generate(plans, outbound)

        def apply(payload):
            values, errors = generated(payload)
            return MappingResult(list_body(values) if list_root else values, errors)

    def run(payload):
        if parse and isinstance(payload, (bytes, str)):
            from ..payload.xmlsafe import parse_xml  # noqa: PLC0415

            payload = parse_xml(payload)
        elif parse_hl7 and isinstance(payload, (bytes, str)):
            from ..payload.hl7v2 import parse as parse_er7  # noqa: PLC0415

            payload = parse_er7(payload)
        return apply(payload)

    run.line_count = len(plans)
    return run


def _inline_validation(i, plan, namespace, store):
    """Validation checks written out in the generated code. Every consultant-given text (the
    regex, the bounds, the allowed values, the messages) is bound as a name, never pasted in."""
    rules = plan.get("validation") or {}
    checks = []
    if rules.get("regex"):
        namespace[f"RX{i}"] = re.compile(rules["regex"])
        namespace[f"RXM{i}"] = f"' does not match {rules['regex']}"
        checks.append((f"not (value.__class__ is str and RX{i}.fullmatch(value))", f"\"'\" + str(value) + RXM{i}"))
    if rules.get("min") is not None:
        namespace[f"LO{i}"] = rules["min"]
        namespace[f"LOM{i}"] = f" is below the minimum {rules['min']}"
        checks.append((f"not (isinstance(value, (int, float)) and value >= LO{i})", f"repr(value) + LOM{i}"))
    if rules.get("max") is not None:
        namespace[f"HI{i}"] = rules["max"]
        namespace[f"HIM{i}"] = f" is above the maximum {rules['max']}"
        checks.append((f"not (isinstance(value, (int, float)) and value <= HI{i})", f"repr(value) + HIM{i}"))
    if rules.get("allowed"):
        namespace[f"AL{i}"] = frozenset(rules["allowed"])
        namespace[f"ALM{i}"] = f" is not one of {sorted(map(str, rules['allowed']))}"
        checks.append((f"value not in AL{i}", f"repr(value) + ALM{i}"))
    lines = []
    for index, (condition, message) in enumerate(checks):
        lines += [f"{'if' if index == 0 else 'elif'} {condition}:",
                  f"    errors.append(LineError(R{i}, P{i}, raw, {message}, 'validation'))"]
    lines += ["else:", f"    {store}"] if lines else [store]
    return lines


def _generate(plans, outbound):
    """Python source for the whole mapping, one straight block per line, compiled once.

    Only names bound at compile time appear in it (getters, transforms, validators as
    ``g0``, ``f0``, ``v0``...; refs and paths as constants): no text of a line is ever
    evaluated, so a consultant's input cannot inject code.
    """
    namespace = {"MISSING": MISSING, "LineError": LineError, "TransformError": transforms.TransformError}
    code = ["def generated(payload):", "    values = {}", "    errors = []"]
    if outbound:
        code.append("    out = {}")
    for i, plan in enumerate(plans):
        namespace.update({f"R{i}": plan["ref"], f"P{i}": plan["path"], f"T{i}": plan["target"],
                          f"g{i}": plan["getter"], f"f{i}": plan["function"], f"v{i}": plan["validate"],
                          f"s{i}": plan["setter"], f"d{i}": plan["default"],
                          f"M{i}": f"required value missing at {plan['path']}"})
        body = []
        getter = plan["getter"]
        if getter is None:
            body.append("raw = None")
        elif getattr(getter, "keys", None) is not None:
            lookup = "payload" + "".join(f"[{key!r}]" for key in getter.keys)
            body += ["try:", f"    raw = {lookup}", "except (KeyError, TypeError, IndexError):", "    raw = MISSING"]
        else:
            body.append(f"raw = g{i}(payload)")
        store = f"s{i}(out, value)" if outbound else f"values[T{i}] = value"
        apply = []
        kind, params = plan.get("kind"), plan.get("params") or {}
        if kind == "constant":
            namespace[f"C{i}"] = params.get("value")
            apply.append(f"value = C{i}")
            inner = ""
        elif kind == "direct" and plan["function"] is not None:
            apply.append("value = raw")
            inner = ""
            if params.get("strip"):
                apply.append("if value.__class__ is str: value = value.strip()")
            if params.get("case") in ("upper", "lower"):
                apply.append(f"if value.__class__ is str: value = value.{params['case']}()")
        elif kind in ("number", "integer") and params.get("decimal_separator", ".") == "." \
                and params.get("digits") is None:
            # Plain numbers take a fast path; anything else (thousands, errors) the full transform.
            cast = "int" if kind == "integer" else "float"
            apply += [
                "value = MISSING",
                "if raw.__class__ is int or (raw.__class__ is str and raw.isascii() and raw.isdigit()):",
                f"    value = {cast}(raw)",
                "if value is MISSING:",
                "    try:",
                f"        value = f{i}(raw, payload, values)",
                "    except TransformError as exc:",
                f"        errors.append(LineError(R{i}, P{i}, raw, exc.reason, exc.code))",
                "if value is not MISSING:",
            ]
            inner = "    "
        elif plan["function"] is not None:
            apply += ["try:", f"    value = f{i}(raw, payload, values)", "except TransformError as exc:",
                      f"    errors.append(LineError(R{i}, P{i}, raw, exc.reason, exc.code))", "else:"]
            inner = "    "
        else:
            apply.append("value = raw")
            inner = ""
        if plan["validate"] is not None:
            apply += [f"{inner}{line}" for line in _inline_validation(i, plan, namespace, store)]
        else:
            apply.append(f"{inner}{store}")
        empty = "raw is MISSING or raw is None or raw == '' or (raw.__class__ is list and not raw)"
        if getter is None:
            body += apply
        elif plan["has_default"]:
            body += [f"if {empty}:", f"    raw = d{i}"] + apply
        else:
            body.append(f"if {empty}:")
            if plan["required"]:
                body.append(f"    errors.append(LineError(R{i}, P{i}, None, M{i}, 'required_missing'))")
            else:
                body.append("    pass")
            body.append("else:")
            body += ["    " + line for line in apply]
        code += ["    " + line for line in body]
    code.append(f"    return {'out' if outbound else 'values'}, errors")
    exec(compile("\n".join(code), "<hc-mapping>", "exec"), namespace)  # noqa: S102 - generated from bound names only
    return namespace["generated"]
