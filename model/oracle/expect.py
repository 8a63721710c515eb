"""``expect`` records of a production log: what the engine itself reported after an event.

:func:`decode_expect` reads one record strictly (file, line and field on error, as events are
read); :class:`Expect` holds it in model units. The comparison with the model is
:func:`perpspec.oracle.replay.check`.

Rule: ORC-RPL-02 (the expect record format).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from perpspec.decoding import FieldError, decimal_amount, describe, load_json_line
from perpspec.errors import InputError, Place
from perpspec.events.fields import unit_decimals
from perpspec.profile import Profile
from perpspec.traceability import implements

UNSET = "<unset>"

#: The amount fields of an expected fill side and their units.
FILL_UNITS: Mapping[str, str] = {
    "qty": "size",
    "price": "price",
    "fee": "money",
    "realized_pnl": "money",
    "position": "size",
}
#: The amount fields of an expected liquidation part (a ``liquidation`` output, LIQ-OUT-01).
LIQUIDATION_UNITS: Mapping[str, str] = {
    "qty": "size",
    "price": "price",
    "position": "size",
    "realized_pnl": "money",
    "fee": "money",
    "counterparty_fee": "money",
    "insurance_delta": "money",
    "deficit": "money",
}
#: Its text fields; ``slot`` defaults to ``BOTH`` when it is left out.
LIQUIDATION_TEXT = ("account", "symbol", "slot", "counterparty")
LIQUIDATION_REQUIRED = ("account", "symbol", "qty", "price")


@attrs.frozen
class Expect:
    """Rule: ORC-RPL-02. One decoded ``expect`` record (integers in model units).

    ``reject`` is the expected rejection rule, ``None`` for "accepted", or :data:`UNSET` when
    the record does not say (then a rejection is a divergence too). ``fills`` and
    ``liquidations`` are ``None`` when the record does not list them (an empty list expects
    none); ``insurance`` maps a fund to its balance after the event.
    """

    line: int
    t: int | None
    reject: str | None = UNSET
    balances: Mapping[str, int] = attrs.field(factory=dict)
    positions: Mapping[tuple[str, str, str], int] = attrs.field(factory=dict)
    funding: Mapping[str, int] = attrs.field(factory=dict)
    funding_rate: int | None = None
    fills: tuple[Mapping[str, Any], ...] | None = None
    liquidations: tuple[Mapping[str, Any], ...] | None = None
    insurance: Mapping[str, int] = attrs.field(factory=dict)


ALLOWED = (
    "v",
    "kind",
    "t",
    "reject",
    "balances",
    "positions",
    "funding",
    "funding_rate",
    "fills",
    "liquidations",
    "insurance",
)


@implements("ORC-RPL-02")
def decode_expect(raw: bytes, profile: Profile, file: str, lineno: int) -> Expect:
    """Rules: ORC-RPL-02, EVT-LIM-01. Decode an ``expect`` record strictly (file, line, field on
    error): a key given twice in one object is refused, as in events."""
    obj = load_json_line(raw, file, lineno)
    if not isinstance(obj, dict):
        raise InputError(Place(file, lineno), f"expected a JSON object per line, got {describe(obj)}")
    sc = profile.scales

    def fail(field: str, msg: str) -> InputError:
        return InputError(Place(file, lineno, field), msg)

    def amount(v: Any, unit: str, field: str) -> int:
        try:
            return decimal_amount(v, unit, unit_decimals(unit, sc), field)  # as in events (EVT-AMT-01)
        except FieldError as exc:
            raise exc.at(file, lineno) from None

    def table(v: Any, field: str, by: str = "account") -> dict[str, Any]:
        if not isinstance(v, dict):
            raise fail(field, f"expected an object keyed by {by}, got {describe(v)}")
        return v

    for key in obj:
        if key not in ALLOWED:
            raise fail(str(key), f"unknown field of an expect record; expected: {', '.join(sorted(ALLOWED))}")
    if obj.get("v") != 1 or type(obj.get("v")) is not int:
        raise fail("v", f"expected the format version 1, got {describe(obj.get('v'))}")
    t = obj.get("t")
    if t is not None and type(t) is not int:
        raise fail("t", f"expected an integer time in ms, got {describe(t)}")
    reject: str | None = UNSET
    if "reject" in obj:
        reject = obj["reject"]
        if reject is not None and not isinstance(reject, str):
            raise fail("reject", "expected a rule ID string or null")
    balances = {
        str(k): amount(v, "money", f"balances.{k}")
        for k, v in table(obj.get("balances", {}), "balances").items()
    }
    positions: dict[tuple[str, str, str], int] = {}
    for aid, pos in table(obj.get("positions", {}), "positions").items():
        for key, v in table(pos, f"positions.{aid}").items():
            sym, _, slot = str(key).partition("/")
            positions[(str(aid), sym, slot or "BOTH")] = amount(v, "size", f"positions.{aid}.{key}")
    funding = {
        str(k): amount(v, "money", f"funding.{k}")
        for k, v in table(obj.get("funding", {}), "funding").items()
    }
    rate = None
    if obj.get("funding_rate") is not None:
        rate = amount(obj["funding_rate"], "rate", "funding_rate")
    fills = None
    if "fills" in obj:
        fills = _records(obj["fills"], "fills", FILL_UNITS, ("account",), ("account",), fail, amount)
    liquidations = None
    if "liquidations" in obj:
        liquidations = _records(
            obj["liquidations"],
            "liquidations",
            LIQUIDATION_UNITS,
            LIQUIDATION_TEXT,
            LIQUIDATION_REQUIRED,
            fail,
            amount,
        )
    insurance = {
        str(k): amount(v, "money", f"insurance.{k}")
        for k, v in table(obj.get("insurance", {}), "insurance", "fund").items()
    }
    return Expect(lineno, t, reject, balances, positions, funding, rate, fills, liquidations, insurance)


def _records(
    value: Any,
    name: str,
    units: Mapping[str, str],
    text: tuple[str, ...],
    required: tuple[str, ...],
    fail: Callable[[str, str], InputError],
    amount: Callable[[Any, str, str], int],
) -> tuple[Mapping[str, Any], ...]:
    """Rule: ORC-RPL-02. A list of expected output records (fill sides, liquidation parts): each
    an object of the given text and amount fields, the ``required`` ones present."""
    if not isinstance(value, list):
        raise fail(name, f"expected a list of {name}, got {describe(value)}")
    expected = ", ".join((*text, *units))
    out = []
    for i, rec in enumerate(value):
        if not isinstance(rec, dict):
            raise fail(f"{name}[{i}]", f"expected an object, got {describe(rec)}")
        one: dict[str, Any] = {}
        for key, v in rec.items():
            field = f"{name}[{i}].{key}"
            if key in text:
                if not isinstance(v, str) or not v:
                    raise fail(field, f"expected a non-empty string, got {describe(v)}")
                one[key] = v
            elif key in units:
                one[key] = amount(v, units[key], field)
            else:
                raise fail(field, f"unknown field; expected: {expected}")
        for key in required:
            if key not in one:
                what = "string" if key in text else "amount"
                raise fail(f"{name}[{i}].{key}", f"each of {name} needs {key!r} (a {what})")
        out.append(one)
    return tuple(out)


__all__ = ["ALLOWED", "FILL_UNITS", "LIQUIDATION_UNITS", "UNSET", "Expect", "decode_expect"]
