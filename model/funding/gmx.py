"""GMX v2 funding: the larger open-interest side pays the smaller, per second, with an optional
adaptive funding factor.

GMX works in 30-decimal fixed point (``FLOAT_PRECISION = 1e30``); this module keeps that scale
and converts to a perpspec ``Rate`` (10^-8) at the boundary, toward zero.

Rules: FND-GMX-01, FND-GMX-02, FND-ENG-01.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
from perpspec.funding import (
    DEFAULT_SINK,
    EngineFunding,
    FundingContext,
    NotionalPrice,
    SettlementRates,
    to_rate,
)
from perpspec.numeric import Rounding, Term, abs_, div_trunc, ite, max_, min_, sign
from perpspec.quantities import Exact
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import to_units

FLOAT_PRECISION = 10**30


def to_float(x: Fraction) -> int:
    """An exact parameter as a GMX 1e30 fixed-point integer (inexact is an error)."""
    return to_units(x, 30)


@attrs.frozen
class GmxFunding:
    """Rule: FND-GMX-01. Per-second factors (1e30): what the larger side pays per unit of size,
    and what the smaller side receives per unit of size."""

    long_pays: Term
    payer_factor: Term
    receiver_factor: Term


_FUNDING_FACTOR = Exact(Fraction(0))
_INCREASE_FACTOR = Exact(Fraction(0))
_DECREASE_FACTOR = Exact(Fraction(0))
_STABLE_THRESHOLD = Exact(Fraction(0))
_DECREASE_THRESHOLD = Exact(Fraction(0))


@variant("funding", "gmx-skew")
@attrs.frozen
class GmxSkew(EngineFunding):
    """Rules: FND-GMX-01, FND-GMX-02.

    ``funding_factor``: per second; ``funding_exponent``: a positive integer (GMX allows a real
    exponent; perpspec implements integer exponents exactly). Adaptive funding:
    ``increase_factor``/``decrease_factor`` per second, ``stable_threshold`` and
    ``decrease_threshold`` as imbalance fractions; disabled when ``increase_factor`` is 0.
    """

    funding_factor: Exact = ranged(0, default=_FUNDING_FACTOR)
    funding_exponent: int = ranged(1, default=1)
    increase_factor: Exact = ranged(0, default=_INCREASE_FACTOR)
    decrease_factor: Exact = ranged(0, default=_DECREASE_FACTOR)
    stable_threshold: Exact = ranged(0, default=_STABLE_THRESHOLD)
    decrease_threshold: Exact = ranged(0, default=_DECREASE_THRESHOLD)
    notional_price: NotionalPrice = NotionalPrice.ORACLE
    sink: str = DEFAULT_SINK

    def check(self) -> list[tuple[str, str]]:
        out = []
        names: tuple[str, ...] = ("funding_factor", "increase_factor", "decrease_factor")
        names += ("stable_threshold", "decrease_threshold")
        for name in names:
            v = getattr(self, name)
            if (v * FLOAT_PRECISION).denominator != 1:
                out.append((name, "must be a whole number of 1e-30 units"))
        return out

    @implements("FND-GMX-01")
    def imbalance(self, long_oi: Term, short_oi: Term) -> Term:
        """Rule: FND-GMX-01. ``|L - S|^exp / (L + S)`` as a 1e30 fraction (toward zero)."""
        diff = abs_(long_oi - short_oi)
        powered = diff
        for _ in range(self.funding_exponent - 1):
            powered = div_trunc(powered * diff, FLOAT_PRECISION)
        total = long_oi + short_oi
        return ite(total == 0, 0, div_trunc(powered * FLOAT_PRECISION, ite(total == 0, 1, total)))

    @implements("FND-GMX-01")
    def funding(self, long_oi: Term, short_oi: Term, factor: Term | None = None) -> GmxFunding:
        """Rule: FND-GMX-01. The larger side pays ``factor * |L-S|^e / (L+S)`` per second; the
        smaller side receives the same total, i.e. ``payer_factor * larger / smaller`` per unit.
        ``factor`` is the (adaptive) saved factor when given, else ``funding_factor``."""
        f = to_float(self.funding_factor) if factor is None else abs_(factor)
        pay = div_trunc(f * self.imbalance(long_oi, short_oi), FLOAT_PRECISION)
        larger = max_(long_oi, short_oi)
        smaller = min_(long_oi, short_oi)
        receive = ite(smaller == 0, 0, div_trunc(pay * larger, ite(smaller == 0, 1, smaller)))
        return GmxFunding(long_pays=long_oi > short_oi, payer_factor=pay, receiver_factor=receive)

    @implements("FND-GMX-02")
    def next_saved_factor(self, saved: Term, long_oi: Term, short_oi: Term, dt: Term) -> Term:
        """Rule: FND-GMX-02. Adaptive funding factor after ``dt`` seconds (signed: > 0 longs pay).

        - imbalance > stable threshold: ``saved + sign(L-S) * imbalance * increase * dt``;
        - decrease threshold <= imbalance <= stable threshold and the skew agrees with ``saved``:
          unchanged;
        - otherwise: decays toward zero by ``decrease * dt`` (never past zero).
        """
        imb = self.imbalance(long_oi, short_oi)
        skew = sign(long_oi - short_oi)
        grow = saved + skew * div_trunc(imb * to_float(self.increase_factor), FLOAT_PRECISION) * dt
        step = to_float(self.decrease_factor) * dt
        decayed = ite(abs_(saved) <= step, 0, saved - sign(saved) * step)
        agrees = skew * saved > 0
        hold = ite(imb >= to_float(self.decrease_threshold), ite(agrees, saved, decayed), decayed)
        return ite(imb > to_float(self.stable_threshold), grow, hold)

    def as_rate(self, factor: Term) -> Term:
        """A 1e30 per-second factor as a perpspec ``Rate`` (10^-8), toward zero."""
        return to_rate(factor, 30, Rounding.TRUNC)

    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-ENG-01")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates:
        """Rules: FND-ENG-01, FND-GMX-01, FND-GMX-02. No premium samples: open interest is
        ``long_size``/``short_size``; over ``dt`` = elapsed seconds the larger side owes
        ``payer_factor x dt`` and the smaller receives ``receiver_factor x dt`` per unit of
        notional (``Rate`` toward zero; asymmetric: the sink takes the difference). With adaptive
        funding (``increase_factor > 0``) the factor is the saved factor (the carry, 1e30, 0
        initially) after ``next_saved_factor``."""
        dt = div_trunc(ctx.elapsed_ms(), 1000)
        saved = ctx.carry if isinstance(ctx.carry, int) else 0
        adaptive = self.increase_factor > 0
        if adaptive:
            saved = self.next_saved_factor(saved, ctx.long_size, ctx.short_size, dt)
        f = self.funding(ctx.long_size, ctx.short_size, saved if adaptive else None)
        pay, recv = self.as_rate(f.payer_factor * dt), self.as_rate(f.receiver_factor * dt)
        rate_long = ite(f.long_pays, pay, -recv)
        rate_short = ite(f.long_pays, recv, -pay)
        return SettlementRates(rate_long, rate_long, rate_short, saved if adaptive else ctx.carry)
