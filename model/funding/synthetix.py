"""Synthetix perps v3 funding velocity: the rate drifts with the skew instead of jumping.

Synthetix works in 18-decimal fixed point (``UNIT = 1e18``, ``mulDecimal``/``divDecimal``
truncate toward zero); this module reproduces that scale and converts to a perpspec ``Rate``
(10^-8) at the boundary with :func:`perpspec.funding.to_rate` (toward zero).

Rules: FND-SNX-01, FND-SNX-02, FND-ENG-01.
"""

from __future__ import annotations

import attrs
from perpspec.funding import (
    DEFAULT_SINK,
    EngineFunding,
    FundingContext,
    NotionalPrice,
    SettlementRates,
    to_rate,
)
from perpspec.numeric import Rounding, Term, clamp, div_trunc
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements

UNIT = 10**18
ONE_DAY = 86_400


def mul_decimal(a: Term, b: Term) -> Term:
    """``a * b / 1e18`` toward zero (Synthetix ``mulDecimal``)."""
    return div_trunc(a * b, UNIT)


def div_decimal(a: Term, b: Term) -> Term:
    """``a * 1e18 / b`` toward zero (Synthetix ``divDecimal``)."""
    return div_trunc(a * UNIT, b)


_MAX_FUNDING_VELOCITY = Rate(0)


@variant("funding", "synthetix-velocity")
@attrs.frozen
class SynthetixVelocity(EngineFunding):
    """Rules: FND-SNX-01, FND-SNX-02.

    ``max_funding_velocity``: per day (10^-8, e.g. "0.25%" per day); ``skew_scale`` in the same
    size units as the skew passed to the functions.
    """

    max_funding_velocity: Rate = ranged(0, default=_MAX_FUNDING_VELOCITY)
    skew_scale: int = ranged(1, default=1)
    notional_price: NotionalPrice = NotionalPrice.ORACLE
    sink: str = DEFAULT_SINK

    @implements("FND-SNX-01")
    def velocity(self, skew: Term) -> Term:
        """Rule: FND-SNX-01. ``clamp(skew / skewScale, -1, 1) * maxVelocity`` (1e18 per day)."""
        proportional = clamp(div_decimal(skew, self.skew_scale), -UNIT, UNIT)
        return mul_decimal(proportional, self.max_funding_velocity * 10**10)

    @implements("FND-SNX-01")
    def next_rate(self, rate_last: Term, velocity: Term, elapsed: Term) -> Term:
        """Rule: FND-SNX-01. ``rate_last + velocity * (elapsed / 1 day)`` (1e18 per day)."""
        return rate_last + mul_decimal(velocity, div_decimal(elapsed, ONE_DAY))

    @implements("FND-SNX-02")
    def accrued_per_unit(self, rate_last: Term, rate_now: Term, elapsed: Term, price: Term) -> Term:
        """Rule: FND-SNX-02. Balance change per unit of long size (1e18 quote, price in 1e18):
        ``-avg(rate_last, rate_now) * (elapsed / 1 day) * price``; positive rates make longs pay."""
        avg = div_trunc(rate_last + rate_now, 2)
        return -mul_decimal(mul_decimal(avg, div_decimal(elapsed, ONE_DAY)), price)

    def as_rate(self, rate_18: Term) -> Term:
        """A 1e18 rate as a perpspec ``Rate`` (10^-8), toward zero."""
        return to_rate(rate_18, 18, Rounding.TRUNC)

    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-ENG-01")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates:
        """Rules: FND-ENG-01, FND-SNX-01, FND-SNX-02. No premium samples: the skew is
        ``long_size - short_size`` (``skew_scale`` in size units); ``rate_now = next_rate(carry,
        velocity(skew), elapsed s)`` (carry: the 1e18 daily rate, 0 initially); the rate of the
        settlement is what ``accrued_per_unit`` charges one unit of notional (price 1), as a
        ``Rate`` toward zero. The new carry is ``rate_now``."""
        last = ctx.carry if isinstance(ctx.carry, int) else 0
        elapsed = div_trunc(ctx.elapsed_ms(), 1000)
        now = self.next_rate(last, self.velocity(ctx.long_size - ctx.short_size), elapsed)
        rate = self.as_rate(-self.accrued_per_unit(last, now, elapsed, UNIT))
        return SettlementRates.symmetric(rate, now)
