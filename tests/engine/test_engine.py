"""The step function: accept/reject per event kind, hand-computed balances, invariants.

Linear cases run on binance-usdm (price 2, size 3, money 8 decimals; fees maker 0.02%,
taker 0.05%, ceil); inverse cases on bitmex-xbtusd (price 1, size 0 contracts, money 8 =
satoshi; XBTUSD contract value 1 USD; fees maker -0.025%, taker 0.075%; BitMEX satoshi
accounting: each contract costs round(1e8 / price) satoshi).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from perpspec.engine import step
from perpspec.events import (
    BadDebtOut,
    BookSnapshot,
    ClockTick,
    Deposit,
    FeeOut,
    Fill,
    FillOut,
    FundingPayment,
    FundingRateOut,
    FundingSample,
    FundingSettlement,
    IndexPrice,
    IsolatedMarginTransfer,
    MarkPrice,
    OraclePrice,
    ParamChange,
    Reject,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
    Withdraw,
)
from perpspec.oracle.digest import digest
from perpspec.profiles import load_profile
from perpspec.profiles.edit import change_param
from perpspec.state import Exchange, initial_exchange, invariant_violations
from perpspec.units import parse_units

from tests.liquidation.helpers import model_does_not_liquidate

# the rules of this file run before any liquidation: the model liquidates nothing here (LIQ-SRC-01)
BIN = model_does_not_liquidate(load_profile("binance-usdm"))
BMX = model_does_not_liquidate(load_profile("bitmex-xbtusd"))


def usdt(x: str) -> int:
    return parse_units(x, 8)


def px(x: str, profile: Any = BIN) -> int:
    return parse_units(x, profile.scales.price_decimals)


def sz(x: str, profile: Any = BIN) -> int:
    return parse_units(x, profile.scales.size_decimals)


def run_ok(ex: Exchange, *events: Any) -> tuple[Exchange, list[Any]]:
    outs: list[Any] = []
    for ev in events:
        ex, o = step(ex, ev)
        assert not any(isinstance(x, Reject) for x in o), o
        assert invariant_violations(ex) == []
        outs.extend(o)
    return ex, outs


def rejected(ex: Exchange, ev: Any, rule: str) -> Reject:
    before = digest(ex)
    ex2, outs = step(ex, ev)
    assert ex2 is ex
    assert digest(ex2) == before
    assert len(outs) == 1 and isinstance(outs[0], Reject), outs
    assert outs[0].rule_id == rule, outs[0]
    return outs[0]


def funded(profile: Any = BIN, amount: int | None = None) -> Exchange:
    amount = usdt("20000") if amount is None else amount
    ex, _ = run_ok(
        initial_exchange(profile), Deposit(0, "a", amount), Deposit(0, "b", amount), Deposit(0, "c", amount)
    )
    return ex


def trade(t: int, qty: int, price: int, buyer: str, seller: str, maker: str = "seller", **kw: Any) -> Fill:
    return Fill(
        t=t,
        symbol=kw.pop("symbol", "BTCUSDT"),
        qty=qty,
        price=price,
        buyer=buyer,
        seller=seller,
        maker=maker,
        **kw,
    )


# --------------------------------------------------------------------------- deposit / withdraw


@pytest.mark.rule("INV-01", "ENG-AMT-01", "EVT-OUT-01")
def test_deposit_creates_account_and_credits() -> None:
    ex, outs = run_ok(initial_exchange(BIN), Deposit(5, "a", usdt("100.5")), Deposit(6, "a", usdt("0.5")))
    assert ex.accounts["a"].collateral == usdt("101")
    assert ex.net_deposits == usdt("101")
    assert ex.t == 6
    assert [o.balance for o in outs] == [usdt("100.5"), usdt("101")]
    rejected(ex, Deposit(7, "a", 0), "ENG-AMT-01")


@pytest.mark.rule("ENG-WDR-01", "ENG-UNK-01", "INV-05")
def test_withdraw_limits() -> None:
    ex = funded()
    rejected(ex, Withdraw(1, "zed", 1), "ENG-UNK-01")
    rejected(ex, Withdraw(1, "a", usdt("20000.00000001")), "ENG-WDR-01")
    ex2, _ = run_ok(ex, Withdraw(1, "a", usdt("20000")))
    assert ex2.accounts["a"].collateral == 0 and ex2.net_deposits == usdt("40000")
    # with a position: a long 1 BTC @ 50000 at leverage 10 -> IM 5000; fee 25 paid
    ex3, _ = run_ok(ex, SetLeverage(1, "a", "BTCUSDT", 10), trade(2, sz("1"), px("50000"), "a", "b"))
    assert ex3.accounts["a"].collateral == usdt("19975")
    # withdrawable = min(collateral, equity - IM) = 19975 - 5000 = 14975
    rejected(ex3, Withdraw(3, "a", usdt("14975.00000001")), "ENG-WDR-01")
    run_ok(ex3, Withdraw(3, "a", usdt("14975")))
    # unrealized profit is not withdrawable: mark up to 60000, uPnL +10000
    ex4, _ = run_ok(ex3, MarkPrice(3, "BTCUSDT", px("60000")))
    rejected(ex4, Withdraw(4, "a", usdt("19975.00000001")), "ENG-WDR-01")
    run_ok(ex4, Withdraw(4, "a", usdt("19975")))


# --------------------------------------------------------------------------- fills, linear


@pytest.mark.rule("ENG-FILL-01", "FEE-MT-01", "EVT-TRD-01", "INV-01", "INV-02", "INV-04")
def test_linear_open_increase_reduce_close_with_fees() -> None:
    """Hand-computed: BTCUSDT, taker 0.05%, maker 0.02% on the fill notional."""
    ex = funded()
    ex, _ = run_ok(ex, SetLeverage(1, "a", "BTCUSDT", 10), SetLeverage(1, "b", "BTCUSDT", 10))
    # open: a buys 1 @ 50000 (taker fee 25), b sells (maker fee 10)
    ex, outs = run_ok(ex, trade(2, sz("1"), px("50000"), "a", "b"))
    fees = {o.account: o.amount for o in outs if isinstance(o, FeeOut)}
    assert fees == {"a": usdt("25"), "b": usdt("10")}
    assert ex.accounts["a"].collateral == usdt("19975")
    assert ex.accounts["b"].collateral == usdt("19990")
    m = ex.markets["BTCUSDT"]
    assert (m.oi_long, m.oi_short, m.last_price) == (sz("1"), sz("1"), px("50000"))
    # increase: a buys 1 @ 51000 (fees 25.5 / 10.2)
    ex, _ = run_ok(ex, trade(3, sz("1"), px("51000"), "a", "b"))
    assert ex.accounts["a"].collateral == usdt("19949.5")
    assert ex.accounts["b"].collateral == usdt("19979.8")
    assert ex.accounts["a"].positions[("BTCUSDT", "BOTH")].size == sz("2")
    # reduce: a sells 0.5 @ 52000 to b (b is maker): a realizes 0.5 x (52000 - 50500) = +750
    ex, outs = run_ok(ex, trade(4, sz("0.5"), px("52000"), "b", "a", maker="buyer"))
    realized = {o.account: o.realized_pnl for o in outs if isinstance(o, FillOut)}
    assert realized == {"a": usdt("750"), "b": usdt("-750")}
    assert ex.accounts["a"].collateral == usdt("20686.5")  # 19949.5 + 750 - 13
    assert ex.accounts["b"].collateral == usdt("19224.6")  # 19979.8 - 750 - 5.2
    # close: a sells 1.5 @ 49000: realizes 1.5 x (49000 - 50500) = -2250
    ex, _ = run_ok(ex, trade(5, sz("1.5"), px("49000"), "b", "a", maker="buyer"))
    assert ex.accounts["a"].collateral == usdt("18399.75")  # 20686.5 - 2250 - 36.75
    assert ex.accounts["b"].collateral == usdt("21459.9")  # 19224.6 + 2250 - 14.7
    assert ex.fee_pool == usdt("140.35")
    assert ex.markets["BTCUSDT"].realized_pnl == 0
    assert ex.markets["BTCUSDT"].oi_long == ex.markets["BTCUSDT"].oi_short == 0
    assert ex.accounts["a"].positions[("BTCUSDT", "BOTH")].size == 0
    assert usdt("18399.75") + usdt("21459.9") + usdt("20000") + usdt("140.35") == ex.net_deposits


@pytest.mark.rule("ENG-FILL-01", "FEE-MT-01", "INV-02")
def test_linear_flip() -> None:
    ex = funded()
    ex, _ = run_ok(ex, trade(1, sz("1"), px("50000"), "a", "b"))
    a0, b0 = ex.accounts["a"].collateral, ex.accounts["b"].collateral
    # a sells 2 @ 50500 to b: closes long (+500), opens short 1 @ 50500; b the reverse
    ex, _outs = run_ok(ex, trade(2, sz("2"), px("50500"), "b", "a", maker="buyer"))
    pa = ex.accounts["a"].positions[("BTCUSDT", "BOTH")]
    pb = ex.accounts["b"].positions[("BTCUSDT", "BOTH")]
    assert (pa.size, pb.size) == (-sz("1"), sz("1"))
    assert pa.entry_value == -sz("1") * px("50500")
    # notional 101000: a taker 50.5, b maker 20.2
    assert ex.accounts["a"].collateral == a0 + usdt("500") - usdt("50.5")
    assert ex.accounts["b"].collateral == b0 - usdt("500") - usdt("20.2")
    assert ex.markets["BTCUSDT"].oi_long == sz("1")


@pytest.mark.rule("ENG-FILL-01", "FEE-MT-01", "INV-01", "INV-04")
def test_inverse_open_close_with_rebate() -> None:
    """XBTUSD: 1000 contracts 10000 -> 12500: long gains 1000 x (1/10000 - 1/12500) = 0.02 XBT."""
    ex = funded(BMX, 10**8)
    ex, outs = run_ok(ex, trade(1, 1000, px("10000", BMX), "a", "b", symbol="XBTUSD"))
    fees = {o.account: (o.notional, o.amount) for o in outs if isinstance(o, FeeOut)}
    # notional 1000 x 10000 sat = 0.1 XBT; taker 0.075% = 7500 sat; maker rebate 0.025% = 2500 sat
    assert fees == {"a": (10**7, 7500), "b": (10**7, -2500)}
    assert ex.accounts["a"].collateral == 10**8 - 7500
    assert ex.accounts["b"].collateral == 10**8 + 2500
    ex, outs = run_ok(ex, trade(2, 1000, px("12500", BMX), "b", "a", maker="buyer", symbol="XBTUSD"))
    realized = {o.account: o.realized_pnl for o in outs if isinstance(o, FillOut)}
    assert realized == {"a": 2 * 10**6, "b": -2 * 10**6}
    # notional 1000 x 8000 sat; a taker fee 6000, b rebate 2000
    assert ex.accounts["a"].collateral == 101_986_500
    assert ex.accounts["b"].collateral == 98_004_500
    assert ex.fee_pool == 9000


@pytest.mark.rule("ENG-IMR-01", "INV-05")
def test_initial_margin_gate_and_risk_reducing_below_im() -> None:
    ex = funded(amount=usdt("1000"))
    ex, _ = run_ok(ex, SetLeverage(1, "a", "BTCUSDT", 10), SetLeverage(1, "b", "BTCUSDT", 10))
    # 0.2 BTC @ 50000 = 10000 notional, IM 1000 > 1000 - fee 5: rejected
    rejected(ex, trade(2, sz("0.2"), px("50000"), "a", "b"), "ENG-IMR-01")
    ex, _ = run_ok(ex, trade(2, sz("0.19"), px("50000"), "a", "b"))
    # price falls: a is below IM; increasing is rejected, reducing is accepted
    ex, _ = run_ok(ex, MarkPrice(3, "BTCUSDT", px("47000")))
    rejected(ex, trade(4, sz("0.001"), px("47000"), "a", "c"), "ENG-IMR-01")
    ex, _ = run_ok(ex, trade(4, sz("0.1"), px("47000"), "c", "a"))
    assert ex.accounts["a"].positions[("BTCUSDT", "BOTH")].size == sz("0.09")


@pytest.mark.rule("INV-03", "ENG-FILL-01", "ENG-IMR-01")
def test_loss_beyond_collateral_creates_bad_debt_record() -> None:
    ex = funded(amount=usdt("1000"))
    ex, _ = run_ok(ex, SetLeverage(1, "a", "BTCUSDT", 100), SetLeverage(1, "b", "BTCUSDT", 100))
    ex, _ = run_ok(ex, trade(2, sz("1"), px("50000"), "a", "b"))  # IM 500, taker fee 25
    # closing at 48000 would realize -2000 on 975 collateral: a close that leaves the account
    # below IM (equity < 0 = IM) with MM falling to 0 is refused (ENG-IMR-01, dYdX rule)
    rejected(ex, trade(3, sz("1"), px("48000"), "c", "a"), "ENG-IMR-01")
    # a funding payment may still take collateral below zero: an explicit bad-debt record
    coll = ex.accounts["a"].collateral
    # a pays 1 BTC x 50000 x r (money units: 50000 * r); r just above its collateral
    ex, outs = run_ok(ex, FundingSettlement(5, "BTCUSDT", coll // 50000 + 1))
    deficit = -ex.accounts["a"].collateral
    assert deficit > 0 and ex.bad_debt == {"a": deficit}
    assert BadDebtOut(5, "a", deficit) in outs
    ex, _ = run_ok(ex, Deposit(6, "a", deficit))
    assert ex.bad_debt == {}


@pytest.mark.rule("ENG-IMR-01", "INV-05")
def test_risk_reducing_fill_below_im_must_not_worsen_nc_mm_ratio() -> None:
    """Review finding: a risk-reducing fill at an off-market price moved a bankruptcy to the
    venue (a long 1 BTC @ 30,000 sells to b at 1.00 USDT). dYdX v4 ``updates.go``
    (defi-engines.md §1.2): below IM, accept only if MM does not increase and
    NC_new * MM_old >= NC_old * MM_new; a close (MM_new = 0) needs MM_old = 0 and NC up."""
    ex = funded(amount=usdt("1000"))
    ex, _ = run_ok(ex, MarkPrice(0, "BTCUSDT", px("30000")), Deposit(0, "c", usdt("100000")))
    ex, _ = run_ok(ex, trade(1, sz("1"), px("30000"), "a", "c", maker="buyer"))
    r = rejected(ex, trade(2, sz("1"), px("1"), "b", "a", maker="buyer"), "ENG-IMR-01")
    assert "MM 120" in r.reason and "-> 0" in r.reason, r.reason  # MM 0.4% x 30000
    # a partial off-market reduction that worsens NC/MM is refused too
    rejected(ex, trade(2, sz("0.5"), px("1"), "b", "a", maker="buyer"), "ENG-IMR-01")
    # above IM nothing is compared: an off-market but solvent reduction is accepted
    ex2, _ = run_ok(ex, trade(2, sz("0.1"), px("29000"), "b", "a", maker="buyer"))
    assert ex2.accounts["a"].positions[("BTCUSDT", "BOTH")].size == sz("0.9")
    # below IM at the mark 29,100: equity 1000 - 6 - 900 = 94 < IM 232.8 (125x), MM 116.4
    ex, _ = run_ok(ex, SetLeverage(2, "a", "BTCUSDT", 125), MarkPrice(2, "BTCUSDT", px("29100")))
    acct = ex.accounts["a"]
    from perpspec import account as acc_mod

    marks = ex.marks()
    assert acc_mod.equity(acct, marks, BIN) < acc_mod.requirement(acct, marks, BIN).initial
    # reducing half at the mark: NC 94 -> 86.725 (taker fee), MM 116.4 -> 58.2: accepted;
    # at 28,500 NC falls to 86.725 - 300 < 0: refused
    run_ok(ex, trade(3, sz("0.5"), px("29100"), "b", "a", maker="buyer"))
    rejected(ex, trade(3, sz("0.5"), px("28500"), "b", "a", maker="buyer"), "ENG-IMR-01")


# --------------------------------------------------------------------------- fill rejections


@pytest.mark.rule(
    "ENG-UNK-01",
    "ENG-SELF-01",
    "ENG-LOT-01",
    "ENG-TCK-01",
    "ENG-RO-01",
    "ENG-SLOT-01",
    "ENG-TIM-01",
    "ENG-AMT-01",
    "INV-05",
    "INV-08",
)
def test_fill_rejections() -> None:
    ex = funded()
    ex, _ = run_ok(ex, ClockTick(10))
    rejected(ex, trade(9, sz("1"), px("50000"), "a", "b"), "ENG-TIM-01")
    rejected(ex, trade(10, sz("1"), px("50000"), "a", "b", symbol="NOPE"), "ENG-UNK-01")
    rejected(ex, trade(10, sz("1"), px("50000"), "a", "zed"), "ENG-UNK-01")
    rejected(ex, trade(10, sz("1"), px("50000"), "a", "a"), "ENG-SELF-01")
    rejected(ex, trade(10, 0, px("50000"), "a", "b"), "ENG-AMT-01")
    rejected(ex, trade(10, 1, px("50000"), "a", "b", maker="nobody"), "ENG-AMT-01")
    rejected(ex, trade(10, 1, px("50000.05"), "a", "b"), "ENG-TCK-01")
    ex_lot = attrs.evolve(ex, profile=change_param(ex.profile, "markets.BTCUSDT.lot", "0.01"))
    rejected(ex_lot, trade(10, sz("0.015"), px("50000"), "a", "b"), "ENG-LOT-01")
    rejected(ex, trade(10, sz("1"), px("50000"), "a", "b", buyer_reduce_only=True), "ENG-RO-01")
    rejected(ex, trade(10, sz("1"), px("50000"), "a", "b", buyer_slot="LONG"), "ENG-SLOT-01")
    ex2, _ = run_ok(ex, trade(10, sz("1"), px("50000"), "a", "b"))
    # reduce-only may reduce or close but not flip
    rejected(ex2, trade(11, sz("2"), px("50000"), "c", "a", seller_reduce_only=True), "ENG-RO-01")
    run_ok(ex2, trade(11, sz("1"), px("50000"), "c", "a", seller_reduce_only=True))


@pytest.mark.rule("ENG-SLOT-01", "ENG-MOD-01", "INV-07")
def test_hedge_mode_slots() -> None:
    ex = funded()
    ex, _ = run_ok(ex, SetPositionMode(1, "a", "hedge"))
    assert ex.accounts["a"].hedge_mode
    rejected(ex, trade(2, sz("1"), px("50000"), "a", "b"), "ENG-SLOT-01")
    ex, _ = run_ok(ex, trade(2, sz("1"), px("50000"), "a", "b", buyer_slot="LONG"))
    ex, _ = run_ok(ex, trade(3, sz("1"), px("50000"), "c", "a", seller_slot="SHORT"))
    pos = ex.accounts["a"].positions
    assert (pos[("BTCUSDT", "LONG")].size, pos[("BTCUSDT", "SHORT")].size) == (sz("1"), -sz("1"))
    # buying 2 in the SHORT slot would turn it long
    rejected(ex, trade(4, sz("2"), px("50000"), "a", "c", buyer_slot="SHORT"), "ENG-SLOT-01")
    rejected(ex, SetPositionMode(4, "a", "one-way"), "ENG-MOD-01")


# --------------------------------------------------------------------------- settings


@pytest.mark.rule("ENG-LEV-01", "ENG-LEV-02")
def test_set_leverage() -> None:
    ex = funded(amount=usdt("1000"))
    rejected(ex, SetLeverage(1, "a", "BTCUSDT", 126), "ENG-LEV-01")  # first bracket: 125x
    ex, outs = run_ok(ex, SetLeverage(1, "a", "BTCUSDT", 125))
    assert outs
    ex2, outs = step(ex, SetLeverage(1, "a", "BTCUSDT", 125))  # valid no-op
    assert outs == [] and digest(ex2) == digest(ex)
    ex, _ = run_ok(ex, SetLeverage(1, "a", "BTCUSDT", 20), SetLeverage(1, "b", "BTCUSDT", 20))
    ex, _ = run_ok(ex, trade(2, sz("0.3"), px("50000"), "a", "b"))  # IM 750
    rejected(ex, SetLeverage(3, "a", "BTCUSDT", 10), "ENG-LEV-02")  # IM 1500 > equity
    run_ok(ex, SetLeverage(3, "a", "BTCUSDT", 25))


@pytest.mark.rule("ENG-MOD-01", "ENG-ISO-01", "ENG-ISO-02", "ENG-FILL-01", "INV-07")
def test_isolated_margin() -> None:
    ex = funded()
    ex, _ = run_ok(ex, SetMarginMode(1, "a", "BTCUSDT", "isolated"), SetLeverage(1, "a", "BTCUSDT", 10))
    rejected(ex, IsolatedMarginTransfer(2, "a", "BTCUSDT", usdt("10")), "ENG-ISO-01")
    ex, _ = run_ok(ex, trade(2, sz("1"), px("50000"), "a", "b"))
    pos = ex.accounts["a"].positions[("BTCUSDT", "BOTH")]
    # IM of the added size at the fill price: 50000 / 10 = 5000 moved into the position
    assert pos.isolated and pos.isolated_margin == usdt("5000")
    assert ex.accounts["a"].collateral == usdt("20000") - usdt("5000") - usdt("25")
    rejected(ex, SetMarginMode(3, "a", "BTCUSDT", "cross"), "ENG-MOD-01")
    ex, _ = run_ok(ex, IsolatedMarginTransfer(3, "a", "BTCUSDT", usdt("100")))
    rejected(ex, IsolatedMarginTransfer(4, "a", "BTCUSDT", -usdt("100.00000001")), "ENG-ISO-02")
    rejected(ex, IsolatedMarginTransfer(4, "a", "BTCUSDT", usdt("20000")), "ENG-ISO-02")
    ex, _ = run_ok(ex, IsolatedMarginTransfer(4, "a", "BTCUSDT", -usdt("100")))
    # half close releases half the isolated margin
    ex, _ = run_ok(ex, trade(5, sz("0.5"), px("50000"), "c", "a"))
    assert ex.accounts["a"].positions[("BTCUSDT", "BOTH")].isolated_margin == usdt("2500")
    ex, _ = run_ok(ex, trade(6, sz("0.5"), px("50000"), "c", "a"))
    assert ex.accounts["a"].positions[("BTCUSDT", "BOTH")].isolated_margin == 0
    run_ok(ex, SetMarginMode(7, "a", "BTCUSDT", "cross"))


# --------------------------------------------------------------------------- prices, funding


@pytest.mark.rule("ENG-UNK-01", "ENG-BOOK-01")
def test_price_and_book_events() -> None:
    ex = funded()
    ex, _ = run_ok(ex, IndexPrice(1, "BTCUSDT", px("50000")), OraclePrice(1, "BTCUSDT", px("50001")))
    ex, _outs = run_ok(ex, MarkPrice(2, "BTCUSDT", px("50002")))
    m = ex.markets["BTCUSDT"]
    assert (m.index, m.oracle, m.mark) == (px("50000"), px("50001"), px("50002"))
    rejected(ex, MarkPrice(3, "NOPE", 1), "ENG-UNK-01")
    good = BookSnapshot(3, "BTCUSDT", ((px("49999"), 5), (px("49998"), 7)), ((px("50001"), 4),))
    ex2, _ = run_ok(ex, good)
    assert ex2.markets["BTCUSDT"].book == (good.bids, good.asks)
    rejected(ex, attrs.evolve(good, bids=((px("49998"), 5), (px("49999"), 7))), "ENG-BOOK-01")
    rejected(ex, attrs.evolve(good, asks=((px("49999"), 4),)), "ENG-BOOK-01")


@pytest.mark.rule("ENG-FUND-01", "ENG-FND-01", "ENG-PRC-01", "INV-01")
def test_funding_settlement() -> None:
    ex = funded()
    rejected(ex, FundingSettlement(1, "BTCUSDT", 10_000), "ENG-PRC-01")
    rejected(ex, FundingSettlement(1, "BTCUSDT"), "ENG-FND-01")
    ex, _ = run_ok(ex, trade(1, sz("1"), px("50000"), "a", "b"), MarkPrice(2, "BTCUSDT", px("50000")))
    a0, b0 = ex.accounts["a"].collateral, ex.accounts["b"].collateral
    # 0.01%: the long pays 1 x 50000 x 0.0001 = 5 USDT to the short
    ex, outs = run_ok(ex, FundingSettlement(3, "BTCUSDT", 10_000))
    pays = {o.account: o.amount for o in outs if isinstance(o, FundingPayment)}
    assert pays == {"a": -usdt("5"), "b": usdt("5")}
    assert ex.accounts["a"].collateral == a0 - usdt("5") and ex.accounts["b"].collateral == b0 + usdt("5")
    assert ex.markets["BTCUSDT"].funding.last_rate == 10_000
    # computed from samples: zero premium -> F = I = 0.01% (FND-CLP-01)
    ex, _ = run_ok(ex, FundingSample(4, "BTCUSDT", 0), FundingSample(5, "BTCUSDT", 0))
    ex, outs = run_ok(ex, FundingSettlement(6, "BTCUSDT"))
    rate_out = next(o for o in outs if isinstance(o, FundingRateOut))
    assert rate_out.rate == 10_000 and rate_out.dust == 0
    assert ex.markets["BTCUSDT"].funding.samples == ()


@pytest.mark.rule("ENG-FUND-01", "INV-01", "INV-03")
def test_funding_dust_goes_to_named_sink() -> None:
    """3 positions, a rate that leaves fractions: dust (>= 0, ceil rounding) lands in the sink."""
    ex = funded()
    ex, _ = run_ok(
        ex,
        trade(1, sz("0.001"), px("50000"), "a", "b"),
        trade(1, sz("0.001"), px("50000"), "c", "b"),
        MarkPrice(2, "BTCUSDT", px("50000.1")),
    )
    ex, outs = run_ok(ex, FundingSettlement(3, "BTCUSDT", 3))
    rate_out = next(o for o in outs if isinstance(o, FundingRateOut))
    assert rate_out.dust >= 0
    total = sum(o.amount for o in outs if isinstance(o, FundingPayment)) + rate_out.dust
    assert total == 0
    assert ex.insurance.total() + sum(ex.dust.values()) == rate_out.dust


@pytest.mark.rule("ENG-PAR-01")
def test_param_change() -> None:
    ex = funded()
    ex, _ = run_ok(ex, ParamChange(1, "fees.taker_rate", "0.1%"))
    assert ex.profile.mechanism("fees").taker_rate == 100_000
    ex, outs = run_ok(ex, trade(2, sz("1"), px("50000"), "a", "b"))
    assert next(o.amount for o in outs if isinstance(o, FeeOut)) == usdt("50")
    rejected(ex, ParamChange(3, "fees.taker_rate", "-1%"), "ENG-PAR-01")
    rejected(ex, ParamChange(3, "fees.nope", "1"), "ENG-PAR-01")
    rejected(ex, ParamChange(3, "fees.model", "x"), "ENG-PAR-01")
    rejected(ex, ParamChange(3, "scales.price_decimals", 3), "ENG-PAR-01")
    rejected(ex, ParamChange(3, "markets.BTCUSDT.tick", "0.001"), "ENG-PAR-01")  # finer than the scale
    rejected(ex, ParamChange(3, "markets.BTCUSDT.margin.brackets[0].max_leverage", 0), "ENG-PAR-01")
    ex2, _ = run_ok(ex, ParamChange(3, "markets.BTCUSDT.margin.brackets[0].max_leverage", 100))
    rejected(ex2, SetLeverage(4, "a", "BTCUSDT", 101), "ENG-LEV-01")


@pytest.mark.rule("INV-05", "INV-06", "EVT-DIG-01")
def test_digest_changes_with_state_and_is_reproducible() -> None:
    ex = funded()
    d0 = digest(ex)
    ex1, _ = step(ex, ClockTick(5))
    assert digest(ex1) != d0
    assert digest(funded()) == d0
    assert len(d0) == 64


BYI = load_profile("bybit-inverse")


@pytest.mark.rule("INV-04")
def test_inverse_flip_is_zero_sum() -> None:
    """bybit-inverse (exact accounting): c long 1, then sells 1021 @ 30000.5 to b (flip).

    Found by the stateful machine (PERPSPEC_LONG=1): rounding a flip's close and open parts
    separately let traders gain 1 satoshi; PNL-FLIP-01 now rounds the fill's cost once.
    """
    ex = funded(BYI, 1000 * 10**8)
    ex, _ = run_ok(ex, MarkPrice(0, "BTCUSD", px("30000", BYI)))
    ex, _ = run_ok(ex, trade(0, 1, px("30000", BYI), "c", "b", symbol="BTCUSD"))
    ex, _ = run_ok(ex, trade(0, 1329, px("30000", BYI), "a", "b", symbol="BTCUSD"))
    ex, _ = step(ex, trade(0, 1021, px("30000.5", BYI), "b", "c", symbol="BTCUSD"))
    assert invariant_violations(ex) == []


@pytest.mark.rule("ENG-PAR-01", "UNT-MKT-01")
def test_param_change_market_grid_is_checked() -> None:
    """Review finding: ``param_change markets.BTCUSDT.lot = "0"`` was accepted and the next fill
    crashed with ZeroDivisionError (replay exit 3). The market's check runs again."""
    ex = funded()
    for path, value, fragment in (
        ("markets.BTCUSDT.lot", "0", "must be positive"),
        ("markets.BTCUSDT.tick", "-0.01", "must be positive"),
        ("markets.BTCUSDT.min_size", "-0.001", "must not be negative"),
    ):
        r = rejected(ex, ParamChange(1, path, value), "ENG-PAR-01")
        assert fragment in r.reason, r.reason
    coinm = load_profile("binance-coinm")
    for value in (0, -100):
        ev = ParamChange(1, "markets.BTCUSD.contract_value", value)
        rejected(initial_exchange(coinm), ev, "ENG-PAR-01")


