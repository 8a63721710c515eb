"""Edges of the liquidation pass found by an adversarial review, each a hand-checked reproducer.

- a liquidation's own trade that moves the valuation price re-checks the market's holders in the
  same event (LIQ-PAS-01: a cascade);
- the counterparty must be a system account (LIQ-CPY-01), a system account is never liquidated
  by a log event (LIQ-LOG-01), and a profile-set execution cannot be ``price`` (LIQ-EXE-01);
- Hyperliquid's cooldown outlives a partial that restored margin (LIQ-HL-12).
"""

from __future__ import annotations

import pytest
from perpspec.engine import step
from perpspec.errors import InputError
from perpspec.events import (
    BookSnapshot,
    Deposit,
    Fill,
    Liquidation,
    LiquidationOut,
    MarkPrice,
    ParamChange,
    Reject,
    SetLeverage,
)
from perpspec.profiles import load_profile
from perpspec.state import initial_exchange

from tests.liquidation.helpers import run

U = 10**8


@pytest.mark.rule("LIQ-PAS-01", "LIQ-EXE-01")
def test_a_liquidation_that_moves_the_price_liquidates_the_next_holder_in_the_same_event() -> None:
    # deribit, no mark: the valuation price is the last trade. a (200 USDC) and c (250 USDC) are
    # long 0.3 BTC at 30,000; the only bid is 29,350. A trade at 29,630 makes a liquidatable
    # (C = 200 - 111 = 89 <= R) but not c; a is sold into the 29,350 bid, which makes 29,350 the
    # valuation price: c's C = 250 - 0.3 x 650 = 55 < its requirement, liquidated at once.
    prof = load_profile("deribit")
    sym = "BTC_USDC-PERPETUAL"
    p, q = (lambda x: x * 100), (lambda x: int(x * 10**4))
    ex, outs = run(
        initial_exchange(prof),
        Deposit(0, "a", 200 * U),
        Deposit(0, "c", 250 * U),
        Deposit(0, "b", 10**6 * U),
        Deposit(0, "d", 10**6 * U),
        SetLeverage(0, "a", sym, 50),
        SetLeverage(0, "c", sym, 50),
        Fill(1, sym, q(0.3), p(30000), "a", "b", "buyer"),
        Fill(1, sym, q(0.3), p(30000), "c", "b", "buyer"),
        BookSnapshot(2, sym, ((p(29350), q(10)),), ((p(30100), q(10)),)),
        Fill(3, sym, q(0.001), p(29630), "d", "b", "buyer"),
    )
    liq = [(o.account, o.price) for o in outs if isinstance(o, LiquidationOut)]
    assert {a for a, _ in liq} == {"a", "c"}
    assert all(price == p(29350) for _, price in liq)
    assert ex.accounts["c"].positions[(sym, "BOTH")].size == 0


@pytest.mark.rule("LIQ-CPY-01", "LIQ-EXE-01")
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("liquidation_procedure.counterparty", "a"),
        ("liquidation_procedure.counterparty", ""),
        ("liquidation_procedure.execution", "price"),
    ],
)
def test_a_counterparty_that_is_not_a_system_account_or_a_priceless_execution_is_refused(
    path: str, value: str
) -> None:
    ex = initial_exchange(load_profile("binance-usdm"))
    ex2, outs = step(ex, ParamChange(0, path, value))
    assert ex2 is ex and [o.rule_id for o in outs if isinstance(o, Reject)] == ["ENG-PAR-01"]


@pytest.mark.rule("LIQ-CPY-01")
def test_a_profile_with_a_user_counterparty_does_not_load() -> None:
    from tests.liquidation.helpers import profile_with

    with pytest.raises(InputError, match="system account"):
        profile_with("binance-usdm", '[liquidation_procedure]\nmodel = "full-close"\ncounterparty = "bob"\n')


@pytest.mark.rule("LIQ-LOG-01", "LIQ-CPY-01")
def test_a_log_cannot_liquidate_a_system_account() -> None:
    from tests.liquidation.helpers import profile_with

    prof = profile_with("binance-usdm", '[liquidation_procedure]\nmodel = "full-close"\nsource = "log"\n')
    ex, _ = run(
        initial_exchange(prof),
        Deposit(0, "a", 1000 * U),
        Deposit(0, "b", 10**6 * U),
        MarkPrice(1, "BTCUSDT", 2_000_000),
        Fill(2, "BTCUSDT", 1000, 2_000_000, "a", "b", "seller"),
        MarkPrice(3, "BTCUSDT", 1_905_000),
        Liquidation(4, "a", "BTCUSDT", 1000, 1_905_000),
    )
    assert ex.accounts["@liquidator"].positions[("BTCUSDT", "BOTH")].size == 1000
    ex2, outs = step(ex, Liquidation(5, "@liquidator", "BTCUSDT", 1000, 1_905_000, "BOTH", "@other"))
    assert ex2 is ex and [o.rule_id for o in outs] == ["LIQ-LOG-01"]


@pytest.mark.rule("LIQ-HL-12")
def test_the_hyperliquid_cooldown_outlives_a_partial_that_restored_margin() -> None:
    # HL-LQ-01's account (long 2 BTC at 100,000, 5,000 USDC, 40x: MMR 1/80): at mark 98,700 the
    # first order sells 0.4 BTC and margin is restored; 19 s later (inside the 30 s cooldown) the
    # next liquidation takes the whole remaining 1.6 BTC, not 20% of it.
    prof = load_profile("hyperliquid")
    sym = sorted(prof.markets)[0]
    spec = prof.markets[sym]
    sd, pd, md = prof.scales.size_decimals, prof.scales.price_decimals, prof.scales.money_decimals
    one = 10**pd
    ex, _ = run(
        initial_exchange(prof),
        Deposit(0, "a", 5000 * 10**md),
        Deposit(0, "b", 10**9 * 10**md),
        SetLeverage(0, "a", sym, 40),
        MarkPrice(0, sym, 100_000 * one),
        Fill(0, sym, 2 * 10**sd, 100_000 * one, "a", "b", "seller", buyer_fee_rate=0, seller_fee_rate=0),
    )
    assert spec.lot <= 10**sd
    ex, outs = run(ex, MarkPrice(1000, sym, 98_700 * one))
    assert [o.qty for o in outs if isinstance(o, LiquidationOut)] == [-(4 * 10**sd) // 10]
    assert "a" in ex.liquidations  # kept through the cooldown although margin is restored
    ex, outs = run(ex, MarkPrice(20_000, sym, 98_400 * one))
    assert [o.qty for o in outs if isinstance(o, LiquidationOut)] == [-(16 * 10**sd) // 10]
