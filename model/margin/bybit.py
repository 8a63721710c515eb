"""Bybit progressive maintenance-margin tiers: each tier's rate applies to the part of the
position value inside that tier.

Rules: MRG-BYB-01 (maintenance), MRG-BYB-02 (initial).
"""

from __future__ import annotations

import attrs
from perpspec.margin import LinearTier, MarginModel, PositionRisk
from perpspec.margin.piecewise import check_floors, deductions, linear_tiers, progressive_scaled, select
from perpspec.numeric import Rounding, Term, div_round, ite, min_
from perpspec.quantities import Money, Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@attrs.frozen
class ProgressiveTier:
    """One tier: lower bound of position value (money units), its rate, and optionally the
    tier's max leverage (caps the user's leverage for the initial margin)."""

    floor: Money = ranged(0)
    mmr: Rate = ranged(0, RATE_ONE)
    max_leverage: int | None = ranged(1, default=None)


@variant("margin", "bybit-progressive")
@attrs.frozen
class BybitProgressive(MarginModel):
    """Rules: MRG-BYB-01, MRG-BYB-02.

    :math:`MM = \\lceil \\sum_k mmr_k \\cdot (\\min(PV, floor_{k+1}) - floor_k)^+ \\rceil
    = \\lceil PV \\cdot mmr_k - deduction_k \\rceil`, :math:`IM = \\lceil PV / L \\rceil`.
    """

    tiers: tuple[ProgressiveTier, ...]
    rounding: Rounding = Rounding.CEIL

    def _floors(self) -> list[int]:
        return [t.floor for t in self.tiers]

    def _rates(self) -> list[int]:
        return [t.mmr for t in self.tiers]

    def deductions_scaled(self) -> tuple[int, ...]:
        """The deduction of each tier times 1e8 (money units):
        :math:`\\sum_{j \\le k} floor_j \\Delta mmr_j`."""
        return deductions(self._floors(), self._rates())

    def check(self) -> list[tuple[str, str]]:
        out = [(f"tiers[{k}].floor", msg) for k, msg in check_floors(self._floors())]
        for k, t in enumerate(self.tiers):
            if t.max_leverage is not None:
                if t.mmr * t.max_leverage > RATE_ONE:
                    out.append(
                        (f"tiers[{k}].max_leverage", "1/max_leverage is below the maintenance rate (IM < MM)")
                    )
        return out

    def tier_max_leverage(self) -> tuple[int | None, ...]:
        """The ``max_leverage`` column of the tiers (``None`` where a tier states none)."""
        return tuple(t.max_leverage for t in self.tiers)

    def maintenance_tiers(self) -> tuple[LinearTier, ...]:
        """The schedule as exact pieces :math:`PV \\cdot mmr_k - deduction_k`."""
        return linear_tiers(self._floors(), self._rates(), RATE_ONE)

    @implements("MRG-BYB-01")
    def maintenance(self, pos: PositionRisk) -> Term:
        """Rule: MRG-BYB-01. :math:`MM = \\lceil (PV \\cdot mmr_k - deduction_k) \\rceil`."""
        return div_round(
            progressive_scaled(pos.notional, self._floors(), self._rates()), RATE_ONE, self.rounding
        )

    @implements("MRG-BYB-02")
    def initial(self, pos: PositionRisk) -> Term:
        """Rule: MRG-BYB-02. :math:`IM = \\lceil PV / \\min(L, maxLev_k) \\rceil`; a tier without a
        cap uses the user's leverage as is; with neither, 1x (IM = PV)."""
        caps = [t.max_leverage for t in self.tiers]
        lev: Term = 1 if pos.leverage is None else ite(pos.leverage > 0, pos.leverage, 1)
        capped = [lev if c is None else (c if pos.leverage is None else min_(lev, c)) for c in caps]
        return div_round(pos.notional, select(pos.notional, self._floors(), capped), self.rounding)
