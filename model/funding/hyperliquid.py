"""Hyperliquid funding: the 8-hour formula paid hourly at 1/8, capped at 4 %/h, on the oracle price.

Rules: FND-HL-01, FND-PRM-01, FND-CLP-01, FND-PAY-01, FND-ENG-01.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    interest_clamp,
    premium_index,
    weighted_average,
)
from perpspec.numeric import Rounding, Term, clamp, div_round
from perpspec.quantities import Money, Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

#: The reading of the docs this variant implements (see spec/funding.md FND-HL-01).
HOURLY_READING = (
    "hourly rate = F_8h / 8: the docs text says funding is paid every hour at one eighth of the "
    "8-hour rate; the docs' numerical example stops at F_8h = 0.95% and never divides by 8"
)


_INTEREST = Rate(10_000)
_CLAMP = Rate(50_000)
_HOURLY_CAP = Rate(4_000_000)


@variant("funding", "hyperliquid")
@attrs.frozen
class HyperliquidFunding(Payments, EngineFunding):
    """Rule: FND-HL-01. :math:`F_{1h} = \\operatorname{clamp}(F_{8h}/8, \\pm cap_{1h})` with
    :math:`F_{8h} = \\bar P + \\operatorname{clamp}(I - \\bar P, \\pm 0.05\\%)`, premium against the
    oracle, payment :math:`= q \\cdot oracle \\cdot F_{1h}`.
    """

    interest: Rate = ranged(-RATE_ONE, RATE_ONE, default=_INTEREST)
    clamp: Rate = ranged(0, RATE_ONE, default=_CLAMP)
    hourly_divisor: int = ranged(1, default=8)
    hourly_cap: Rate = ranged(0, RATE_ONE, default=_HOURLY_CAP)
    sample_seconds: int = ranged(1, 3600, default=5)
    reading: str = HOURLY_READING
    impact_notionals: Mapping[str, Money] = ranged(1, factory=dict)
    notional_price: NotionalPrice = NotionalPrice.ORACLE
    rounding: Rounding = Rounding.TRUNC
    payment_rounding: Rounding = Rounding.CEIL
    sink: str = DEFAULT_SINK
    def funding_interval_ms(self, carry: Any) -> int:
        """Hourly funding (the 8-hour rate divided by ``hourly_divisor``)."""
        return HOUR_MS


    @implements("FND-PRM-01")
    def premium(self, impact_bid: Term, impact_ask: Term, oracle: Term) -> Term:
        """Rule: FND-PRM-01 (oracle as reference and denominator)."""
        return premium_index(impact_bid, impact_ask, oracle, oracle, self.rounding)

    @implements("FND-CLP-01")
    def rate_8h(self, avg_premium: Term) -> Term:
        """Rule: FND-CLP-01. The 8-hour formula."""
        return interest_clamp(avg_premium, self.interest, self.clamp)

    @implements("FND-HL-01")
    def hourly(self, avg_premium: Term) -> Term:
        """Rule: FND-HL-01. The rate applied each hour: ``clamp(F_8h / 8, -4%, +4%)``."""
        f = div_round(self.rate_8h(avg_premium), self.hourly_divisor, self.rounding)
        return clamp(f, -self.hourly_cap, self.hourly_cap)

    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-ENG-01")
    def impact_notional_for(self, symbol: str, first_imr: int) -> int | None:
        """Rule: FND-ENG-01. The per-asset impact notional (``impact_notionals``; the contract
        specification values were not captured by shared/reference, so none is bundled)."""
        return self.impact_notionals.get(symbol)

    @implements("FND-ENG-02")
    def sample_premium(self, ctx: FundingContext) -> Term | None:
        """Rules: FND-ENG-02, FND-PRM-01. Impact prices against the oracle; ``None`` when one is
        missing."""
        if ctx.impact_bid is None or ctx.impact_ask is None or ctx.oracle is None:
            return None
        return self.premium(ctx.impact_bid, ctx.impact_ask, ctx.oracle)

    @implements("FND-ENG-01")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates | None:
        """Rules: FND-ENG-01, FND-HL-01. ``hourly(mean of the hour's samples)`` (5-s samples
        averaged over the hour, plain mean); ``None`` without samples."""
        if not ctx.samples:
            return None
        return SettlementRates.symmetric(self.hourly(weighted_average(ctx.premiums(), None, self.rounding)))
