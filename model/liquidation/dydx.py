"""dYdX v4's liquidation procedure (rules LIQ-DYDX-11 to LIQ-DYDX-14).

- LIQ-DYDX-11: the fillable price of the liquidation order (DeFi §1.4):
  :math:`ABR = clamp(BA (1 - TNC/TMMR), 0, 1)`, :math:`p_f = (PNNV - ABR \\cdot SMMR \\cdot PMMR)/PS`,
  on the tick grid rounded up for a sell closing a long, down for a buy closing a short.
- LIQ-DYDX-12: the position block limits (case 13): ``min = min(min_notional, |N|)``,
  ``max = max(min, ⌊|N| · portion⌋)``; the subaccount block limit ``max_notional_liquidated``.
- LIQ-DYDX-13: the size: the whole position when ``|N| <= min(max, subaccount limit)`` or
  ``|q| <= lot``, else that limit in base, rounded down to the lot and clamped to ``[lot, |q|]``;
  then at most what the book fills at the fillable price or better (an IOC: the rest is not
  filled; nothing fills -> no slice, the unit stays for deleveraging, which this procedure does
  not model). One slice per unit per event (the event is the block, LIQ-HL-11).
- LIQ-DYDX-14: settlement against the bankruptcy price (LIQ-SET-02) with the fund's surplus
  capped at ``max_liquidation_fee`` of the fill's quote, refused when the fund cannot pay
  (``[insurance] refuse_shortfall = true``, INS-REF-01).
"""

from __future__ import annotations

from fractions import Fraction

import attrs
from perpspec.account import Key
from perpspec.liquidation.procedure import (
    Book,
    Execution,
    LiquidationProcedure,
    Settle,
    Slice,
    Source,
    Unit,
)
from perpspec.liquidation.sizing import floor_to, linear_exponent, notional, position_mm, sliced_this_event
from perpspec.numeric import div_ceil, div_floor
from perpspec.quantities import Money, Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@implements("LIQ-DYDX-11")
def fillable_price(
    pnnv: int, pmmr: int, size: int, tnc: int, tmmr: int, ba: int, smmr: int, k: int, tick: int
) -> int:
    """Rule: LIQ-DYDX-11. The liquidation order's limit price (price units) for a position of
    signed ``size`` (size units) with net notional ``pnnv`` (money, signed like ``size``) and
    maintenance margin ``pmmr``, in a unit with collateral ``tnc`` and maintenance ``tmmr`` > 0;
    ``ba``, ``smmr`` rates (10^-8); ``k`` as :math:`N = q p / 10^k`.

    :math:`ABR = clamp(ba (tmmr - tnc) / tmmr, 0, 1)`, :math:`p = (pnnv - ABR \\cdot smmr \\cdot
    pmmr) 10^k / size`, exact, then on the tick grid: up for a long (a sell), down for a short,
    at least one tick."""
    abr = min(Fraction(1), max(Fraction(0), Fraction(ba * (tmmr - tnc), RATE_ONE * tmmr)))
    exact = (pnnv - abr * Fraction(smmr, RATE_ONE) * pmmr) * Fraction(10) ** k / size
    ticks = (
        div_ceil(exact.numerator, exact.denominator * tick)
        if size > 0
        else div_floor(exact.numerator, exact.denominator * tick)
    )
    return max(tick, int(ticks) * tick)


@implements("LIQ-DYDX-12")
def position_limits(abs_notional: int, min_notional: int, portion: int) -> tuple[int, int]:
    """Rule: LIQ-DYDX-12. ``(min, max)`` notional liquidatable of a position per block:
    :math:`min = \\min(min\\_notional, |N|)`,
    :math:`max = \\max(min, \\lfloor |N| \\cdot portion \\rfloor)`."""
    low = min(min_notional, abs_notional)
    return low, max(low, int(div_floor(abs_notional * portion, RATE_ONE)))


