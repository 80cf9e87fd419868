"""Transforms: each factory binds its params at compile time and returns value -> value.

A transform that cannot convert a value raises ``TransformError`` with a human reason; the
engine turns it into a line error and goes on with the other lines.
"""

import re
from datetime import date, datetime, timezone
from decimal import Decimal

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None

TRUE = {"1", "true", "yes", "y", "t", "on", "x"}
FALSE = {"0", "false", "no", "n", "f", "off", ""}
UNITS = {  # factor to the base unit of each family
    "ML": ("volume", Decimal("0.001")), "CL": ("volume", Decimal("0.01")), "L": ("volume", Decimal(1)),
    "MG": ("mass", Decimal("0.000001")), "G": ("mass", Decimal("0.001")), "KG": ("mass", Decimal(1)),
    "EA": ("count", Decimal(1)), "DZ": ("count", Decimal(12)),
}


class TransformError(ValueError):
    def __init__(self, reason, code="transform"):
        super().__init__(reason)
        self.reason = reason
        self.code = code


def direct(params, context):
    strip = params.get("strip")
    case = params.get("case")
    if not strip and not case:
        return None  # identity: the engine skips the call
    def apply(value, payload, values):
        if isinstance(value, str):
            if strip:
                value = value.strip()
            if case == "upper":
                value = value.upper()
            elif case == "lower":
                value = value.lower()
        return value
    return apply


def constant(params, context):
    value = params.get("value")
    return lambda _value, payload, values: value


def number(params, context, integer=False):
    decimal_sep = params.get("decimal_separator", ".")
    thousands = params.get("thousands_separator", "," if decimal_sep == "." else ".")
    digits = params.get("digits")
    digits = int(digits) if digits is not None else None

    def parse(value):
        cls = value.__class__
        if cls is float or cls is int:
            return value
        if cls is not str and (cls is bool or not isinstance(value, (str, int, float, Decimal))):
            raise TransformError(f"{value!r} is not a number")
        text = value.strip() if cls is str else str(value)
        if thousands and thousands in text:
            text = text.replace(thousands, "")
        if decimal_sep != "." and decimal_sep in text:
            text = text.replace(decimal_sep, ".")
        try:
            result = float(text.replace(" ", ""))
        except ValueError:
            raise TransformError(f"'{value}' is not a number") from None
        if result != result or result in (float("inf"), float("-inf")):
            raise TransformError(f"'{value}' is not a finite number")
        return result

    if integer:
        def apply(value, payload, values):
            result = parse(value)
            if result != int(result):
                raise TransformError(f"'{value}' is not a whole number")
            return int(result)
    elif digits is not None:
        def apply(value, payload, values):
            return round(float(parse(value)), digits)
    else:
        def apply(value, payload, values):
            return float(parse(value))
    return apply


def integer(params, context):
    return number(params, context, integer=True)


def boolean(params, context):
    def apply(value, payload, values):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise TransformError(f"'{value}' is not a yes/no value")
    return apply


def _zone(name):
    if not name or name.upper() == "UTC" or ZoneInfo is None:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - unknown zone names are a configuration error
        raise TransformError(f"unknown time zone '{name}'", code="configuration") from None


def date_(params, context, outbound=False):
    fmt = params.get("format", "%Y-%m-%d")

    def apply(value, payload, values):
        if outbound:
            return value.strftime(fmt) if isinstance(value, (date, datetime)) else value
        if isinstance(value, date):
            return value
        try:
            return datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            raise TransformError(f"'{value}' is not a date in format {fmt}") from None
    return apply


