"""The one path grammar of the suite: mapping sources and targets, sensitive (redacted) paths,
external-ID and idempotency-key paths, page-contract paths all read their paths here.

JSON (and any dict/list document): keys separated by dots, list steps in brackets, an optional
leading ``$``::

    patient.name   $.a.b   lines[0].qty   lines[-1].code   lines[*].note
    patient['national-id']   ["unit code"]   $['odata.count']

A key is any run of characters other than ``.``, ``[`` and ``]``; a key holding one of those
(or only ``*``) is quoted: ``['a.b']``. ``[n]`` is a list index (negative counts from the end),
``[*]`` every item of a list, ``[?key=value]`` the first item of a list whose ``key`` is
``value`` (compared as text; quote a value holding ``]``: ``[?system='urn:x']``), as FHIR
names things: ``link[?relation=next].url``, ``identifier[?system=urn:oid:1.2].value``.
Anything else (``a..b``, ``a[x]``, ``a[0``) is a :class:`PathError` naming the position.

XML: paths are taken relative to the document element, as the mapping engine evaluates them.
A path holding ``/``, ``@``, ``:``, ``(``, ``|`` or ``=`` is an XPath (``p:Vendor/@code``,
``//ssn``, ``Lines/Line[1]/Item``, prefixes from the namespaces given). A path in the dotted
form above names child elements by their local name, whatever their namespace, with indexes
counted from 0 as in JSON: ``patient.ids[0]`` is the first ``ids`` child of ``patient``, and
``lines[*].note`` the ``note`` of every ``lines`` element.
"""

import functools
import re

from lxml import etree

MISSING = object()


class _Wildcard(str):
    """The ``[*]`` step: a string (``step == '*'`` still reads), but told apart from a quoted
    ``['*']`` key by identity."""

    __slots__ = ()


WILDCARD = _Wildcard("*")


class Filter(tuple):
    """The ``[?key=value]`` step: ``(key, value)``, selecting the first item of a list whose
    ``key`` holds ``value`` (compared as text)."""

    __slots__ = ()

    def __new__(cls, key, value):
        return super().__new__(cls, (key, value))

    def pick(self, node):
        """The index of the first matching item of ``node`` (a list), or None."""
        key, value = self
        if isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, dict) and key in item and _text(item[key]) == value:
                    return index
        return None


def _text(value):
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


class PathError(ValueError):
    """A path that the grammar cannot read; the message names the path and the position."""


_BRACKET = re.compile(r"\[\s*(?:'([^']*)'|\"([^\"]*)\"|(\*|-?\d+))\s*\]")
_FILTER = re.compile(r"\[\?\s*([^=\]\s]+)\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|([^\]'\"]*?))\s*\]")
_KEY = re.compile(r"[^.\[\]]+")
# Marks that only an XPath uses: a path holding one is never read with the dotted grammar on XML.
XPATH_MARKS = re.compile(r"[/@:(|=]")


def looks_like_xpath(path):
    """Whether ``path`` is an XPath rather than a path of the dotted grammar (whose list filters
    ``[?key=value]`` may hold the marks an XPath uses)."""
    return bool(XPATH_MARKS.search(_FILTER.sub("", path or "")))


@functools.lru_cache(maxsize=2048)
def _parse(path):
    text = path.strip()
    pos = 1 if text.startswith("$") else 0
    steps = []
    first = True
    while pos < len(text):
        condition = _FILTER.match(text, pos)
        if condition:
            key, quoted, dquoted, bare = condition.groups()
            steps.append(Filter(key, next(v for v in (quoted, dquoted, bare) if v is not None)))
            pos, first = condition.end(), False
            continue
        bracket = _BRACKET.match(text, pos)
        if bracket:
            quoted, dquoted, index = bracket.groups()
            if index is None:
                steps.append(quoted if quoted is not None else dquoted)
            else:
                steps.append(WILDCARD if index == "*" else int(index))
            pos, first = bracket.end(), False
            continue
        if text[pos] == ".":
            pos += 1
        elif not first:
            raise PathError(f"Invalid path {path!r} at position {pos + 1}: expected '.' or a bracket "
                            "([n], [*] or ['quoted key']).")
        key = _KEY.match(text, pos)
        if not key:
            raise PathError(f"Invalid path {path!r} at position {pos + 1}: expected a key, [n], [*] or "
                            "['quoted key'] (quote keys holding '.', '[' or ']').")
        steps.append(key.group())
        pos, first = key.end(), False
    return tuple(steps)


