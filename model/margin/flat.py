"""Flat-rate margin: one maintenance rate and one initial rate (or the user's leverage).

Rule: MRG-FLAT-01.
"""

from __future__ import annotations

import attrs
from perpspec.margin import MarginModel, PositionRisk
from perpspec.numeric import Rounding, Term, div_floor, div_round, ite
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@variant("margin", "flat")
@attrs.frozen
class FlatMargin(MarginModel):
    """Rule: MRG-FLAT-01. :math:`MM = \\lceil N \\cdot mmr \\rceil`, :math:`IM = \\lceil N / L \\rceil`
    with ``L`` the user's leverage, or :math:`\\lceil N \\cdot imr \\rceil` without one.
    """

    mmr: Rate = ranged(0, RATE_ONE)
    imr: Rate = ranged(0, RATE_ONE)
    rounding: Rounding = Rounding.CEIL

    def check(self) -> list[tuple[str, str]]:
        out = []
        if self.imr < self.mmr:
            out.append(("imr", "the initial rate must be at least the maintenance rate"))
        return out

    def flat_maintenance_rate(self) -> int | None:
        """The maintenance rate ``mmr`` (one rate for every notional)."""
        return self.mmr

    @implements("ENG-LEV-01")
    def max_leverage(self, notional: Term) -> Term | None:
        """Rule: ENG-LEV-01. :math:`\\lfloor 1 / imr \rfloor` (``None`` when ``imr`` is 0): the
        initial rate is the least margin a leverage may ask for, at every notional."""
        return div_floor(RATE_ONE, self.imr) if self.imr > 0 else None

    @implements("MRG-FLAT-01")
    def maintenance(self, pos: PositionRisk) -> Term:
        return div_round(pos.notional * self.mmr, RATE_ONE, self.rounding)

    @implements("MRG-FLAT-01")
    def initial(self, pos: PositionRisk) -> Term:
        by_rate = div_round(pos.notional * self.imr, RATE_ONE, self.rounding)
        if pos.leverage is None:
            return by_rate
        return ite(pos.leverage > 0, div_round(pos.notional, pos.leverage, self.rounding), by_rate)
