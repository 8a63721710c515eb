"""Events in, outputs out: the exchange's input log and its typed results, as JSON Lines.

An event log is a JSON Lines file, one event per line, each an object with ``"v": 1``, a
``"kind"`` tag, an integer time ``"t"`` in milliseconds and the kind's fields (spec/events.md).
Every amount is a decimal *string* converted with the profile's scales at decode time
(rule UNT-DEC-01): a price with ``price_decimals``, a size with ``size_decimals``, money with
``money_decimals``, a rate in ``10^-8``. Decoding is strict: an unknown field, a missing
field, a wrong type or an amount that does not fit the scale is an
:class:`perpspec.errors.InputError` naming file, line and field.

A fill is one *trade* with both sides (buyer and seller): both accounts change in the same
event, so open interest long == open interest short after every event (INV-02).

Rules: EVT-FMT-01, EVT-VER-01, EVT-AMT-01, EVT-TRD-01, EVT-OUT-01.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs
import orjson
from perpspec.errors import InputError, Place
from perpspec.profile import Profile
from perpspec.traceability import implements
from perpspec.units import RATE_DECIMALS, format_units, parse_units

#: The event format version this model reads and writes (rule EVT-VER-01).
VERSION = 1

SLOTS = ("BOTH", "LONG", "SHORT")


# --------------------------------------------------------------------------- events


@attrs.frozen(slots=True)
class Deposit:
    """Credit ``amount`` (money units) to ``account``; creates the account if new."""

    kind: ClassVar[str] = "deposit"
    t: int
    account: str
    amount: int


@attrs.frozen(slots=True)
class Withdraw:
    """Debit ``amount`` (money units) from ``account`` (rule ENG-WDR-01)."""

    kind: ClassVar[str] = "withdraw"
    t: int
    account: str
    amount: int


@implements("EVT-TRD-01")
@attrs.frozen(slots=True)
class Fill:
    """One trade of ``qty`` size units at ``price`` between ``buyer`` and ``seller``.

    ``maker`` names the resting side (``"buyer"`` or ``"seller"``); the other is the taker.
    A fee rate of ``None`` takes the profile's maker or taker rate. ``*_slot`` is the
    position slot each side trades (``BOTH`` in one-way mode, ``LONG``/``SHORT`` in hedge
    mode). Rule: EVT-TRD-01.
    """

    kind: ClassVar[str] = "fill"
    t: int
    symbol: str
    qty: int
    price: int
    buyer: str
    seller: str
    maker: str
    buyer_slot: str = "BOTH"
    seller_slot: str = "BOTH"
    buyer_fee_rate: int | None = None
    seller_fee_rate: int | None = None
    buyer_reduce_only: bool = False
    seller_reduce_only: bool = False


@attrs.frozen(slots=True)
class SetLeverage:
    """Set ``account``'s leverage on ``symbol`` (rule ENG-LEV-01)."""

    kind: ClassVar[str] = "set_leverage"
    t: int
    account: str
    symbol: str
    leverage: int


@attrs.frozen(slots=True)
class SetMarginMode:
    """Switch ``account``'s ``symbol`` position between ``cross`` and ``isolated``."""

    kind: ClassVar[str] = "set_margin_mode"
    t: int
    account: str
    symbol: str
    mode: str


@attrs.frozen(slots=True)
class SetPositionMode:
    """Switch ``account`` between ``one-way`` and ``hedge`` position mode."""

    kind: ClassVar[str] = "set_position_mode"
    t: int
    account: str
    mode: str


@attrs.frozen(slots=True)
class IsolatedMarginTransfer:
    """Move ``amount`` (signed money units; > 0 adds) between collateral and an isolated position."""

    kind: ClassVar[str] = "isolated_margin_transfer"
    t: int
    account: str
    symbol: str
    amount: int
    slot: str = "BOTH"


