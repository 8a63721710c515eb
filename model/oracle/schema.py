"""The published JSON Schema of the event format, generated from the event classes.

Each event class declares its fields' wire types once (:mod:`perpspec.events.fields`); the
decoder, the encoder and this schema are all derived from those declarations.

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
from perpspec.events import EVENT_KINDS, ONE_OF, VERSION, Wire, wire_fields
from perpspec.traceability import implements

SCHEMA_PATH = Path(__file__).with_name("events.schema.json")

_DECIMAL = r"^[+-]?[0-9][0-9_]*(\.[0-9]+)?$"
_RATE = r"^[+-]?[0-9][0-9_]*(\.[0-9]+)?%?$"
_POSITIVE = r"^\+?[0-9][0-9_]*(\.[0-9]+)?$"


def _field_schema(wire: Wire) -> dict[str, Any]:
    """Rule EVT-AMT-01. The schema of one wire type."""
    if wire.type == "text":
        return {"type": "string", "minLength": 1}
    if wire.type == "time":
        return {"type": "integer", "minimum": 0, "description": "milliseconds"}
    if wire.type == "int":
        return {"type": "integer", "minimum": 1} if wire.positive else {"type": "integer"}
    if wire.type == "bool":
        return {"type": "boolean"}
    if wire.type == "choice":
        return {"enum": list(wire.choices)}
    if wire.type == "levels":
        return {"type": "array", "items": {"$ref": "#/$defs/level"}}
    if wire.type == "sources":
        return {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/source"}}
    if wire.type == "param":
        return {"type": ["string", "integer", "boolean"]}
    pattern = _RATE if wire.unit == "rate" else (_POSITIVE if wire.positive else _DECIMAL)
    return {"type": "string", "pattern": pattern, "description": f"{wire.unit} as an exact decimal string"}


@implements("EVT-FMT-01")
def event_schema() -> dict[str, Any]:
    """Rule: EVT-FMT-01. The JSON Schema (draft 2020-12) of one event line."""
    variants = []
    for kind in sorted(EVENT_KINDS):
        props: dict[str, Any] = {"v": {"const": VERSION}, "kind": {"const": kind}}
        required = ["v", "kind"]
        for f in wire_fields(EVENT_KINDS[kind]):
            assert f.wire is not None, f"{kind}.{f.name} has no wire type"
            props[f.name] = _field_schema(f.wire)
            if f.required:
                required.append(f.name)
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
