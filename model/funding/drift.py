"""Drift v2 funding, in the program's own units (price 1e6, base 1e9, quote 1e6, rate 1e9).

Hourly: ``spread = mark_twap - oracle_twap + |oracle_twap| / 5000``, clamped by contract tier,
``rate = spread * 1000 / 24``. Paid through the AMM's net position: when the AMM would pay more
than 1/3 of its fee pool, the receiving side's rate is cut (asymmetric). Payments truncate.

Rules: FND-DRF-01, FND-DRF-02, FND-DRF-03, FND-DRF-04, FND-SUM-01, FND-ENG-01, FND-ENG-03.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from perpspec.funding import (
    DEFAULT_INTERVAL_MS,
    Contract,
    EngineFunding,
    FundingContext,
    NotionalPrice,
    Settlement,
    SettlementRates,
)
from perpspec.numeric import Rounding, Term, abs_, clamp, div_floor, div_trunc, ite, max_, sign
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

PRICE_PRECISION = 1_000_000
FUNDING_RATE_BUFFER = 1_000
AMM_TO_QUOTE_PRECISION_RATIO = 1_000
#: AMM_RESERVE_PRECISION * FUNDING_RATE_PRECISION / QUOTE_PRECISION = 1e9 * 1e9 / 1e6
QUOTE_TO_BASE_AMT_FUNDING_PRECISION = 10**12
ONE_HOUR = 3600


def _default_tiers() -> dict[str, int]:
    return {"A": 33, "B": 33, "C": 20}


@attrs.frozen
class DriftSplit:
    """Rule: FND-DRF-03. Long and short rates of one period, the AMM's capped funding PnL and the
    new ``total_fee_minus_distributions``."""

    rate_long: Term
    rate_short: Term
    amm_pnl: Term
    total_fee_minus_distributions: Term


@attrs.frozen
class DriftCarry:
    """Rules: FND-DRF-01, FND-DRF-03, FND-ENG-03. Carried between settlements: the mark and
    oracle TWAPs for the next settlement (price units; ``None`` = not maintained, the current
    mark and oracle stand in), the AMM's ``total_fee_minus_distributions`` and its
    ``total_exchange_fee`` (quote, 1e6)."""

    mark_twap: int | None = None
    oracle_twap: int | None = None
    total_fee_minus_distributions: int = 0
    total_exchange_fee: int = 0


@attrs.frozen
class DriftNative:
    """Rule: FND-DRF-04. Per-side rates of one period at Drift's 1e9 funding precision."""

    rate_long: Term
    rate_short: Term


