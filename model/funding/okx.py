"""OKX funding: rolling mean of minute premiums, no interest term, clamped to a cap table.

Rules: FND-OKX-01, FND-AVG-01, FND-CAP-01, FND-ENG-01.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
from perpspec.funding import (
    DEFAULT_SINK,
    EngineFunding,
    FundingContext,
    NotionalPrice,
    Payments,
    SettlementRates,
    cap_rate,
    weighted_average,
)
from perpspec.numeric import Rounding, Term, div_round
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

_DEFAULT_CAP = Rate(1_500_000)


@variant("funding", "okx-rolling-mean")
@attrs.frozen
class OkxRollingMean(Payments, EngineFunding):
    """Rule: FND-OKX-01. :math:`F = \\operatorname{clamp}(\\operatorname{mean}(P_{last\\ 60N}), \\pm cap_g)`
    with :math:`P = ((bid+ask)/2 - index)/index` each minute and ``cap_g`` the cap of the
    instrument's group (``caps``; ``default_cap`` for the others).
    """

    window_hours: int = ranged(1, 24, default=8)
    sample_seconds: int = ranged(1, 3600, default=60)
    caps: Mapping[str, Rate] = ranged(0, RATE_ONE, factory=dict)
    default_cap: Rate = ranged(0, RATE_ONE, default=_DEFAULT_CAP)
    notional_price: NotionalPrice = NotionalPrice.MARK
    rounding: Rounding = Rounding.TRUNC
    payment_rounding: Rounding = Rounding.CEIL
    sink: str = DEFAULT_SINK

    @implements("FND-OKX-01")
    def premium(self, best_bid: Term, best_ask: Term, index: Term) -> Term:
        """Rule: FND-OKX-01. Minute premium of the mid: ``(bid + ask - 2 index) / (2 index)``."""
        return div_round((best_bid + best_ask - 2 * index) * RATE_ONE, 2 * index, self.rounding)

    @implements("FND-OKX-01")
    def window(self, samples: Sequence[Term]) -> list[Term]:
        """Rule: FND-OKX-01. The rolling window: the last ``window_hours * 3600 / sample_seconds``
        samples (since 2024-03-05; before, the window started at the period start)."""
        n = self.window_hours * 3600 // self.sample_seconds
        return list(samples[-n:])

    @implements("FND-OKX-01")
    def cap_for(self, group: str) -> Term:
        """Rule: FND-OKX-01. Cap of an instrument group (``BTC`` 0.375%, ``ETH`` 0.75%, ...)."""
        return self.caps.get(group, self.default_cap)

    @implements("FND-OKX-01")
    def rate(self, samples: Sequence[Term], cap: Term) -> Term:
        """Rule: FND-OKX-01. ``clamp(mean(window), -cap, cap)``."""
        return cap_rate(weighted_average(self.window(samples), None, self.rounding), -cap, cap)

    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-OKX-01")
    def group_for(self, symbol: str) -> str:
        """Rule: FND-OKX-01. The cap group of an instrument id: the id itself if ``caps`` names it,
        else the id without ``-SWAP`` (``BTC-USDC-SWAP`` -> ``BTC-USDC``, ``DOGE-USD-SWAP`` ->
        ``DOGE-USD``), else the underlying (``BTC-USDT-SWAP`` -> ``BTC``)."""
        bare = symbol.removesuffix("-SWAP")
        for key in (symbol, bare):
            if key in self.caps:
                return key
        return bare.split("-")[0]

    @implements("FND-ENG-02")
    def sample_premium(self, ctx: FundingContext) -> Term | None:
        """Rules: FND-ENG-02, FND-OKX-01. The mid of the top of book against the index; ``None``
        when a side of the book or the index is missing."""
        if ctx.best_bid is None or ctx.best_ask is None or ctx.index is None:
            return None
        return self.premium(ctx.best_bid, ctx.best_ask, ctx.index)

    @implements("FND-ENG-01")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates | None:
        """Rules: FND-ENG-01, FND-OKX-01. ``rate(samples, cap_for(group_for(symbol)))``; ``None``
        without samples."""
        if not ctx.samples:
            return None
        return SettlementRates.symmetric(self.rate(ctx.premiums(), self.cap_for(self.group_for(ctx.symbol))))