@pytest.mark.rule("ENG-PAR-01")
def test_param_change_cannot_switch_contract_or_move_grid_under_open_interest() -> None:
    """Review finding: ``param_change markets.BTCUSDT.contract = "inverse"`` with open positions
    re-valued every entry (equity of a went 9994 -> 10024). ``contract`` and ``contract_value``
    cannot be changed; ``tick`` and ``lot`` only while the market has no open interest."""
    ex = funded()
    for path, value in (("markets.BTCUSDT.contract", "inverse"), ("markets.BTCUSDT.contract_value", 0)):
        r = rejected(ex, ParamChange(1, path, value), "ENG-PAR-01")
        assert "cannot be changed" in r.reason, r.reason
    coinm = load_profile("binance-coinm")
    r = rejected(initial_exchange(coinm), ParamChange(1, "markets.BTCUSD.contract_value", 10), "ENG-PAR-01")
    assert "cannot be changed" in r.reason
    # no open interest: the grid may move
    flat, _ = run_ok(ex, ParamChange(1, "markets.BTCUSDT.lot", "0.002"))
    assert flat.profile.markets["BTCUSDT"].lot == 2
    ex, _ = run_ok(ex, trade(2, sz("0.003"), px("30000"), "a", "b"))
    for path, value in (("markets.BTCUSDT.lot", "0.002"), ("markets.BTCUSDT.tick", "0.1")):
        r = rejected(ex, ParamChange(3, path, value), "ENG-PAR-01")
        assert "open interest" in r.reason, r.reason
    # other market parameters still change under open interest
    ex, _ = run_ok(ex, ParamChange(3, "markets.BTCUSDT.min_size", "0.001"))
    # once flat again, the grid may move
    ex, _ = run_ok(
        ex, trade(4, sz("0.003"), px("30000"), "b", "a"), ParamChange(5, "markets.BTCUSDT.tick", "0.1")
    )
    assert ex.profile.markets["BTCUSDT"].tick == 10


