"""Wire types of event and output fields: each field's type is declared once, on its attrs class.

An event or output class annotates each field with its wire type (``qty: PositiveSize``):
an :data:`typing.Annotated` int, str or bool carrying a :class:`Wire`. From that one
declaration come the strict decoder (:mod:`perpspec.events.wire`), the encoder
(:mod:`perpspec.events.encode`) and the JSON Schema (:mod:`perpspec.oracle.schema`).

Wire types (rule EVT-AMT-01): ``time`` (JSON integer >= 0, ms), ``int`` (JSON integer,
``positive``: > 0), ``text`` (non-empty string), ``bool``, ``choice`` (one of
``choices``), ``amount`` (a decimal string in the profile's ``unit``: price, size, money or
rate; ``positive``: > 0), ``levels`` (a list of ``[price, size]`` pairs), ``sources`` (a
non-empty list of index constituents ``{"price", "weight", "updated_at"}``) and ``param``
(a string, integer or boolean). A field whose default is ``None`` or another value is
optional on the wire (left out: the default applies).

Rules: EVT-FMT-01, EVT-AMT-01, EVT-LIM-01.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

import attrs
from perpspec.decoding import FieldError, check_int, describe
from perpspec.decoding import decimal_amount as amount
from perpspec.profile import Scales
from perpspec.traceability import implements
from perpspec.units import RATE_DECIMALS

#: The event format version this model reads and writes (rule EVT-VER-01).
VERSION = 1

SLOTS = ("BOTH", "LONG", "SHORT")
AMOUNT_UNITS = ("price", "size", "money", "rate")


@attrs.frozen
class Wire:
    """Rule EVT-AMT-01. How one field is written on the wire (see the module docstring)."""

    type: str
    unit: str = ""
    positive: bool = False
    choices: tuple[str, ...] = ()

    def decimals(self, scales: Scales) -> int:
        """The decimals of this amount's unit under ``scales``."""
        return unit_decimals(self.unit, scales)


def unit_decimals(unit: str, scales: Scales) -> int:
    """Decimals of ``unit`` (price, size, money, rate) under ``scales`` (rates: 10^-8)."""
    if unit == "price":
        return scales.price_decimals
    if unit == "size":
        return scales.size_decimals
    if unit == "money":
        return scales.money_decimals
    return RATE_DECIMALS


def choice(*options: str) -> Wire:
    """A string that must be one of ``options``."""
    return Wire("choice", choices=options)


# The annotations event and output classes use (one per wire type).
Time = Annotated[int, Wire("time")]
Text = Annotated[str, Wire("text")]
Flag = Annotated[bool, Wire("bool")]
PositiveInt = Annotated[int, Wire("int", positive=True)]
Slot = Annotated[str, choice(*SLOTS)]
Price = Annotated[int, Wire("amount", "price")]
Size = Annotated[int, Wire("amount", "size")]
Money = Annotated[int, Wire("amount", "money")]
Rate = Annotated[int, Wire("amount", "rate")]
PositivePrice = Annotated[int, Wire("amount", "price", positive=True)]
PositiveSize = Annotated[int, Wire("amount", "size", positive=True)]
PositiveMoney = Annotated[int, Wire("amount", "money", positive=True)]
OptionalPrice = Annotated[int | None, Wire("amount", "price")]
OptionalPositivePrice = Annotated[int | None, Wire("amount", "price", positive=True)]
OptionalRate = Annotated[int | None, Wire("amount", "rate")]
Levels = Annotated[tuple[tuple[int, int], ...], Wire("levels")]
Sources = Annotated[tuple[tuple[int, int, int], ...] | None, Wire("sources")]
Param = Annotated[str | int | bool, Wire("param")]


@attrs.frozen
class WireField:
    """One field of a class on the wire: its name, wire type (``None``: written as it is),
    whether the wire must give it, and its default."""

    name: str
    wire: Wire | None
    required: bool
    default: Any


