"""dYdX v4 margin: liquidity tiers with an open-interest-scaled initial margin fraction.

Amounts are quote quantums (1e-6 USDC), fractions are ppm, exactly as the chain computes.

Rules: MRG-DYDX-01 (OI-adjusted IMF), MRG-DYDX-02 (initial), MRG-DYDX-03 (maintenance),
MRG-DYDX-04 (base to quote quantums).
"""

from __future__ import annotations

import attrs
from perpspec.margin import MarginModel, PositionRisk
from perpspec.numeric import Term, div_ceil, div_floor, div_trunc, ite, max_
from perpspec.quantities import Money
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements

#: One million: fractions are in parts per million.
PPM = 1_000_000


@implements("MRG-DYDX-04")
def base_to_quote_quantums(
    base_quantums: Term, price_value: int, price_exponent: int, atomic_resolution: int
) -> Term:
    """Rule: MRG-DYDX-04. :math:`q \\cdot p \\cdot 10^{e + a + 6}`; when the power of ten is
    negative, the division truncates toward zero (so a short's signed notional rounds toward 0).

    ``price_exponent`` and ``atomic_resolution`` are static market parameters (ints).
    """
    power = price_exponent + atomic_resolution + 6
    if power >= 0:
        return base_quantums * price_value * 10**power
    return div_trunc(base_quantums * price_value, 10 ** (-power))


@variant("margin", "dydx-oi-imf")
@attrs.frozen
class DydxLiquidityTier(MarginModel):
    """Rules: MRG-DYDX-01, MRG-DYDX-02, MRG-DYDX-03.

    :math:`IMR = \\lceil N \\cdot \\max(OIMF, custom) / 10^6 \\rceil`,
    :math:`MMR = \\lceil \\lceil N \\cdot IMF_0 / 10^6 \\rceil \\cdot MF / 10^6 \\rceil`.
    """

    initial_margin_ppm: int = ranged(0, PPM)
    maintenance_fraction_ppm: int = ranged(0, PPM, why="MM cannot exceed IM")
    open_interest_lower_cap: Money = ranged(0, default=Money(0))
    open_interest_upper_cap: Money = ranged(0, why="0 for none", default=Money(0))
    custom_imf_ppm: int = ranged(0, PPM, default=0)

    def check(self) -> list[tuple[str, str]]:
        out = []
        if self.open_interest_upper_cap != 0 and self.open_interest_upper_cap < self.open_interest_lower_cap:
            out.append(
                ("open_interest_upper_cap", "the upper cap must be at least the lower cap (or 0 for none)")
            )
        return out

    def maintenance_margin_ppm(self) -> int:
        """The tier's maintenance margin fraction: :math:`\\lfloor IMF \\cdot MF / 10^6 \\rfloor`."""
        return int(div_trunc(self.initial_margin_ppm * self.maintenance_fraction_ppm, PPM))

    @implements("MRG-DYDX-01")
    def adjusted_imf_ppm(self, oi_notional: Term) -> Term:
        """Rule: MRG-DYDX-01. Base IMF if the upper cap is 0 or OI <= lower cap; 1e6 if
        OI >= upper cap; else :math:`IMF_0 + \\lfloor (10^6 - IMF_0)(OI - lo)/(hi - lo) \\rfloor`."""
        base, lo, hi = self.initial_margin_ppm, self.open_interest_lower_cap, self.open_interest_upper_cap
        if hi == 0:
            return base
        span = max(hi - lo, 1)
        scaled = base + div_floor((PPM - base) * (oi_notional - lo), span)
        return ite(oi_notional <= lo, base, ite(oi_notional >= hi, PPM, scaled))

    @implements("MRG-DYDX-02")
    def initial(self, pos: PositionRisk) -> Term:
        """Rule: MRG-DYDX-02. :math:`\\lceil N \\cdot \\max(OIMF, custom) / 10^6 \\rceil`."""
        imf = max_(self.adjusted_imf_ppm(pos.oi_notional), self.custom_imf_ppm)
        return div_ceil(pos.notional * imf, PPM)

    @implements("MRG-DYDX-03")
    def maintenance(self, pos: PositionRisk) -> Term:
        """Rule: MRG-DYDX-03. :math:`\\lceil \\lceil N \\cdot IMF_0 / 10^6 \\rceil \\cdot MF / 10^6 \\rceil`
        (not OI-scaled)."""
        base_imr = div_ceil(pos.notional * self.initial_margin_ppm, PPM)
        return div_ceil(base_imr * self.maintenance_fraction_ppm, PPM)
