"""Drift v2's perp liquidation (rules LIQ-DRF-11 to LIQ-DRF-14), at Drift's own precisions.

Fee rates are computed in Drift's ``LIQUIDATION_FEE_PRECISION`` (10^-6): a profile rate (10^-8)
is read at that precision (floored; the bundled rates are whole 10^-6).

- LIQ-DRF-11: the liquidator fee ramp (``get_liquidation_fee``, case 17): the base fee while
  fewer than ``grace_slots`` slots have passed since the user entered liquidation, then
  :math:`f_{base} + slots \\cdot increase`, capped at ``max_liquidator_fee``.
- LIQ-DRF-12: the insurance-fund fee (``calculate_perp_if_fee``, case 16):
  :math:`\\min(f_{if}, \\lfloor 19 (m_{buf} - f_{liq} - s) / 20 \\rfloor)`, the subtraction
  saturating at 0, :math:`s = \\lfloor \\lfloor shortage \\cdot 10^{sd} / |base| \\rfloor
  10^{pd} F / (P 10^{md}) \\rfloor`; 0 when :math:`m_{buf} \\le f_{liq}`.
- LIQ-DRF-13: the base to cover the shortage (``calculate_base_asset_amount_to_cover_margin_shortage``,
  case 15): :math:`\\lfloor shortage \\cdot 10^k / (\\lfloor P (m_{buf} - f_{liq}) / F \\rfloor -
  \\lfloor P f_{if} / F \\rfloor) \\rfloor`, then rounded up to the lot, at most ``|base|``
  (all of it when the denominator is not positive).
- LIQ-DRF-14: the liquidator (the counterparty) takes the slice at the oracle price; the user
  pays ``f_liq`` of its value to the liquidator and ``f_if`` to the market's fund (LIQ-SET-01).
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
from perpspec.liquidation.sizing import ceil_to, linear_exponent, notional, position_mm
from perpspec.numeric import div_ceil, div_floor
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

#: Drift's LIQUIDATION_FEE_PRECISION
FEE_ONE = 10**6
_TO_FEE = RATE_ONE // FEE_ONE


def _fee(rate: int) -> int:
    return int(div_floor(rate, _TO_FEE))


@implements("LIQ-DRF-11")
def liquidator_fee(base: int, maximum: int, increase: int, slots: int, grace_slots: int) -> int:
    """Rule: LIQ-DRF-11. The liquidator fee (10^-6) after ``slots`` slots in liquidation:
    ``base`` below ``grace_slots``, else :math:`\\min(base + slots \\cdot increase, maximum)`."""
    if slots < grace_slots:
        return base
    return min(base + slots * increase, maximum)


@implements("LIQ-DRF-12")
def if_fee(
    shortage: int,
    base: int,
    margin_ratio: int,
    liq_fee: int,
    price: int,
    max_if_fee: int,
    scales: tuple[int, int, int],
) -> int:
    """Rule: LIQ-DRF-12. The insurance-fund fee (10^-6) for a ``shortage`` (money units) on a
    position of ``|base|`` = ``base`` (size units) at oracle ``price``; ``margin_ratio`` is
    :math:`m_{buf}` and ``liq_fee`` :math:`f_{liq}` (10^-6); ``scales`` = (size, price, money
    decimals)."""
    if price == 0 or base == 0 or margin_ratio <= liq_fee:
        return 0
    sd, pd, md = scales
    per_base = int(div_floor(shortage * 10**sd, base))
    s = int(div_floor(per_base * 10**pd * FEE_ONE, price * 10**md))
    implied = int(div_floor(max(0, margin_ratio - liq_fee - s) * 19, 20))
    return min(max_if_fee, implied)


@implements("LIQ-DRF-13")
def base_to_cover(
    shortage: int, margin_ratio: int, liq_fee: int, fee_if: int, price: int, k: int
) -> int | None:
    """Rule: LIQ-DRF-13. The base (size units, before the lot) whose takeover at ``price`` covers
    ``shortage``: :math:`\\lfloor shortage \\cdot 10^k / (\\lfloor P (m - f_{liq}) / F \\rfloor -
    \\lfloor P f_{if} / F \\rfloor) \\rfloor`; ``None`` (unbounded) when the denominator is not
    positive or :math:`m \\le f_{liq}`."""
    if price == 0 or margin_ratio <= liq_fee:
        return None
    den = int(div_floor(price * (margin_ratio - liq_fee), FEE_ONE)) - int(div_floor(price * fee_if, FEE_ONE))
    if den <= 0:
        return None
    return int(div_floor(shortage * 10**k, den))


@variant("liquidation_procedure", "drift-v2")
@attrs.frozen
class DriftProcedure(LiquidationProcedure):
    """Rules: LIQ-DRF-11 to LIQ-DRF-14 (see the module docstring)."""

    liquidator_fee: Rate = ranged(0, RATE_ONE, why="the market's liquidator_fee")
    if_liquidation_fee: Rate = ranged(0, RATE_ONE, why="the market's if_liquidation_fee (the maximum)")
    max_liquidator_fee: Rate = ranged(0, RATE_ONE, why="min(3 x liquidator_fee, maintenance ratio)")
    source: Source = Source.MODEL
    counterparty: str = "@liquidator"
    fee_increase_per_slot: Rate = ranged(0, RATE_ONE, default=Rate(100))
    grace_slots: int = ranged(0, 10**9, default=1500)
    slot_ms: int = ranged(1, 60_000, default=400)

    @implements("LIQ-DRF-11", "LIQ-DRF-12", "LIQ-DRF-13", "LIQ-DRF-14")
    def plan(self, unit: Unit) -> list[Slice]:
        """Rules: LIQ-DRF-11 to LIQ-DRF-14. One takeover of the unit's first position (key order)
        at the oracle, sized to restore the buffered requirement."""
        if not unit.positions:
            return []
        key, pos = unit.positions[0]
        sym, size = key[0], abs(pos.size)
        trigger = unit.profile.liquidation_trigger_model
        shortage = trigger.requirement(unit.maintenance, unit.notional, 0, True) - unit.collateral
        if shortage <= 0:
            return []
        price = unit.oracles.get(sym, unit.prices[sym])
        f_liq, f_if = self.fees(unit, key, shortage)
        m_buf = _fee(self._ratio(unit, key) + trigger.margin_buffer())
        delta = base_to_cover(shortage, m_buf, f_liq, f_if, price, linear_exponent(unit))
        lot = unit.profile.market(sym).lot
        qty = size if delta is None else min(size, ceil_to(delta, lot))
        if qty <= 0:
            return []
        return [self._slice(key, qty, price, f_liq, f_if)]

    def fees(self, unit: Unit, key: Key, shortage: int) -> tuple[int, int]:
        """``(f_liq, f_if)`` (10^-6) of a slice of the unit's position ``key`` (LIQ-DRF-11/12)."""
        st = unit.status
        slots = 0 if st is None else int(div_floor(unit.t - st.started, self.slot_ms))
        f_liq = liquidator_fee(
            _fee(self.liquidator_fee),
            _fee(self.max_liquidator_fee),
            _fee(self.fee_increase_per_slot),
            slots,
            self.grace_slots,
        )
        pos = dict(unit.positions)[key]
        price = unit.oracles.get(key[0], unit.prices[key[0]])
        sc = unit.profile.scales
        m_buf = _fee(self._ratio(unit, key) + unit.profile.liquidation_trigger_model.margin_buffer())
        f_if = if_fee(
            shortage,
            abs(pos.size),
            m_buf,
            f_liq,
            price,
            _fee(self.if_liquidation_fee),
            (sc.size_decimals, sc.price_decimals, sc.money_decimals),
        )
        return f_liq, f_if

    def _ratio(self, unit: Unit, key: Key) -> int:
        """The position's maintenance ratio (10^-8): the margin model's, else ⌈MM·10^8/N⌉."""
        pos = dict(unit.positions)[key]
        ratio = unit.profile.market(key[0]).margin.maintenance_ratio(abs(pos.size))
        if ratio is not None:
            return ratio
        n = notional(unit, key[0], abs(pos.size), unit.prices[key[0]])
        return int(div_ceil(position_mm(unit, key, pos) * RATE_ONE, n)) if n else 0

    def _slice(self, key: Key, qty: int, price: int | None, f_liq: int, f_if: int) -> Slice:
        return Slice(
            key=key,
            qty=qty,
            rule_id="LIQ-DRF-14",
            execution=Execution.PRICE,
            price=price,
            settle=Settle.FEES,
            fee_rate=Rate(f_if * _TO_FEE),
            counterparty_fee_rate=Rate(f_liq * _TO_FEE),
        )

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        """A log liquidation at its price, with the fees the model would charge now."""
        shortage = max(
            0,
            unit.profile.liquidation_trigger_model.requirement(unit.maintenance, unit.notional, 0, True)
            - unit.collateral,
        )
        f_liq, f_if = self.fees(unit, key, shortage)
        return self._slice(key, qty, price, f_liq, f_if)


__all__ = ["FEE_ONE", "DriftProcedure", "base_to_cover", "if_fee", "liquidator_fee"]