@attrs.frozen(slots=True)
class IndexPrice:
    """The index price of ``symbol``: the venue's ``price``, or ``sources`` (constituent quotes
    ``(price, weight, updated_at ms)``) from which the profile's ``[index]`` variant computes it
    (rule ENG-IDX-01). Exactly one of the two is given."""

    kind: ClassVar[str] = "index_price"
    t: int
    symbol: str
    price: int | None = None
    sources: tuple[tuple[int, int, int], ...] | None = None


@attrs.frozen(slots=True)
class OraclePrice:
    """The oracle price of ``symbol`` (venues that value positions at an oracle)."""

    kind: ClassVar[str] = "oracle_price"
    t: int
    symbol: str
    price: int


@attrs.frozen(slots=True)
class MarkPrice:
    """The mark price of ``symbol`` as published by the venue."""

    kind: ClassVar[str] = "mark_price"
    t: int
    symbol: str
    price: int


@attrs.frozen(slots=True)
class BookSnapshot:
    """Order-book levels ``((price, size), ...)`` best first, for impact prices."""

    kind: ClassVar[str] = "book_snapshot"
    t: int
    symbol: str
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


@attrs.frozen(slots=True)
class FundingSample:
    """One premium sample (rate units 10^-8) for ``symbol``'s funding; ``None`` lets the
    profile's funding variant take the sample from the market's prices and book (FND-ENG-02)."""

    kind: ClassVar[str] = "funding_sample"
    t: int
    symbol: str
    premium: int | None = None


@attrs.frozen(slots=True)
class FundingSettlement:
    """Settle ``symbol``'s funding; ``rate`` replays the venue's rate, ``None`` computes it."""

    kind: ClassVar[str] = "funding_settlement"
    t: int
    symbol: str
    rate: int | None = None


@attrs.frozen(slots=True)
class ClockTick:
    """Time passes; nothing else happens."""

    kind: ClassVar[str] = "clock_tick"
    t: int


@attrs.frozen(slots=True)
class ParamChange:
    """Set profile parameter ``path`` (e.g. ``fees.taker_rate``) to ``value`` (TOML-style)."""

    kind: ClassVar[str] = "param_change"
    t: int
    path: str
    value: str | int | bool


Event = (
    Deposit
    | Withdraw
    | Fill
    | SetLeverage
    | SetMarginMode
    | SetPositionMode
    | IsolatedMarginTransfer
    | IndexPrice
    | OraclePrice
    | MarkPrice
    | BookSnapshot
    | FundingSample
    | FundingSettlement
    | ClockTick
    | ParamChange
)

EVENT_TYPES: tuple[type, ...] = (
    Deposit,
    Withdraw,
    Fill,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
    IsolatedMarginTransfer,
    IndexPrice,
    OraclePrice,
    MarkPrice,
    BookSnapshot,
    FundingSample,
    FundingSettlement,
    ClockTick,
    ParamChange,
)
EVENT_KINDS: dict[str, type] = {cls.kind: cls for cls in EVENT_TYPES}  # type: ignore[attr-defined]

# Field types of the wire format. A field is (name, type, required). Types:
#   "time" (JSON integer >= 0, ms), "int" (JSON integer), "str" (non-empty string),
#   "bool", "price" / "size" / "money" / "rate" (decimal strings in the profile's units),
#   "pos-*" (strictly positive), "slot", "enum:a|b", "levels" (list of [price, size] pairs),
#   "param" (string, integer or boolean), "sources" (list of index constituents
#   {"price": P > 0, "weight": R >= 0, "updated_at": ms}).
FieldSpec = tuple[str, str, bool]

#: Kinds whose optional fields must hold exactly one of a group (checked after decoding).
ONE_OF: dict[str, tuple[str, ...]] = {"index_price": ("price", "sources")}

