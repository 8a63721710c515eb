"""Deribit size-scaled margin: the rates grow linearly with the position size.

Rule: MRG-DRB-01.
"""

from __future__ import annotations

import attrs
from perpspec.margin import MarginModel, PositionRisk
from perpspec.numeric import Rounding, Term, div_round
from perpspec.quantities import Rate, Size
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@variant("margin", "deribit-size-linear")
@attrs.frozen
class DeribitSizeLinear(MarginModel):
    """Rule: MRG-DRB-01.

    :math:`im = im_0 + (S/u) \\cdot k_{im}`, :math:`mm = mm_0 + (S/u) \\cdot k_{mm}` with ``u`` the
    size unit the per-size rates refer to (one coin: ``per_size = "1"``);
    :math:`IM = \\lceil N \\cdot im \\rceil`, :math:`MM = \\lceil N \\cdot mm \\rceil`, exact before the
    one final rounding.
    """

    base_im: Rate = ranged(0, RATE_ONE)
    base_mm: Rate = ranged(0, RATE_ONE)
    im_per_size: Rate = ranged(0, RATE_ONE)
    mm_per_size: Rate = ranged(0, RATE_ONE)
    per_size: Size = ranged(1)
    rounding: Rounding = Rounding.CEIL

    def check(self) -> list[tuple[str, str]]:
        out = []
        if self.base_im < self.base_mm:
            out.append(("base_im", "the initial rate must be at least the maintenance rate"))
        if self.im_per_size < self.mm_per_size:
            out.append(
                (
                    "im_per_size",
                    "the initial per-size rate must be at least the maintenance one (else IM < MM)",
                )
            )
        return out

    def im_rate_scaled(self, size: Term) -> Term:
        """The initial rate times ``per_size`` (1e-8 units): :math:`im_0 u + S k_{im}`."""
        return self.base_im * self.per_size + size * self.im_per_size

    def mm_rate_scaled(self, size: Term) -> Term:
        """The maintenance rate times ``per_size`` (1e-8 units): :math:`mm_0 u + S k_{mm}`."""
        return self.base_mm * self.per_size + size * self.mm_per_size

    @implements("MRG-DRB-01")
    def initial(self, pos: PositionRisk) -> Term:
        """Rule: MRG-DRB-01. :math:`IM = \\lceil N (im_0 u + S k_{im}) / (u \\cdot 10^8) \\rceil`."""
        return div_round(
            pos.notional * self.im_rate_scaled(pos.size), self.per_size * RATE_ONE, self.rounding
        )

    @implements("MRG-DRB-01")
    def maintenance(self, pos: PositionRisk) -> Term:
        """Rule: MRG-DRB-01. :math:`MM = \\lceil N (mm_0 u + S k_{mm}) / (u \\cdot 10^8) \\rceil`."""
        return div_round(
            pos.notional * self.mm_rate_scaled(pos.size), self.per_size * RATE_ONE, self.rounding
        )
