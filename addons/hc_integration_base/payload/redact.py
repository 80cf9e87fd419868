"""Redaction of sensitive values in JSON payloads before they are stored.

Paths use the mapping syntax: ``patient.name``, ``lines[0].note``, ``lines[*].note``,
``$.a.b`` (leading ``$.`` optional). Values found at a path are replaced by ``MASK``;
paths that match nothing are ignored. The input is not modified.
"""

import copy
import re

MASK = "***"
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


def parse_path(path):
    """Split a path into keys (str) and list indexes (int, or '*' for every element)."""
    path = path.strip()
    if path.startswith("$"):
        path = path[1:].lstrip(".")
    steps = []
    for key, index in _TOKEN.findall(path):
        if key:
            steps.append(key)
        else:
            steps.append(index if index == "*" else int(index))
    return steps


def _mask(node, steps):
    if not steps:
        return
    step, rest = steps[0], steps[1:]
    if isinstance(step, str) and step != "*":
        if isinstance(node, dict) and step in node:
            if rest:
                _mask(node[step], rest)
            else:
                node[step] = MASK
    elif isinstance(node, list):
        targets = range(len(node)) if step == "*" else [step] if -len(node) <= step < len(node) else []
        for i in targets:
            if rest:
                _mask(node[i], rest)
            else:
                node[i] = MASK


def redact_json(data, paths):
    """A copy of ``data`` with the value at every path in ``paths`` replaced by ``MASK``."""
    result = copy.deepcopy(data)
    for path in paths:
        _mask(result, parse_path(path))
    return result