EVENT_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "deposit": (("t", "time", True), ("account", "str", True), ("amount", "pos-money", True)),
    "withdraw": (("t", "time", True), ("account", "str", True), ("amount", "pos-money", True)),
    "fill": (
        ("t", "time", True),
        ("symbol", "str", True),
        ("qty", "pos-size", True),
        ("price", "pos-price", True),
        ("buyer", "str", True),
        ("seller", "str", True),
        ("maker", "enum:buyer|seller", True),
        ("buyer_slot", "slot", False),
        ("seller_slot", "slot", False),
        ("buyer_fee_rate", "rate", False),
        ("seller_fee_rate", "rate", False),
        ("buyer_reduce_only", "bool", False),
        ("seller_reduce_only", "bool", False),
    ),
    "set_leverage": (
        ("t", "time", True),
        ("account", "str", True),
        ("symbol", "str", True),
        ("leverage", "pos-int", True),
    ),
    "set_margin_mode": (
        ("t", "time", True),
        ("account", "str", True),
        ("symbol", "str", True),
        ("mode", "enum:cross|isolated", True),
    ),
    "set_position_mode": (
        ("t", "time", True),
        ("account", "str", True),
        ("mode", "enum:one-way|hedge", True),
    ),
    "isolated_margin_transfer": (
        ("t", "time", True),
        ("account", "str", True),
        ("symbol", "str", True),
        ("amount", "money", True),
        ("slot", "slot", False),
    ),
    "index_price": (
        ("t", "time", True),
        ("symbol", "str", True),
        ("price", "pos-price", False),
        ("sources", "sources", False),
    ),
    "oracle_price": (("t", "time", True), ("symbol", "str", True), ("price", "pos-price", True)),
    "mark_price": (("t", "time", True), ("symbol", "str", True), ("price", "pos-price", True)),
    "book_snapshot": (
        ("t", "time", True),
        ("symbol", "str", True),
        ("bids", "levels", True),
        ("asks", "levels", True),
    ),
    "funding_sample": (("t", "time", True), ("symbol", "str", True), ("premium", "rate", False)),
    "funding_settlement": (("t", "time", True), ("symbol", "str", True), ("rate", "rate", False)),
    "clock_tick": (("t", "time", True),),
    "param_change": (("t", "time", True), ("path", "str", True), ("value", "param", True)),
}


class _FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message


def _describe(v: Any) -> str:
    if isinstance(v, float):
        return f'the JSON number {v!r} (write amounts as decimal strings, e.g. "{v}"; perpspec is exact)'
    if isinstance(v, str):
        return f"the string {v!r}"
    return f"{type(v).__name__} {v!r}"


def _decimals(profile: Profile, unit: str) -> int:
    s = profile.scales
    return {
        "price": s.price_decimals,
        "size": s.size_decimals,
        "money": s.money_decimals,
        "rate": RATE_DECIMALS,
    }[unit]


def _amount(v: Any, unit: str, decimals: int, field: str) -> int:
    if not isinstance(v, str):
        raise _FieldError(field, f"expected {unit} as a decimal string, got {_describe(v)}")
    if unit != "rate" and "%" in v:
        raise _FieldError(field, f"a percentage is only allowed for rates, got {v!r} for a {unit}")
    try:
        return parse_units(v, decimals)
    except ValueError as exc:
        raise _FieldError(field, f"bad {unit}: {exc}") from None


# One converter per wire type, built once: ``conv(value, field, profile) -> model value``
# (raises _FieldError). _convert and decode_obj both use them.
_Converter = Callable[[Any, str, Profile], Any]


def _conv_str(v: Any, field: str, profile: Profile) -> Any:
    if not isinstance(v, str) or not v:
        raise _FieldError(field, f"expected a non-empty string, got {_describe(v)}")
    return v


def _conv_bool(v: Any, field: str, profile: Profile) -> Any:
    if type(v) is not bool:
        raise _FieldError(field, f"expected true or false, got {_describe(v)}")
    return v


def _conv_slot(v: Any, field: str, profile: Profile) -> Any:
    if v not in SLOTS:
        raise _FieldError(field, f"expected one of {', '.join(SLOTS)}, got {_describe(v)}")
    return v


