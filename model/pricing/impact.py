"""Impact bid/ask prices, impact notional and the premium index.

Rules: PRC-IMP-01, PRC-IMP-02, PRC-PRM-01.

- PRC-IMP-01: the impact bid (ask) is the average fill price of a market sell (buy) of the
  impact notional against a book snapshot, best level first. The average is
  ``total quote / total base`` of the fills, computed exactly (``Fraction``), then rounded
  to price units: bid toward -infinity (floor), ask toward +infinity (ceil). Too little depth
  gives ``None``.
- PRC-IMP-02: ``IMN = margin / IMR`` (Binance 200 USDT / IMR at max leverage; BitMEX
  0.1 XBT / IM), rounded down to money units (the largest notional the margin covers).
- PRC-PRM-01: ``P = [max(0, bid - index) - max(0, index - ask)] / index`` as a Rate,
  rounded toward zero.

Impact prices are sampled (every 5 s on Binance, every block on dYdX), not computed per
event, so the exact rational walk is acceptable here (design section 3).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import attrs
from perpspec.funding import premium_index as funding_premium_index
from perpspec.numeric import Rounding, Term, div_round, round_fraction
from perpspec.profile import ContractKind
from perpspec.quantities import Price, Size
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


class Side(enum.Enum):
    """Which side of the book an impact order consumes."""

    BID = "bid"  #: a market sell walks the bids, highest first -> impact bid
    ASK = "ask"  #: a market buy walks the asks, lowest first -> impact ask


class Measure(enum.Enum):
    """What the impact amount is measured in."""

    MONEY = "money"  #: money units: quote for linear contracts, the coin for inverse ones
    SIZE = "size"  #: size units: base for linear contracts, contracts for inverse ones


def _positive(_inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
    if value <= 0:
        raise ValueError(f"{attr.name} must be positive, got {value}")


@attrs.frozen
class BookLevel:
    """One price level of an order-book snapshot: price (price units), size (size units)."""

    price: Price = attrs.field(validator=_positive)
    size: Size = attrs.field(validator=_positive)


@attrs.frozen
class BookScale:
    """The units of a book: the profile's scales and the market's contract kind.

    ``contract_value`` is the quote value of one whole contract (inverse contracts only).
    """

    price_decimals: int
    size_decimals: int
    money_decimals: int
    contract: ContractKind = ContractKind.LINEAR
    contract_value: int = 0

    def level_amounts(self, level: BookLevel) -> tuple[Fraction, Fraction]:
        """Exact (quote, base) amounts of a whole level, in whole currency units."""
        price = Fraction(level.price, 10**self.price_decimals)
        size = Fraction(level.size, 10**self.size_decimals)
        if self.contract is ContractKind.LINEAR:
            return size * price, size
        if self.contract_value <= 0:
            raise ValueError("an inverse book needs a positive contract_value")
        quote = size * self.contract_value
        return quote, quote / price

    def measure(self, level: BookLevel, measure: Measure) -> Fraction:
        """The level's amount in ``measure``, in whole units."""
        if measure is Measure.SIZE:
            return Fraction(level.size, 10**self.size_decimals)
        quote, base = self.level_amounts(level)
        return quote if self.contract is ContractKind.LINEAR else base

    def whole(self, amount: int, measure: Measure) -> Fraction:
        """An amount in money or size units, in whole units."""
        decimals = self.money_decimals if measure is Measure.MONEY else self.size_decimals
        return Fraction(amount, 10**decimals)


def best_first(levels: Sequence[BookLevel], side: Side) -> list[BookLevel]:
    """The levels in the order a market order consumes them (bids descending, asks ascending)."""
    return sorted(levels, key=lambda lv: lv.price, reverse=side is Side.BID)