@pytest.mark.rule("FEE-MT-01", "ENG-FILL-01")
def test_inverse_fee_is_rounded_from_the_exact_notional() -> None:
    """Review finding: binance-coinm 1 contract (100 USD) @ 30,303.1, buyer rebate -0.01%: the
    exact rebate is 1e11 / 303031 x 10^-4 = -32.9999... money units (1e-8 BTC); the fee was
    computed from the notional already rounded up (330,000 -> -33, the trader's favour).
    Ceil (venue's favour) of the exact value: -32. The taker's 0.05% stays ceil(164.9996) = 165."""
    coinm = load_profile("binance-coinm")
    ex, _ = run_ok(initial_exchange(coinm), Deposit(0, "a", 10**8), Deposit(0, "b", 10**8))
    ev = trade(1, 1, 303031, "a", "b", maker="buyer", symbol="BTCUSD", buyer_fee_rate=-10_000)
    ex, outs = run_ok(ex, ev)
    fees = {o.account: (o.notional, o.amount) for o in outs if isinstance(o, FeeOut)}
    assert fees == {"a": (330_000, -32), "b": (330_000, 165)}
    assert ex.accounts["a"].collateral == 10**8 + 32


def _iso_long(fee_rate: int | None = None) -> Exchange:
    """binance-usdm: a isolated 100x long 1 BTC @ 30,000 (margin 300), b short; mark 20,000;
    a withdraws its whole cross collateral (the review's iso_leak reproducer)."""
    ex, _ = run_ok(
        initial_exchange(BIN),
        Deposit(0, "a", usdt("100000")),
        Deposit(0, "b", usdt("1000000")),
        SetMarginMode(0, "a", "BTCUSDT", "isolated"),
        SetLeverage(0, "a", "BTCUSDT", 100),
        MarkPrice(0, "BTCUSDT", px("30000")),
        trade(1, sz("1"), px("30000"), "a", "b", buyer_fee_rate=fee_rate, seller_fee_rate=fee_rate),
        MarkPrice(2, "BTCUSDT", px("20000")),
    )
    assert ex.accounts["a"].positions[("BTCUSDT", "BOTH")].isolated_margin == usdt("300")
    ex, _ = run_ok(ex, Withdraw(3, "a", ex.accounts["a"].collateral))
    assert ex.accounts["a"].collateral == 0
    return ex


