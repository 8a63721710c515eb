"""The liquidation pass, slices and their settlement, on hand-computed accounts.

Profile: binance-usdm (price 2, size 3, money 8 decimals; taker 0.05%, maker 0.02%, fees ceil;
BTCUSDT first bracket MMR 0.40%, trigger equity <= MM) with a ``full-close`` procedure.

The account: 1,000 USDT, long 1 BTC bought at 20,000 as taker (fee 10): collateral 990. At mark
19,100 equity is 90 > MM 76.40 (not liquidatable); at 19,050 equity is 40 <= MM 76.20.
"""

from __future__ import annotations

import pytest
from perpspec.engine import step
from perpspec.engine.liquidation import triggered, unit_view
from perpspec.events import (
    BookSnapshot,
    Deposit,
    Fill,
    InsuranceOut,
    Liquidation,
    LiquidationOut,
    MarkPrice,
    Reject,
    UncoveredLossOut,
)
from perpspec.liquidation.trigger import BufferTrigger, CloseFeeTrigger, MaintenanceTrigger
from perpspec.state import Exchange, initial_exchange, invariant_violations
from perpspec.units import parse_units

from tests.liquidation.helpers import funded, profile_with
from tests.liquidation.helpers import run as run_checked

FULL = '[liquidation_procedure]\nmodel = "full-close"\n'


def usdt(x: str) -> int:
    return parse_units(x, 8)


def px(x: str) -> int:
    return parse_units(x, 2)


def btc(x: str) -> int:
    return parse_units(x, 3)


def run(ex: Exchange, *events: object) -> tuple[Exchange, list[object]]:
    return run_checked(ex, *events, rejects_ok=True)  # some events here are rejected on purpose


def opened(extra: str = FULL) -> Exchange:
    # the bundled procedure (binance-ioc) is replaced by the one under test
    profile = profile_with("binance-usdm", extra, drop=("liquidation_procedure.toml",))
    ex = initial_exchange(profile)
    for ev in (
        Deposit(0, "a", usdt("1000")),
        Deposit(0, "b", usdt("100000")),
        MarkPrice(1, "BTCUSDT", px("20000")),
        Fill(2, "BTCUSDT", btc("1"), px("20000"), "a", "b", "seller"),
    ):
        ex, outs = step(ex, ev)
        assert not any(isinstance(o, Reject) for o in outs), outs
    assert ex.accounts["a"].collateral == usdt("990")
    return ex


@pytest.mark.rule(
    "LIQ-TRG-01", "LIQ-PAS-01", "LIQ-PRC-01", "LIQ-SET-02", "LIQ-CPY-01", "LIQ-OUT-01", "INS-OUT-01"
)
def test_full_close_at_the_mark_gives_what_is_left_to_the_fund() -> None:
    ex, outs = run(opened(), MarkPrice(3, "BTCUSDT", px("19100")))
    assert not [o for o in outs if isinstance(o, LiquidationOut)]
    ex, outs = run(ex, MarkPrice(4, "BTCUSDT", px("19050")))
    liq = [o for o in outs if isinstance(o, LiquidationOut)]
    assert liq == [
        LiquidationOut(
            4,
            "a",
            "BTCUSDT",
            "BOTH",
            -btc("1"),
            px("19050"),
            "@liquidator",
            0,
            -usdt("950"),
            0,
            0,
            usdt("40"),
            0,
            "LIQ-PRC-01",
        )
    ]
    assert [o for o in outs if isinstance(o, InsuranceOut)] == [
        InsuranceOut(4, "*", usdt("40"), usdt("40"), "liquidation", "a")
    ]
    assert ex.accounts["a"].collateral == 0
    assert ex.accounts["@liquidator"].positions[("BTCUSDT", "BOTH")].size == btc("1")
    assert ex.insurance.balances == {"*": usdt("40")}
    assert ex.liquidations == {}  # closed: no status left


