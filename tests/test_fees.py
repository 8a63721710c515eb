"""Maker/taker fees (FEE-MT-01): hand-computed amounts, roundings, rates and validation.

Rates are in 1e-8 (0.05% = 50,000); money in 8 decimals. Mutation testing (issue 8 section 5)
found fees.py covered only through whole-engine tests.
"""

from __future__ import annotations

import attrs
import pytest
from perpspec.fees import MakerTakerFees, fee_amount, fee_rate, fee_rounding, fill_fee, side_rate
from perpspec.margin.flat import FlatMargin
from perpspec.numeric import Rounding
from perpspec.profile import ContractKind, MarketSpec, Scales
from perpspec.profiles import load_profile
from perpspec.quantities import Price, Rate, Size

FLAT = FlatMargin(mmr=Rate(500_000), imr=Rate(1_000_000))
INV = MarketSpec(ContractKind.INVERSE, Price(1), Size(1), FLAT, contract_value=100)
LIN = MarketSpec(ContractKind.LINEAR, Price(1), Size(1), FLAT)
SC = Scales(price_decimals=1, size_decimals=0, money_decimals=8)


@pytest.mark.rule("FEE-MT-01")
def test_fee_amount_rounds_once_in_the_named_direction() -> None:
    # 10,000 USDT at 0.04% = 4 USDT exactly
    assert fee_amount(10_000 * 10**8, 40_000) == 4 * 10**8
    # 1 unit at 0.04% = 0.0004 units: ceil 1, floor 0
    assert fee_amount(1, 40_000) == 1
    assert fee_amount(1, 40_000, Rounding.FLOOR) == 0
    # a rebate of 0.025% on 1 unit: -0.00025 -> ceil 0 (toward the venue), floor -1
    assert fee_amount(1, -25_000) == 0
    assert fee_amount(1, -25_000, Rounding.FLOOR) == -1


@pytest.mark.rule("FEE-MT-01")
def test_inverse_fill_fee_is_one_division_of_the_exact_value() -> None:
    """3 contracts of 100 USD at 30,000.0: 0.01 BTC; at 0.05% = 0.000005 BTC = 500 sat.
    1 contract: 166.67 sat -> 167 (ceil) or 166 (floor). Per-contract (BitMEX satoshi)
    accounting and linear markets charge the rate on the given notional instead."""
    assert fill_fee(3, 300_000, 999, 50_000, Rounding.CEIL, INV, SC, False) == 500
    assert fill_fee(1, 300_000, 999, 50_000, Rounding.CEIL, INV, SC, False) == 167
    assert fill_fee(1, 300_000, 999, 50_000, Rounding.FLOOR, INV, SC, False) == 166
    # per contract: 0.05% of the notional 1,000,000 = 500
    assert fill_fee(1, 300_000, 1_000_000, 50_000, Rounding.CEIL, INV, SC, True) == 500
    assert fill_fee(1, 300_000, 1_000_000, 50_000, Rounding.CEIL, LIN, SC, False) == 500
    # inverse with size decimals: 1 lot of 0.1 contract -> 16.67 sat -> 17
    sc1 = attrs.evolve(SC, size_decimals=1)
    assert fill_fee(1, 300_000, 999, 50_000, Rounding.CEIL, INV, sc1, False) == 17


@pytest.mark.rule("FEE-MT-01")
def test_side_rate_and_profile_rates() -> None:
    assert side_rate(2, 5, True, None) == 2
    assert side_rate(2, 5, False, None) == 5
    assert side_rate(2, 5, True, 0) == 0  # an override of 0 still overrides
    assert side_rate(2, 5, False, 7) == 7
    bitmex = load_profile("bitmex-xbtusd")  # maker -0.025%, taker 0.075%
    assert fee_rate(bitmex, True, None) == -25_000
    assert fee_rate(bitmex, False, None) == 75_000
    assert fee_rate(bitmex, False, 1) == 1
    assert fee_rounding(bitmex) is Rounding.CEIL


@pytest.mark.rule("FEE-MT-01")
def test_a_rebate_may_equal_but_not_exceed_the_taker_fee() -> None:
    assert MakerTakerFees(maker_rate=Rate(-5), taker_rate=Rate(5)).check() == []
    assert MakerTakerFees(maker_rate=Rate(-6), taker_rate=Rate(5)).check() == [
        ("maker_rate", "the maker rebate exceeds the taker fee: every trade would lose money")
    ]


@pytest.mark.rule("FEE-MT-01")
def test_linear_fee_uses_the_named_rounding() -> None:
    # 0.05% of 999 units = 0.4995: ceil 1, floor 0
    assert fill_fee(1, 300_000, 999, 50_000, Rounding.CEIL, LIN, SC, False) == 1
    assert fill_fee(1, 300_000, 999, 50_000, Rounding.FLOOR, LIN, SC, False) == 0


@pytest.mark.rule("FEE-MT-01")
def test_profile_without_fees_or_with_its_own_rounding() -> None:
    """Without a [fees] section every rate is 0 (an override still applies) and fees round up;
    a [fees] section's own rounding is used as given."""
    bitmex = load_profile("bitmex-xbtusd")
    no_fees = attrs.evolve(bitmex, mechanisms={k: v for k, v in bitmex.mechanisms.items() if k != "fees"})
    assert no_fees.fees_model is None
    assert (fee_rate(no_fees, True, None), fee_rate(no_fees, False, None)) == (0, 0)
    assert fee_rate(no_fees, True, 9) == 9
    assert fee_rounding(no_fees) is Rounding.CEIL
    floor_fees = MakerTakerFees(maker_rate=Rate(3), taker_rate=Rate(7), rounding=Rounding.FLOOR)
    own = attrs.evolve(bitmex, mechanisms={**bitmex.mechanisms, "fees": floor_fees})
    assert fee_rounding(own) is Rounding.FLOOR
    assert (fee_rate(own, True, None), fee_rate(own, False, None)) == (3, 7)