def parse_path(path):
    """Steps of a path: keys (str), list indexes (int), :data:`WILDCARD` (``[*]``) and
    :class:`Filter` (``[?key=value]``).

    ``a.b[0].c`` -> ``['a', 'b', 0, 'c']``; ``$.a['unit-code']`` -> ``['a', 'unit-code']``;
    the empty path and ``$`` are the document itself (no step). Raises :class:`PathError`.
    """
    return list(_parse(path or ""))


def is_wildcard(step):
    return step is WILDCARD


# --- JSON ------------------------------------------------------------------------------------
def json_getter(path):
    """A function payload -> value (a list when the path has a wildcard), or MISSING."""
    steps = parse_path(path)
    wildcard = any(step is WILDCARD for step in steps)

    def get(node, index=0):
        for position in range(index, len(steps)):
            step = steps[position]
            if step is WILDCARD:
                if not isinstance(node, list):
                    return MISSING
                found = [get(item, position + 1) for item in node]
                return [value for value in found if value is not MISSING]
            if isinstance(step, int):
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    return MISSING
                node = node[step]
            elif isinstance(step, Filter):
                index = step.pick(node)
                if index is None:
                    return MISSING
                node = node[index]
            else:
                if not isinstance(node, dict) or step not in node:
                    return MISSING
                node = node[step]
        return node

    if not wildcard and all(isinstance(s, str) for s in steps):
        keys = tuple(steps)

        def get_plain(node):  # the common case, kept tight
            for key in keys:
                try:
                    node = node[key]
                except (KeyError, TypeError, IndexError):
                    return MISSING
            return node

        get_plain.keys = keys  # lets the engine inline the lookup in generated code
        return get_plain
    return get


_cached_getter = functools.lru_cache(maxsize=512)(json_getter)


def json_value(document, path):
    """The value at ``path`` in a JSON document (a list for a wildcard path), or None."""
    value = _cached_getter(path or "")(document)
    return None if value is MISSING else value


def json_locations(document, path):
    """``(container, key)`` of every value ``path`` reaches in ``document``: the places a caller
    replaces (redaction) or reads. A path that reaches nothing gives an empty list."""
    steps = _parse(path or "")
    if not steps:
        return []
    found = []

    def walk(node, position):
        step = steps[position]
        if step is WILDCARD:
            keys = range(len(node)) if isinstance(node, list) else ()
        elif isinstance(step, int):
            keys = (step,) if isinstance(node, list) and -len(node) <= step < len(node) else ()
        elif isinstance(step, Filter):
            index = step.pick(node)
            keys = () if index is None else (index,)
        else:
            keys = (step,) if isinstance(node, dict) and step in node else ()
        last = position == len(steps) - 1
        for key in keys:
            if last:
                found.append((node, key))
            else:
                walk(node[key], position + 1)

    walk(document, 0)
    return found


def json_setter(path, list_root=False):
    """A function (payload dict, value) that writes value at path, creating dicts on the way.

    ``list_root``: the payload becomes a JSON list (see :func:`list_body`), so each path begins
    with the item's position, ``[0].op``, ``[1].value`` or ``[2]`` (the whole item); the item is
    kept under that number until :func:`list_body` orders them."""
    steps = parse_path(path)
    head = None
    if list_root:
        if not steps or isinstance(steps[0], bool) or not isinstance(steps[0], int) or steps[0] < 0:
            raise PathError(f"Invalid target path {path!r}: the body is a JSON list, so a target begins with "
                            "the item's position, e.g. [0].op, [0].value, [1].op.")
        head, steps = steps[0], steps[1:]
    elif not steps:
        raise PathError(f"Invalid target path {path!r}: a target is a path of keys (a.b, a['b-c']).")
    if not all(isinstance(step, str) and step is not WILDCARD for step in steps):
        raise PathError(f"Invalid target path {path!r}: a target is a path of keys (a.b, a['b-c']), "
                        "without list steps or filters" + (" after the item's position." if list_root else "."))

    def put(payload, value):
        node = payload
        if head is not None:
            if not steps:
                payload[head] = value
                return
            node = payload.setdefault(head, {})
        for step in steps[:-1]:
            node = node.setdefault(step, {})
        node[steps[-1]] = value

    return put


