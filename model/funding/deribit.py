"""Deribit funding: dead band of +-0.025 %, cap, continuous accrual over 8 hours.

Rules: FND-DRB-01, FND-DRB-02, FND-ENG-01, FND-ENG-03.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from perpspec.funding import (
    DEFAULT_INTERVAL_MS,
    DEFAULT_SINK,
    Contract,
    EngineFunding,
    FundingContext,
    NotionalPrice,
    Payments,
    Settlement,
    SettlementRates,
    owed_fraction,
    settle_owed,
    weighted_average,
)
from perpspec.numeric import Rounding, Term, clamp, div_round, max_, min_
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

_DEAD_BAND = Rate(25_000)
_CAP = Rate(500_000)


@attrs.frozen
class DeribitAccrual:
    """Rule: FND-DRB-02. The native payload of a Deribit settlement: the 8-hour rate and the
    time it accrued over (ms)."""

    rate: Term
    elapsed_ms: Term


@variant("funding", "deribit-deadband")
@attrs.frozen
class DeribitDeadband(Payments, EngineFunding):
    """Rule: FND-DRB-01. :math:`F = \\operatorname{clamp}(\\max(d, P) + \\min(-d, P), -cap, cap)`,
    :math:`P = (mark - index)/index`; accrual :math:`= F \\cdot N \\cdot \\Delta t / 8h` (FND-DRB-02).
    """

    dead_band: Rate = ranged(0, RATE_ONE, default=_DEAD_BAND)
    cap: Rate = ranged(0, RATE_ONE, default=_CAP)
    period_ms: int = ranged(1, default=8 * 3600 * 1000)
    notional_price: NotionalPrice = NotionalPrice.INDEX
    rounding: Rounding = Rounding.TRUNC
    payment_rounding: Rounding = Rounding.CEIL
    sink: str = DEFAULT_SINK
    def funding_interval_ms(self, carry: Any) -> int:
        """``period_ms`` (8 hours when not positive)."""
        return self.period_ms if self.period_ms > 0 else DEFAULT_INTERVAL_MS


    @implements("FND-DRB-01")
    def premium(self, mark: Term, index: Term) -> Term:
        """Rule: FND-DRB-01. ``P = (mark - index) / index`` (10^-8, ``rounding``)."""
        return div_round((mark - index) * RATE_ONE, index, self.rounding)

    @implements("FND-DRB-01")
    def rate(self, premium: Term) -> Term:
        """Rule: FND-DRB-01. Dead band then cap; exact."""
        uncapped = max_(self.dead_band, premium) + min_(-self.dead_band, premium)
        return clamp(uncapped, -self.cap, self.cap)

    @implements("FND-DRB-02")
    def accrual(self, notional_money: Term, rate: Term, dt_ms: Term) -> Term:
        """Rule: FND-DRB-02. Owed over ``dt_ms``: ``N * F * dt / 8h``, one division, ``payment_rounding``."""
        return div_round(notional_money * rate * dt_ms, RATE_ONE * self.period_ms, self.payment_rounding)

    @implements("FND-DRB-02", "FND-PAY-01")
    def accrued_owed(
        self, contract: Contract, size: Term, price: Term, rate: Term, dt_ms: Term
    ) -> tuple[Term, Term]:
        """Rules: FND-DRB-02, FND-PAY-01. The exact amount owed over ``dt_ms`` as a fraction:
        ``N x F x dt / 8h`` on the exact notional (one rounding, at settlement)."""
        num, den = owed_fraction(contract, size, price, rate * dt_ms)
        return num, den * self.period_ms

    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-ENG-02")
    def sample_premium(self, ctx: FundingContext) -> Term | None:
        """Rules: FND-ENG-02, FND-DRB-01. ``(mark - index) / index``; ``None`` if one is missing."""
        if ctx.mark is None or ctx.index is None:
            return None
        return self.premium(ctx.mark, ctx.index)

    @implements("FND-ENG-01")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates | None:
        """Rules: FND-ENG-01, FND-DRB-01, FND-DRB-02. ``F = rate(mean of the samples)`` (the
        current premium when there is none), accrued over the time since the last settlement (or
        the first sample). The headline rate is the 8-hour ``F``; ``None`` when neither samples
        nor mark and index, or no start time, are known."""
        if ctx.samples:
            premium: Term | None = weighted_average(ctx.premiums(), None, self.rounding)
        else:
            premium = self.sample_premium(ctx)
        if premium is None:
            return None
        return self.explicit_rates(ctx, self.rate(premium))

    @implements("FND-ENG-03")
    def explicit_rates(self, ctx: FundingContext, rate: Term) -> SettlementRates:
        """Rules: FND-ENG-03, FND-DRB-02. A replayed Deribit rate is the 8-hour rate: it accrues
        over the elapsed time (``FundingContext.elapsed_ms``)."""
        return SettlementRates.symmetric(rate, ctx.carry, DeribitAccrual(rate, ctx.elapsed_ms()))

    @implements("FND-DRB-02", "FND-SUM-01")
    def settle_native(
        self, contract: Contract, sizes: Sequence[int], price: Term, rates: SettlementRates
    ) -> Settlement:
        """Rules: FND-DRB-02, FND-SUM-01. Zero-sum accrual: each position owes
        :meth:`accrued_owed`, rounded ``payment_rounding``; the dust goes to ``sink``."""
        if sum(sizes) != 0:
            raise ValueError("positions must net to zero (every long has a short) to settle zero-sum")
        acc: DeribitAccrual = rates.native
        owed = [self.accrued_owed(contract, q, price, acc.rate, acc.elapsed_ms) for q in sizes]
        return settle_owed(owed, self.payment_rounding, self.sink)