@pytest.mark.rule("LIQ-UNC-01", "INS-PAY-01", "INV-09")
def test_a_gap_below_bankruptcy_is_paid_by_the_fund_and_the_rest_is_uncovered() -> None:
    # mark 18,900: equity 990 - 1,100 = -110; the fund holds 50
    ex = funded(opened(), "*", usdt("50"))
    ex, outs = run(ex, MarkPrice(4, "BTCUSDT", px("18900")))
    liq = [o for o in outs if isinstance(o, LiquidationOut)]
    assert [(o.insurance_delta, o.deficit) for o in liq] == [(-usdt("50"), usdt("60"))]
    # the slice drew what the fund held; the closed unit's deficit left is the uncovered loss
    assert [o for o in outs if isinstance(o, UncoveredLossOut)] == [
        UncoveredLossOut(4, "a", None, None, usdt("60"), False, "LIQ-UNC-01")
    ]
    assert ex.accounts["a"].collateral == -usdt("60")
    assert ex.bad_debt == {"a": usdt("60")}
    assert ex.insurance.balances == {"*": 0}


@pytest.mark.rule("LIQ-UNC-01")
def test_with_an_empty_fund_the_whole_deficit_is_uncovered() -> None:
    ex, outs = run(opened(), MarkPrice(4, "BTCUSDT", px("18900")))
    unc = [o for o in outs if isinstance(o, UncoveredLossOut)]
    assert unc == [UncoveredLossOut(4, "a", None, None, usdt("110"), False, "LIQ-UNC-01")]
    assert ex.bad_debt == {"a": usdt("110")}
    assert ex.accounts["a"].collateral == -usdt("110")
    assert ex.insurance.balances.get("*", 0) == 0


@pytest.mark.rule("LIQ-EXE-01", "LIQ-SET-02")
def test_book_execution_walks_the_levels_and_the_rest_is_taken_over_at_the_mark() -> None:
    ex = opened(FULL + 'execution = "book"\n')
    book = ((px("19060"), btc("0.5")), (px("19040"), btc("0.3"))), ((px("19070"), btc("2")),)
    ex, _ = run(ex, BookSnapshot(3, "BTCUSDT", book[0], book[1]))
    ex, outs = run(ex, MarkPrice(4, "BTCUSDT", px("19050")))
    liq = [o for o in outs if isinstance(o, LiquidationOut)]
    # executed -948 against -950 of uPnL at the mark: +2 better than the mark, +40 of equity left
    assert [(o.qty, o.price, o.insurance_delta) for o in liq] == [
        (-btc("0.5"), px("19060"), 0),
        (-btc("0.3"), px("19040"), 0),
        (-btc("0.2"), px("19050"), usdt("42")),
    ]
    assert ex.accounts["a"].collateral == 0
    assert ex.markets["BTCUSDT"].book == ((), ((px("19070"), btc("2")),))


@pytest.mark.rule("LIQ-SET-02")
def test_a_surplus_cap_leaves_the_rest_to_the_account() -> None:
    # cap 0.1% of the executed notional 19,050 = 19.05; the account keeps 40 - 19.05
    ex, outs = run(opened(FULL + 'surplus_cap = "0.1%"\n'), MarkPrice(4, "BTCUSDT", px("19050")))
    liq = [o for o in outs if isinstance(o, LiquidationOut)]
    assert [o.insurance_delta for o in liq] == [usdt("19.05")]
    assert ex.accounts["a"].collateral == usdt("20.95")


@pytest.mark.rule("LIQ-LOG-01", "LIQ-SRC-01")
def test_a_log_liquidation_is_checked_and_settled_by_the_same_rules() -> None:
    ex = opened(FULL + 'source = "log"\n')
    ex, outs = run(ex, MarkPrice(3, "BTCUSDT", px("19050")))
    assert not [o for o in outs if isinstance(o, LiquidationOut)]  # the model waits for the log
    ex, outs = run(ex, Liquidation(4, "a", "BTCUSDT", btc("2"), px("19040")))
    assert [o.rule_id for o in outs] == ["LIQ-LOG-01"]  # more than the position
    ex2, outs = run(ex, Liquidation(4, "a", "BTCUSDT", btc("1"), px("19040")))
    liq = [o for o in outs if isinstance(o, LiquidationOut)]
    # 10 worse than the mark: the fund gets 40 - 10
    assert [(o.qty, o.price, o.insurance_delta) for o in liq] == [(-btc("1"), px("19040"), usdt("30"))]
    assert ex2.accounts["a"].collateral == 0
    ex3, outs = run(
        ex, MarkPrice(5, "BTCUSDT", px("19100")), Liquidation(6, "a", "BTCUSDT", btc("1"), px("19100"))
    )
    assert [o.rule_id for o in outs if isinstance(o, Reject)] == ["LIQ-LOG-01"]  # not liquidatable
    assert ex3.accounts["a"].positions[("BTCUSDT", "BOTH")].size == btc("1")


