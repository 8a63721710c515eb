"""The published JSON Schema of the event format, generated from the decoder's field table.

``model/oracle/events.schema.json`` is the output of :func:`write_schema`; a test fails when
the file is out of date (regenerate with ``python -m perpspec.oracle.schema``). The schema
checks the *shape* of a line (fields, JSON types, decimal-string syntax); whether an amount
fits the profile's scales is checked by the decoder, which knows the profile.

Rules: EVT-FMT-01, EVT-VER-01, EVT-AMT-01.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from perpspec.events import EVENT_FIELDS, ONE_OF, VERSION
from perpspec.traceability import implements

SCHEMA_PATH = Path(__file__).with_name("events.schema.json")

_DECIMAL = r"^[+-]?[0-9][0-9_]*(\.[0-9]+)?$"
_RATE = r"^[+-]?[0-9][0-9_]*(\.[0-9]+)?%?$"
_POSITIVE = r"^\+?[0-9][0-9_]*(\.[0-9]+)?$"


def _field_schema(typ: str) -> dict[str, Any]:
    if typ == "str":
        return {"type": "string", "minLength": 1}
    if typ == "time":
        return {"type": "integer", "minimum": 0, "description": "milliseconds"}
    if typ == "int":
        return {"type": "integer"}
    if typ == "pos-int":
        return {"type": "integer", "minimum": 1}
    if typ == "bool":
        return {"type": "boolean"}
    if typ == "slot":
        return {"enum": ["BOTH", "LONG", "SHORT"]}
    if typ.startswith("enum:"):
        return {"enum": typ[5:].split("|")}
    if typ == "levels":
        level = {"$ref": "#/$defs/level"}
        return {"type": "array", "items": level}
    if typ == "sources":
        return {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/source"}}
    if typ == "param":
        return {"type": ["string", "integer", "boolean"]}
    positive = typ.startswith("pos-")
    unit = typ[4:] if positive else typ
    pattern = _RATE if unit == "rate" else (_POSITIVE if positive else _DECIMAL)
    return {"type": "string", "pattern": pattern, "description": f"{unit} as an exact decimal string"}


@implements("EVT-FMT-01")
def event_schema() -> dict[str, Any]:
    """Rule: EVT-FMT-01. The JSON Schema (draft 2020-12) of one event line."""
    variants = []
    for kind in sorted(EVENT_FIELDS):
        spec = EVENT_FIELDS[kind]
        props: dict[str, Any] = {"v": {"const": VERSION}, "kind": {"const": kind}}
        required = ["v", "kind"]
        for name, typ, req in spec:
            props[name] = _field_schema(typ)
            if req:
                required.append(name)
        variant: dict[str, Any] = {
            "title": kind,
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }
        group = ONE_OF.get(kind)
        if group is not None:
            variant["oneOf"] = [{"required": [name]} for name in group]
        variants.append(variant)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://perpspec.invalid/schema/events-v{VERSION}.json",
        "title": f"perpspec event, format version {VERSION} (one JSON Lines line)",
        "$defs": {
            "level": {
                "type": "array",
                "prefixItems": [
                    {"type": "string", "pattern": _POSITIVE},
                    {"type": "string", "pattern": _POSITIVE},
                ],
                "minItems": 2,
                "maxItems": 2,
            },
            "source": {
                "type": "object",
                "properties": {
                    "price": {"type": "string", "pattern": _POSITIVE},
                    "weight": {"type": "string", "pattern": r"^\+?[0-9][0-9_]*(\.[0-9]+)?%?$"},
                    "updated_at": {"type": "integer", "minimum": 0, "description": "milliseconds"},
                },
                "required": ["price", "weight", "updated_at"],
                "additionalProperties": False,
            },
        },
        "oneOf": variants,
    }


def schema_bytes() -> bytes:
    """The schema file's exact contents (indented, sorted keys, trailing newline)."""
    return orjson.dumps(event_schema(), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the schema file (``python -m perpspec.oracle.schema``)."""
    path.write_bytes(schema_bytes())
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_schema())
