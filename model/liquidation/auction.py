"""A generic Dutch-auction liquidation (rule LIQ-AUC-01); no bundled profile uses it.

The unit's first position (key order) is offered to keepers from a premium over its bankruptcy
price, in the account's favour, that decays linearly per second since the unit entered
liquidation, floored at the bankruptcy price:

- bankruptcy price: :math:`p_{bk} = p - b \\cdot g \\cdot 10^k / |q|` with ``p`` the valuation
  price and :math:`g = \\lceil C \\cdot MM_i / MM \\rceil` the collateral the position carries
  (``C`` when it is the unit's only position), on the tick grid rounded up for a long, down
  for a short (never worse for the account than the exact price);
- auction price after :math:`\\tau` whole seconds: :math:`\\pi = \\max(0, premium - decay \\cdot
  \\tau)`, :math:`p_a = p_{bk} + b \\lfloor p_{bk} \\pi \\rfloor`, on the tick grid toward
  :math:`p_{bk}`;
- the model has no keepers: a keeper takes the whole position **at the first event** at which
  the auction price is at least ``keeper_discount`` better than the valuation price for it
  (a long is bought at :math:`p_a \\le p (1 - d)`, a short sold at :math:`p_a \\ge p (1 + d)`),
  at :math:`p_a` (execution ``price``, settlement ``fees``: the account keeps what the price
  leaves, pays ``fee_rate`` to the fund);
- an auction that reached its floor (:math:`\\pi = 0`) with no keeper ends: the counterparty
  takes the position over at the valuation price, settled against the bankruptcy price (the
  fund pays the gap, LIQ-SET-02). Until then the procedure plans nothing.

Linear markets only (the bankruptcy price is the linear one).
"""

from __future__ import annotations

import attrs
from perpspec.account import Key
from perpspec.liquidation.procedure import (
    Execution,
    LiquidationProcedure,
    Settle,
    Slice,
    Source,
    Unit,
)
from perpspec.liquidation.sizing import linear_exponent, position_mm
from perpspec.numeric import div_ceil, div_floor
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@implements("LIQ-AUC-01")
def auction_price(p_bk: int, long: bool, premium: int, decay: int, seconds: int, tick: int) -> int:
    """Rule: LIQ-AUC-01. :math:`p_{bk} + b \\lfloor p_{bk} \\max(0, premium - decay \\cdot \\tau)
    \\rfloor`, on the tick grid toward :math:`p_{bk}` (which is on the grid)."""
    left = max(0, premium - decay * seconds)
    step = int(div_floor(p_bk * left, RATE_ONE))
    return p_bk + int(div_floor(step, tick)) * tick if long else p_bk - int(div_floor(step, tick)) * tick


@variant("liquidation_procedure", "dutch-auction")
@attrs.frozen
class DutchAuction(LiquidationProcedure):
    """Rule: LIQ-AUC-01 (see the module docstring)."""

    start_premium: Rate = ranged(0, RATE_ONE, why="premium over the bankruptcy price at the start")
    decay_per_second: Rate = ranged(1, RATE_ONE, why="premium lost per whole second")
    source: Source = Source.MODEL
    counterparty: str = "@keeper"
    keeper_discount: Rate = ranged(0, RATE_ONE, default=Rate(0))
    fee_rate: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))

    @implements("LIQ-AUC-01")
    def plan(self, unit: Unit) -> list[Slice]:
        """Rule: LIQ-AUC-01. The keeper's fill at the auction price once acceptable; the
        takeover at the floor; else nothing."""
        if not unit.positions:
            return []
        key, pos = unit.positions[0]
        sym, size, long = key[0], abs(pos.size), pos.size > 0
        tick = unit.profile.market(sym).tick
        mark = unit.prices[sym]
        p_bk = self.bankruptcy_price(unit, key)
        seconds = 0 if unit.status is None else int(div_floor(unit.t - unit.status.started, 1000))
        price = auction_price(p_bk, long, self.start_premium, self.decay_per_second, seconds, tick)
        if long:
            ok = price * RATE_ONE <= mark * (RATE_ONE - self.keeper_discount)
        else:
            ok = price * RATE_ONE >= mark * (RATE_ONE + self.keeper_discount)
        if ok:
            return [self._fill(key, size, price)]
        if self.start_premium <= self.decay_per_second * seconds:
            return [Slice(key=key, qty=size, rule_id="LIQ-AUC-01", settle=Settle.BANKRUPTCY)]
        return []

    def bankruptcy_price(self, unit: Unit, key: Key) -> int:
        """:math:`p - b g 10^k / |q|` on the tick grid (long up, short down), at least one tick."""
        pos = dict(unit.positions)[key]
        size, long = abs(pos.size), pos.size > 0
        c, mm = unit.collateral, unit.maintenance
        if len(unit.positions) == 1 or mm <= 0:
            g = c
        else:
            g = int(div_ceil(c * position_mm(unit, key, pos), mm))
        k = linear_exponent(unit)
        tick = unit.profile.market(key[0]).tick
        num, den = g * 10**k if k >= 0 else g, size if k >= 0 else size * 10 ** (-k)
        mark = unit.prices[key[0]]
        # long: p_bk = mark - g 10^k/|q| rounded up; short: mark + g 10^k/|q| rounded down
        if long:
            p = int(div_ceil(mark * den - num, den * tick)) * tick
        else:
            p = int(div_floor(mark * den + num, den * tick)) * tick
        return max(tick, p)

    def _fill(self, key: Key, qty: int, price: int) -> Slice:
        return Slice(
            key=key,
            qty=qty,
            rule_id="LIQ-AUC-01",
            execution=Execution.PRICE,
            price=price,
            settle=Settle.FEES,
            fee_rate=self.fee_rate,
        )

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        """A log's keeper fill at its price."""
        return self._fill(key, qty, price)


__all__ = ["DutchAuction", "auction_price"]
