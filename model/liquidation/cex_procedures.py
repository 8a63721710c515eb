"""The CEX liquidation procedures: Binance, Bybit, BitMEX, OKX and Deribit (spec/liquidation-cex.md).

Each is a declared variant of mechanism ``liquidation_procedure`` that reduces a position first
where the venue does (a partial step settled by its fees, LIQ-SET-01) and otherwise closes the
unit settled against the bankruptcy price (LIQ-SET-02), the insurance fund taking what is left:

- ``binance-ioc`` (LIQ-BIN-10, LIQ-BIN-11): one IOC into the book bringing the largest position
  down to the highest lower bracket that restores margin after the liquidation fee, on the first
  round of an event; otherwise the fund takes the unit over at the bankruptcy price;
- ``bybit-takeover`` (LIQ-BYB-10): the fund takes the unit over at the bankruptcy price;
- ``bitmex-risk-limit`` (LIQ-BMX-10, LIQ-BMX-11): a Fill-or-Kill step down to a lower risk limit
  when that restores margin and the book can fill it, else a limit order at the bankruptcy price;
- ``okx-tiers`` (LIQ-OKX-10, LIQ-OKX-11): at tier 3 or above, and above the tier-1 requirement,
  the contracts needed to fall two tiers, repeated while short; else a full close;
- ``deribit-incremental`` (LIQ-DRB-10, LIQ-DRB-11): the smallest increment that restores margin
  after the liquidation fee, else the whole position.

The sizing arithmetic is :mod:`perpspec.liquidation.reduction` (LIQ-RED-01, LIQ-RED-02).
"""

from __future__ import annotations

import attrs
from perpspec import account as acc_mod
from perpspec.account import Key
from perpspec.liquidation.procedure import (
    Execution,
    LiquidationProcedure,
    Settle,
    Slice,
    Source,
    Unit,
)
from perpspec.liquidation.reduction import (
    bankruptcy_limit,
    by_notional,
    closing_depth,
    fee_on,
    largest_under,
    margin_notional,
    position,
    position_mm,
    restores,
    smallest_close,
)
from perpspec.margin.piecewise import tier_index
from perpspec.numeric import Rounding, div_ceil, div_round
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

# --------------------------------------------------------------------------- shared slices


def _limit(unit: Unit, key: Key, execution: Execution) -> int | None:
    """The bankruptcy price as the limit of an order sent to the book (LIQ-RED-02)."""
    return bankruptcy_limit(unit, key) if execution is Execution.BOOK else None


def partial_slice(unit: Unit, key: Key, qty: int, rule: str, execution: Execution, fee_rate: int) -> Slice:
    """A fee-settled partial close of ``qty`` of ``key`` (LIQ-SET-01), limited at the bankruptcy
    price when it goes to the book."""
    return Slice(
        key=key,
        qty=qty,
        rule_id=rule,
        execution=execution,
        price=_limit(unit, key, execution),
        settle=Settle.FEES,
        fee_rate=Rate(fee_rate),
    )


def close_all(
    unit: Unit,
    rule: str,
    execution: Execution,
    fee_rate: int,
    surplus_cap: Rate | None = None,
    rates: dict[str, int] | None = None,
) -> list[Slice]:
    """One bankruptcy-settled slice per position of the unit, in key order (LIQ-SET-02), into the
    book limited at the bankruptcy price or taken over at the valuation price."""
    return [
        Slice(
            key=k,
            qty=abs(p.size),
            rule_id=rule,
            execution=execution,
            price=_limit(unit, k, execution),
            settle=Settle.BANKRUPTCY,
            fee_rate=Rate((rates or {}).get(k[0], fee_rate)),
            surplus_cap=surplus_cap,
        )
        for k, p in unit.positions
    ]


def log_slice_of(
    unit: Unit,
    key: Key,
    qty: int,
    price: int,
    rule: str,
    fee_rate: int,
    surplus_cap: Rate | None = None,
    partial: bool = True,
) -> Slice:
    """A log's liquidation fill (LIQ-LOG-01) at its price: a fill of less than the whole position
    is the venue's partial step, settled by its fees (when the venue has one, ``partial``); a
    fill of the whole position is the close at bankruptcy."""
    whole = qty >= abs(position(unit, key).size)
    settle = Settle.BANKRUPTCY if whole or not partial else Settle.FEES
    return Slice(
        key=key,
        qty=qty,
        rule_id=rule,
        execution=Execution.PRICE,
        price=price,
        settle=settle,
        fee_rate=Rate(fee_rate),
        surplus_cap=surplus_cap if settle is Settle.BANKRUPTCY else None,
    )


