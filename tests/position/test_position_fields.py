"""Fills keep the user's settings; signed notional; money rounding of realized PnL
(issue 8 section 5: mutants that dropped ``leverage`` or the isolated fields survived).

Linear market, hand-computed. ``Scales(price_decimals, size_decimals, money_decimals)``.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from perpspec.margin.accounting import DEFAULT_ACCOUNTING, BitmexSatoshiAccounting, ExactAccounting
from perpspec.margin.flat import FlatMargin
from perpspec.numeric import Rounding
from perpspec.position import (
    Position,
    accounting_of,
    apply_fill,
    entry_price,
    entry_value_at,
    margin_notional,
    notional,
    signed_notional,
    unrealized_pnl,
)
from perpspec.profile import ContractKind, MarketSpec, Scales
from perpspec.profiles import load_profile
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
    with pytest.raises(ValueError, match=r"^a flat position has no entry price$"):
        entry_price(Position(), LIN, UNIT)
    assert entry_price(Position(4, 410), LIN, UNIT) == Fraction(205, 2)


@pytest.mark.rule("PNL-NOT-01", "PNL-NOT-02")
def test_margin_notional_uses_the_liability_rounding() -> None:
    """3 * 0.33 = 0.99 quote, money 1 dp: ceil 1.0 (10 units) by default (PNL-NOT-01); an
    accounting with floor liability rounding (Drift) gives 0.9 (PNL-NOT-02); notional() is
    always ceil."""
    sc = Scales(price_decimals=2, size_decimals=0, money_decimals=1)
    floor_acc = ExactAccounting(liability_rounding=Rounding.FLOOR)
    assert margin_notional(3, 33, LIN, sc) == 10
    assert margin_notional(3, 33, LIN, sc, floor_acc) == 9
    assert notional(3, 33, LIN, sc, floor_acc) == 10


@pytest.mark.rule("PNL-LIN-01", "PNL-LIN-02")
def test_upnl_floor_or_trunc_by_accounting() -> None:
    """Short 3 @ 0.33 (E = -99 in 1e-2 quote) at mark 0.34, money 1 dp. Floor (PNL-LIN-01):
    (-102 + 99) / 10 = -0.3 -> -1 (i.e. -0.1). Trunc (PNL-LIN-02): E_w = floor(-99/10) = -10,
    E_r = 1, trunc((-102 - 1) / 10) = -10, minus E_w -> 0."""
    sc = Scales(price_decimals=2, size_decimals=0, money_decimals=1)
    pos = Position(-3, -99)
    assert unrealized_pnl(pos, 34, LIN, sc) == -1
    assert unrealized_pnl(pos, 34, LIN, sc, ExactAccounting(upnl_rounding=Rounding.TRUNC)) == 0


def test_entry_value_and_accounting_of() -> None:
    with pytest.raises(ValueError, match=r"^a fill price must be positive$"):
        entry_value_at(1, 0, LIN, UNIT)
    assert entry_value_at(2, 150, LIN, UNIT) == 300
    assert entry_value_at(-2, 150, LIN, UNIT) == -300
    assert accounting_of(None) is DEFAULT_ACCOUNTING
    assert isinstance(accounting_of(load_profile("bitmex-xbtusd")), BitmexSatoshiAccounting)