def datetime_(params, context, outbound=False):
    fmt = params.get("format", "%Y-%m-%dT%H:%M:%S")
    zone = _zone(params.get("tz") or getattr(context, "timezone", None))

    def apply(value, payload, values):
        if outbound:
            if isinstance(value, datetime):
                return value.replace(tzinfo=timezone.utc).astimezone(zone).strftime(fmt)
            return value
        try:
            parsed = datetime.strptime(str(value).strip(), fmt)
        except ValueError:
            raise TransformError(f"'{value}' is not a date-time in format {fmt}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(timezone.utc).replace(tzinfo=None)  # naive UTC, as Odoo stores
    return apply


def unit_conversion(params, context):
    if params.get("factor") is not None:
        factor = Decimal(str(params["factor"]))
    else:
        source, target = UNITS.get(str(params.get("from")).upper()), UNITS.get(str(params.get("to")).upper())
        if not source or not target or source[0] != target[0]:
            raise TransformError(f"cannot convert {params.get('from')} to {params.get('to')}", code="configuration")
        factor = source[1] / target[1]
    to_number = number(params, context)

    def apply(value, payload, values):  # Decimal keeps 0.1 * 3 == 0.3
        return float(Decimal(str(to_number(value, payload, values))) * factor)
    return apply


def concat(params, context):
    separator = params.get("separator", " ")
    def apply(value, payload, values):
        parts = value if isinstance(value, list) else [value]
        return separator.join(str(p) for p in parts if p not in (None, ""))
    return apply


def split(params, context):
    separator = params.get("separator", " ")
    index = int(params.get("index", 0))
    def apply(value, payload, values):
        parts = str(value).split(separator)
        if not -len(parts) <= index < len(parts):
            raise TransformError(f"'{value}' has no part {index} when split on '{separator}'")
        return parts[index].strip()
    return apply


def value_map(params, context, outbound=False):
    """Legacy code -> Odoo value (inbound); in an outbound mapping the same table is read the other
    way: an Odoo value, record id, record ({"id", "name"}) or record name -> its legacy code."""
    table = params.get("table")
    if not table:
        raise TransformError("a value map transform needs a table", code="configuration")
    lookup = context.value_map

    def apply(value, payload, values):
        if outbound and isinstance(value, dict) and "id" in value:
            value = value["id"]
        if isinstance(value, (list, dict)):
            raise TransformError(f"expected one code for value map '{table}', got {value!r}")
        try:
            return lookup(table, value, reverse=True) if outbound else lookup(table, value)
        except KeyError:
            what = "value" if outbound else "code"
            raise TransformError(f"{what} '{value}' not found in value map '{table}'",
                                 code="value_map_missing") from None
    return apply


def many2one(params, context):
    model = params.get("model")
    by = params.get("by", "binding")
    if by == "value_map":
        return value_map(params, context)
    resolve = context.resolve

    def apply(value, payload, values):
        record_id = resolve(by, model, value, params)
        if not record_id:
            raise TransformError(f"no {model} found for '{value}' (by {by})", code="not_found")
        return record_id
    return apply


def expression(params, context):
    text = params.get("expression")
    if not text:
        raise TransformError("an expression transform needs an expression", code="configuration")
    evaluate = context.evaluate

    def apply(value, payload, values):
        try:
            return evaluate(text, {"value": value, "payload": payload, "values": dict(values)})
        except Exception as exc:  # noqa: BLE001 - any error of a consultant's expression is a line error
            raise TransformError(f"expression failed: {exc}") from None
    return apply


FACTORIES = {
    "direct": direct, "constant": constant, "number": number, "integer": integer, "boolean": boolean,
    "date": date_, "datetime": datetime_, "unit_conversion": unit_conversion, "concat": concat,
    "split": split, "value_map": value_map, "many2one": many2one, "expression": expression,
}
OUTBOUND_AWARE = {"date": date_, "datetime": datetime_, "value_map": value_map}
NO_SOURCE = {"constant"}

_REGEX_CACHE = {}


def compile_regex(pattern):
    if pattern not in _REGEX_CACHE:
        _REGEX_CACHE[pattern] = re.compile(pattern)
    return _REGEX_CACHE[pattern]