# --------------------------------------------------------------------------- Binance


@variant("liquidation_procedure", "binance-ioc")
@attrs.frozen
class BinanceIoc(LiquidationProcedure):
    """Rules: LIQ-BIN-10, LIQ-BIN-11. Binance USDⓈ-M / COIN-M (CEX §1.6; LIQ §2, §3.1).

    First round of an event (``partial``): one IOC (``execution``, into the book by default,
    limited at the bankruptcy price) bringing the largest position down to the highest lower
    bracket after which the unit, having paid ``fee_rate`` of the amount liquidated, is no longer
    liquidatable (LIQ-BIN-10). Otherwise (no such bracket, or a later round: the IOC did not
    restore margin) every position is taken over by the fund at the bankruptcy price
    (LIQ-BIN-11): the whole surplus to the fund, ``fee_rate`` of it reported as the clearance
    fee, at most ``surplus_cap`` of the notional when set (the 2019 policy's 0.5% cap).
    """

    source: Source = Source.MODEL
    counterparty: str = "@liquidator"
    execution: Execution = Execution.BOOK
    fee_rate: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))
    surplus_cap: Rate | None = ranged(0, RATE_ONE, default=None)
    partial: bool = True

    @implements("LIQ-BIN-11")
    def configured_execution(self) -> Execution | None:
        return self.execution

    def plan(self, unit: Unit) -> list[Slice]:
        """Rule: LIQ-BIN-11. The IOC of LIQ-BIN-10 on the first round, else the takeover of every
        position at the bankruptcy price (valuation execution, settled LIQ-SET-02)."""
        if self.partial and unit.event_round == 0:
            ioc = self.ioc(unit)
            if ioc is not None:
                return [ioc]
        return close_all(unit, "LIQ-BIN-11", Execution.VALUATION, self.fee_rate, self.surplus_cap)

    @implements("LIQ-BIN-10")
    def ioc(self, unit: Unit) -> Slice | None:
        """Rule: LIQ-BIN-10. For the positions by notional (largest first) in a bracket above
        the first, and the brackets below theirs from the nearest down: the first size
        :math:`s_j` = the largest lot multiple with :math:`N(s_j) < cap_j` for which
        :math:`C - fee(|q| - s_j)` clears :math:`R(s_j)` (LIQ-RED-01); the IOC closes
        :math:`|q| - s_j`. ``None``: no bracket restores margin."""
        for key, pos in by_notional(unit):
            tiers = unit.profile.markets[key[0]].margin.maintenance_tiers()
            if not tiers:
                continue
            q = abs(pos.size)
            n = margin_notional(unit, key, q)
            k = tier_index(n, [t.lower for t in tiers])
            for j in range(k - 1, -1, -1):
                cap = tiers[j].upper
                assert cap is not None  # every tier below another has a cap
                target = largest_under(unit, key, cap, inclusive=False)
                dq = q - target
                if dq > 0 and restores(unit, key, target, fee_on(unit, key, dq, self.fee_rate)):
                    return partial_slice(unit, key, dq, "LIQ-BIN-10", self.execution, self.fee_rate)
        return None

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        return log_slice_of(unit, key, qty, price, "LIQ-BIN-11", self.fee_rate, self.surplus_cap)


# --------------------------------------------------------------------------- Bybit


@variant("liquidation_procedure", "bybit-takeover")
@attrs.frozen
class BybitTakeover(LiquidationProcedure):
    """Rule: LIQ-BYB-10. Bybit (CEX §3.2, §3.7; LIQ §2, §3.3): the liquidation engine takes the
    unit over at the bankruptcy price; the margin left goes to the insurance fund (no cap), of
    which ``fee_rate`` of the notional (the taker fee to close, LIQ-BYB-05) is reported as fee."""

    source: Source = Source.MODEL
    counterparty: str = "@liquidator"
    fee_rate: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))

    @implements("LIQ-BYB-10")
    def plan(self, unit: Unit) -> list[Slice]:
        """Rule: LIQ-BYB-10. Every position taken over at the valuation price, settled at the
        bankruptcy price (LIQ-SET-02): :math:`\\Delta IF = C` for the whole unit."""
        return close_all(unit, "LIQ-BYB-10", Execution.VALUATION, self.fee_rate)

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        return log_slice_of(unit, key, qty, price, "LIQ-BYB-10", self.fee_rate, partial=False)


# --------------------------------------------------------------------------- BitMEX


