"""drift-v2 at account level: the roundings of a position's value (PNL-LIN-02, PNL-NOT-02) and the
two collateral figures (ACC-COL-01). Expected values are Drift's own: the Drift peer
(tests/peers/drift) returns them for the same accounts from the program
(``math_calculate_margin_requirement_and_total_collateral_and_liability_info``)."""

from __future__ import annotations

import pytest
from perpspec.account import (
    Account,
    available_for_withdrawal,
    collateral,
    equity,
    equity_and_initial,
    liquidatable,
    requirement,
)
from perpspec.position import Position, accounting_of, margin_notional, notional, unrealized_pnl
from perpspec.profiles import load_profile

DRIFT = load_profile("drift-v2")
SYM = "SOL-PERP"
BASE = 10**9  # 1 SOL in size units (1e-9)
USD = 10**6  # money units (1e-6 USDC)


def _pos(base: int, quote: int) -> Position:
    """A position as Drift stores it: ``base_asset_amount`` and ``quote_asset_amount``."""
    return Position(size=base, entry_value=-quote * 10**9)


def _account(collateral_: int, base: int, quote: int) -> Account:
    return Account("a", collateral_, {(SYM, "BOTH"): _pos(base, quote)})


@pytest.mark.rule("PNL-LIN-02")
def test_short_upnl_truncates_toward_zero() -> None:
    """Drift: ``trunc(base * price / 1e9) + quote``. Short 1 SOL with quote +200 at 123.456789:
    76.543211 (the value -123.456789 is exact); short 1e-9 SOL with quote 0: trunc(-0.123...)
    = 0 micro-USDC where PNL-LIN-01's floor gives -1; short 3e-9 SOL: 0 (floor: -1); a long
    of 1e-9 SOL: 0 either way."""
    market, sc, acc = DRIFT.market(SYM), DRIFT.scales, accounting_of(DRIFT)
    price = 123_456_789
    assert unrealized_pnl(_pos(-BASE, 200 * USD), price, market, sc, acc) == 76_543_211
    assert unrealized_pnl(_pos(-1, 0), price, market, sc, acc) == 0
    assert unrealized_pnl(_pos(-3, 0), price, market, sc, acc) == 0
    assert unrealized_pnl(_pos(1, 0), price, market, sc, acc) == 0
    # a short whose value at mark is not whole: -1.000000001 SOL with quote +150 at 123.456789
    # -> trunc(-123.456789123...) + 150 = 26.543211 (floor would give 26.543210)
    assert unrealized_pnl(_pos(-(BASE + 1), 150 * USD), price, market, sc, acc) == 26_543_211
    # the default accounting (PNL-LIN-01) floors the same position
    assert unrealized_pnl(_pos(-(BASE + 1), 150 * USD), price, market, sc) == 26_543_210


@pytest.mark.rule("PNL-LIN-02")
def test_trunc_with_sub_unit_entry_value() -> None:
    """An exact-fill entry value that is not whole micro-USDC keeps its sub-unit part with the
    value at mark before truncation: E = -0.5e-6 quote (E_w = -1, E_r = 0.5e-6 in 1e-15 units),
    size -1 at mark 1.000000 -> trunc((-1e6 - 5e8)/1e9) - (-1) = 0 + 1 = 1."""
    market, sc, acc = DRIFT.market(SYM), DRIFT.scales, accounting_of(DRIFT)
    pos = Position(size=-1, entry_value=-500_000_000)
    assert unrealized_pnl(pos, 1_000_000, market, sc, acc) == 1
    # floor of the whole: floor((-1e6 + 5e8) / 1e9) = 0
    assert unrealized_pnl(pos, 1_000_000, market, sc) == 0


@pytest.mark.rule("PNL-NOT-02", "MRG-DRF-03")
def test_margin_requirement_uses_floored_liability() -> None:
    """1.000000001 SOL at 123.456789: liability floor(123,456,789.12...) = 123.456789 (the
    PNL-NOT-01 notional is 123.456790); IM at ratio 1000 = 12.345678, MM at 500 = 6.172839."""
    market, sc, acc = DRIFT.market(SYM), DRIFT.scales, accounting_of(DRIFT)
    price = 123_456_789
    assert margin_notional(BASE + 1, price, market, sc, acc) == 123_456_789
    assert notional(BASE + 1, price, market, sc, acc) == 123_456_790
    acct = _account(1000 * USD, BASE + 1, -100 * USD)
    req = requirement(acct, {SYM: price}, DRIFT)
    assert (req.initial, req.maintenance) == (12_345_678, 6_172_839)


@pytest.mark.rule("ACC-COL-01", "MRG-DRF-05")
def test_initial_collateral_caps_positive_upnl() -> None:
    """$1,000 deposit, long 1 SOL with quote -10 at 123.456789: uPnL 113.456789. The program
    gives total collateral 1,100 (Initial: $100 cap) and 1,113.456789 (Maintenance)."""
    marks = {SYM: 123_456_789}
    acct = _account(1000 * USD, BASE, -10 * USD)
    assert equity(acct, marks, DRIFT) == 1_113_456_789
    assert collateral(acct, marks, DRIFT, initial=False) == 1_113_456_789
    assert collateral(acct, marks, DRIFT, initial=True) == 1_100_000_000
    eq, im = equity_and_initial(acct, marks, DRIFT)
    assert (eq, im) == (1_100_000_000, 12_345_678)
    # free collateral (Drift: initial TC - initial MR)
    assert available_for_withdrawal(acct, marks, DRIFT) == 1_100_000_000 - 12_345_678


@pytest.mark.rule("ACC-COL-01", "ACC-LIQ-01")
def test_initial_check_fails_where_equity_passes() -> None:
    """No deposit, long 1,000 SOL entered at 1.00 (quote -1,000) at 1.15: uPnL 150, IM 115.
    Equity 150 would pass an initial check; the initial collateral is the capped 100 and fails
    it (Drift rejects a risk-increasing fill there). MM 57.5 is met by the maintenance
    collateral 150, so the account is not liquidatable."""
    marks = {SYM: 1_150_000}
    acct = _account(0, 1000 * BASE, -1000 * USD)
    im = requirement(acct, marks, DRIFT).initial
    assert im == 115 * USD
    assert equity(acct, marks, DRIFT) == 150 * USD >= im
    c_i, im2 = equity_and_initial(acct, marks, DRIFT)
    assert (c_i, im2) == (100 * USD, im) and c_i < im
    assert not liquidatable(acct, marks, DRIFT)


@pytest.mark.rule("ACC-COL-01")
def test_unweighted_profiles_have_one_figure() -> None:
    """A margin model without a uPnL weighting: both collateral figures equal equity."""
    prof = load_profile("binance-usdm")
    sym = sorted(prof.markets)[0]
    sc = prof.scales
    acct = Account("b", 10**sc.money_decimals * 1000, {(sym, "BOTH"): Position(10**sc.size_decimals, 0)})
    marks = {sym: 500 * 10**sc.price_decimals}
    eq = equity(acct, marks, prof)
    assert eq > 100 * 10**sc.money_decimals
    assert collateral(acct, marks, prof, initial=True) == eq == collateral(acct, marks, prof, initial=False)
