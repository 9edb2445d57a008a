"""GeoReport v2 XML, written with the standard library: element names as in the spec."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

# The element that wraps each item of a list, by the list's own element name.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def to_xml(root: str, data: Sequence[Any] | Mapping[str, Any]) -> bytes:
    """The document for a JSON-shaped answer, under `root` (a list root wraps its items)."""
    element = ET.Element(root)
    _fill(element, data)
    body: bytes = ET.tostring(element, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list | tuple):
        name = ITEM_NAMES.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, name), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:  # None stays an empty element, as the spec's examples show
        element.text = str(value)
