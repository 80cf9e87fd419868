"""XML bodies over REST: a request document (dicts and lists) written as XML, an XML answer read
back as plain data when no response mapping reads it by XPath.

Writing: ``{"order": {"ref": "P1", "lines": [{"qty": 2}, {"qty": 3}]}}`` under the root
``request`` gives ``<request><order><ref>P1</ref><lines><qty>2</qty></lines><lines><qty>3</qty>
</lines></order></request>`` (a list repeats its element); a document with a single key is
that root element itself. Keys starting with ``@`` are attributes.
"""

import re

from lxml import etree

_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")


class XmlBodyError(ValueError):
    """The request cannot be written as XML (an element name XML does not allow)."""


def _text(value):
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _fill(element, value):
    if isinstance(value, dict):
        for key, item in value.items():
            key = str(key)
            if key.startswith("@"):
                element.set(_checked(key[1:]), _text(item))
            elif key == "#text":
                element.text = _text(item)
            else:
                for one in item if isinstance(item, list) else [item]:
                    _fill(etree.SubElement(element, _checked(key)), one)
    elif value is not None:
        element.text = _text(value)


def _checked(name):
    if not _NAME.match(name) or name.lower().startswith("xml"):
        raise XmlBodyError(f"{name!r} cannot be an XML element or attribute name.")
    return name


def to_xml(document, root="request"):
    """``document`` as XML bytes (UTF-8, with declaration)."""
    if isinstance(document, (bytes, str)):
        return document.encode() if isinstance(document, str) else document
    if isinstance(document, dict) and len(document) == 1 and not next(iter(document)).startswith("@") \
            and isinstance(next(iter(document.values())), dict):
        [(root, document)] = document.items()
    element = etree.Element(_checked(root or "request"))
    _fill(element, document)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def _local(tag):
    return etree.QName(tag).localname if isinstance(tag, str) else None


def to_data(element):
    """An XML answer as plain data: an element with children is a dict of its children's local
    names (a repeated name is a list), a leaf is its text; attributes are ``@name``."""
    children = [child for child in element if _local(child.tag)]
    if not children and not element.attrib:
        return (element.text or "").strip() or None
    data = {f"@{_local(name) or name}": value for name, value in element.attrib.items()}
    for child in children:
        name, value = _local(child.tag), to_data(child)
        if name in data:
            data[name] = data[name] if isinstance(data[name], list) else [data[name]]
            data[name].append(value)
        else:
            data[name] = value
    if not children and (element.text or "").strip():
        data["#text"] = element.text.strip()
    return data