@pytest.mark.rule("ACC-ISO-01", "ENG-FILL-01", "ENG-IMR-01", "INV-03")
def test_isolated_loss_is_bounded_by_its_margin_on_a_close() -> None:
    """Review finding (iso_leak): closing the bankrupt isolated position at 20,000 took -9,710
    from the cross wallet (cross bad debt). The slot's loss is the slot's: a close that would
    leave the slot a deficit of 9,700 is refused (ENG-IMR-01), even without fees; the cross
    wallet is never charged for it."""
    for rate in (None, 0):
        ex = _iso_long(rate)
        r = rejected(
            ex,
            trade(4, sz("1"), px("20000"), "b", "a", buyer_fee_rate=rate, seller_fee_rate=rate),
            "ENG-IMR-01",
        )
        if rate == 0:
            assert "isolated BTCUSDT BOTH position" in r.reason and "-9700" in r.reason, r.reason
            assert "-970000000000" in r.reason


@pytest.mark.rule("ACC-ISO-01", "ENG-FUND-01", "INV-01", "INV-03")
def test_isolated_funding_settles_against_the_slot() -> None:
    """Funding of an isolated position debits/credits its isolated margin, not the cross
    wallet; a debit beyond the margin leaves the margin at 0 and a bad-debt record of the
    POSITION (key ``a/BTCUSDT/BOTH``), never negative cross collateral."""
    ex = _iso_long(0)
    # rate 1%: a (long) pays 1 x 20000 x 1% = 200 from its 300 margin; b receives 200
    b0 = ex.accounts["b"].collateral
    ex, outs = run_ok(ex, FundingSettlement(4, "BTCUSDT", 1_000_000))
    pos = ex.accounts["a"].positions[("BTCUSDT", "BOTH")]
    assert pos.isolated_margin == usdt("100") and ex.accounts["a"].collateral == 0
    assert ex.accounts["b"].collateral == b0 + usdt("200")
    assert {o.account: o.amount for o in outs if isinstance(o, FundingPayment)} == {
        "a": -usdt("200"),
        "b": usdt("200"),
    }
    # a second 1%: 200 due, 100 held: margin 0, position bad debt 100, cross untouched
    ex, outs = run_ok(ex, FundingSettlement(5, "BTCUSDT", 1_000_000))
    pos = ex.accounts["a"].positions[("BTCUSDT", "BOTH")]
    assert pos.isolated_margin == 0 and ex.accounts["a"].collateral == 0
    assert ex.bad_debt == {"a/BTCUSDT/BOTH": usdt("100")}
    assert BadDebtOut(5, "a/BTCUSDT/BOTH", usdt("100")) in outs
    # a negative rate credits the slot's margin (shorts pay longs); the record stays
    ex, _ = run_ok(ex, FundingSettlement(6, "BTCUSDT", -500_000))
    assert ex.accounts["a"].positions[("BTCUSDT", "BOTH")].isolated_margin == usdt("100")
    assert ex.accounts["a"].collateral == 0
    assert ex.bad_debt == {"a/BTCUSDT/BOTH": usdt("100")}


@pytest.mark.rule("ENG-AMT-01", "INV-03")
def test_account_ids_shaped_like_position_records_are_refused() -> None:
    ex = initial_exchange(BIN)
    rejected(ex, Deposit(0, "x/BTCUSDT/BOTH", usdt("1")), "ENG-AMT-01")
    run_ok(ex, Deposit(0, "x/ETHUSD/BOTH", usdt("1")), Deposit(0, "a/b", usdt("1")))