def list_body(items):
    """The JSON list a list-rooted mapping's result stands for: ``{position: item}`` (what
    :func:`json_setter` wrote with ``list_root``) as its items in the order of their positions;
    a position no line filled (an optional value missing) leaves no hole."""
    return [items[position] for position in sorted(items)]


# --- XML -------------------------------------------------------------------------------------
def xml_xpath(path):
    """The XPath a path stands for on an XML document (see the module's grammar), with the
    variables it binds: key names are bound as variables, never pasted into the expression."""
    text = (path or "").strip()
    if looks_like_xpath(text):
        return text, {}
    try:
        steps = _parse(text)
    except PathError:
        return text, {}  # e.g. Line[Item]: not the dotted grammar, perhaps an XPath predicate
    parts, variables = [], {}
    positioned = False  # the last part already has its position
    for step in steps:
        if isinstance(step, Filter):
            raise PathError(f"Invalid XML path {path!r}: a list filter [?key=value] reads JSON; on XML "
                            "write an XPath predicate, e.g. Line[Code='A1'].")
        if isinstance(step, str) and step is not WILDCARD:
            name = f"k{len(variables)}"
            variables[name] = step
            parts.append(f"*[local-name()=${name}]")
            positioned = False
            continue
        if positioned:
            raise PathError(f"Invalid XML path {path!r}: an element has one position ([n] or [*] once "
                            "after a name); XML has no nested lists.")
        if not parts:
            parts.append("*")  # [n] first: the n-th child element
        if step is not WILDCARD:
            parts[-1] += f"[{step + 1}]" if step >= 0 else "[last()]" if step == -1 else f"[last(){step + 1}]"
        positioned = True
    return "/".join(parts) or ".", variables


@functools.lru_cache(maxsize=512)
def xml_selector(path, namespaces=()):
    """A function element -> list of what ``path`` selects (elements, attribute or text values,
    or one number/boolean for such an XPath), relative to that element.

    ``namespaces`` is a tuple of (prefix, uri) pairs (hashable: compiled once). A prefix they do
    not give is looked up among the prefixes the document declares on its root. Raises
    :class:`PathError` for an invalid XPath, naming the path."""
    text, variables = xml_xpath(path)
    given = dict(namespaces)
    try:
        compiled = etree.XPath(text, namespaces=given)
    except etree.XPathError as exc:
        raise PathError(f"Invalid XML path {path!r}: {exc}") from exc

    def select(element):
        try:
            found = compiled(element, **variables)
        except etree.XPathEvalError as exc:
            declared = {prefix: uri for prefix, uri in (element.nsmap or {}).items() if prefix}
            try:
                found = etree.XPath(text, namespaces={**declared, **given})(element, **variables)
            except etree.XPathError:
                raise PathError(f"Invalid XML path {path!r}: {exc}") from exc
        return found if isinstance(found, list) else [found]

    return select


def namespace_key(namespaces):
    """Namespaces (a dict, or None) as the hashable key :func:`xml_selector` takes."""
    return tuple(sorted((namespaces or {}).items()))


def xml_getter(path, namespaces=None, multiple=False):
    """A function element -> text/attribute value (list when several match), or MISSING."""
    select = xml_selector(path, namespace_key(namespaces))

    def get(element):
        found = select(element)
        if len(found) == 1 and not isinstance(found[0], (etree._Element, str)):
            return found[0]  # an XPath giving a number or a boolean
        values = [item.text if isinstance(item, etree._Element) else str(item) for item in found]
        if not values:
            return MISSING
        return values if multiple or len(values) > 1 else values[0]

    return get
