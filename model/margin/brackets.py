"""Binance "tax-bracket" margin: maintenance rate and maintenance amount (cum) per bracket.

Rules: MRG-BRK-01 (maintenance), MRG-BRK-02 (cum recurrence), MRG-BRK-03 (initial).
"""

from __future__ import annotations

from fractions import Fraction

import attrs
from perpspec.margin import LinearTier, MarginModel, PositionRisk
from perpspec.margin.piecewise import (
    check_floors,
    column,
    deductions,
    linear_tiers,
    progressive_scaled,
    select,
)
from perpspec.numeric import Rounding, Term, div_round, ite, min_
from perpspec.quantities import Money, Rate
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE, format_fraction


@attrs.frozen
class Bracket:
    """One row of a bracket table: notional floor (money units), MMR, max leverage, and the
    optional published maintenance amount ``cum`` (checked against the recurrence)."""

    floor: Money = ranged(0)
    mmr: Rate = ranged(0, RATE_ONE)
    max_leverage: int = ranged(1)
    cum: Money | None = ranged(0, default=None)


@implements("MRG-BRK-02")
def next_cum(floor: Term, mmr_prev: Term, mmr: Term, cum_prev: Term) -> Term:
    """Rule: MRG-BRK-02. One step of the recurrence, scaled by ``RATE_ONE``:
    :math:`cum_n \\cdot 10^8 = floor_n (mmr_n - mmr_{n-1}) + cum_{n-1} \\cdot 10^8`.

    ``floor`` and ``cum_prev`` are money units, rates in 1e-8; the result is money units
    times 1e8 (exact, no rounding).
    """
    return floor * (mmr - mmr_prev) + cum_prev * RATE_ONE


@variant("margin", "binance-brackets")
@attrs.frozen
class BinanceBrackets(MarginModel):
    """Rules: MRG-BRK-01, MRG-BRK-02, MRG-BRK-03.

    :math:`MM = \\lceil N \\cdot mmr_k - cum_k \\rceil` for the bracket ``k`` with
    :math:`floor_k \\le N < floor_{k+1}`; :math:`cum_k` from the recurrence;
    :math:`IM = \\lceil N / \\min(L, maxLev_k) \\rceil`.
    """

    brackets: tuple[Bracket, ...]
    rounding: Rounding = Rounding.CEIL

    def _floors(self) -> tuple[int, ...]:
        return column(self.brackets, "floor")

    def _rates(self) -> tuple[int, ...]:
        return column(self.brackets, "mmr")

    @implements("MRG-BRK-02")
    def cums_scaled(self) -> tuple[int, ...]:
        """Rule: MRG-BRK-02. The maintenance amounts ``cum_k`` times 1e8 (money units)."""
        return deductions(self._floors(), self._rates())

    def check(self) -> list[tuple[str, str]]:
        out = [(f"brackets[{k}].floor", msg) for k, msg in check_floors(self._floors())]
        prev_lev = None
        cums = self.cums_scaled()
        for k, b in enumerate(self.brackets):
            at = f"brackets[{k}]"
            if k and b.mmr < self.brackets[k - 1].mmr:
                out.append((f"{at}.mmr", "bracket rates must be non-decreasing"))
            if b.mmr * b.max_leverage > RATE_ONE:
                out.append(
                    (
                        f"{at}.max_leverage",
                        "the initial rate 1/max_leverage is below the maintenance rate (IM < MM)",
                    )
                )
            if prev_lev is not None and b.max_leverage > prev_lev:
                out.append((f"{at}.max_leverage", "max leverage must not increase with notional"))
            prev_lev = b.max_leverage
            if b.cum is not None and b.cum * RATE_ONE != cums[k]:
                want = format_fraction(Fraction(cums[k], RATE_ONE))
                out.append(
                    (
                        f"{at}.cum",
                        f"published cum does not match the recurrence cum_n = floor_n*(mmr_n - mmr_(n-1)) "
                        f"+ cum_(n-1): got {b.cum}, expected {want} (in money units, 10^-money_decimals)",
                    )
                )
        return out

    def maintenance_tiers(self) -> tuple[LinearTier, ...]:
        """The schedule as exact pieces :math:`N \\cdot mmr_k - cum_k`."""
        return linear_tiers(self._floors(), self._rates(), RATE_ONE)

    @implements("MRG-BRK-01")
    def maintenance(self, pos: PositionRisk) -> Term:
        """Rule: MRG-BRK-01.
        :math:`MM = \\lceil (N \\cdot mmr_k \\cdot 10^8 - cum_k \\cdot 10^8) / 10^8 \\rceil`."""
        return div_round(
            progressive_scaled(pos.notional, self._floors(), self._rates()), RATE_ONE, self.rounding
        )

    def max_leverage(self, notional: Term) -> Term:
        """The max leverage of the bracket holding ``notional``."""
        return select(notional, self._floors(), column(self.brackets, "max_leverage"))

    @implements("MRG-BRK-03")
    def initial(self, pos: PositionRisk) -> Term:
        """Rule: MRG-BRK-03. :math:`IM = \\lceil N / \\min(L, maxLev_k) \\rceil`; without a
        leverage setting the bracket's max leverage is used."""
        cap = self.max_leverage(pos.notional)
        if pos.leverage is None:
            return div_round(pos.notional, cap, self.rounding)
        lev = ite(pos.leverage > 0, min_(pos.leverage, cap), cap)
        return div_round(pos.notional, lev, self.rounding)
