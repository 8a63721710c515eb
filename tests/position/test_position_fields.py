"""Fills keep the user's settings; signed notional; money rounding of realized PnL
(issue 8 section 5: mutants that dropped ``leverage`` or the isolated fields survived).

Linear market, hand-computed. ``Scales(price_decimals, size_decimals, money_decimals)``.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from perpspec.margin.flat import FlatMargin
from perpspec.position import Position, apply_fill, entry_price, signed_notional
from perpspec.profile import ContractKind, MarketSpec, Scales
from perpspec.quantities import Price, Rate, Size

LIN = MarketSpec(ContractKind.LINEAR, Price(1), Size(1), FlatMargin(mmr=Rate(500_000), imr=Rate(1_000_000)))
UNIT = Scales(price_decimals=0, size_decimals=0, money_decimals=0)
# long 3 @ 100, user leverage 7x, isolated with 55 of margin
POS = Position(size=3, entry_value=300, leverage=7, isolated=True, isolated_margin=55)


@pytest.mark.rule("PNL-LIN-01")
def test_increase_keeps_leverage_and_isolated_fields() -> None:
    assert apply_fill(POS, 1, 120, LIN, UNIT) == (Position(4, 420, 7, True, 55), 0)


@pytest.mark.rule("PNL-RED-01")
def test_partial_close_keeps_leverage_and_isolated_fields() -> None:
    """Sell 1 of 3 @ 110: E_c = 100, realized 110 - 100 = 10; the rest keeps 7x, isolated, 55."""
    assert apply_fill(POS, -1, 110, LIN, UNIT) == (Position(2, 200, 7, True, 55), 10)
    # a full close keeps them too (the slot is flat, the user's settings stay)
    assert apply_fill(POS, -3, 90, LIN, UNIT) == (Position(0, 0, 7, True, 55), -30)


@pytest.mark.rule("PNL-FLIP-01")
def test_flip_keeps_leverage_and_isolated_fields() -> None:
    """Sell 5 @ 120: close 3 (realized 3 * (120 - 100) = 60), open short 2 @ 120 (E = -240)."""
    assert apply_fill(POS, -5, 120, LIN, UNIT) == (Position(-2, -240, 7, True, 55), 60)


@pytest.mark.rule("PNL-RED-01", "PNL-LIN-01")
def test_realized_pnl_is_floored_to_money_units() -> None:
    """Price 2 dp, size 1 dp, money 2 dp (entry value in 1e-3 quote). Long 1.0 @ 100.00, sell 0.3
    @ 100.07: realized 0.3 * 0.07 = 0.021 -> 0.02 (floor). Short: -0.021 -> -0.03 (floor)."""
    sc = Scales(price_decimals=2, size_decimals=1, money_decimals=2)
    long = Position(size=10, entry_value=100_000)
    after, realized = apply_fill(long, -3, 10_007, LIN, sc)
    assert (after, realized) == (Position(7, 70_000), 2)
    short = Position(size=-10, entry_value=-100_000)
    after, realized = apply_fill(short, 3, 10_007, LIN, sc)
    assert (after, realized) == (Position(-7, -70_000), -3)


@pytest.mark.rule("PNL-NOT-01")
def test_signed_notional_carries_the_side() -> None:
    """|N| = 2 * 150 = 300: +300 long, -300 short, 0 flat. With money 1 dp less than size+price,
    |N| rounds up before the sign is applied: 3 * 0.33 = 0.99 -> 1.0 (ceil) -> -10 for a short."""
    assert signed_notional(Position(2, 200), 150, LIN, UNIT) == 300
    assert signed_notional(Position(-2, -200), 150, LIN, UNIT) == -300
    assert signed_notional(Position(), 150, LIN, UNIT) == 0
    sc = Scales(price_decimals=2, size_decimals=0, money_decimals=1)
    assert signed_notional(Position(-3, -99), 33, LIN, sc) == -10
    assert signed_notional(Position(3, 99), 33, LIN, sc) == 10


@pytest.mark.rule("PNL-AVG-01")
def test_flat_position_has_no_entry_price() -> None:
    """Long 4 with E = 410: entry price 410 / 4 = 102.5 exactly; flat: no entry price."""
    with pytest.raises(ValueError, match="a flat position has no entry price"):
        entry_price(Position(), LIN, UNIT)
    assert entry_price(Position(4, 410), LIN, UNIT) == Fraction(205, 2)