def _conv_levels(v: Any, field: str, profile: Profile) -> Any:
    if not isinstance(v, list):
        raise _FieldError(field, f"expected a list of [price, size] pairs, got {_describe(v)}")
    out = []
    pd, sd = profile.scales.price_decimals, profile.scales.size_decimals
    for i, lvl in enumerate(v):
        if not isinstance(lvl, list) or len(lvl) != 2:
            raise _FieldError(f"{field}[{i}]", f"expected a [price, size] pair, got {_describe(lvl)}")
        p = _amount(lvl[0], "price", pd, f"{field}[{i}][0]")
        q = _amount(lvl[1], "size", sd, f"{field}[{i}][1]")
        if p <= 0 or q <= 0:
            raise _FieldError(f"{field}[{i}]", "price and size of a book level must be positive")
        out.append((p, q))
    return tuple(out)


_SOURCE_KEYS = ("price", "updated_at", "weight")


def _conv_sources(v: Any, field: str, profile: Profile) -> Any:
    if not isinstance(v, list) or not v:
        raise _FieldError(field, f"expected a non-empty list of index constituents, got {_describe(v)}")
    out = []
    pd = profile.scales.price_decimals
    for i, src in enumerate(v):
        where = f"{field}[{i}]"
        if not isinstance(src, dict):
            raise _FieldError(
                where, f"expected an object {{price, weight, updated_at}}, got {_describe(src)}"
            )
        for key in src:
            if key not in _SOURCE_KEYS:
                raise _FieldError(
                    f"{where}.{key}", f"unknown field {key!r}; expected: {', '.join(_SOURCE_KEYS)}"
                )
        for key in _SOURCE_KEYS:
            if key not in src:
                raise _FieldError(f"{where}.{key}", f"missing field {key!r} of an index constituent")
        p = _amount(src["price"], "price", pd, f"{where}.price")
        if p <= 0:
            raise _FieldError(f"{where}.price", f"expected a positive price, got {src['price']!r}")
        w = _amount(src["weight"], "rate", RATE_DECIMALS, f"{where}.weight")
        if w < 0:
            raise _FieldError(f"{where}.weight", f"a weight must not be negative, got {src['weight']!r}")
        u = src["updated_at"]
        if type(u) is not int or u < 0:
            raise _FieldError(f"{where}.updated_at", f"expected a time >= 0 in ms, got {_describe(u)}")
        out.append((p, w, u))
    return tuple(out)


def _conv_param(v: Any, field: str, profile: Profile) -> Any:
    if isinstance(v, float) or not isinstance(v, (str, int, bool)):
        raise _FieldError(field, f"expected a string, integer or boolean, got {_describe(v)}")
    return v


def _conv_int(typ: str) -> _Converter:
    def conv(v: Any, field: str, profile: Profile) -> Any:
        if type(v) is not int:
            raise _FieldError(field, f"expected an integer, got {_describe(v)}")
        if typ == "time" and v < 0:
            raise _FieldError(field, f"time must be >= 0 ms, got {v}")
        if typ == "pos-int" and v <= 0:
            raise _FieldError(field, f"expected a positive integer, got {v}")
        return v

    return conv


def _conv_enum(typ: str) -> _Converter:
    options = typ[5:].split("|")

    def conv(v: Any, field: str, profile: Profile) -> Any:
        if v not in options:
            raise _FieldError(field, f"expected one of {', '.join(options)}, got {_describe(v)}")
        return v

    return conv


_SCALE_FIELDS = {"price": "price_decimals", "size": "size_decimals", "money": "money_decimals"}


def _conv_amount(typ: str) -> _Converter:
    positive = typ.startswith("pos-")
    unit = typ[4:] if positive else typ
    attr = _SCALE_FIELDS.get(unit)

    def conv(v: Any, field: str, profile: Profile) -> Any:
        decimals = getattr(profile.scales, attr) if attr is not None else _decimals(profile, unit)
        n = _amount(v, unit, decimals, field)
        if positive and n <= 0:
            raise _FieldError(field, f"expected a positive {unit}, got {v!r}")
        return n

    return conv


_CONVERTERS: dict[str, _Converter] = {}


