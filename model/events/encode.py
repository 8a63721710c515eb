"""Encoding events and outputs as JSON Lines, derived from the classes' wire fields.

Amounts are written as exact decimal strings in the profile's units (``format_units``),
keys sorted, no whitespace: the same record always gives the same bytes.

Rules: EVT-FMT-01, EVT-OUT-01.
"""

from __future__ import annotations

from functools import cache
from operator import attrgetter
from typing import Any

import orjson
from perpspec.events.fields import VERSION, Wire, unit_decimals, wire_fields
from perpspec.events.kinds import Event
from perpspec.profile import Profile, Scales
from perpspec.traceability import implements
from perpspec.units import RATE_DECIMALS, format_units


def unconvert(v: Any, wire: Wire | None, scales: Scales) -> Any:
    """Rule EVT-AMT-01. A model value as its wire value (the inverse of the decoder's converter)."""
    if wire is None or v is None:
        return v
    if wire.type == "amount":
        return format_units(v, wire.decimals(scales))
    if wire.type == "levels":
        pd, sd = scales.price_decimals, scales.size_decimals
        return [[format_units(p, pd), format_units(q, sd)] for p, q in v]
    if wire.type == "sources":
        pd = scales.price_decimals
        return [
            {"price": format_units(p, pd), "weight": format_units(w, RATE_DECIMALS), "updated_at": u}
            for p, w, u in v
        ]
    return v


def event_to_obj(event: Event, profile: Profile) -> dict[str, Any]:
    """An event as its wire object (decimal strings); fields equal to their default are left out."""
    cls: type = type(event)
    out: dict[str, Any] = {"v": VERSION, "kind": event.kind}
    for f, v in zip(wire_fields(cls), _values(cls)(event), strict=True):
        if not f.required and v == f.default:
            continue
        out[f.name] = unconvert(v, f.wire, profile.scales)
    return out


@implements("EVT-FMT-01")
def encode_event(event: Event, profile: Profile) -> bytes:
    """Rule EVT-FMT-01: an event as one JSON Lines line (sorted keys, no newline)."""
    return orjson.dumps(event_to_obj(event, profile), option=orjson.OPT_SORT_KEYS)


# (class, scales) -> (a getter of all field values as a tuple,
#                     ((field name, decimals of its amount unit or None), ...))
_OUTPUT_PLANS: dict[tuple[type, Scales], tuple[Any, tuple[tuple[str, int | None], ...]]] = {}


@cache
def _values(cls: type) -> Any:
    """A function giving the values of the class's fields as a tuple, in field order."""
    names = [f.name for f in wire_fields(cls)]
    get = attrgetter(*names)
    return get if len(names) > 1 else lambda obj: (get(obj),)


def _output_plan(cls: type, scales: Scales) -> tuple[Any, tuple[tuple[str, int | None], ...]]:
    plan = _OUTPUT_PLANS.get((cls, scales))
    if plan is None:
        plan = (
            _values(cls),
            tuple(
                (
                    f.name,
                    unit_decimals(f.wire.unit, scales)
                    if f.wire is not None and f.wire.type == "amount"
                    else None,
                )
                for f in wire_fields(cls)
            ),
        )
        _OUTPUT_PLANS[(cls, scales)] = plan
    return plan


@implements("EVT-OUT-01")
def output_to_obj(out: Any, profile: Profile) -> dict[str, Any]:
    """Rule EVT-OUT-01: an output record as a wire object, amounts as exact decimal strings."""
    cls = type(out)
    obj: dict[str, Any] = {"v": VERSION, "kind": cls.kind}
    values, fields = _output_plan(cls, profile.scales)
    for (name, decimals), v in zip(fields, values(out), strict=True):
        if decimals is not None and v is not None:
            v = format_units(v, decimals)
        obj[name] = v
    return obj


@implements("EVT-OUT-01")
def encode_output(out: Any, profile: Profile) -> bytes:
    """Rule EVT-OUT-01: one output as a JSON Lines line: sorted keys, exact decimal strings.

    Deterministic: the same output gives the same bytes.
    """
    return orjson.dumps(output_to_obj(out, profile), option=orjson.OPT_SORT_KEYS)
