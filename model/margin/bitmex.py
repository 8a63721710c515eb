"""BitMEX risk-limit step model: margin rates rise by one base MM rate per risk-limit step.

Rules: MRG-BMX-01 (steps and rates), MRG-BMX-02 (maintenance and initial margin).
"""

from __future__ import annotations

import attrs
from perpspec.margin import MarginModel, PositionRisk
from perpspec.numeric import Rounding, Term, div_ceil, div_round, ite, max_
from perpspec.quantities import Money, Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@variant("margin", "bitmex-risk-steps")
@attrs.frozen
class BitmexRiskSteps(MarginModel):
    """Rules: MRG-BMX-01, MRG-BMX-02.

    :math:`steps = \\lceil (V - base) / step \\rceil` for :math:`V > base`, else 0;
    :math:`mm = mm_0 (1 + steps)`, :math:`im = im_0 + steps \\cdot mm_0`;
    :math:`MM = \\lceil V \\cdot mm \\rceil`, :math:`IM = \\lceil V \\cdot im \\rceil` (or
    :math:`\\max(\\lceil V/L \\rceil, \\lceil V \\cdot im \\rceil)` with a leverage setting).
    """

    base_risk_limit: Money = ranged(1)
    step: Money = ranged(1)
    base_mm: Rate = ranged(0, RATE_ONE)
    base_im: Rate = ranged(0, RATE_ONE)
    rounding: Rounding = Rounding.CEIL

    def check(self) -> list[tuple[str, str]]:
        out = []
        if self.base_im < self.base_mm:
            out.append(("base_im", "the base initial rate must be at least the base maintenance rate"))
        return out

    def risk_limit_steps(self) -> tuple[int, int] | None:
        """``(base_risk_limit, step)``: BitMEX is a risk-limit step model (MRG-BMX-01)."""
        return (self.base_risk_limit, self.step)

    @implements("MRG-BMX-01")
    def steps(self, value: Term) -> Term:
        """Rule: MRG-BMX-01. Risk-limit steps above the base limit (a value equal to a limit
        stays in it: the limit is the largest value it allows)."""
        return ite(value > self.base_risk_limit, div_ceil(value - self.base_risk_limit, self.step), 0)

    @implements("MRG-BMX-01")
    def mm_rate(self, value: Term) -> Term:
        """Rule: MRG-BMX-01. :math:`mm_0 + steps \\cdot mm_0` (1e-8)."""
        return self.base_mm + self.steps(value) * self.base_mm

    @implements("MRG-BMX-01")
    def im_rate(self, value: Term) -> Term:
        """Rule: MRG-BMX-01. :math:`im_0 + steps \\cdot mm_0` (1e-8)."""
        return self.base_im + self.steps(value) * self.base_mm

    @implements("MRG-BMX-02")
    def maintenance(self, pos: PositionRisk) -> Term:
        """Rule: MRG-BMX-02. :math:`MM = \\lceil V \\cdot mm(V) / 10^8 \\rceil`."""
        return div_round(pos.notional * self.mm_rate(pos.notional), RATE_ONE, self.rounding)

    @implements("MRG-BMX-02")
    def initial(self, pos: PositionRisk) -> Term:
        """Rule: MRG-BMX-02. :math:`IM = \\lceil V \\cdot im(V) \\rceil`,
        at least :math:`\\lceil V/L \\rceil`."""
        by_rate = div_round(pos.notional * self.im_rate(pos.notional), RATE_ONE, self.rounding)
        if pos.leverage is None:
            return by_rate
        return ite(
            pos.leverage > 0, max_(by_rate, div_round(pos.notional, pos.leverage, self.rounding)), by_rate
        )