def _converter(typ: str) -> _Converter:
    conv = _CONVERTERS.get(typ)
    if conv is None:
        if typ == "str":
            conv = _conv_str
        elif typ in ("time", "int", "pos-int"):
            conv = _conv_int(typ)
        elif typ == "bool":
            conv = _conv_bool
        elif typ == "slot":
            conv = _conv_slot
        elif typ.startswith("enum:"):
            conv = _conv_enum(typ)
        elif typ == "levels":
            conv = _conv_levels
        elif typ == "param":
            conv = _conv_param
        elif typ == "sources":
            conv = _conv_sources
        else:
            conv = _conv_amount(typ)
        _CONVERTERS[typ] = conv
    return conv


@implements("EVT-AMT-01")
def _convert(v: Any, typ: str, field: str, profile: Profile) -> Any:
    """Rule EVT-AMT-01: one wire value converted to its model type, or a _FieldError."""
    return _converter(typ)(v, field, profile)


# kind -> (its EVENT_FIELDS entry, allowed keys, sorted field names, (name, converter, required)...)
_KIND_TABLES: dict[str, tuple[Any, frozenset[str], str, tuple[tuple[str, _Converter, bool], ...]]] = {}


def _kind_table(
    kind: str, spec: tuple[FieldSpec, ...]
) -> tuple[Any, frozenset[str], str, tuple[tuple[str, _Converter, bool], ...]]:
    hit = _KIND_TABLES.get(kind)
    if hit is not None and hit[0] is spec:
        return hit
    names = {name for name, _, _ in spec}
    table = (
        spec,
        frozenset(names | {"v", "kind"}),
        ", ".join(sorted(names)),
        tuple((name, _converter(typ), required) for name, typ, required in spec),
    )
    _KIND_TABLES[kind] = table
    return table


@implements("EVT-FMT-01", "EVT-VER-01")
def decode_obj(obj: Any, profile: Profile) -> Event:
    """Rules: EVT-FMT-01, EVT-VER-01. A parsed JSON object as an event (raises _FieldError)."""
    if not isinstance(obj, dict):
        raise _FieldError("", f"expected a JSON object per line, got {_describe(obj)}")
    if "v" not in obj:
        raise _FieldError("v", f"missing field 'v' (the format version, {VERSION})")
    if type(obj["v"]) is not int or obj["v"] != VERSION:
        raise _FieldError(
            "v", f"unsupported event format version {obj['v']!r}; this model reads version {VERSION}"
        )
    kind = obj.get("kind")
    if type(kind) is not str or kind not in EVENT_FIELDS:
        raise _FieldError(
            "kind", f"unknown event kind {kind!r}; expected one of: {', '.join(sorted(EVENT_FIELDS))}"
        )
    _spec, allowed, expected, fields = _kind_table(kind, EVENT_FIELDS[kind])
    if not allowed.issuperset(obj):
        for key in obj:
            if key not in allowed:
                raise _FieldError(str(key), f"unknown field {key!r} for a {kind} event; expected: {expected}")
    kwargs: dict[str, Any] = {}
    for name, conv, required in fields:
        if name not in obj:
            if required:
                raise _FieldError(name, f"missing field {name!r} of a {kind} event")
            continue
        kwargs[name] = conv(obj[name], name, profile)
    group = ONE_OF.get(kind)
    if group is not None and sum(1 for name in group if name in kwargs) != 1:
        raise _FieldError(group[0], f"a {kind} event gives exactly one of: {', '.join(group)}")
    return EVENT_KINDS[kind](**kwargs)