@variant("liquidation_procedure", "bitmex-risk-limit")
@attrs.frozen
class BitmexRiskLimit(LiquidationProcedure):
    """Rules: LIQ-BMX-10, LIQ-BMX-11. BitMEX (CEX §2.3, §2.4; LIQ §2, §3.2).

    Above the lowest risk limit, on the first round of an event: a Fill-or-Kill order for the
    excess over the highest lower risk limit that restores margin (LIQ-BMX-10), made only if the
    book can fill all of it at or better than the bankruptcy price. Otherwise the engine takes
    the whole unit over with a limit order at the bankruptcy price into the book (LIQ-BMX-11),
    the rest taken over at the valuation price; the whole surplus goes to the fund
    (:math:`\\Delta IF = b (p_{exec} - p_{bk}) \\Delta q`, BTCMEX-IF-01).
    """

    source: Source = Source.MODEL
    counterparty: str = "@liquidator"
    execution: Execution = Execution.BOOK
    fee_rate: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))

    @implements("LIQ-BMX-11")
    def configured_execution(self) -> Execution | None:
        return self.execution

    def plan(self, unit: Unit) -> list[Slice]:
        """Rule: LIQ-BMX-11. The step down of LIQ-BMX-10 on the first round, else every position
        closed at the bankruptcy price (settled LIQ-SET-02, no cap)."""
        if unit.event_round == 0:
            step = self.step_down(unit)
            if step is not None:
                return [step]
        return close_all(unit, "LIQ-BMX-11", self.execution, self.fee_rate)

    @implements("LIQ-BMX-10")
    def step_down(self, unit: Unit) -> Slice | None:
        """Rule: LIQ-BMX-10. For a position of value ``V`` above the base risk limit
        (:math:`steps = \\lceil (V - base)/step \\rceil`) and the limits
        :math:`L_j = base + j \\cdot step`, ``j`` from ``steps - 1`` down to 0: the first size
        :math:`s_j` = the largest lot multiple with :math:`V(s_j) \\le L_j` that restores margin
        after ``fee_rate`` on :math:`|q| - s_j` (LIQ-RED-01). Fill-or-Kill: ``None`` when the
        book snapshot cannot fill :math:`|q| - s_j` at or better than the bankruptcy price."""
        for key, pos in by_notional(unit):
            limits = unit.profile.markets[key[0]].margin.risk_limit_steps()
            if limits is None:
                continue
            base, step = limits
            q = abs(pos.size)
            v = margin_notional(unit, key, q)
            steps = int(div_ceil(v - base, step)) if v > base else 0
            for j in range(steps - 1, -1, -1):
                cap = base + j * step
                target = largest_under(unit, key, cap, inclusive=True)
                dq = q - target
                if dq <= 0 or not restores(unit, key, target, fee_on(unit, key, dq, self.fee_rate)):
                    continue
                depth = closing_depth(unit, key, _limit(unit, key, self.execution))
                if self.execution is Execution.BOOK and depth is not None and depth < dq:
                    return None  # killed: the takeover follows
                return partial_slice(unit, key, dq, "LIQ-BMX-10", self.execution, self.fee_rate)
        return None

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        return log_slice_of(unit, key, qty, price, "LIQ-BMX-11", self.fee_rate)


# --------------------------------------------------------------------------- OKX


