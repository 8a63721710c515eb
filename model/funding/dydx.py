"""dYdX v4 funding, in the protocol's own units (ppm rates, quote quantums, funding index).

Per block the proposer votes a premium (clamped); each 60 s the votes padded with zeros to
``max(#blocks, 15)`` give a sample (their median); each hour the samples padded with zeros to 60
are averaged; the 8-hour rate (premium + default, clamped) moves the funding index by
``rate * dt / 8h`` at the oracle price; positions settle lazily against the index.

Rules: FND-DYDX-01, FND-DYDX-02, FND-DYDX-03, FND-DYDX-04, FND-DYDX-05, FND-SUM-01, FND-ENG-01.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from perpspec.funding import (
    DEFAULT_INTERVAL_MS,
    DEFAULT_SINK,
    Contract,
    EngineFunding,
    FundingContext,
    NotionalPrice,
    Settlement,
    SettlementRates,
    premium_index,
    settle_owed,
    to_rate,
)
from perpspec.numeric import Rounding, Term, clamp, div_half_up, div_round, div_trunc, pow10
from perpspec.quantities import Money
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements

PPM = 1_000_000
#: Funding-index denominator: the 8-hour realization period in seconds.
EIGHT_HOURS = 8 * 60 * 60


@implements("FND-DYDX-01")
def maintenance_ppm(initial_ppm: Term, maintenance_fraction_ppm: Term) -> Term:
    """Rule: FND-DYDX-01. ``MMF = trunc(IMF * MF / 1e6)`` (``BigIntMulPpm`` truncates)."""
    return div_trunc(initial_ppm * maintenance_fraction_ppm, PPM)


@implements("FND-DYDX-01")
def clamp_bound_ppm(clamp_factor_ppm: Term, initial_ppm: Term, maintenance_ppm_: Term) -> Term:
    """Rule: FND-DYDX-01. ``trunc(factor * (IMF - MMF) / 1e6)`` from the IMF and MMF in ppm."""
    return div_trunc(clamp_factor_ppm * (initial_ppm - maintenance_ppm_), PPM)


@implements("FND-DYDX-01")
def max_abs_clamp_ppm(clamp_factor_ppm: Term, initial_ppm: Term, maintenance_fraction_ppm: Term) -> Term:
    """Rule: FND-DYDX-01. ``|S| <= trunc(factor * (IMF - MMF) / 1e6)`` (votes and rates alike)."""
    mmf = maintenance_ppm(initial_ppm, maintenance_fraction_ppm)
    return clamp_bound_ppm(clamp_factor_ppm, initial_ppm, mmf)


def ppm_of_rate(rate: Term) -> Term:
    """A ``Rate`` (10^-8) as ppm, toward zero (the inverse of ``to_rate(ppm, 6)`` on ppm values)."""
    return div_trunc(rate, 100)


@attrs.frozen
class DydxIndexMove:
    """Rule: FND-DYDX-05. The native payload of a dYdX settlement: the funding index before and
    after this tick (ppm quote quantums per base quantum)."""

    before: Term
    after: Term


@implements("FND-DYDX-02")
def median_half_away(values: Sequence[int]) -> int:
    """Rule: FND-DYDX-02. Median; for an even count the mean of the two middle values rounded
    half away from zero (dYdX ``lib.Median``). Int backend (it sorts)."""
    if not values:
        raise ValueError("median of no values")
    s = sorted(values)
    mid = len(s) // 2
    if len(s) % 2 == 1:
        return s[mid]
    return int(div_half_up(s[mid - 1] + s[mid], 2))


@variant("funding", "dydx")
@attrs.frozen
class DydxFunding(EngineFunding):
    """Rules: FND-DYDX-01, FND-DYDX-02, FND-DYDX-03, FND-DYDX-04, FND-DYDX-05.

    Defaults are the protocol's: vote clamp factor 60x, rate clamp factor 6x, 15 votes per
    sample, 60 s samples, 3600 s ticks, no tail removal.
    """

    premium_vote_clamp_factor_ppm: int = ranged(0, default=60_000_000)
    funding_rate_clamp_factor_ppm: int = ranged(0, default=6_000_000)
    min_num_votes_per_sample: int = ranged(1, default=15)
    sample_seconds: int = ranged(1, 3600, default=60)
    tick_seconds: int = ranged(1, 86_400, default=3600)
    default_funding_ppm: int = ranged(-1_000_000, 1_000_000, default=0)
    premium_rounding: Rounding = Rounding.TRUNC
    impact_notionals: Mapping[str, Money] = ranged(1, factory=dict)
    notional_price: NotionalPrice = NotionalPrice.ORACLE
    payment_rounding: Rounding = Rounding.CEIL
    sink: str = DEFAULT_SINK

    def funding_interval_ms(self, carry: Any) -> int:
        """``tick_seconds`` (one funding tick; 8 hours when not positive)."""
        return self.tick_seconds * 1000 if self.tick_seconds > 0 else DEFAULT_INTERVAL_MS

    @implements("FND-PRM-01", "FND-DYDX-01")
    def premium_vote(self, impact_bid: Term, impact_ask: Term, index: Term, initial_ppm: Term,
                     maintenance_fraction_ppm: Term) -> Term:
        """Rules: FND-PRM-01, FND-DYDX-01. A proposer's premium vote in ppm, clamped to
        ``+-vote_factor * (IMF - MMF)``."""
        bound = max_abs_clamp_ppm(self.premium_vote_clamp_factor_ppm, initial_ppm, maintenance_fraction_ppm)
        return self.premium_vote_within(impact_bid, impact_ask, index, bound)

    @implements("FND-PRM-01", "FND-DYDX-01")
    def premium_vote_within(self, impact_bid: Term, impact_ask: Term, index: Term, bound: Term) -> Term:
        """Rules: FND-PRM-01, FND-DYDX-01. The premium in ppm clamped to ``+-bound``."""
        p = premium_index(impact_bid, impact_ask, index, index, self.premium_rounding, PPM)
        return clamp(p, -bound, bound)

    @implements("FND-DYDX-02")
    def sample(self, votes: Sequence[int], num_blocks: int) -> int:
        """Rule: FND-DYDX-02. Median of the votes padded with zeros to ``max(#blocks, 15)``."""
        need = max(num_blocks, self.min_num_votes_per_sample, len(votes))
        return median_half_away(list(votes) + [0] * (need - len(votes)))

    @implements("FND-DYDX-02")
    def hourly_premium(self, samples: Sequence[Term]) -> Term:
        """Rule: FND-DYDX-02. Average (toward zero) of the samples padded with zeros to
        ``tick / sample`` = 60 (zero samples are not stored, so padding restores them)."""
        n = max(-(-self.tick_seconds // self.sample_seconds), len(samples))
        total: Term = 0
        for s in samples:
            total = total + s
        return div_trunc(total, n)

    @implements("FND-DYDX-03")
    def rate_8h_ppm(self, premium_ppm: Term, initial_ppm: Term, maintenance_fraction_ppm: Term) -> Term:
        """Rule: FND-DYDX-03. ``clamp(premium + default, +-rate_factor * (IMF - MMF))``, ppm per 8 h."""
        bound = max_abs_clamp_ppm(self.funding_rate_clamp_factor_ppm, initial_ppm, maintenance_fraction_ppm)
        return self.rate_8h_within(premium_ppm, bound)

    @implements("FND-DYDX-03")
    def rate_8h_within(self, premium_ppm: Term, bound: Term) -> Term:
        """Rule: FND-DYDX-03. ``clamp(premium + default, +-bound)`` ppm per 8 h."""
        return clamp(premium_ppm + self.default_funding_ppm, -bound, bound)

    @implements("FND-DYDX-04")
    def index_delta(self, rate_8h_ppm: Term, dt_seconds: Term, price: Term, price_exponent: int,
                    atomic_resolution: int) -> Term:
        """Rule: FND-DYDX-04. Funding-index change (ppm quote quantums per base quantum):
        ``trunc(BaseToQuote(rate * dt) / 28800)``, where ``BaseToQuote(x) = x * price *
        10^(exponent + atomic_resolution + 6)`` truncates toward zero when the power is negative.
        """
        x = rate_8h_ppm * dt_seconds * price
        e = price_exponent + atomic_resolution + 6
        quote = x * pow10(e) if e >= 0 else div_trunc(x, pow10(-e))
        return div_trunc(quote, EIGHT_HOURS)

    @implements("FND-DYDX-05")
    def settlement_ppm(self, index_now: Term, index_position: Term, quantums: Term) -> Term:
        """Rule: FND-DYDX-05. ``-(index_now - index_position) * quantums`` (ppm quote quantums)."""
        return -(index_now - index_position) * quantums

    @implements("FND-DYDX-05", "FND-SUM-01")
    def settle(self, index_now: Term, positions: Sequence[tuple[Term, Term]]) -> Settlement:
        """Rules: FND-DYDX-05, FND-SUM-01. Lazy settlement of ``(quantums, position_index)`` pairs:
        each account gets ``floor(settlement_ppm / 1e6)`` (Euclidean, divisor > 0); the protocol
        (``sink``) keeps the dust, ``0 <= dust`` when the flows net to zero."""
        owed = [(-self.settlement_ppm(index_now, idx, q), PPM) for q, idx in positions]
        return settle_owed(owed, Rounding.CEIL, self.sink)

    def rate_as_rate(self, rate_ppm: Term) -> Term:
        """A ppm rate as a perpspec ``Rate`` (10^-8): exact (times 100)."""
        return to_rate(rate_ppm, 6, Rounding.TRUNC)

    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-DYDX-01", "FND-ENG-02")
    def bounds(self, ctx: FundingContext) -> tuple[Term, Term] | None:
        """Rules: FND-DYDX-01, FND-ENG-02. ``(vote bound, rate bound)`` in ppm from the context's
        first-tier rates (``IMF = first_imr``, ``MMF = first_mmr``, as ppm toward zero); ``None``
        when the IMF is not known (0)."""
        if ctx.first_imr <= 0:
            return None
        imf, mmf = ppm_of_rate(ctx.first_imr), ppm_of_rate(ctx.first_mmr)
        return (clamp_bound_ppm(self.premium_vote_clamp_factor_ppm, imf, mmf),
                clamp_bound_ppm(self.funding_rate_clamp_factor_ppm, imf, mmf))

    @implements("FND-ENG-01")
    def impact_notional_for(self, symbol: str, first_imr: int) -> int | None:
        """Rule: FND-ENG-01. The liquidity tier's impact notional (``impact_notionals`` per
        symbol; shared/reference gives no values, so none is bundled)."""
        return self.impact_notionals.get(symbol)

    @implements("FND-ENG-02")
    def sample_premium(self, ctx: FundingContext) -> Term | None:
        """Rules: FND-ENG-02, FND-DYDX-01, FND-PRM-01. The clamped premium vote as a ``Rate``; a
        side without an impact price (empty book) contributes 0, as on dYdX; ``None`` without the
        index or the IMF."""
        b = self.bounds(ctx)
        if ctx.index is None or b is None:
            return None
        bid = ctx.index if ctx.impact_bid is None else ctx.impact_bid
        ask = ctx.index if ctx.impact_ask is None else ctx.impact_ask
        return self.rate_as_rate(self.premium_vote_within(bid, ask, ctx.index, b[0]))

    @implements("FND-ENG-01")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates | None:
        """Rules: FND-ENG-01, FND-DYDX-02, FND-DYDX-03, FND-DYDX-04. One funding tick:
        ``rate_8h = clamp(hourly_premium(samples in ppm) + default, +-rate bound)``; the funding
        index (the carry, 0 initially) moves by ``index_delta(rate_8h, tick_seconds, oracle)`` in
        the context's units; the headline rate is the ``Rate`` applied this tick,
        ``trunc(rate_8h x tick / 8 h)``. ``None`` without the oracle price or the IMF."""
        b = self.bounds(ctx)
        if ctx.oracle is None or b is None:
            return None
        rate_8h = self.rate_8h_within(self.hourly_premium([ppm_of_rate(p) for p in ctx.premiums()]), b[1])
        c = ctx.contract
        # BaseToQuote's "+6" is the quote atomic resolution; perpspec money units have m decimals
        delta = self.index_delta(rate_8h, self.tick_seconds, ctx.oracle, -c.price_decimals,
                                 c.money_decimals - 6 - c.size_decimals)
        before = ctx.carry if isinstance(ctx.carry, int) else 0
        headline = div_trunc(self.rate_as_rate(rate_8h) * self.tick_seconds, EIGHT_HOURS)
        return SettlementRates.symmetric(headline, before + delta, DydxIndexMove(before, before + delta))

    @implements("FND-DYDX-05", "FND-SUM-01")
    def settle_native(self, contract: Contract, sizes: Sequence[int], price: Term,
                      rates: SettlementRates) -> Settlement:
        """Rules: FND-DYDX-05, FND-SUM-01. Every position settles lazily from the index before
        this tick to the index after it (each was last settled at the previous tick)."""
        move: DydxIndexMove = rates.native
        return self.settle(move.after, [(q, move.before) for q in sizes])


@implements("FND-DYDX-05")
def to_quantums(settlement: Term) -> Term:
    """Rule: FND-DYDX-05. ``settlement_ppm`` to quote quantums: Euclidean (floor) division by 1e6."""
    return div_round(settlement, PPM, Rounding.FLOOR)
