"""Deribit funding: dead band of +-0.025 %, cap, continuous accrual over 8 hours.

Rules: FND-DRB-01, FND-DRB-02.
"""

from __future__ import annotations

import attrs
from perpspec.funding import DEFAULT_SINK, NotionalPrice, Payments
from perpspec.numeric import Rounding, Term, clamp, div_round, max_, min_
from perpspec.quantities import Rate
from perpspec.registry import variant
from perpspec.units import RATE_ONE

_DEAD_BAND = Rate(25_000)
_CAP = Rate(500_000)


@variant("funding", "deribit-deadband")
@attrs.frozen
class DeribitDeadband(Payments):
    """Rule: FND-DRB-01. :math:`F = \\operatorname{clamp}(\\max(d, P) + \\min(-d, P), -cap, cap)`,
    :math:`P = (mark - index)/index`; accrual :math:`= F \\cdot N \\cdot \\Delta t / 8h` (FND-DRB-02).
    """

    dead_band: Rate = _DEAD_BAND
    cap: Rate = _CAP
    period_ms: int = 8 * 3600 * 1000
    notional_price: NotionalPrice = NotionalPrice.INDEX
    rounding: Rounding = Rounding.TRUNC
    payment_rounding: Rounding = Rounding.CEIL
    sink: str = DEFAULT_SINK

    def check(self) -> list[tuple[str, str]]:
        out = [(n, "must not be negative") for n in ("dead_band", "cap") if getattr(self, n) < 0]
        if self.period_ms <= 0:
            out.append(("period_ms", "must be a positive integer"))
        return out

    def premium(self, mark: Term, index: Term) -> Term:
        """Rule: FND-DRB-01. ``P = (mark - index) / index`` (10^-8, ``rounding``)."""
        return div_round((mark - index) * RATE_ONE, index, self.rounding)

    def rate(self, premium: Term) -> Term:
        """Rule: FND-DRB-01. Dead band then cap; exact."""
        uncapped = max_(self.dead_band, premium) + min_(-self.dead_band, premium)
        return clamp(uncapped, -self.cap, self.cap)

    def accrual(self, notional_money: Term, rate: Term, dt_ms: Term) -> Term:
        """Rule: FND-DRB-02. Owed over ``dt_ms``: ``N * F * dt / 8h``, one division, ``payment_rounding``."""
        return div_round(notional_money * rate * dt_ms, RATE_ONE * self.period_ms, self.payment_rounding)
