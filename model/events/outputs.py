"""The output kinds: typed records ``step`` returns, one attrs class each (rule EVT-OUT-01).

Each amount field's annotation is its wire unit (:mod:`perpspec.events.fields`); the encoder
(:func:`perpspec.events.encode.encode_output`) writes it as an exact decimal string in the
profile's units and every other field as it is.

Rules: EVT-OUT-01, INV-03.
"""

from __future__ import annotations

from typing import ClassVar

import attrs
from perpspec.events.fields import Money, OptionalPrice, Price, Rate, Size, Time


@attrs.frozen(slots=True)
class Reject:
    """The event was invalid: it broke rule ``rule_id``; the state is unchanged."""

    kind: ClassVar[str] = "reject"
    t: Time
    rule_id: str
    reason: str


@attrs.frozen(slots=True)
class BalanceOut:
    """``account``'s collateral changed by ``delta`` to ``balance`` (``reason``: deposit, withdraw, ...)."""

    kind: ClassVar[str] = "balance"
    t: Time
    account: str
    delta: Money
    balance: Money
    reason: str


@attrs.frozen(slots=True)
class FillOut:
    """One side of a trade: signed ``qty`` (> 0 bought), the position after it, realized PnL."""

    kind: ClassVar[str] = "fill"
    t: Time
    account: str
    symbol: str
    slot: str
    qty: Size
    price: Price
    liquidity: str
    position: Size
    realized_pnl: Money


@attrs.frozen(slots=True)
class FeeOut:
    """A trading fee: ``amount`` (> 0 charged, < 0 rebate) at ``rate`` on ``notional``, to ``sink``."""

    kind: ClassVar[str] = "fee"
    t: Time
    account: str
    symbol: str
    rate: Rate
    notional: Money
    amount: Money
    sink: str


@attrs.frozen(slots=True)
class FundingPayment:
    """A funding payment: ``amount`` > 0 received by ``account``, < 0 paid."""

    kind: ClassVar[str] = "funding_payment"
    t: Time
    account: str
    symbol: str
    slot: str
    rate: Rate
    amount: Money


@attrs.frozen(slots=True)
class FundingRateOut:
    """The funding rate settled for ``symbol`` and the rounding dust sent to ``sink``."""

    kind: ClassVar[str] = "funding_rate"
    t: Time
    symbol: str
    rate: Rate
    dust: Money
    sink: str


@attrs.frozen(slots=True)
class PriceOut:
    """``symbol``'s prices after a price event (``None`` until first seen).

    ``mark_source`` says where the mark comes from: ``"published"`` (a ``mark_price`` event),
    ``"model"`` (computed by the profile's ``[mark]`` variant, rule ENG-MRK-01) or ``None``
    (no mark yet).
    """

    kind: ClassVar[str] = "price"
    t: Time
    symbol: str
    index: OptionalPrice
    mark: OptionalPrice
    oracle: OptionalPrice
    mark_source: str | None = None


@attrs.frozen(slots=True)
class BadDebtOut:
    """``account``'s collateral went below zero by ``amount``: an explicit bad-debt record (INV-03)."""

    kind: ClassVar[str] = "bad_debt"
    t: Time
    account: str
    amount: Money


@attrs.frozen(slots=True)
class SettingOut:
    """An account setting changed (leverage, margin mode, position mode)."""

    kind: ClassVar[str] = "setting"
    t: Time
    account: str
    symbol: str | None
    name: str
    value: str


@attrs.frozen(slots=True)
class ParamOut:
    """A profile parameter changed."""

    kind: ClassVar[str] = "param"
    t: Time
    path: str
    value: str


@attrs.frozen(slots=True)
class LiquidationOut:
    """One executed part of a liquidation slice (rule LIQ-OUT-01).

    ``account``'s ``symbol``/``slot`` position changed by signed ``qty`` at ``price`` against
    ``counterparty``, leaving ``position``; ``realized_pnl`` is the PnL the close realized, ``fee``
    the liquidation fee charged (to the insurance fund, plus ``counterparty_fee`` to the
    counterparty), ``insurance_delta`` what the insurance fund received (> 0) or paid (< 0) for
    it, ``deficit`` the unit's remaining deficit (> 0: negative collateral left uncovered) and
    ``rule_id`` the rule that sized the slice.
    """

    kind: ClassVar[str] = "liquidation"
    t: Time
    account: str
    symbol: str
    slot: str
    qty: Size
    price: Price
    counterparty: str
    position: Size
    realized_pnl: Money
    fee: Money
    counterparty_fee: Money
    insurance_delta: Money
    deficit: Money
    rule_id: str


@attrs.frozen(slots=True)
class InsuranceOut:
    """Insurance fund ``fund`` changed by ``delta`` to ``balance`` (rule INS-OUT-01); ``reason``
    is ``liquidation`` (a slice's settlement or fee) or ``bankruptcy`` (a closed unit's deficit
    covered), ``account`` the account it concerns."""

    kind: ClassVar[str] = "insurance"
    t: Time
    fund: str
    delta: Money
    balance: Money
    reason: str
    account: str


@attrs.frozen(slots=True)
class UncoveredLossOut:
    """A loss the insurance fund could not absorb (rule LIQ-UNC-01): ``amount`` of ``account``'s
    unit (``symbol``/``slot`` of an isolated position, ``None`` for the cross part) is left for the
    next step of the waterfall (ADL, socialized loss). ``open`` says whether the unit still holds
    positions (the fund refused the slice, INS-REF-01) or is closed with negative collateral."""

    kind: ClassVar[str] = "uncovered_loss"
    t: Time
    account: str
    symbol: str | None
    slot: str | None
    amount: Money
    open: bool
    rule_id: str


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
    | LiquidationOut
    | InsuranceOut
    | UncoveredLossOut
)