@pytest.mark.rule("INS-REF-01", "LIQ-UNC-01", "LIQ-UNT-01")
def test_a_fund_that_refuses_a_shortfall_leaves_the_position_open() -> None:
    ex = opened(FULL + '[insurance]\nmodel = "pooled"\nrefuse_shortfall = true\n')
    ex, outs = run(ex, MarkPrice(4, "BTCUSDT", px("18900")))
    assert [o for o in outs if isinstance(o, LiquidationOut)] == []
    assert [o for o in outs if isinstance(o, UncoveredLossOut)] == [
        UncoveredLossOut(4, "a", None, None, usdt("110"), True, "INS-REF-01")
    ]
    assert ex.accounts["a"].positions[("BTCUSDT", "BOTH")].size == btc("1")
    assert "a" in ex.liquidations  # still liquidatable, seen by the pass
    unit = unit_view(ex, ex.accounts["a"], None, ex.marks())
    assert triggered(ex, unit)


@pytest.mark.rule("LIQ-TRG-01", "LIQ-TRG-02", "LIQ-TRG-03")
def test_trigger_requirements() -> None:
    assert MaintenanceTrigger().requirement(7_620, 1_905_000, 953, False) == 7_620
    assert CloseFeeTrigger().requirement(7_620, 1_905_000, 953, True) == 7_620 + 953
    buf = BufferTrigger(buffer=2_000_000)  # 2%
    assert buf.requirement(500, 10_001, 0, False) == 500
    assert buf.requirement(500, 10_001, 0, True) == 500 + 201  # ceil(200.02)


@pytest.mark.rule("INS-SCP-01", "INS-PAY-01")
def test_insurance_policy_scope_and_payout() -> None:
    from perpspec.liquidation.insurance import PooledFund, Scope

    shared, per = PooledFund(), PooledFund(scope=Scope.PER_MARKET, reserve=1, cap=30)
    assert shared.fund_of("BTCUSDT") == "*" and per.fund_of("BTCUSDT") == "BTCUSDT"
    assert shared.payout(50, 110) == 50 and shared.payout(-5, 10) == 0
    assert per.payout(50, 110) == 30 and per.payout(20, 110) == 19 and per.payout(1, 5) == 0


@pytest.mark.rule("LIQ-SET-01", "LIQ-EXE-01")
def test_a_partial_slice_pays_its_fees_to_the_fund_and_the_counterparty() -> None:
    from perpspec.engine.slices import execute_slice
    from perpspec.liquidation.procedure import Settle, Slice

    ex, _ = run(opened(FULL + 'source = "log"\n'), MarkPrice(4, "BTCUSDT", px("19050")))
    proc = ex.profile.liquidation_procedure_model
    assert proc is not None
    sl = Slice(
        key=("BTCUSDT", "BOTH"),
        qty=btc("0.4"),
        rule_id="LIQ-SET-01",
        settle=Settle.FEES,
        fee_rate=1_000_000,  # 1%
        counterparty_fee_rate=500_000,  # 0.5%
    )
    ex2, outs, ok = execute_slice(ex, proc, "a", None, sl)
    assert ok and invariant_violations(ex2) == []
    # 0.4 BTC at 19,050: notional 7,620; realized 0.4 x (19,050 - 20,000) = -380
    (liq,) = [o for o in outs if isinstance(o, LiquidationOut)]
    assert (liq.qty, liq.realized_pnl, liq.fee, liq.counterparty_fee, liq.insurance_delta) == (
        -btc("0.4"),
        -usdt("380"),
        usdt("76.2"),
        usdt("38.1"),
        usdt("76.2"),
    )
    assert ex2.accounts["a"].collateral == usdt("990") - usdt("380") - usdt("76.2") - usdt("38.1")
    assert ex2.accounts["@liquidator"].collateral == usdt("38.1")
    assert ex2.insurance.balances == {"*": usdt("76.2")}
