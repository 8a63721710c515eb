"""OKX tiered maintenance margin: one flat rate per position tier (not progressive), and the
liquidation threshold MMR + liquidation fee (taker) rate used in the margin ratio.

OKX tiers are defined on the position size (contracts / base units), not on notional.

Rules: MRG-OKX-01 (tier rates), MRG-OKX-02 (margin ratio and liquidation threshold).
"""

from __future__ import annotations

from fractions import Fraction

import attrs
from perpspec.margin import MarginModel, PositionRisk
from perpspec.margin.piecewise import check_floors, select
from perpspec.numeric import Cond, Rounding, Term, div_round, ite, min_
from perpspec.quantities import Rate, Size
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@attrs.frozen
class SizeTier:
    """One OKX tier: lower bound of position size (size units), MMR and max leverage."""

    floor: Size = ranged(0)
    mmr: Rate = ranged(0, RATE_ONE)
    max_leverage: int = ranged(1)


@variant("margin", "okx-tiers")
@attrs.frozen
class OkxTiers(MarginModel):
    """Rules: MRG-OKX-01, MRG-OKX-02.

    :math:`MM = \\lceil N \\cdot mmr_k \\rceil` with ``k`` the tier of the size (flat, no deduction);
    liquidation when :math:`equity \\le N (mmr_k + fee)` (margin ratio at or below 100%).
    """

    tiers: tuple[SizeTier, ...]
    liquidation_fee: Rate = ranged(0, RATE_ONE)
    rounding: Rounding = Rounding.CEIL

    def _floors(self) -> list[int]:
        return [t.floor for t in self.tiers]

    def check(self) -> list[tuple[str, str]]:
        out = [(f"tiers[{k}].floor", msg) for k, msg in check_floors(self._floors())]
        for k, t in enumerate(self.tiers):
            if k and t.mmr < self.tiers[k - 1].mmr:
                out.append((f"tiers[{k}].mmr", "tier rates must be non-decreasing"))
            if t.mmr * t.max_leverage > RATE_ONE:
                out.append(
                    (f"tiers[{k}].max_leverage", "1/max_leverage is below the maintenance rate (IM < MM)")
                )
        return out

    def tier_max_leverage(self) -> tuple[int | None, ...]:
        """The ``max_leverage`` column of the size tiers."""
        return tuple(t.max_leverage for t in self.tiers)

    def size_tiers(self) -> tuple[tuple[int, int], ...]:
        """``(size floor, mmr)`` of each tier (MRG-OKX-01): OKX tiers are chosen by size."""
        return tuple((t.floor, t.mmr) for t in self.tiers)

    @implements("MRG-OKX-01")
    def mmr(self, size: Term) -> Term:
        """Rule: MRG-OKX-01. The rate of the tier holding ``size`` (1e-8)."""
        return select(size, self._floors(), [t.mmr for t in self.tiers])

    @implements("MRG-OKX-01")
    def maintenance(self, pos: PositionRisk) -> Term:
        """Rule: MRG-OKX-01. :math:`MM = \\lceil N \\cdot mmr_k / 10^8 \\rceil`."""
        return div_round(pos.notional * self.mmr(pos.size), RATE_ONE, self.rounding)

    @implements("MRG-OKX-01")
    def initial(self, pos: PositionRisk) -> Term:
        """Rule: MRG-OKX-01. :math:`IM = \\lceil N / \\min(L, maxLev_k) \\rceil`."""
        cap = select(pos.size, self._floors(), [t.max_leverage for t in self.tiers])
        if pos.leverage is None:
            return div_round(pos.notional, cap, self.rounding)
        return div_round(pos.notional, ite(pos.leverage > 0, min_(pos.leverage, cap), cap), self.rounding)

    @implements("MRG-OKX-02")
    def liquidation_requirement(self, pos: PositionRisk) -> Term:
        """Rule: MRG-OKX-02. :math:`\\lceil N (mmr_k + fee) / 10^8 \\rceil`: the equity below which
        (inclusive) the position is liquidated."""
        return div_round(pos.notional * (self.mmr(pos.size) + self.liquidation_fee), RATE_ONE, self.rounding)

    @implements("MRG-OKX-02")
    def liquidatable(self, equity: Term, pos: PositionRisk) -> Cond:
        """Rule: MRG-OKX-02. :math:`equity \\cdot 10^8 \\le N (mmr_k + fee)` exactly (margin ratio
        :math:`equity / (N (mmr + fee)) \\le 100\\%`), compared by cross-multiplication."""
        return equity * RATE_ONE <= pos.notional * (self.mmr(pos.size) + self.liquidation_fee)

    @implements("MRG-OKX-02")
    def margin_ratio(self, equity: int, pos: PositionRisk) -> Fraction:
        """Rule: MRG-OKX-02. The 2020 guide's margin ratio :math:`equity / N` (exact, display)."""
        return Fraction(equity, int(pos.notional))

    @implements("MRG-OKX-02")
    def threshold(self, pos: PositionRisk) -> Fraction:
        """Rule: MRG-OKX-02. :math:`mmr_k + fee` as an exact fraction (the 2020 guide's threshold)."""
        return Fraction(int(self.mmr(pos.size)) + self.liquidation_fee, RATE_ONE)
