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
