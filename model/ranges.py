"""Declared ranges of profile parameters: one per field, checked in one place.

Every numeric parameter of a profile (a variant's field, a market's tick, a bracket's rate)
declares the values it accepts where the field is defined::

    capped_interval_hours: int = ranged(0, 24, default=0)

:func:`range_problems` checks an object's fields against their declarations; the profile
loader and ``param_change`` (ENG-PAR-01) both run it through
``perpspec.profiles._checks``, so a value a profile file may not hold cannot be set by an
event either. Relations between fields (``interval_hours`` divides 24, a bracket table is
monotone) stay in the class's ``check()``.

Rule: UNT-RNG-01.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs
from perpspec.traceability import implements
from perpspec.units import RATE_ONE, format_fraction

_KEY = "perpspec.range"


@attrs.frozen
class Range:
    """Rule: UNT-RNG-01. Closed bounds ``low <= value <= high`` (``None``: unbounded), in the
    field's own units (a rate in 10^-8, money in money units, an int as is); ``why`` says what
    a value outside would break."""

    low: int | Fraction | None = None
    high: int | Fraction | None = None
    why: str = ""

    def problem(self, value: Any, unit: str = "") -> str | None:
        """Why ``value`` is out of range, or ``None``; ``unit`` (``rate``, ``money``, ``size``,
        ``price`` or empty) only words the message."""
        if value is None or isinstance(value, bool) or not isinstance(value, (int, Fraction)):
            return None
        if self.low is not None and value < self.low:
            if self.low == 0:
                said = "must not be negative"
            elif self.low == 1 and unit != "rate":
                said = "must be positive"
            else:
                said = f"must be at least {_shown(self.low, unit)}"
        elif self.high is not None and value > self.high:
            said = f"must be at most {_shown(self.high, unit)}"
        else:
            return None
        return f"{said} ({self.describe(unit)}), got {_shown(value, unit)}" + (
            f"; {self.why}" if self.why else ""
        )

    def describe(self, unit: str = "") -> str:
        """The accepted values: ``0 to 100%``, ``at least 1``, ``at most 24``, ``any value``."""
        low, high = self.low, self.high
        if low is not None and high is not None:
            return f"{_shown(low, unit)} to {_shown(high, unit)}"
        if low is not None:
            return f"at least {_shown(low, unit)}"
        if high is not None:
            return f"at most {_shown(high, unit)}"
        return "any value"


def _shown(value: int | Fraction, unit: str) -> str:
    """A bound or value in the words of the field: a rate as a percentage, an amount in the
    profile's units."""
    if unit == "rate":
        return format_fraction(Fraction(value, RATE_ONE // 100)) + "%"
    if unit:
        return f"{value} {unit} units"
    return str(value)


def within(
    low: int | Fraction | None = None, high: int | Fraction | None = None, why: str = ""
) -> dict[str, Range]:
    """The field metadata declaring ``[low, high]``: ``attrs.field(metadata=within(1))`` where a
    required field must stay visible as required to type checkers (``ranged`` hides it)."""
    return {_KEY: Range(low, high, why)}


def ranged(
    low: int | Fraction | None = None,
    high: int | Fraction | None = None,
    *,
    why: str = "",
    default: Any = attrs.NOTHING,
    **kwargs: Any,
) -> Any:
    """An attrs field whose values must lie in ``[low, high]`` (see :class:`Range`)."""
    return attrs.field(default=default, metadata={_KEY: Range(low, high, why)}, **kwargs)


def range_of(field: attrs.Attribute[Any]) -> Range | None:
    """The declared range of an attrs field, or ``None`` when it declares none."""
    got = field.metadata.get(_KEY)
    return got if isinstance(got, Range) else None


_UNITS = {"Rate": "rate", "Money": "money", "Size": "size", "Price": "price"}


def _unit_of(tp: Any) -> str:
    """``rate``/``money``/``size``/``price`` for a field typed with those NewTypes (also in
    ``X | None``, tuples and mappings), else ``""``."""
    if isinstance(tp, typing.NewType):
        return _UNITS.get(tp.__name__, "")
    for arg in typing.get_args(tp):
        unit = _unit_of(arg)
        if unit:
            return unit
    return ""


_UNIT_CACHE: dict[type, dict[str, str]] = {}


def _units(cls: type) -> dict[str, str]:
    """The unit word of each field of ``cls`` (cached per class)."""
    got = _UNIT_CACHE.get(cls)
    if got is None:
        hints = typing.get_type_hints(cls)
        got = _UNIT_CACHE[cls] = {f.name: _unit_of(hints.get(f.name)) for f in attrs.fields(cls)}
    return got


@implements("UNT-RNG-01")
def range_problems(obj: Any) -> list[tuple[str, str]]:
    """Rule: UNT-RNG-01. ``(field, message)`` for each field of the attrs object ``obj`` whose
    value lies outside its declared :class:`Range` (each element of a tuple field, named
    ``field[i]``, and each value of a mapping field, named ``field.key``, is checked). Nested
    attrs objects are the caller's to visit."""
    out: list[tuple[str, str]] = []
    units = _units(type(obj))
    for f in attrs.fields(type(obj)):
        rng = range_of(f)
        if rng is None:
            continue
        unit = units[f.name]
        value = getattr(obj, f.name)
        if isinstance(value, Mapping):
            for key, item in value.items():
                msg = rng.problem(item, unit)
                if msg is not None:
                    out.append((f"{f.name}.{key}", msg))
            continue
        if isinstance(value, tuple):
            for i, item in enumerate(value):
                msg = rng.problem(item, unit)
                if msg is not None:
                    out.append((f"{f.name}[{i}]", msg))
            continue
        msg = rng.problem(value, unit)
        if msg is not None:
            out.append((f.name, msg))
    return out