@implements("PRC-IMP-01")
def impact_price_exact(
    levels: Sequence[BookLevel],
    side: Side,
    amount: int,
    scale: BookScale,
    measure: Measure = Measure.MONEY,
) -> Fraction | None:
    """Rule: PRC-IMP-01. The exact average fill price (in price units) of executing
    ``amount`` (money or size units, see :class:`Measure`) on ``side``; ``None`` when the
    book is too thin.

    Levels are filled best first; the last one partially, pro rata in the measure. The
    average price is :math:`\\sum quote / \\sum base` of the fills (for inverse contracts
    the harmonic mean of the level prices weighted by contracts).
    """
    if amount <= 0:
        raise ValueError(f"the impact amount must be positive, got {amount}")
    target = scale.whole(amount, measure)
    done = Fraction(0)
    quote = Fraction(0)
    base = Fraction(0)
    for level in best_first(levels, side):
        q, b = scale.level_amounts(level)
        m = scale.measure(level, measure)
        part = min(Fraction(1), (target - done) / m)
        quote += part * q
        base += part * b
        done += part * m
        if done == target:
            return quote / base * 10**scale.price_decimals
    return None


#: Default rounding of impact prices to price units: both toward the inside of the book's
#: averages, so a premium computed from them is never overstated (PRC-IMP-01).
IMPACT_ROUNDING = {Side.BID: Rounding.FLOOR, Side.ASK: Rounding.CEIL}


@implements("PRC-IMP-01")
def impact_price(
    levels: Sequence[BookLevel],
    side: Side,
    amount: int,
    scale: BookScale,
    measure: Measure = Measure.MONEY,
    rounding: Rounding | None = None,
) -> Price | None:
    """Rule: PRC-IMP-01. :func:`impact_price_exact` rounded to price units (bid floor,
    ask ceil unless ``rounding`` says otherwise); ``None`` on insufficient depth."""
    exact = impact_price_exact(levels, side, amount, scale, measure)
    if exact is None:
        return None
    return Price(round_fraction(exact, rounding or IMPACT_ROUNDING[side]))


@attrs.frozen
class ImpactPrices:
    """Impact bid and ask of one snapshot (``None`` on a side with too little depth)."""

    bid: Price | None
    ask: Price | None


def impact_prices(
    bids: Sequence[BookLevel],
    asks: Sequence[BookLevel],
    amount: int,
    scale: BookScale,
    measure: Measure = Measure.MONEY,
) -> ImpactPrices:
    """Rule: PRC-IMP-01. Both impact prices of one snapshot."""
    return ImpactPrices(
        bid=impact_price(bids, Side.BID, amount, scale, measure),
        ask=impact_price(asks, Side.ASK, amount, scale, measure),
    )


@implements("PRC-IMP-02")
def impact_notional(margin: Term, imr: Term, rounding: Rounding = Rounding.FLOOR) -> Term:
    """Rule: PRC-IMP-02. :math:`IMN = margin / IMR` in money units, ``imr`` a Rate.

    Binance: ``margin`` = 200 USDT, ``imr`` = the initial-margin rate at max leverage.
    BitMEX: ``margin`` = 0.1 XBT, ``imr`` = the initial margin. Rounded down (floor).
    """
    return div_round(margin * RATE_ONE, imr, rounding)


@implements("PRC-IMP-02")
def impact_notional_at_leverage(margin: Term, max_leverage: Term) -> Term:
    """Rule: PRC-IMP-02. With IMR = 1/max_leverage exactly: :math:`IMN = margin \\cdot L`."""
    return margin * max_leverage


@implements("PRC-PRM-01")
def premium_index(
    impact_bid: Term, impact_ask: Term, index: Term, rounding: Rounding = Rounding.TRUNC
) -> Term:
    """Rule: PRC-PRM-01. The premium index as a Rate (10^-8):

    .. math:: P = \\frac{\\max(0, B - I) - \\max(0, I - A)}{I}

    with ``B``/``A`` the impact bid/ask and ``I`` the index (or oracle), all in price
    units, ``I > 0``. Rounded toward zero (``rounding``) so the premium is never overstated.
    The caller decides what a missing impact price means (dYdX: premium 0).

    One definition: this is the funding module's general premium (FND-PRM-01) with the
    index as both reference and denominator; the formula is written there once.
    """
    return funding_premium_index(impact_bid, impact_ask, index, index, rounding, RATE_ONE)


__all__ = [
    "IMPACT_ROUNDING",
    "BookLevel",
    "BookScale",
    "ImpactPrices",
    "Measure",
    "Side",
    "impact_notional",
    "impact_notional_at_leverage",
    "impact_price",
    "impact_price_exact",
    "impact_prices",
    "premium_index",
]
