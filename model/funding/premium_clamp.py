"""Premium + clamped interest funding (Binance, Bybit, BitMEX): variant ``premium-interest-clamp``.

:math:`F_{8h} = \\bar P + \\operatorname{clamp}(I - \\bar P, \\pm b)`, scaled to the interval
(Binance) and capped (Binance ``0.75 MMR``; BitMEX ``75% (IM - MM)``; fixed otherwise).

Rules: FND-PRM-01, FND-AVG-01, FND-CLP-01, FND-CAP-01, FND-IMN-01, FND-INT-01, FND-INT-02,
FND-IRT-01, FND-PAY-01, FND-ENG-01, FND-ENG-03.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import attrs
from perpspec.funding import (
    DEFAULT_INTERVAL_MS,
    DEFAULT_SINK,
    HOUR_MS,
    EngineFunding,
    FundingContext,
    NotionalPrice,
    Payments,
    SettlementRates,
    cap_rate,
    interest_clamp,
    linear_weights,
    premium_index,
    scale_interval,
    weighted_average,
)
from perpspec.numeric import Rounding, Term, abs_, and_, div_round, ite, or_
from perpspec.quantities import Money, Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


class PremiumReference(enum.Enum):
    """What the impact prices are compared with in the premium (FND-PRM-01)."""

    INDEX = "index"  #: current Binance, Bybit fund-rate page
    MARK = "mark"  #: 2020 Binance FAQ, older BitMEX/Bybit docs


class Weighting(enum.Enum):
    """How premium samples are averaged (FND-AVG-01)."""

    LINEAR = "linear"  #: weights 1..n (Binance 5 s samples, Bybit minute samples)
    UNIFORM = "uniform"  #: plain time-weighted mean of equally spaced samples (BitMEX TWAP)


class CapBasis(enum.Enum):
    """Where the funding cap comes from (FND-CAP-01)."""

    FIXED = "fixed"  #: ``cap`` as given
    MMR = "mmr"  #: ``cap_factor * MMR`` of the first bracket (Binance majors)
    IM_MINUS_MM = "im-minus-mm"  #: ``cap_factor * (IM - MM)`` (BitMEX; the older Binance rule)


_INTEREST = Rate(10_000)
_CLAMP = Rate(50_000)
_CAP_FACTOR = Rate(75_000_000)
_CAP = Rate(2_000_000)
_IMPACT_MARGIN = Money(0)
_CALM_THRESHOLD = Rate(25_000)


@attrs.frozen
class IntervalCarry:
    """Rule: FND-INT-02. Carried between settlements: the symbol's current interval (hours) and
    its calm streak on the capped interval."""

    interval_hours: int
    calm_streak: int = 0


@variant("funding", "premium-interest-clamp")
@attrs.frozen
class PremiumInterestClamp(Payments, EngineFunding):
    """Rules: FND-CLP-01, FND-CAP-01, FND-INT-01. Parameters of the premium/interest/clamp family.

    - ``interest``: ``I`` per base interval (0.01% per 8 h by default);
    - ``clamp``: the dampener band ``b`` (0.05%);
    - ``cap_basis``/``cap_factor``/``cap``: the cap rule; ``cap`` is also the fallback (Binance 2%);
    - ``scale_to_interval``: Binance divides the 8-h formula by ``8/N``; BitMEX keeps the cap per
      interval and does not scale (its daily maximum grows with the number of intervals);
    - ``capped_symbols``: the symbols ``cap_basis`` applies to (all when empty);
    - ``impact_margin``: the IMN numerator (Binance 200 USDT, BitMEX 0.1 XBT), money units;
    - ``capped_interval_hours``/``calm_interval_hours``/``calm_cycles``/``calm_threshold``:
      the Binance interval changes (0 disables them).
    """

    interest: Rate = ranged(-RATE_ONE, RATE_ONE, default=_INTEREST)
    clamp: Rate = ranged(0, RATE_ONE, default=_CLAMP)
    premium_reference: PremiumReference = PremiumReference.INDEX
    weighting: Weighting = Weighting.LINEAR
    sample_seconds: int = ranged(1, 3600, default=5)
    base_interval_hours: int = ranged(1, 24, default=8)
    interval_hours: int = ranged(1, 24, default=8)
    scale_to_interval: bool = True
    cap_basis: CapBasis = CapBasis.FIXED
    cap_factor: Rate = ranged(0, RATE_ONE, default=_CAP_FACTOR)
    cap: Rate = ranged(0, RATE_ONE, default=_CAP)
    impact_margin: Money = ranged(0, default=_IMPACT_MARGIN)
    capped_symbols: tuple[str, ...] = ()
    capped_interval_hours: int = ranged(0, 24, why="0 disables the interval change", default=0)
    calm_interval_hours: int = ranged(0, 24, default=0)
    calm_cycles: int = ranged(0, default=16)
    calm_threshold: Rate = ranged(0, RATE_ONE, default=_CALM_THRESHOLD)
    notional_price: NotionalPrice = NotionalPrice.MARK
    rounding: Rounding = Rounding.TRUNC
    payment_rounding: Rounding = Rounding.CEIL
    sink: str = DEFAULT_SINK
    def funding_interval_ms(self, carry: Any) -> int:
        """Rule: FND-INT-02. The carried interval (:class:`IntervalCarry`, after a settlement
        changed it), else ``interval_hours``; 8 hours when neither is positive."""
        if isinstance(carry, IntervalCarry) and carry.interval_hours > 0:
            return carry.interval_hours * HOUR_MS
        return self.interval_hours * HOUR_MS if self.interval_hours > 0 else DEFAULT_INTERVAL_MS

    def predicted_rate(self, samples: Sequence[int]) -> Term | None:
        """The rate of the average of ``samples`` (FND-AVG-01, FND-CLP-01) at ``interval_hours``."""
        return self.rate(self.average(samples))


    def check(self) -> list[tuple[str, str]]:
        """Rule: UNT-RNG-01. Relations the declared ranges cannot state: every interval divides
        24 h; the interval change needs a calm interval to return to (0 zeroed funding)."""
        out = []
        for name in ("base_interval_hours", "interval_hours", "capped_interval_hours", "calm_interval_hours"):
            hours = getattr(self, name)
            if hours > 0 and 24 % hours != 0:
                out.append((name, "must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24)"))
        if self.capped_interval_hours > 0 and self.calm_interval_hours == 0:
            why = "must be 1 to 24 when capped_interval_hours is set (0 stops funding)"
            out.append(("calm_interval_hours", why))
        return out

    # -- premium and average ------------------------------------------------------------------

    @implements("FND-PRM-01")
    def premium(self, impact_bid: Term, impact_ask: Term, index: Term, mark: Term | None = None,
                basis: Term = 0) -> Term:
        """Rule: FND-PRM-01. Premium against the index (or the mark, ``premium_reference``), over
        the index, plus BitMEX's ``FairBasisUsedInMark`` ``basis`` where the venue adds it."""
        if self.premium_reference is PremiumReference.MARK:
            if mark is None:
                raise ValueError("this profile's premium is measured against the mark price: pass mark=")
            return premium_index(impact_bid, impact_ask, mark, index, self.rounding) + basis
        return premium_index(impact_bid, impact_ask, index, index, self.rounding) + basis

    @implements("FND-AVG-01")
    def samples_per_interval(self, interval_hours: int | None = None) -> int:
        """Rule: FND-AVG-01. Samples per interval: 5,760 per 8 h at 5 s; 480 per 8 h at 1 min."""
        hours = self.interval_hours if interval_hours is None else interval_hours
        return hours * 3600 // self.sample_seconds

    @implements("FND-AVG-01")
    def average(self, samples: Sequence[Term]) -> Term:
        """Rule: FND-AVG-01. Time-weighted average premium ``avgP`` (linear or uniform weights)."""
        weights = linear_weights(len(samples)) if self.weighting is Weighting.LINEAR else None
        return weighted_average(samples, weights, self.rounding)

    # -- rate ---------------------------------------------------------------------------------

    @implements("FND-CLP-01")
    def rate_base(self, avg_premium: Term) -> Term:
        """Rule: FND-CLP-01. ``F_8h = avgP + clamp(I - avgP, -b, +b)``."""
        return interest_clamp(avg_premium, self.interest, self.clamp)

    @implements("FND-CAP-01")
    def cap_for(self, mmr: Term = 0, imr: Term = 0) -> Term:
        """Rule: FND-CAP-01. The cap (the floor is its negative) for a market.

        ``mmr``/``imr`` are the market's first-bracket maintenance and initial rates (10^-8).
        ``cap_factor * MMR`` or ``cap_factor * (IM - MM)``, rounded toward zero; ``cap`` when fixed.
        """
        if self.cap_basis is CapBasis.MMR:
            return div_round(self.cap_factor * mmr, RATE_ONE, Rounding.TRUNC)
        if self.cap_basis is CapBasis.IM_MINUS_MM:
            return div_round(self.cap_factor * (imr - mmr), RATE_ONE, Rounding.TRUNC)
        return self.cap

    @implements("FND-CAP-01")
    def cap_for_symbol(self, symbol: str, mmr: Term = 0, imr: Term = 0) -> Term:
        """Rule: FND-CAP-01. ``cap_basis`` applies to ``capped_symbols`` (all when empty); the
        other symbols use the fixed ``cap`` (Binance: majors 0.75 MMR, the rest 2%)."""
        if self.capped_symbols and symbol not in self.capped_symbols:
            return self.cap
        return self.cap_for(mmr, imr)

    @implements("FND-CLP-01", "FND-INT-01", "FND-CAP-01")
    def rate(self, avg_premium: Term, cap: Term | None = None, interval_hours: Term | None = None) -> Term:
        """Rules: FND-CLP-01, FND-INT-01, FND-CAP-01. The rate applied at a settlement.

        :math:`F = \\operatorname{clamp}(F_{8h} \\cdot N / 8, -cap, cap)` (no scaling when
        ``scale_to_interval`` is false).
        """
        hours = self.interval_hours if interval_hours is None else interval_hours
        f = self.rate_base(avg_premium)
        if self.scale_to_interval:
            f = scale_interval(f, hours, self.base_interval_hours, self.rounding)
        c = self.cap if cap is None else cap
        return cap_rate(f, -c, c)

    @implements("FND-CAP-01")
    def daily_max(self, cap: Term, interval_hours: int | None = None) -> Term:
        """Rule: FND-CAP-01. Largest funding in a day: ``cap * 24 / N`` (BitMEX 0.375% -> 1.125%
        at 8 h, 4.5% at 2 h)."""
        hours = self.interval_hours if interval_hours is None else interval_hours
        return cap * (24 // hours)

    @implements("FND-IMN-01")
    def impact_notional(self, imr_at_max_leverage: Term) -> Term:
        """Rule: FND-IMN-01. ``IMN = impact_margin / IMR`` at max leverage (money units, floor).

        One definition: the formula is the pricing module's (PRC-IMP-02), with this profile's
        impact margin.
        """
        from perpspec.pricing.impact import impact_notional

        return impact_notional(self.impact_margin, imr_at_max_leverage, Rounding.FLOOR)

    @implements("FND-INT-02")
    def next_interval(
        self, current_hours: Term, last_rate: Term, cap: Term, calm_streak: Term
    ) -> tuple[Term, Term]:
        """Rule: FND-INT-02. Binance's interval changes; returns ``(hours, calm_streak)``.

        After a settlement that hit the cap or floor the symbol moves to ``capped_interval_hours``
        (1 h). On that interval, a settlement with ``|F| <= calm_threshold`` extends the calm
        streak; after ``calm_cycles`` (16) such cycles it reverts to ``calm_interval_hours`` (4 h,
        not 8 h). Disabled (interval unchanged) when ``capped_interval_hours`` is 0.
        """
        if self.capped_interval_hours == 0:
            return current_hours, 0
        hit = abs_(last_rate) >= cap
        on_short = current_hours == self.capped_interval_hours
        calm = and_(on_short, abs_(last_rate) <= self.calm_threshold)
        streak = ite(calm, calm_streak + 1, 0)
        revert = and_(calm, streak >= self.calm_cycles)
        hours = ite(hit, self.capped_interval_hours, ite(revert, self.calm_interval_hours, current_hours))
        return hours, ite(or_(hit, revert), 0, streak)

    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-ENG-01")
    def impact_notional_for(self, symbol: str, first_imr: int) -> int | None:
        """Rules: FND-ENG-01, FND-IMN-01. ``impact_margin / first_imr``; ``None`` when the profile
        gives no impact margin (COIN-M: a USD amount, not a coin amount) or no IMR is known."""
        if self.impact_margin <= 0 or first_imr <= 0:
            return None
        return int(self.impact_notional(first_imr))

    @implements("FND-INT-02")
    def carry_of(self, ctx: FundingContext) -> IntervalCarry:
        """Rule: FND-INT-02. The carried interval, ``interval_hours`` before the first settlement."""
        carry = ctx.carry
        return carry if isinstance(carry, IntervalCarry) else IntervalCarry(self.interval_hours)

    @implements("FND-ENG-02")
    def sample_premium(self, ctx: FundingContext) -> Term | None:
        """Rules: FND-ENG-02, FND-PRM-01. Impact prices against the index (or the mark); ``None``
        when an impact price, the index or (mark reference) the mark is missing. BitMEX's
        ``FairBasisUsedInMark`` is not in the context: the sample carries no basis term."""
        if ctx.impact_bid is None or ctx.impact_ask is None or ctx.index is None:
            return None
        if self.premium_reference is PremiumReference.MARK and ctx.mark is None:
            return None
        return self.premium(ctx.impact_bid, ctx.impact_ask, ctx.index, ctx.mark)

    @implements("FND-ENG-01")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates | None:
        """Rules: FND-ENG-01, FND-AVG-01, FND-CLP-01, FND-INT-01, FND-CAP-01, FND-INT-02.
        ``rate(average(samples), cap_for_symbol(symbol, first_mmr, first_imr), carried hours)``;
        the carry becomes ``next_interval(hours, rate, cap, streak)``. ``None`` without samples."""
        cap = self.cap_of(ctx)
        if not ctx.samples or cap is None:
            return None
        carry = self.carry_of(ctx)
        rate = self.rate(self.average(ctx.premiums()), cap, carry.interval_hours)
        return SettlementRates.symmetric(rate, self._next_carry(carry, rate, cap))

    @implements("FND-ENG-03")
    def explicit_rates(self, ctx: FundingContext, rate: Term) -> SettlementRates:
        """Rules: FND-ENG-03, FND-INT-02. A replayed rate still drives the interval changes."""
        cap = self.cap_of(ctx)
        if cap is None:  # no margin rates known: the interval rules cannot tell a capped rate
            return SettlementRates.symmetric(rate, ctx.carry)
        return SettlementRates.symmetric(rate, self._next_carry(self.carry_of(ctx), rate, cap))

    @implements("FND-ENG-02")
    def cap_of(self, ctx: FundingContext) -> Term | None:
        """Rules: FND-CAP-01, FND-ENG-02. The symbol's cap from the context's first-tier rates;
        ``None`` when the cap needs a margin rate the context does not have (0)."""
        uses_margin = self.cap_basis is not CapBasis.FIXED and (
            not self.capped_symbols or ctx.symbol in self.capped_symbols)
        if uses_margin and (ctx.first_mmr <= 0 or
                            (self.cap_basis is CapBasis.IM_MINUS_MM and ctx.first_imr <= 0)):
            return None
        return self.cap_for_symbol(ctx.symbol, ctx.first_mmr, ctx.first_imr)

    def _next_carry(self, carry: IntervalCarry, rate: Term, cap: Term) -> IntervalCarry:
        hours, streak = self.next_interval(carry.interval_hours, rate, cap, carry.calm_streak)
        return IntervalCarry(int(hours), int(streak))


@implements("FND-IRT-01")
def interest_from_rates(quote_rate: Term, base_rate: Term, intervals_per_day: int = 3,
                        rounding: Rounding = Rounding.TRUNC) -> Term:
    """Rule: FND-IRT-01. BitMEX/Bybit interest per interval:
    :math:`I = (r_{quote} - r_{base}) / intervals` (daily rates; 3 intervals of 8 h)."""
    return div_round(quote_rate - base_rate, intervals_per_day, rounding)
