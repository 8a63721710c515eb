"""Kraken Futures funding (inverse perps): hourly rate from the average premium, capped per hour.

Kraken's page divides the premium by 24 in its text but by 8 in its figures; the divisor is a
named parameter and the default is the /8 reading that reproduces the published dollar and BTC
amounts (spec/funding.md FND-KRK-01).

Rules: FND-KRK-01, FND-ENG-01.
"""

from __future__ import annotations

from typing import Any

import attrs
from perpspec.funding import (
    DEFAULT_SINK,
    HOUR_MS,
    EngineFunding,
    FundingContext,
    NotionalPrice,
    Payments,
    SettlementRates,
    premium_index,
    weighted_average,
)
from perpspec.numeric import Rounding, Term, clamp, div_round
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

#: The reading this variant takes by default.
KRAKEN_READING = (
    "hourly rate = average premium / 8: the page's text says /24, but its figures "
    "(0.01785%/h, $17.85 and 0.00255 BTC on 100,000 contracts) all follow /8"
)


_HOURLY_CAP = Rate(250_000)


@variant("funding", "kraken")
@attrs.frozen
class KrakenFunding(Payments, EngineFunding):
    """Rule: FND-KRK-01. :math:`F_{1h} = \\operatorname{clamp}((perp - index)/(index \\cdot k), \\pm cap)`
    with ``k = hourly_divisor`` (8 per the figures; 24 per the text), one division.
    """

    hourly_divisor: int = ranged(1, default=8)
    hourly_cap: Rate = ranged(0, RATE_ONE, default=_HOURLY_CAP)
    reading: str = KRAKEN_READING
    notional_price: NotionalPrice = NotionalPrice.INDEX
    rounding: Rounding = Rounding.TRUNC
    payment_rounding: Rounding = Rounding.CEIL
    sink: str = DEFAULT_SINK
    def funding_interval_ms(self, carry: Any) -> int:
        """Hourly funding (the premium divided by ``hourly_divisor``)."""
        return HOUR_MS


    @implements("FND-KRK-01")
    def hourly_from_premium(self, premium: Term) -> Term:
        """Rule: FND-KRK-01. From a premium already in 10^-8: ``clamp(P / k, +-cap)``."""
        f = div_round(premium, self.hourly_divisor, self.rounding)
        return clamp(f, -self.hourly_cap, self.hourly_cap)

    @implements("FND-KRK-01")
    def hourly(self, perp: Term, index: Term) -> Term:
        """Rule: FND-KRK-01. From prices: ``clamp((perp - index) / (index * k), +-cap)``."""
        f = div_round((perp - index) * RATE_ONE, index * self.hourly_divisor, self.rounding)
        return clamp(f, -self.hourly_cap, self.hourly_cap)

    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-ENG-02")
    def sample_premium(self, ctx: FundingContext) -> Term | None:
        """Rules: FND-ENG-02, FND-PRM-01. ``(perp - index) / index`` with the mark as the perp price
        (FND-PRM-01 with both impact prices at the mark); ``None`` when one is missing."""
        if ctx.mark is None or ctx.index is None:
            return None
        return premium_index(ctx.mark, ctx.mark, ctx.index, ctx.index, self.rounding)

    @implements("FND-ENG-01")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates | None:
        """Rules: FND-ENG-01, FND-KRK-01. ``hourly_from_premium(mean of the samples)``; ``None``
        without samples."""
        if not ctx.samples:
            return None
        avg = weighted_average(ctx.premiums(), None, self.rounding)
        return SettlementRates.symmetric(self.hourly_from_premium(avg))
