"""Redaction of sensitive values in payloads (JSON and XML) before they are stored.

Paths are read by the suite's one path grammar (:mod:`..mapping.paths`): ``patient.name``,
``patient['national-id']``, ``lines[*].note``, ``$.a.b`` on JSON; on XML the same dotted form
(elements by local name, below the document element) or an XPath (``//p:SSN``,
``Patient/@id``). Values found at a path are replaced by ``MASK`` (an XML element keeps its
name and loses its attributes and content); paths that match nothing are ignored. The input is
never modified.
"""

import copy
import json

from lxml import etree

from ..mapping.paths import PathError, json_locations, looks_like_xpath, namespace_key, parse_path, xml_selector
from .xmlsafe import parse_xml

MASK = "***"

__all__ = ["MASK", "PathError", "redact_json", "redact_text", "redact_xml"]


def _json_paths(paths):
    """The paths that apply to a JSON document. An XPath (``//ssn``, ``a/b[1]``) written for the
    XML payloads of the same flow is left out; any other unreadable path is an error."""
    usable = []
    for path in paths:
        try:
            parse_path(path)
        except PathError:
            if looks_like_xpath(path):
                continue
            raise
        usable.append(path)
    return usable


def _mask_json(document, paths):
    """Mask in place; return how many values were masked. A page of records (a JSON list) is
    masked record by record: a path written for one record (``patient.name``) applies to each,
    one that starts with a list step (``[*].patient.name``) to the page as it is."""
    count = 0
    for path in paths:
        per_record = isinstance(document, list) and not path.strip().lstrip("$").lstrip(".").startswith("[")
        for target in document if per_record else (document,):
            for container, key in json_locations(target, path):
                if container[key] != MASK:
                    container[key] = MASK
                    count += 1
    return count


def redact_json(data, paths):
    """A copy of ``data`` with the value at every path in ``paths`` replaced by ``MASK``."""
    result = copy.deepcopy(data)
    _mask_json(result, _json_paths(paths))
    return result


def _mask_xml(root, paths, namespaces=None):
    """Mask in place below ``root``; return how many values were masked."""
    key = namespace_key(namespaces)
    count = 0
    for path in paths:
        for found in xml_selector(path, key)(root):
            if isinstance(found, etree._Element):
                tail = found.tail
                found.clear()  # children, attributes and text
                found.text, found.tail = MASK, tail
            elif isinstance(found, str) and hasattr(found, "getparent") and found.getparent() is not None:
                parent = found.getparent()
                if found.is_attribute:
                    parent.set(found.attrname, MASK)
                elif found.is_tail:
                    parent.tail = MASK
                else:
                    parent.text = MASK
            else:
                continue  # a number, a boolean or a computed string: nothing stored to mask
            count += 1
    return count


def redact_xml(element, paths, namespaces=None):
    """A copy of the XML ``element`` with every node the paths select masked."""
    result = copy.deepcopy(element)
    _mask_xml(result, paths, namespaces)
    return result


def redact_text(text, paths, namespaces=None):
    """The stored form of a payload or answer given as text: JSON or XML with the paths masked.

    The text comes back unchanged when no path matches, and when it is neither JSON nor
    well-formed XML (an HTML error page, plain text): there is no structure to find a path in.
    Raises :class:`PathError` for a path the grammar cannot read.
    """
    if not text or not paths:
        return text
    if text.lstrip().startswith("<"):
        try:
            root = parse_xml(text)
        except ValueError:  # not well-formed, or a DOCTYPE (refused, never expanded)
            return text
        if not _mask_xml(root, paths, namespaces):
            return text
        declaration = text.lstrip().startswith("<?xml")
        serialized = etree.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + serialized if declaration else serialized
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if not _mask_json(document, _json_paths(paths)):
        return text
    return json.dumps(document, ensure_ascii=False)