@implements("EVT-FMT-01", "EVT-AMT-01")
def decode_line(
    line: str | bytes, profile: Profile, file: str = "<events>", lineno: int | None = None
) -> Event:
    """Rules: EVT-FMT-01, EVT-AMT-01. One JSON Lines line as an event; InputError on bad input."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(Place(file, lineno), f"not valid JSON: {exc}") from None
    # Duplicate keys (orjson keeps the last one silently). Every key of the line, at any
    # depth, is followed by one ':'; so when the line has exactly as many ':' as the top-level
    # object has keys, there is no duplicate and no nested object. Only otherwise (a nested
    # object, a ':' inside a string, or a duplicate) is the line parsed again to look.
    colons = line.count(b":") if isinstance(line, bytes) else line.count(":")
    if type(obj) is dict and colons != len(obj):
        dup = _duplicate_key(line)
        if dup is not None:
            raise InputError(Place(file, lineno, dup), f"field {dup!r} is given twice in one JSON object")
    try:
        return decode_obj(obj, profile)
    except _FieldError as exc:
        raise InputError(Place(file, lineno, exc.field or None), exc.message) from None


@implements("EVT-FMT-01")
def _duplicate_key(line: str | bytes) -> str | None:
    """Rule: EVT-FMT-01. The first key given twice in one object of the JSON ``line`` (any
    depth), else ``None``."""
    import json

    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for k, _v in items:
            if k in seen and not found:
                found.append(k)
            seen.add(k)
        return {}

    try:
        json.loads(line, object_pairs_hook=pairs)
    except ValueError:
        return None  # orjson accepted it; nothing more to say here
    return found[0] if found else None


def read_events(path: str | Path, profile: Profile) -> Iterator[Event]:
    """The events of a JSON Lines file, in order; blank lines are skipped.

    Raises :class:`InputError` naming the file, the 1-based line and the field.
    """
    name = str(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputError(Place(name), f"cannot read the event log: {exc.strerror}") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            yield decode_line(raw, profile, name, lineno)


def read_events_text(text: str, profile: Profile, file: str = "<events>") -> list[Event]:
    """The events of JSON Lines text (a whole log in memory)."""
    return [
        decode_line(raw, profile, file, lineno)
        for lineno, raw in enumerate(text.splitlines(), start=1)
        if raw.strip()
    ]


def _unconvert(v: Any, typ: str, profile: Profile) -> Any:
    if typ == "levels":
        pd, sd = profile.scales.price_decimals, profile.scales.size_decimals
        return [[format_units(p, pd), format_units(q, sd)] for p, q in v]
    if typ == "sources":
        pd = profile.scales.price_decimals
        return [
            {"price": format_units(p, pd), "weight": format_units(w, RATE_DECIMALS), "updated_at": u}
            for p, w, u in v
        ]
    base = typ[4:] if typ.startswith("pos-") else typ
    if base in ("price", "size", "money", "rate"):
        return format_units(v, _decimals(profile, base))
    return v


def event_to_obj(event: Event, profile: Profile) -> dict[str, Any]:
    """An event as its wire object (decimal strings); fields equal to their default are left out."""
    kind = type(event).kind
    out: dict[str, Any] = {"v": VERSION, "kind": kind}
    defaults = {f.name: f.default for f in attrs.fields(type(event))}
    for name, typ, required in EVENT_FIELDS[kind]:
        v = getattr(event, name)
        if not required and v == defaults.get(name):
            continue
        out[name] = _unconvert(v, typ, profile)
    return out


@implements("EVT-FMT-01")
def encode_event(event: Event, profile: Profile) -> bytes:
    """Rule EVT-FMT-01: an event as one JSON Lines line (sorted keys, no newline)."""
    return orjson.dumps(event_to_obj(event, profile), option=orjson.OPT_SORT_KEYS)


# --------------------------------------------------------------------------- outputs


@attrs.frozen(slots=True)
class Reject:
    """The event was invalid: it broke rule ``rule_id``; the state is unchanged."""

    kind: ClassVar[str] = "reject"
    t: int
    rule_id: str
    reason: str


@attrs.frozen(slots=True)
class BalanceOut:
    """``account``'s collateral changed by ``delta`` to ``balance`` (``reason``: deposit, withdraw, ...)."""

    kind: ClassVar[str] = "balance"
    t: int
    account: str
    delta: int
    balance: int
    reason: str


@attrs.frozen(slots=True)
class FillOut:
    """One side of a trade: signed ``qty`` (> 0 bought), the position after it, realized PnL."""

    kind: ClassVar[str] = "fill"
    t: int
    account: str
    symbol: str
    slot: str
    qty: int
    price: int
    liquidity: str
    position: int
    realized_pnl: int


