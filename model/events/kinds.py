"""The event kinds: one attrs class each, the single definition of the kind and its wire fields.

An event log is a JSON Lines file, one event per line, each an object with ``"v": 1``, a
``"kind"`` tag, an integer time ``"t"`` in milliseconds and the kind's fields (spec/events.md).
Each field's annotation is its wire type (:mod:`perpspec.events.fields`): the decoder, the
encoder and the JSON Schema are derived from these classes.

A fill is one *trade* with both sides (buyer and seller): both accounts change in the same
event, so open interest long == open interest short after every event (INV-02).

Rules: EVT-FMT-01, EVT-AMT-01, EVT-TRD-01.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import attrs
from perpspec.events.fields import (
    Flag,
    Levels,
    Money,
    OptionalPositivePrice,
    OptionalRate,
    Param,
    PositiveInt,
    PositiveMoney,
    PositivePrice,
    PositiveSize,
    Slot,
    Sources,
    Text,
    Time,
    choice,
)
from perpspec.traceability import implements

Maker = Annotated[str, choice("buyer", "seller")]
MarginMode = Annotated[str, choice("cross", "isolated")]
PositionMode = Annotated[str, choice("one-way", "hedge")]


@attrs.frozen(slots=True)
class Deposit:
    """Credit ``amount`` (money units) to ``account``; creates the account if new."""

    kind: ClassVar[str] = "deposit"
    t: Time
    account: Text
    amount: PositiveMoney


@attrs.frozen(slots=True)
class Withdraw:
    """Debit ``amount`` (money units) from ``account`` (rule ENG-WDR-01)."""

    kind: ClassVar[str] = "withdraw"
    t: Time
    account: Text
    amount: PositiveMoney


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
    t: Time
    symbol: Text
    qty: PositiveSize
    price: PositivePrice
    buyer: Text
    seller: Text
    maker: Maker
    buyer_slot: Slot = "BOTH"
    seller_slot: Slot = "BOTH"
    buyer_fee_rate: OptionalRate = None
    seller_fee_rate: OptionalRate = None
    buyer_reduce_only: Flag = False
    seller_reduce_only: Flag = False


@attrs.frozen(slots=True)
class SetLeverage:
    """Set ``account``'s leverage on ``symbol`` (rule ENG-LEV-01)."""

    kind: ClassVar[str] = "set_leverage"
    t: Time
    account: Text
    symbol: Text
    leverage: PositiveInt


@attrs.frozen(slots=True)
class SetMarginMode:
    """Switch ``account``'s ``symbol`` position between ``cross`` and ``isolated``."""

    kind: ClassVar[str] = "set_margin_mode"
    t: Time
    account: Text
    symbol: Text
    mode: MarginMode


@attrs.frozen(slots=True)
class SetPositionMode:
    """Switch ``account`` between ``one-way`` and ``hedge`` position mode."""

    kind: ClassVar[str] = "set_position_mode"
    t: Time
    account: Text
    mode: PositionMode


@attrs.frozen(slots=True)
class IsolatedMarginTransfer:
    """Move ``amount`` (signed money units; > 0 adds) between collateral and an isolated position."""

    kind: ClassVar[str] = "isolated_margin_transfer"
    t: Time
    account: Text
    symbol: Text
    amount: Money
    slot: Slot = "BOTH"


@attrs.frozen(slots=True)
class IndexPrice:
    """The index price of ``symbol``: the venue's ``price``, or ``sources`` (constituent quotes
    ``(price, weight, updated_at ms)``) from which the profile's ``[index]`` variant computes it
    (rule ENG-IDX-01). Exactly one of the two is given."""

    kind: ClassVar[str] = "index_price"
    t: Time
    symbol: Text
    price: OptionalPositivePrice = None
    sources: Sources = None


@attrs.frozen(slots=True)
class OraclePrice:
    """The oracle price of ``symbol`` (venues that value positions at an oracle)."""

    kind: ClassVar[str] = "oracle_price"
    t: Time
    symbol: Text
    price: PositivePrice


@attrs.frozen(slots=True)
class MarkPrice:
    """The mark price of ``symbol`` as published by the venue."""

    kind: ClassVar[str] = "mark_price"
    t: Time
    symbol: Text
    price: PositivePrice


@attrs.frozen(slots=True)
class BookSnapshot:
    """Order-book levels ``((price, size), ...)`` best first, for impact prices."""

    kind: ClassVar[str] = "book_snapshot"
    t: Time
    symbol: Text
    bids: Levels
    asks: Levels


@attrs.frozen(slots=True)
class FundingSample:
    """One premium sample (rate units 10^-8) for ``symbol``'s funding; ``None`` lets the
    profile's funding variant take the sample from the market's prices and book (FND-ENG-02)."""

    kind: ClassVar[str] = "funding_sample"
    t: Time
    symbol: Text
    premium: OptionalRate = None


@attrs.frozen(slots=True)
class FundingSettlement:
    """Settle ``symbol``'s funding; ``rate`` replays the venue's rate, ``None`` computes it."""

    kind: ClassVar[str] = "funding_settlement"
    t: Time
    symbol: Text
    rate: OptionalRate = None


@attrs.frozen(slots=True)
class ClockTick:
    """Time passes; nothing else happens."""

    kind: ClassVar[str] = "clock_tick"
    t: Time


@attrs.frozen(slots=True)
class ParamChange:
    """Set profile parameter ``path`` (e.g. ``fees.taker_rate``) to ``value`` (TOML-style)."""

    kind: ClassVar[str] = "param_change"
    t: Time
    path: Text
    value: Param


@attrs.frozen(slots=True)
class Liquidation:
    """A production engine's own liquidation fill (rule LIQ-LOG-01): ``account``'s ``symbol``
    position in ``slot`` is closed by ``qty`` size units at ``price`` against ``counterparty``
    (the profile's liquidation counterparty when empty). The model checks it with the same rules
    as its own liquidations: the unit must be liquidatable, the fill must reduce the position."""

    kind: ClassVar[str] = "liquidation"
    t: Time
    account: Text
    symbol: Text
    qty: PositiveSize
    price: PositivePrice
    slot: Slot = "BOTH"
    counterparty: Text = ""


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
    | Liquidation
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
    Liquidation,
)
EVENT_KINDS: dict[str, type] = {cls.kind: cls for cls in EVENT_TYPES}  # type: ignore[attr-defined]

#: Kinds whose optional fields must hold exactly one of a group (checked after decoding).
ONE_OF: dict[str, tuple[str, ...]] = {IndexPrice.kind: ("price", "sources")}
