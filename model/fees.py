"""Trading fees: a rate on the fill notional with a named rounding.

:math:`fee = round_{mode}(N \\cdot r / 10^8)` with :math:`N` the fill notional in money
units (rule PNL-NOT-01, at the fill price) and :math:`r` the fee rate in 10^-8. A positive
fee is paid by the account to the fee pool; a negative one (maker rebate) is paid by the
fee pool to the account. Default rounding: ceil (a fee is rounded up, a rebate toward zero).
On an inverse contract the fee is rounded once from the exact coin notional
(:func:`fill_fee`), never from the notional already rounded up.

Rule: FEE-MT-01.
"""

from __future__ import annotations

from typing import Any

import attrs
from perpspec.numeric import Rounding, Term, div_round, pow10
from perpspec.profile import ContractKind, Profile
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import Variant, interface, variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

#: Used when a profile has no ``[fees]`` section: no fees.
NO_FEES_ROUNDING = Rounding.CEIL


@interface("fees")
class FeeModel(Variant):
    """The declared interface of mechanism ``fees`` (FEE-MT-01): a maker and a taker rate
    (10^-8) and the rounding of a fee."""

    __slots__ = ()

    maker_rate: Rate
    taker_rate: Rate
    rounding: Rounding


@variant("fees", "maker-taker")
@attrs.frozen
class MakerTakerFees(FeeModel):
    """Rule: FEE-MT-01. A maker rate and a taker rate (10^-8, a negative maker rate is a
    rebate) charged on the fill notional, rounded in direction ``rounding`` (default ceil:
    fees round up, rebates round toward zero; both in the venue's favour).
    """

    maker_rate: Rate = ranged(-RATE_ONE + 1, RATE_ONE - 1)
    taker_rate: Rate = ranged(0, RATE_ONE - 1, why="a fee of 100% or more is not a fee")
    rounding: Rounding = Rounding.CEIL

    def check(self) -> list[tuple[str, str]]:
        out = []
        if self.maker_rate + self.taker_rate < 0:
            out.append(("maker_rate", "the maker rebate exceeds the taker fee: every trade would lose money"))
        return out


@implements("FEE-MT-01")
def fee_amount(notional: Term, rate: Term, mode: Rounding = Rounding.CEIL) -> Term:
    """Rule: FEE-MT-01. :math:`round_{mode}(N \\cdot r / 10^8)` in money units (ints or Z3 terms)."""
    return div_round(notional * rate, RATE_ONE, mode)


def fill_fee(
    qty: int,
    price: int,
    notional: int,
    rate: int,
    mode: Rounding,
    market: Any,
    scales: Any,
    per_contract: bool,
) -> int:
    """Rule: FEE-MT-01. :func:`fill_fee_term` on ints."""
    return int(fill_fee_term(qty, price, notional, rate, mode, market, scales, per_contract))


@implements("FEE-MT-01")
def fill_fee_term(
    qty: Term,
    price: Term,
    notional: Term,
    rate: Term,
    mode: Rounding,
    market: Any,
    scales: Any,
    per_contract: bool,
) -> Term:
    """Rule: FEE-MT-01. The fee of one fill side, money units, rounded once from the exact value.

    Inverse (unless the accounting values each contract separately, ``per_contract``: BitMEX
    satoshi accounting, whose rounded per-contract value *is* the notional):
    :math:`round_{mode}(q \\cdot cv \\cdot 10^{m+p} \\cdot r / (P \\cdot 10^s \\cdot 10^8))`,
    one division of the exact notional. Linear (and per-contract inverse):
    :func:`fee_amount` of ``notional`` (rule PNL-NOT-01).
    """
    if market.contract is ContractKind.INVERSE and not per_contract:
        num = qty * market.contract_value * pow10(scales.money_decimals + scales.price_decimals) * rate
        return div_round(num, price * pow10(scales.size_decimals) * RATE_ONE, mode)
    return fee_amount(notional, rate, mode)


@implements("FEE-MT-01")
def fee_rate(profile: Profile, is_maker: bool, override: int | None) -> int:
    """Rule: FEE-MT-01. The fee rate of one side: the event's rate if given, else the profile's
    maker or taker rate, else 0 (a profile without ``[fees]``)."""
    fees = profile.fees_model
    if fees is None:
        return side_rate(0, 0, is_maker, override)
    return side_rate(int(fees.maker_rate), int(fees.taker_rate), is_maker, override)


@implements("FEE-MT-01")
def side_rate(maker_rate: int, taker_rate: int, is_maker: bool, override: int | None) -> int:
    """Rule: FEE-MT-01. The rate of one side: ``override`` if given, else the maker or taker rate."""
    if override is not None:
        return override
    return maker_rate if is_maker else taker_rate


def fee_rounding(profile: Profile) -> Rounding:
    """The rounding direction of the profile's fees (ceil without a ``[fees]`` section)."""
    fees = profile.fees_model
    return NO_FEES_ROUNDING if fees is None else fees.rounding
