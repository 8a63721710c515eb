"""INV-03 after an isolated margin transfer (issue 8 item 4).

Removing margin from an isolated position credits the cross collateral; when that collateral
is negative (an account in bad debt), its bad-debt record must follow: the record was left at
the old deficit (collateral -51.75, record 151.75).
"""

from __future__ import annotations

import pytest
from perpspec.engine import step
from perpspec.events import (
    BadDebtOut,
    Deposit,
    Fill,
    FundingSettlement,
    IsolatedMarginTransfer,
    MarkPrice,
    SetLeverage,
    SetMarginMode,
)
from perpspec.profiles import load_profile
from perpspec.state import Exchange, initial_exchange, invariant_violations


def _in_bad_debt() -> tuple[Exchange, int, int]:
    """binance-usdm: ``a`` holds an isolated BTC long with 250 USDT of margin and a cross ETH
    long whose funding (a replayed rate of 30%) drove its collateral to -151.75."""
    p = load_profile("binance-usdm")
    u, s, px = 10**p.scales.money_decimals, 10**p.scales.size_decimals, 10**p.scales.price_decimals
    ex = initial_exchange(p)
    for ev in [
        Deposit(0, "a", 1000 * u),
        Deposit(0, "b", 100_000 * u),
        MarkPrice(1, "BTCUSDT", 50_000 * px),
        MarkPrice(1, "ETHUSDT", 3_000 * px),
        SetMarginMode(2, "a", "BTCUSDT", "isolated"),
        SetLeverage(2, "a", "BTCUSDT", 10),
        SetLeverage(2, "a", "ETHUSDT", 20),
        Fill(3, "BTCUSDT", s // 100, 50_000 * px, "a", "b", "seller"),
        IsolatedMarginTransfer(4, "a", "BTCUSDT", 200 * u),
        Fill(5, "ETHUSDT", s, 3_000 * px, "a", "b", "seller"),
        FundingSettlement(6, "ETHUSDT", 30_000_000),  # 30% in 10^-8
    ]:
        ex, _ = step(ex, ev)
    return ex, u, 7


@pytest.mark.rule("INV-03", "ENG-ISO-02")
def test_removing_isolated_margin_updates_the_bad_debt_record() -> None:
    ex, u, t = _in_bad_debt()
    assert ex.accounts["a"].collateral == -15_175 * u // 100
    assert ex.bad_debt["a"] == 15_175 * u // 100
    ex, outs = step(ex, IsolatedMarginTransfer(t, "a", "BTCUSDT", -100 * u))
    assert ex.accounts["a"].collateral == -5_175 * u // 100
    assert ex.bad_debt["a"] == 5_175 * u // 100
    assert BadDebtOut(t, "a", 5_175 * u // 100) in outs
    assert invariant_violations(ex, rounding_allowance=4) == []


@pytest.mark.rule("INV-03", "ENG-ISO-02")
def test_removing_enough_margin_clears_the_record() -> None:
    ex, u, t = _in_bad_debt()
    ex, outs = step(ex, IsolatedMarginTransfer(t, "a", "BTCUSDT", -160 * u))
    assert ex.accounts["a"].collateral == 825 * u // 100
    assert "a" not in ex.bad_debt
    assert not [o for o in outs if isinstance(o, BadDebtOut)]
    assert invariant_violations(ex, rounding_allowance=4) == []
