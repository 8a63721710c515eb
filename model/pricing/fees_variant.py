"""Trading-fee parameters: the ``[fees]`` section of a profile (variant ``maker-taker``).

The module lives in ``perpspec.pricing`` only so that it is auto-imported with the
built-in variants; the fee arithmetic itself is :mod:`perpspec.fees`.

Rule: FEE-MT-01.
"""

from __future__ import annotations

import attrs
from perpspec.numeric import Rounding
from perpspec.quantities import Rate
from perpspec.registry import variant
from perpspec.units import RATE_ONE


@variant("fees", "maker-taker")
@attrs.frozen
class MakerTakerFees:
    """Rule: FEE-MT-01. A maker rate and a taker rate (10^-8, a negative maker rate is a
    rebate) charged on the fill notional, rounded in direction ``rounding`` (default ceil:
    fees round up, rebates round toward zero; both in the venue's favour).
    """

    maker_rate: Rate
    taker_rate: Rate
    rounding: Rounding = Rounding.CEIL

    def check(self) -> list[tuple[str, str]]:
        out = []
        if self.taker_rate < 0:
            out.append(("taker_rate", "a taker fee rate cannot be negative"))
        if self.maker_rate + self.taker_rate < 0:
            out.append(("maker_rate", "the maker rebate exceeds the taker fee: every trade would lose money"))
        if self.taker_rate >= RATE_ONE:
            out.append(("taker_rate", "a fee rate of 100% or more is not a fee"))
        return out