@variant("liquidation_procedure", "okx-tiers")
@attrs.frozen
class OkxTierReduction(LiquidationProcedure):
    """Rules: LIQ-OKX-10, LIQ-OKX-11. OKX (CEX §4.2; LIQ §2, §3.4), with the trigger
    ``maintenance-plus-close-fee`` (LIQ-TRG-02).

    A position in tier 3 or above (of a size-tiered margin model) whose collateral clears the
    requirement at the tier-1 rate is reduced to the top of the tier two below its own
    (LIQ-OKX-10), into the book, paying ``fee_rate``; the rounds repeat while the unit is still
    liquidatable. Otherwise (tiers 1 and 2, or below the tier-1 requirement) the unit is closed
    in full at the bankruptcy price (LIQ-OKX-11).
    """

    source: Source = Source.MODEL
    counterparty: str = "@liquidator"
    execution: Execution = Execution.BOOK
    fee_rate: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))

    @implements("LIQ-OKX-11")
    def configured_execution(self) -> Execution | None:
        return self.execution

    def plan(self, unit: Unit) -> list[Slice]:
        """Rule: LIQ-OKX-11. The two-tier reduction of LIQ-OKX-10 where it applies, else every
        position closed at the bankruptcy price (settled LIQ-SET-02)."""
        for key, _pos in by_notional(unit):
            dq = self.two_tiers(unit, key)
            if dq is not None:
                return [partial_slice(unit, key, dq, "LIQ-OKX-10", self.execution, self.fee_rate)]
        return close_all(unit, "LIQ-OKX-11", self.execution, self.fee_rate)

    @implements("LIQ-OKX-10")
    def two_tiers(self, unit: Unit, key: Key) -> int | None:
        """Rule: LIQ-OKX-10. For a position of size ``|q|`` in tier ``t >= 3`` (counted from 1,
        floors inclusive) whose unit clears :math:`R_1 = R - MM_i + \\lceil N \\cdot mmr_1 \\rceil`:
        :math:`\\Delta q = |q| - s` with ``s`` the largest lot multiple below the floor of tier
        ``t - 1`` (the top of tier ``t - 2``). ``None`` otherwise."""
        tiers = unit.profile.markets[key[0]].margin.size_tiers()
        if not tiers:
            return None
        q = abs(position(unit, key).size)
        floors = [f for f, _ in tiers]
        k = tier_index(q, floors)  # 0-based: tier k + 1
        if k < 2:
            return None
        n = margin_notional(unit, key, q)
        mm1 = int(div_round(n * tiers[0][1], RATE_ONE, Rounding.CEIL))
        r1 = unit.requirement - position_mm(unit, key, q) + mm1
        if acc_mod.is_liquidatable(unit.collateral, r1, unit.profile.accounting_model.trigger):
            return None
        lot = unit.profile.markets[key[0]].lot
        target = (floors[k - 1] - 1) // lot * lot
        return q - target

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        return log_slice_of(unit, key, qty, price, "LIQ-OKX-11", self.fee_rate)


# --------------------------------------------------------------------------- Deribit


@attrs.frozen
class MarketFee:
    """A market's own liquidation fee rate (Deribit: BTC 0.75%, ETH 0.9%)."""

    symbol: str
    rate: Rate = ranged(0, RATE_ONE - 1)


@variant("liquidation_procedure", "deribit-incremental")
@attrs.frozen
class DeribitIncremental(LiquidationProcedure):
    """Rules: LIQ-DRB-10, LIQ-DRB-11. Deribit (CEX §6.2; LIQ §2): liquidation is incremental
    while equity < MM, each increment paying the market's liquidation fee (``market_fees``, else
    ``fee_rate``) of its notional to the fund, into the book."""

    source: Source = Source.MODEL
    counterparty: str = "@liquidator"
    execution: Execution = Execution.BOOK
    fee_rate: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))
    market_fees: tuple[MarketFee, ...] = ()

    def configured_execution(self) -> Execution | None:
        return self.execution

    def rate(self, symbol: str) -> int:
        """The liquidation fee rate of ``symbol``'s market."""
        for m in self.market_fees:
            if m.symbol == symbol:
                return m.rate
        return self.fee_rate

    @implements("LIQ-DRB-11")
    def plan(self, unit: Unit) -> list[Slice]:
        """Rule: LIQ-DRB-11. The increment of LIQ-DRB-10 where one restores margin; else, with
        several positions, the largest one closed whole by its fees (the next round re-checks);
        else the last position closed at the bankruptcy price (settled LIQ-SET-02)."""
        ranked = by_notional(unit)
        for key, _pos in ranked:
            dq = self.increment(unit, key)
            if dq is not None:
                return [partial_slice(unit, key, dq, "LIQ-DRB-10", self.execution, self.rate(key[0]))]
        if len(ranked) > 1:
            key, pos = ranked[0]
            return [partial_slice(unit, key, abs(pos.size), "LIQ-DRB-11", self.execution, self.rate(key[0]))]
        rates = {k[0]: self.rate(k[0]) for k, _ in unit.positions}
        return close_all(unit, "LIQ-DRB-11", self.execution, self.fee_rate, rates=rates)

    @implements("LIQ-DRB-10")
    def increment(self, unit: Unit, key: Key) -> int | None:
        """Rule: LIQ-DRB-10. The smallest lot multiple :math:`0 < \\Delta q < |q|` after which
        :math:`C - fee(\\Delta q)` clears :math:`R(|q| - \\Delta q)` (LIQ-RED-01); ``None``: none."""
        q, r = abs(position(unit, key).size), self.rate(key[0])
        return smallest_close(unit, key, lambda d: restores(unit, key, q - d, fee_on(unit, key, d, r)))

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        return log_slice_of(unit, key, qty, price, "LIQ-DRB-11", self.rate(key[0]))


__all__ = [
    "BinanceIoc",
    "BitmexRiskLimit",
    "BybitTakeover",
    "DeribitIncremental",
    "MarketFee",
    "OkxTierReduction",
    "close_all",
    "log_slice_of",
    "partial_slice",
]
