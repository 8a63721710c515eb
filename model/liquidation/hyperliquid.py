"""Hyperliquid's liquidation procedure (rules LIQ-HL-11 to LIQ-HL-13).

- LIQ-HL-11: one liquidation order per unit per event (the model's event is Hyperliquid's
  block): a later round of the same event plans nothing.
- LIQ-HL-12: book liquidation. A position whose notional exceeds ``partial_above`` (100k USDC)
  is liquidated ``partial_rate`` (20%) at a time as a market order into the book; a slice starts
  a ``cooldown_ms`` (30 s) cooldown during which every further liquidation order of the unit
  closes the whole position (the announcement's "during", SRC-REF-LIQ §3.5). No clearance fee:
  the account keeps whatever collateral is left (settlement ``fees`` with no fee).
- LIQ-HL-13: backstop. When the unit's collateral is below ``2/3`` of its maintenance margin
  (``3 C < 2 MM``), the backstop vault (the counterparty, ``@hlp``) takes over every position of
  the unit at the mark together with the remaining margin (settlement ``takeover``); the
  maintenance margin is not returned.
"""

from __future__ import annotations

import attrs
from perpspec.account import Key
from perpspec.liquidation.procedure import (
    Execution,
    LiquidationProcedure,
    LiquidationStatus,
    Settle,
    Slice,
    Source,
    Unit,
)
from perpspec.liquidation.sizing import floor_to, notional, sliced_this_event
from perpspec.numeric import div_floor
from perpspec.quantities import Money, Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@variant("liquidation_procedure", "hyperliquid")
@attrs.frozen
class HyperliquidProcedure(LiquidationProcedure):
    """Rules: LIQ-HL-11, LIQ-HL-12, LIQ-HL-13 (see the module docstring)."""

    partial_above: Money = ranged(0, why="positions above this notional are liquidated in parts")
    source: Source = Source.MODEL
    counterparty: str = "@hlp"
    partial_rate: Rate = ranged(1, RATE_ONE, default=Rate(20_000_000))
    cooldown_ms: int = ranged(0, 86_400_000, default=30_000)
    backstop_numerator: int = ranged(0, 1_000_000, default=2)
    backstop_denominator: int = ranged(1, 1_000_000, default=3)

    @implements("LIQ-HL-12")
    def retains_status(self, status: LiquidationStatus, t: int) -> bool:
        """Rule: LIQ-HL-12. A unit keeps its status through the cooldown after a slice, even once
        its margin is restored, so that a further liquidation inside the cooldown takes it whole."""
        return status.slices > 0 and t - status.last_slice < self.cooldown_ms

    @implements("LIQ-HL-11", "LIQ-HL-12", "LIQ-HL-13")
    def plan(self, unit: Unit) -> list[Slice]:
        """Rules: LIQ-HL-11, LIQ-HL-12, LIQ-HL-13. Nothing if a slice ran in this event; the
        backstop takeover of every position when :math:`C \\cdot den < num \\cdot MM`; else one
        market order per position: the whole position inside the cooldown or at notional
        :math:`\\le` ``partial_above``, else :math:`\\max(lot, \\lfloor |q| \\cdot rate \\rfloor_{lot})`."""
        if sliced_this_event(unit.status, unit.t):
            return []
        if unit.collateral * self.backstop_denominator < self.backstop_numerator * unit.maintenance:
            return [
                Slice(key=k, qty=abs(p.size), rule_id="LIQ-HL-13", settle=Settle.TAKEOVER)
                for k, p in unit.positions
            ]
        st = unit.status
        cooling = st is not None and st.slices > 0 and unit.t - st.last_slice < self.cooldown_ms
        return [self._order(unit, k, abs(p.size), cooling) for k, p in unit.positions]

    def _order(self, unit: Unit, key: Key, size: int, cooling: bool) -> Slice:
        qty = size
        if not cooling and notional(unit, key[0], size, unit.prices[key[0]]) > self.partial_above:
            lot = unit.profile.market(key[0]).lot
            qty = min(size, max(lot, floor_to(int(div_floor(size * self.partial_rate, RATE_ONE)), lot)))
        return Slice(key=key, qty=qty, rule_id="LIQ-HL-12", execution=Execution.BOOK, settle=Settle.FEES)

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        """A log liquidation of Hyperliquid: a market-order fill at its price, no clearance fee."""
        return Slice(
            key=key, qty=qty, rule_id="LIQ-HL-12", execution=Execution.PRICE, price=price, settle=Settle.FEES
        )


__all__ = ["HyperliquidProcedure"]