@attrs.frozen(slots=True)
class FeeOut:
    """A trading fee: ``amount`` (> 0 charged, < 0 rebate) at ``rate`` on ``notional``, to ``sink``."""

    kind: ClassVar[str] = "fee"
    t: int
    account: str
    symbol: str
    rate: int
    notional: int
    amount: int
    sink: str


@attrs.frozen(slots=True)
class FundingPayment:
    """A funding payment: ``amount`` > 0 received by ``account``, < 0 paid."""

    kind: ClassVar[str] = "funding_payment"
    t: int
    account: str
    symbol: str
    slot: str
    rate: int
    amount: int


@attrs.frozen(slots=True)
class FundingRateOut:
    """The funding rate settled for ``symbol`` and the rounding dust sent to ``sink``."""

    kind: ClassVar[str] = "funding_rate"
    t: int
    symbol: str
    rate: int
    dust: int
    sink: str


@attrs.frozen(slots=True)
class PriceOut:
    """``symbol``'s prices after a price event (``None`` until first seen).

    ``mark_source`` says where the mark comes from: ``"published"`` (a ``mark_price`` event),
    ``"model"`` (computed by the profile's ``[mark]`` variant, rule ENG-MRK-01) or ``None``
    (no mark yet).
    """

    kind: ClassVar[str] = "price"
    t: int
    symbol: str
    index: int | None
    mark: int | None
    oracle: int | None
    mark_source: str | None = None


@attrs.frozen(slots=True)
class BadDebtOut:
    """``account``'s collateral went below zero by ``amount``: an explicit bad-debt record (INV-03)."""

    kind: ClassVar[str] = "bad_debt"
    t: int
    account: str
    amount: int


@attrs.frozen(slots=True)
class SettingOut:
    """An account setting changed (leverage, margin mode, position mode)."""

    kind: ClassVar[str] = "setting"
    t: int
    account: str
    symbol: str | None
    name: str
    value: str


@attrs.frozen(slots=True)
class ParamOut:
    """A profile parameter changed."""

    kind: ClassVar[str] = "param"
    t: int
    path: str
    value: str


Output = (
    Reject
    | BalanceOut
    | FillOut
    | FeeOut
    | FundingPayment
    | FundingRateOut
    | PriceOut
    | BadDebtOut
    | SettingOut
    | ParamOut
)

#: Units of the amount fields of outputs (other fields are written as they are).
OUTPUT_UNITS: dict[str, str] = {
    "delta": "money",
    "balance": "money",
    "qty": "size",
    "price": "price",
    "position": "size",
    "realized_pnl": "money",
    "rate": "rate",
    "notional": "money",
    "amount": "money",
    "dust": "money",
    "index": "price",
    "mark": "price",
    "oracle": "price",
}


@implements("EVT-OUT-01")
def output_to_obj(out: Any, profile: Profile) -> dict[str, Any]:
    """Rule EVT-OUT-01: an output record as a wire object, amounts as exact decimal strings."""
    obj: dict[str, Any] = {"v": VERSION, "kind": type(out).kind}
    for f in attrs.fields(type(out)):
        v = getattr(out, f.name)
        unit = OUTPUT_UNITS.get(f.name)
        if unit is not None and v is not None and f.name != "t":
            v = format_units(v, _decimals(profile, unit))
        obj[f.name] = v
    return obj


@implements("EVT-OUT-01")
def encode_output(out: Any, profile: Profile) -> bytes:
    """Rule EVT-OUT-01: one output as a JSON Lines line: sorted keys, exact decimal strings.

    Deterministic: the same output gives the same bytes.
    """
    return orjson.dumps(output_to_obj(out, profile), option=orjson.OPT_SORT_KEYS)


def event_kinds() -> Mapping[str, tuple[FieldSpec, ...]]:
    """The wire field table per event kind (for the JSON Schema and the docs)."""
    return EVENT_FIELDS
