"""Hyperliquid margin tiers: MMR = 1/(2 * max leverage) per tier, with a deduction.

Rules: MRG-HL-01 (maintenance), MRG-HL-02 (initial).
"""

from __future__ import annotations

from math import lcm

import attrs
from perpspec.margin import LinearTier, MarginModel, PositionRisk
from perpspec.margin.piecewise import check_floors, deductions, linear_tiers, progressive_scaled, select
from perpspec.numeric import Rounding, Term, div_round, ite, min_
from perpspec.quantities import Money
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements


@attrs.frozen
class LeverageTier:
    """One margin tier: lower bound of notional (money units) and the tier's max leverage."""

    lower_bound: Money = ranged(0)
    max_leverage: int = ranged(1)


@variant("margin", "hyperliquid-tiers")
@attrs.frozen
class HyperliquidTiers(MarginModel):
    """Rules: MRG-HL-01, MRG-HL-02.

    :math:`MMR_k = 1/(2 L_k)`, :math:`d_0 = 0`, :math:`d_k = d_{k-1} + lb_k (MMR_k - MMR_{k-1})`,
    :math:`MM = \\lceil N \\cdot MMR_k - d_k \\rceil`, :math:`IM = \\lceil N / \\min(L, L_k) \\rceil`.
    All on the integer common denominator :math:`D = 2\\,\\mathrm{lcm}(L_k)`.
    """

    tiers: tuple[LeverageTier, ...]
    rounding: Rounding = Rounding.CEIL

    def denominator(self) -> int:
        """:math:`D = 2\\,\\mathrm{lcm}(L_1, \\dots, L_n)`: every MMR is an integer over it."""
        return 2 * lcm(*[max(t.max_leverage, 1) for t in self.tiers])

    def _floors(self) -> list[int]:
        return [t.lower_bound for t in self.tiers]

    def _rates(self) -> list[int]:
        d = self.denominator()
        return [d // (2 * max(t.max_leverage, 1)) for t in self.tiers]

    def check(self) -> list[tuple[str, str]]:
        out = [(f"tiers[{k}].lower_bound", msg) for k, msg in check_floors(self._floors(), "lower_bound")]
        for k, t in enumerate(self.tiers):
            if k and t.max_leverage > self.tiers[k - 1].max_leverage:
                out.append((f"tiers[{k}].max_leverage", "max leverage must not increase with notional"))
        return out

    def maintenance_tiers(self) -> tuple[LinearTier, ...]:
        """The schedule as exact pieces :math:`N/(2L_k) - d_k`."""
        return linear_tiers(self._floors(), self._rates(), self.denominator())

    def deductions_scaled(self) -> tuple[int, ...]:
        """The deductions :math:`d_k` times :math:`D` (money units)."""
        return deductions(self._floors(), self._rates())

    @implements("MRG-HL-01")
    def maintenance(self, pos: PositionRisk) -> Term:
        """Rule: MRG-HL-01. :math:`MM = \\lceil (N \\cdot D/(2L_k) - d_k D) / D \\rceil`."""
        return div_round(
            progressive_scaled(pos.notional, self._floors(), self._rates()), self.denominator(), self.rounding
        )

    def max_leverage(self, notional: Term) -> Term:
        """The max leverage of the tier holding ``notional``."""
        return select(notional, self._floors(), [t.max_leverage for t in self.tiers])

    @implements("MRG-HL-02")
    def initial(self, pos: PositionRisk) -> Term:
        """Rule: MRG-HL-02. :math:`IM = \\lceil N / \\min(L, L_k) \\rceil` (the tier's max leverage
        without a setting)."""
        cap = self.max_leverage(pos.notional)
        if pos.leverage is None:
            return div_round(pos.notional, cap, self.rounding)
        return div_round(pos.notional, ite(pos.leverage > 0, min_(pos.leverage, cap), cap), self.rounding)