def _book_fillable(book: Book | None, long: bool, limit: int) -> int:
    """What an IOC closing a long (selling into the bids) or a short (buying the asks) fills at
    ``limit`` or better in the last book snapshot."""
    if book is None:
        return 0
    levels = book[0] if long else book[1]
    return sum(q for p, q in levels if (p >= limit if long else p <= limit))


@variant("liquidation_procedure", "dydx-v4")
@attrs.frozen
class DydxProcedure(LiquidationProcedure):
    """Rules: LIQ-DYDX-11 to LIQ-DYDX-14 (see the module docstring)."""

    min_position_notional: Money = ranged(0, why="min_position_notional_liquidated")
    source: Source = Source.MODEL
    counterparty: str = "@liquidator"
    max_position_portion: Rate = ranged(1, RATE_ONE, default=Rate(RATE_ONE))
    max_notional_liquidated: Money | None = ranged(1, default=None)
    bankruptcy_adjustment: Rate = ranged(0, 100 * RATE_ONE, default=Rate(RATE_ONE))
    spread_to_maintenance: Rate = ranged(0, 100 * RATE_ONE, default=Rate(10_000_000))
    max_liquidation_fee: Rate = ranged(0, RATE_ONE, default=Rate(500_000))

    @implements("LIQ-DYDX-13", "LIQ-DYDX-14")
    def plan(self, unit: Unit) -> list[Slice]:
        """Rules: LIQ-DYDX-13, LIQ-DYDX-14. One IOC for the unit's first position (key order) at
        the fillable price, sized by the block limits and what the book fills."""
        if sliced_this_event(unit.status, unit.t) or unit.maintenance <= 0 or not unit.positions:
            return []
        key, pos = unit.positions[0]
        sym, size = key[0], abs(pos.size)
        spec = unit.profile.market(sym)
        price = unit.prices[sym]
        n = notional(unit, sym, size, price)
        limit = fillable_price(
            n if pos.size > 0 else -n,
            position_mm(unit, key, pos),
            pos.size,
            unit.collateral,
            unit.maintenance,
            self.bankruptcy_adjustment,
            self.spread_to_maintenance,
            linear_exponent(unit),
            spec.tick,
        )
        qty = self.size_delta(n, size, price, spec.lot, linear_exponent(unit))
        qty = min(qty, floor_to(_book_fillable(unit.books.get(sym), pos.size > 0, limit), spec.lot))
        return [self._slice(key, qty, limit)] if qty > 0 else []

    @implements("LIQ-DYDX-12", "LIQ-DYDX-13")
    def size_delta(self, abs_notional: int, size: int, price: int, lot: int, k: int) -> int:
        """Rules: LIQ-DYDX-12, LIQ-DYDX-13. The base to liquidate this block (size units):
        ``|q|`` when :math:`|N| \\le M` (``M`` the smaller of the position and subaccount limits)
        or :math:`|q| \\le lot`; else
        :math:`clamp(\\lfloor \\lfloor M 10^k / p \\rfloor \\rfloor_{lot}, lot, |q|)`."""
        _, cap = position_limits(abs_notional, self.min_position_notional, self.max_position_portion)
        if self.max_notional_liquidated is not None:
            cap = min(cap, self.max_notional_liquidated)
        if abs_notional <= cap or size <= lot:
            return size
        base = int(div_floor(cap * 10**k, price)) if k >= 0 else int(div_floor(cap, price * 10 ** (-k)))
        return min(size, max(lot, floor_to(base, lot)))

    def _slice(self, key: Key, qty: int, limit: int | None) -> Slice:
        return Slice(
            key=key,
            qty=qty,
            rule_id="LIQ-DYDX-13",
            execution=Execution.BOOK if limit is not None else Execution.VALUATION,
            price=limit,
            settle=Settle.BANKRUPTCY,
            fee_rate=self.max_liquidation_fee,
            surplus_cap=self.max_liquidation_fee,
        )

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        """A log liquidation fill: settled as the model's own (LIQ-DYDX-14) at the fill's price."""
        return attrs.evolve(self._slice(key, qty, None), execution=Execution.PRICE, price=price)


__all__ = ["DydxProcedure", "fillable_price", "position_limits"]