@cache
@implements("EVT-FMT-01")
def wire_fields(cls: type) -> tuple[WireField, ...]:
    """Rule EVT-FMT-01. The wire fields of an event or output class, in declaration order."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in attrs.fields(cls):
        hint = hints[f.name]
        meta = typing.get_args(hint)[1:] if typing.get_origin(hint) is Annotated else ()
        wire = next((m for m in meta if isinstance(m, Wire)), None)
        required = f.default is attrs.NOTHING
        out.append(WireField(f.name, wire, required, None if required else f.default))
    return tuple(out)


# --------------------------------------------------------------------------- strict checks

#: ``convert(value, field, scales) -> model value``; raises FieldError on bad input.
Converter = Callable[[Any, str, Scales], Any]


def _integer(wire: Wire) -> Converter:
    def conv(v: Any, field: str, scales: Scales) -> Any:
        if type(v) is not int:
            raise FieldError(field, f"expected an integer, got {describe(v)}")
        check_int(v, field)
        if wire.type == "time" and v < 0:
            raise FieldError(field, f"time must be >= 0 ms, got {v}")
        if wire.positive and v <= 0:
            raise FieldError(field, f"expected a positive integer, got {v}")
        return v

    return conv


def _text(v: Any, field: str, scales: Scales) -> Any:
    if not isinstance(v, str) or not v:
        raise FieldError(field, f"expected a non-empty string, got {describe(v)}")
    return v


def _flag(v: Any, field: str, scales: Scales) -> Any:
    if type(v) is not bool:
        raise FieldError(field, f"expected true or false, got {describe(v)}")
    return v


def _choice(wire: Wire) -> Converter:
    def conv(v: Any, field: str, scales: Scales) -> Any:
        if type(v) is not str or v not in wire.choices:
            raise FieldError(field, f"expected one of {', '.join(wire.choices)}, got {describe(v)}")
        return v

    return conv


def _amount(wire: Wire) -> Converter:
    def conv(v: Any, field: str, scales: Scales) -> Any:
        n = amount(v, wire.unit, wire.decimals(scales), field)
        if wire.positive and n <= 0:
            raise FieldError(field, f"expected a positive {wire.unit}, got {describe(v)}")
        return n

    return conv


def _levels(v: Any, field: str, scales: Scales) -> Any:
    if not isinstance(v, list):
        raise FieldError(field, f"expected a list of [price, size] pairs, got {describe(v)}")
    out = []
    pd, sd = scales.price_decimals, scales.size_decimals
    for i, lvl in enumerate(v):
        if not isinstance(lvl, list) or len(lvl) != 2:
            raise FieldError(f"{field}[{i}]", f"expected a [price, size] pair, got {describe(lvl)}")
        p = amount(lvl[0], "price", pd, f"{field}[{i}][0]")
        q = amount(lvl[1], "size", sd, f"{field}[{i}][1]")
        if p <= 0 or q <= 0:
            raise FieldError(f"{field}[{i}]", "price and size of a book level must be positive")
        out.append((p, q))
    return tuple(out)


SOURCE_KEYS = ("price", "updated_at", "weight")


def _sources(v: Any, field: str, scales: Scales) -> Any:
    if not isinstance(v, list) or not v:
        raise FieldError(field, f"expected a non-empty list of index constituents, got {describe(v)}")
    out = []
    for i, src in enumerate(v):
        where = f"{field}[{i}]"
        if not isinstance(src, dict):
            raise FieldError(where, f"expected an object {{price, weight, updated_at}}, got {describe(src)}")
        for key in src:
            if key not in SOURCE_KEYS:
                raise FieldError(
                    f"{where}.{key}", f"unknown field {key!r}; expected: {', '.join(SOURCE_KEYS)}"
                )
        for key in SOURCE_KEYS:
            if key not in src:
                raise FieldError(f"{where}.{key}", f"missing field {key!r} of an index constituent")
        p = amount(src["price"], "price", scales.price_decimals, f"{where}.price")
        if p <= 0:
            raise FieldError(f"{where}.price", f"expected a positive price, got {describe(src['price'])}")
        w = amount(src["weight"], "rate", RATE_DECIMALS, f"{where}.weight")
        if w < 0:
            raise FieldError(
                f"{where}.weight", f"a weight must not be negative, got {describe(src['weight'])}"
            )
        u = src["updated_at"]
        if type(u) is not int or u < 0:
            raise FieldError(f"{where}.updated_at", f"expected a time >= 0 in ms, got {describe(u)}")
        check_int(u, f"{where}.updated_at")
        out.append((p, w, u))
    return tuple(out)


def _param(v: Any, field: str, scales: Scales) -> Any:
    if isinstance(v, float) or not isinstance(v, (str, int, bool)):
        raise FieldError(field, f"expected a string, integer or boolean, got {describe(v)}")
    if type(v) is int:
        check_int(v, field)
    return v


@cache
@implements("EVT-AMT-01")
def converter(wire: Wire) -> Converter:
    """Rule EVT-AMT-01. The strict converter of one wire type (wire value -> model value)."""
    if wire.type in ("time", "int"):
        return _integer(wire)
    if wire.type == "amount":
        return _amount(wire)
    if wire.type == "choice":
        return _choice(wire)
    simple: dict[str, Converter] = {
        "text": _text,
        "bool": _flag,
        "levels": _levels,
        "sources": _sources,
        "param": _param,
    }
    return simple[wire.type]
