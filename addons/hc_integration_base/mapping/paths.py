"""Source paths: dotted JSON paths with indexes and wildcards, XPath for XML."""

import re

from lxml import etree

_TOKEN = re.compile(r"\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[(\*|-?\d+)\]|([^.\[\]]+)")
MISSING = object()


def parse_path(path):
    """Split ``a.b[0].c``, ``lines[*].qty``, ``$.a['unit-code']`` into keys, ints and '*'."""
    path = (path or "").strip()
    if path.startswith("$"):
        path = path[1:]
    steps = []
    for quoted, dquoted, index, key in _TOKEN.findall(path):
        if quoted or dquoted:
            steps.append(quoted or dquoted)
        elif index:
            steps.append(index if index == "*" else int(index))
        elif key:
            steps.append(key)
    return steps


def json_getter(path):
    """A function payload -> value (a list when the path has a wildcard), or MISSING."""
    steps = parse_path(path)
    wildcard = "*" in steps

    def get(node, index=0):
        for position in range(index, len(steps)):
            step = steps[position]
            if step == "*":
                if not isinstance(node, list):
                    return MISSING
                found = [get(item, position + 1) for item in node]
                return [value for value in found if value is not MISSING]
            if isinstance(step, int):
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    return MISSING
                node = node[step]
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


def xml_getter(path, namespaces=None, multiple=False):
    """A function element -> text/attribute value (list when several match), or MISSING."""
    xpath = etree.XPath(path, namespaces=namespaces or {})

    def get(element):
        found = xpath(element)
        if not isinstance(found, list):
            return found
        values = [item.text if isinstance(item, etree._Element) else str(item) for item in found]
        if not values:
            return MISSING
        return values if multiple or len(values) > 1 else values[0]

    return get


def json_setter(path):
    """A function (payload dict, value) that writes value at path, creating dicts on the way."""
    steps = parse_path(path)

    def put(payload, value):
        node = payload
        for step in steps[:-1]:
            node = node.setdefault(step, {})
        node[steps[-1]] = value

    return put
