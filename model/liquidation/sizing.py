"""Helpers shared by the venue liquidation procedures: grids, notionals, the event clock.

Rules: LIQ-HL-11 (one liquidation order per unit per event), used by the Hyperliquid, dYdX v4,
Drift v2 and Dutch-auction procedures (:mod:`perpspec.liquidation.hyperliquid`,
:mod:`~perpspec.liquidation.dydx`, :mod:`~perpspec.liquidation.drift`,
:mod:`~perpspec.liquidation.auction`).
"""

from __future__ import annotations

from perpspec.account import Key, position_requirement
from perpspec.liquidation.procedure import LiquidationStatus, Unit
from perpspec.market_runtime import runtime_of
from perpspec.numeric import div_ceil, div_floor
from perpspec.position import Position
from perpspec.traceability import implements


def floor_to(x: int, step: int) -> int:
    """``x`` rounded down to a multiple of ``step`` (x >= 0)."""
    return int(div_floor(x, step)) * step


def ceil_to(x: int, step: int) -> int:
    """``x`` rounded up to a multiple of ``step`` (x >= 0)."""
    return int(div_ceil(x, step)) * step


def notional(unit: Unit, symbol: str, qty: int, price: int) -> int:
    """|N| of ``qty`` (size units, > 0) at ``price`` in market ``symbol`` (PNL-NOT-01)."""
    return int(runtime_of(unit.profile).markets[symbol].notional(qty, price))


def position_mm(unit: Unit, key: Key, pos: Position) -> int:
    """The maintenance margin of one position of the unit at the unit's valuation prices."""
    return int(position_requirement(key[0], pos, unit.prices, unit.profile).maintenance)


def linear_exponent(unit: Unit) -> int:
    """``k`` with :math:`N = q \\cdot p / 10^k` for a linear market (size, price and money decimals)."""
    sc = unit.profile.scales
    return sc.size_decimals + sc.price_decimals - sc.money_decimals


@implements("LIQ-HL-11")
def sliced_this_event(status: LiquidationStatus | None, t: int) -> bool:
    """Rule: LIQ-HL-11. Did a slice of this unit already run at event time ``t``? (The engine
    updates the status after every round, LIQ-UNT-01.)"""
    return status is not None and status.slices > 0 and status.last_slice == t


__all__ = ["ceil_to", "floor_to", "linear_exponent", "notional", "position_mm", "sliced_this_event"]