@variant("funding", "drift")
@attrs.frozen
class DriftFunding(EngineFunding):
    """Rules: FND-DRF-01, FND-DRF-02, FND-DRF-03, FND-DRF-04.

    ``tier_divisors``: max spread = oracle_twap / divisor per contract tier (A, B: 33, i.e. ~3%;
    C: 20); other tiers ``default_divisor`` (10). ``offset_denominator`` 5000 (~7.3%/yr to shorts;
    0 disables it). The protocol keeps ``fee_share_numerator/denominator`` (1/2) of exchange fees
    and spends at most ``1/fee_pool_fraction`` (1/3) of the rest per period.
    """

    funding_period: int = ranged(1, 86_400, why="the hourly scaling divides by 86400 // it", default=ONE_HOUR)
    offset_denominator: int = ranged(0, why="0 disables the offset", default=5000)
    tier_divisors: Mapping[str, int] = ranged(1, factory=_default_tiers)
    default_divisor: int = ranged(1, default=10)
    fee_share_numerator: int = ranged(0, default=1)
    fee_share_denominator: int = ranged(1, default=2)
    fee_pool_fraction: int = ranged(1, default=3)
    contract_tiers: Mapping[str, str] = attrs.field(factory=dict)
    notional_price: NotionalPrice = NotionalPrice.ORACLE
    payment_rounding: Rounding = Rounding.TRUNC
    sink: str = "amm-fee-pool"
    def funding_interval_ms(self, carry: Any) -> int:
        """``funding_period`` seconds (8 hours when not positive)."""
        return self.funding_period * 1000 if self.funding_period > 0 else DEFAULT_INTERVAL_MS


    # -- rate ---------------------------------------------------------------------------------

    @implements("FND-DRF-01")
    def spread(self, mark_twap: Term, oracle_twap: Term) -> Term:
        """Rule: FND-DRF-01. ``mark_twap - oracle_twap + trunc(|oracle_twap| / 5000)``."""
        if self.offset_denominator == 0:
            return mark_twap - oracle_twap
        return mark_twap - oracle_twap + div_trunc(abs_(oracle_twap), self.offset_denominator)

    @implements("FND-DRF-01")
    def max_spread(self, oracle_twap: Term, tier: str) -> Term:
        """Rule: FND-DRF-01. ``trunc(oracle_twap / divisor(tier))``."""
        return div_trunc(oracle_twap, self.tier_divisors.get(tier, self.default_divisor))

    @implements("FND-DRF-02")
    def period_adjustment(self) -> int:
        """Rule: FND-DRF-02. ``24 h / max(1 h, period)`` (24 for hourly funding)."""
        return 24 * ONE_HOUR // max(ONE_HOUR, self.funding_period)

    @implements("FND-DRF-02")
    def rate_from_spread(self, clamped_spread: Term) -> Term:
        """Rule: FND-DRF-02. ``trunc(spread * 1000 / period_adjustment)`` (1e9 funding precision)."""
        return div_trunc(clamped_spread * FUNDING_RATE_BUFFER, self.period_adjustment())

    @implements("FND-DRF-01", "FND-DRF-02")
    def funding_rate(self, mark_twap: Term, oracle_twap: Term, tier: str) -> Term:
        """Rules: FND-DRF-01, FND-DRF-02. Offset, tier clamp, then the per-period rate."""
        m = self.max_spread(oracle_twap, tier)
        return self.rate_from_spread(clamp(self.spread(mark_twap, oracle_twap), -m, m))

    def rate_as_rate(self, rate: Term, oracle_twap: Term) -> Term:
        """A Drift rate (quote per base, 1e9) as a fraction of the oracle price (1e6) in 10^-8,
        toward zero: ``(rate / 1e9) / (oracle / 1e6) * 1e8 = rate * 1e8 / (oracle * 1e3)``."""
        return div_trunc(rate * RATE_ONE, oracle_twap * FUNDING_RATE_BUFFER)

    # -- payments -----------------------------------------------------------------------------

    @implements("FND-DRF-04")
    def payment_precise(self, rate_delta: Term, base: Term) -> Term:
        """Rule: FND-DRF-04. Payment in 1e9 quote (AMM precision):
        ``-sign(base) * sign(delta) * floor(|delta| |base| / 1e6 / 1e3)`` (magnitude truncated)."""
        magnitude = div_floor(abs_(rate_delta) * abs_(base), PRICE_PRECISION * FUNDING_RATE_BUFFER)
        return -sign(base) * ite(rate_delta > 0, 1, -1) * magnitude

    @implements("FND-DRF-04")
    def payment_quote(self, rate_delta: Term, base: Term) -> Term:
        """Rule: FND-DRF-04. Balance change in quote (1e6): the precise payment divided by 1e3,
        toward zero (so payers pay slightly less and receivers get slightly less)."""
        return div_trunc(self.payment_precise(rate_delta, base), AMM_TO_QUOTE_PRECISION_RATIO)

    @implements("FND-DRF-04", "FND-SUM-01")
    def settle(self, rate_long: Term, rate_short: Term, bases: Sequence[Term]) -> Settlement:
        """Rules: FND-DRF-04, FND-SUM-01. Per-account balance changes for one period's rates
        (longs use ``rate_long``, shorts ``rate_short``). The dust (either sign: Drift truncates
        magnitudes) and the AMM's side of any imbalance go to ``sink`` (the AMM fee pool)."""
        payments = tuple(self.payment_quote(ite(b > 0, rate_long, rate_short), b) for b in bases)
        dust: Term = 0
        for p in payments:
            dust = dust - p
        return Settlement(payments=payments, dust=dust, sink=self.sink)

    # -- asymmetric capping -------------------------------------------------------------------

    @implements("FND-DRF-03")
    def rate_from_pnl_limit(self, pnl_limit: Term, base: Term) -> Term:
        """Rule: FND-DRF-03. ``trunc((limit + [limit < 0]) * 1e12 / base)``; 0 when ``base`` is 0."""
        biased = ite(pnl_limit < 0, pnl_limit + 1, pnl_limit)
        safe = ite(base == 0, 1, base)
        return ite(base == 0, 0, div_trunc(biased * QUOTE_TO_BASE_AMT_FUNDING_PRECISION, safe))

    @implements("FND-DRF-03")
    def split(self, funding_rate: Term, base_long: Term, base_short: Term, net_amm_base: Term,
              total_fee_minus_distributions: Term, total_exchange_fee: Term) -> DriftSplit:
        """Rule: FND-DRF-03. Long/short rates when funding runs through the AMM.

        ``uncapped = -payment(rate, net_amm_base)``; if ``>= 0`` the AMM earns it and both sides
        use the full rate. Otherwise the AMM pays at most ``fee_pool / 3`` with
        ``fee_pool = max(0, tfmd - fees * 1/2)``; if that binds, the receiving side's rate is
        rebuilt from what the payers pay plus that limit (``rate_from_pnl_limit``).
        """
        uncapped = -self.payment_quote(funding_rate, net_amm_base)
        lower = div_trunc(total_exchange_fee * self.fee_share_numerator, self.fee_share_denominator)
        fee_pool = max_(total_fee_minus_distributions - lower, 0)
        limit = -div_trunc(fee_pool, self.fee_pool_fraction)
        capped_pnl = max_(uncapped, limit)
        from_users = self.payment_quote(funding_rate, ite(funding_rate > 0, base_long, base_short))
        limit2 = limit - abs_(from_users)
        receivers = ite(funding_rate < 0, base_long, base_short)
        capped_rate = ite(uncapped < limit, self.rate_from_pnl_limit(limit2, receivers), funding_rate)
        earns = uncapped >= 0
        rate_long = ite(earns, funding_rate, ite(funding_rate < 0, capped_rate, funding_rate))
        rate_short = ite(earns, funding_rate, ite(funding_rate > 0, capped_rate, funding_rate))
        pnl = ite(earns, uncapped, capped_pnl)
        return DriftSplit(rate_long, rate_short, pnl, total_fee_minus_distributions + pnl)


    # -- engine-facing interface (FND-ENG-01) -------------------------------------------------

    @implements("FND-ENG-01", "FND-ENG-03")
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates | None:
        """Rules: FND-ENG-01, FND-ENG-03, FND-DRF-01, FND-DRF-02, FND-DRF-03. Drift takes no
        premium samples: ``funding_rate(mark_twap, oracle_twap, tier)`` from the carried TWAPs (the
        current mark and oracle when the carry has none), the symbol's ``contract_tiers`` tier,
        then ``split`` through the AMM's net position with the carried fee pool. Rates are
        reported as a fraction of the oracle TWAP (``rate_as_rate``); the settlement itself uses
        the 1e9 rates (``native``). The new carry keeps the fee pool and drops the used TWAPs.
        ``None`` without a (positive) oracle TWAP or a mark TWAP."""
        carry = ctx.carry if isinstance(ctx.carry, DriftCarry) else DriftCarry()
        mark = carry.mark_twap if carry.mark_twap is not None else ctx.mark
        oracle = carry.oracle_twap if carry.oracle_twap is not None else ctx.oracle
        if mark is None or oracle is None or oracle <= 0:
            return None
        rate = self.funding_rate(mark, oracle, self.contract_tiers.get(ctx.symbol, ""))
        sp = self.split(rate, ctx.long_size, -ctx.short_size, ctx.amm_net,
                        carry.total_fee_minus_distributions, carry.total_exchange_fee)
        new_carry = DriftCarry(None, None, int(sp.total_fee_minus_distributions), carry.total_exchange_fee)
        return SettlementRates(
            self.rate_as_rate(rate, oracle),
            self.rate_as_rate(sp.rate_long, oracle),
            self.rate_as_rate(sp.rate_short, oracle),
            new_carry,
            DriftNative(sp.rate_long, sp.rate_short),
        )

    @implements("FND-DRF-04", "FND-SUM-01")
    def settle_native(self, contract: Contract, sizes: Sequence[int], price: Term,
                      rates: SettlementRates) -> Settlement:
        """Rules: FND-DRF-04, FND-SUM-01. :meth:`settle` with the 1e9 per-side rates; the
        context's units must be Drift's (size 1e9, money 1e6)."""
        if contract.size_decimals != 9 or contract.money_decimals != 6:
            raise ValueError("Drift's native settlement needs size_decimals 9 and money_decimals 6")
        native: DriftNative = rates.native
        return self.settle(native.rate_long, native.rate_short, sizes)
