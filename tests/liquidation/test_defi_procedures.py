"""The Hyperliquid, dYdX v4 and Drift v2 liquidation procedures and the Dutch auction, through
:func:`perpspec.engine.step` on hand-computed accounts (spec/liquidation-defi.md).

Every expected figure is either a published case (HL-LQ-01, DRIFT-PL-01: SRC-REF-LIQ §3.5, §3.7;
SRC-REF-DEFI §6 cases 13, 15-17) or computed by hand in the test's docstring.
"""

from __future__ import annotations

from typing import Any

import pytest
from perpspec.events import (
    BookSnapshot,
    ClockTick,
    Deposit,
    Fill,
    InsuranceOut,
    LiquidationOut,
    MarkPrice,
    OraclePrice,
    UncoveredLossOut,
)
from perpspec.liquidation.auction import auction_price
from perpspec.liquidation.drift import base_to_cover, if_fee, liquidator_fee
from perpspec.liquidation.dydx import fillable_price, position_limits
from perpspec.profiles import load_profile
from perpspec.state import Exchange, initial_exchange
from perpspec.units import parse_units

from tests.liquidation.helpers import funded, profile_with, run


def liqs(outs: list[Any]) -> list[LiquidationOut]:
    return [o for o in outs if isinstance(o, LiquidationOut)]


# --------------------------------------------------------------------------- Hyperliquid

HL = load_profile("hyperliquid")  # price 6, size 5, money 6 decimals; BTC 40x -> MMR 1/80


def usdc(x: str) -> int:
    return parse_units(x, 6)


def hbtc(x: str) -> int:
    return parse_units(x, 5)


def hl_long(deposit: str, entry: str = "104000") -> Exchange:
    """a: ``deposit`` USDC, long 2 BTC bought at ``entry`` with no fee; at mark 100,000 the
    equity is ``deposit - 2 (entry - 100,000)`` and MM = 2 x 100,000 / 80 = 2,500 (HL-LQ-01)."""
    ex, _ = run(
        initial_exchange(HL),
        Deposit(0, "a", usdc(deposit)),
        Deposit(0, "b", usdc("1000000")),
        MarkPrice(1, "BTC", usdc(entry)),
        Fill(2, "BTC", hbtc("2"), usdc(entry), "a", "b", "seller", buyer_fee_rate=0, seller_fee_rate=0),
    )
    return ex


BOOK = BookSnapshot(3, "BTC", ((usdc("100000"), hbtc("0.3")), (usdc("99990"), hbtc("1"))), ())


@pytest.mark.rule("LIQ-HL-11", "LIQ-HL-12", "LIQ-UNT-01")
def test_hl_lq_01_partial_then_the_whole_rest_within_the_cooldown() -> None:
    """HL-LQ-01: mark 100,000, long 2 BTC, MM 2,500; equity 10,000 - 8,000 = 2,000 < MM and
    above 5000/3: the first order is 0.4 BTC (20% of a 200k notional) into the bids: 0.3 at
    100,000 (realized -1,200), 0.1 at 99,990 (-401). Left: collateral 8,399, 1.6 BTC at entry
    104,000 -> equity 1,999 < MM 2,000: still liquidatable, but one order per event. 10 s later
    (inside the 30 s cooldown) the whole 1.6: 0.9 at 99,990 (-3,609), the book's rest 0.7 taken
    over by @hlp at the mark (-2,800); the account keeps 1,990 (no clearance fee)."""
    ex, _ = run(hl_long("10000"), BOOK)
    ex, outs = run(ex, MarkPrice(4000, "BTC", usdc("100000")))
    assert [(o.qty, o.price, o.realized_pnl, o.fee, o.counterparty) for o in liqs(outs)] == [
        (-hbtc("0.3"), usdc("100000"), -usdc("1200"), 0, "@hlp"),
        (-hbtc("0.1"), usdc("99990"), -usdc("401"), 0, "@hlp"),
    ]
    assert ex.accounts["a"].collateral == usdc("8399")
    st = ex.liquidations["a"]
    assert (st.started, st.last_slice, st.slices) == (4000, 4000, 1)
    ex, outs = run(ex, MarkPrice(14000, "BTC", usdc("100000")))
    assert [(o.qty, o.price, o.realized_pnl) for o in liqs(outs)] == [
        (-hbtc("0.9"), usdc("99990"), -usdc("3609")),
        (-hbtc("0.7"), usdc("100000"), -usdc("2800")),
    ]
    assert ex.accounts["a"].collateral == usdc("1990")
    assert ex.accounts["a"].positions[("BTC", "BOTH")].size == 0
    assert ex.accounts["@hlp"].positions[("BTC", "BOTH")].size == hbtc("2")
    assert ex.liquidations == {}
    assert ex.insurance.balances.get("*", 0) == 0


@pytest.mark.rule("LIQ-HL-12")
def test_hl_after_the_cooldown_the_next_order_is_a_partial_again() -> None:
    """Same first 0.4 at t = 4 s (no book this time: taken over at the mark, equity stays 2,000
    with 1.6 BTC, MM 2,000: 2,000 < 2,000 is false, not liquidatable). The mark falls to 99,990
    at t = 40 s (36 s later, cooldown over): equity 2,000 - 16 = 1,984 < MM 1,999.8 and the
    notional 159,984 > 100k: 20% of 1.6 = 0.32 BTC."""
    ex = hl_long("10000")
    ex, outs = run(ex, MarkPrice(4000, "BTC", usdc("100000")))
    assert [o.qty for o in liqs(outs)] == [-hbtc("0.4")]
    ex, outs = run(ex, MarkPrice(40000, "BTC", usdc("99990")))
    assert [o.qty for o in liqs(outs)] == [-hbtc("0.32")]


@pytest.mark.rule("LIQ-HL-13", "LIQ-SET-03")
def test_hl_backstop_below_two_thirds_of_mm_at_the_boundary() -> None:
    """HL-LQ-01's backstop threshold 5000/3: deposit 9,666.666666 gives equity 1,666.666666 and
    3 x 1,666.666666 < 2 x 2,500: the vault @hlp takes the 2 BTC at the mark and the 1,666.666666
    of margin, the account ends with nothing. One micro-USDC more (1,666.666667 x 3 > 5,000) is
    a book order of 0.4 instead."""
    ex, outs = run(hl_long("9666.666666"), MarkPrice(4000, "BTC", usdc("100000")))
    (liq,) = liqs(outs)
    assert (liq.qty, liq.price, liq.rule_id, liq.counterparty_fee, liq.insurance_delta) == (
        -hbtc("2"),
        usdc("100000"),
        "LIQ-HL-13",
        usdc("1666.666666"),
        0,
    )
    assert ex.accounts["a"].collateral == 0
    assert ex.accounts["@hlp"].collateral == usdc("1666.666666")
    assert ex.accounts["@hlp"].positions[("BTC", "BOTH")].size == hbtc("2")
    _, outs = run(hl_long("9666.666667"), MarkPrice(4000, "BTC", usdc("100000")))
    assert [(o.qty, o.rule_id) for o in liqs(outs)] == [(-hbtc("0.4"), "LIQ-HL-12")]


@pytest.mark.rule("LIQ-HL-12")
def test_hl_small_position_is_closed_whole() -> None:
    """Long 0.5 BTC at 104,000 with 2,500 USDC: at 100,000 equity 500 < MM 625 and above 2/3 MM
    (416.67); notional 50,000 <= 100k: the whole 0.5 (at the mark, no book); 500 kept."""
    ex, _ = run(
        initial_exchange(HL),
        Deposit(0, "a", usdc("2500")),
        Deposit(0, "b", usdc("1000000")),
        MarkPrice(1, "BTC", usdc("104000")),
        Fill(2, "BTC", hbtc("0.5"), usdc("104000"), "a", "b", "seller", buyer_fee_rate=0, seller_fee_rate=0),
    )
    ex, outs = run(ex, MarkPrice(4000, "BTC", usdc("100000")))
    assert [o.qty for o in liqs(outs)] == [-hbtc("0.5")]
    assert ex.accounts["a"].collateral == usdc("500")


# --------------------------------------------------------------------------- dYdX v4

DYDX = load_profile("dydx-v4")  # price 6, size 9, money 6; BTC-USD IM 2%, MF 60% -> MMR 1.2%


def dbtc(x: str) -> int:
    return parse_units(x, 9)


def dydx_long() -> Exchange:
    """a: 1,100 USDC, long 1 BTC at 50,000 (IM 1,000), no fee."""
    ex, _ = run(
        initial_exchange(DYDX),
        Deposit(0, "a", usdc("1100")),
        Deposit(0, "b", usdc("1000000")),
        OraclePrice(1, "BTC-USD", usdc("50000")),
        Fill(2, "BTC-USD", dbtc("1"), usdc("50000"), "a", "b", "seller", buyer_fee_rate=0, seller_fee_rate=0),
    )
    return ex


@pytest.mark.rule("LIQ-DYDX-11", "LIQ-DYDX-13", "LIQ-DYDX-14", "LIQ-HL-11", "LIQ-SET-02")
def test_dydx_ioc_at_the_fillable_price_within_the_block_limits() -> None:
    """Oracle 49,400: TNC 500, TMMR = PMMR = 1.2% x 49,400 = 592.8 (49,500: 600 > 594, safe).
    ABR = 1 - 500/592.8 = 92.8/592.8; fillable = 49,400 - ABR x 10% x 592.8 = 49,390.72 ->
    up to the tick: 49,391. Limits: max(1,000, 10% x 49,400) = 4,940 < 100k -> 0.1 BTC. Bids
    0.05 at 49,395, 0.5 at 49,391 (49,380 is below the limit): 0.05 + 0.05. Bankruptcy share
    g = ceil(500 x 59.28 / 592.8) = 50; executed -0.7 against the oracle -> ΔIF = 49.3, capped
    at 0.5% of the quote 4,939.3 = 24.6965 (dYdX: BP = 4,940 - 50 = 4,890, d = 4,939.3 - BP).
    One liquidation per block: the unit is still liquidatable (474.6035 < 533.52) but no
    second slice runs in the event."""
    assert fillable_price(
        usdc("49400"), usdc("592.8"), dbtc("1"), usdc("500"), usdc("592.8"), 10**8, 10**7, 9, usdc("1")
    ) == usdc("49391")
    ex, _ = run(
        dydx_long(),
        BookSnapshot(
            3,
            "BTC-USD",
            ((usdc("49395"), dbtc("0.05")), (usdc("49391"), dbtc("0.5")), (usdc("49380"), dbtc("1"))),
            (),
        ),
    )
    ex, outs = run(ex, OraclePrice(4, "BTC-USD", usdc("49500")))
    assert liqs(outs) == []
    ex, outs = run(ex, OraclePrice(5, "BTC-USD", usdc("49400")))
    assert [(o.qty, o.price, o.insurance_delta, o.fee) for o in liqs(outs)] == [
        (-dbtc("0.05"), usdc("49395"), 0, 0),
        (-dbtc("0.05"), usdc("49391"), usdc("24.6965"), usdc("24.6965")),
    ]
    assert ex.insurance.balances == {"*": usdc("24.6965")}
    a = ex.accounts["a"]
    assert a.positions[("BTC-USD", "BOTH")].size == dbtc("0.9")
    assert a.collateral + 900 * (49400 - 50000) * 10**6 // 1000 == usdc("474.6035")
    assert ex.liquidations["a"].slices == 1


@pytest.mark.rule("INS-REF-01", "LIQ-DYDX-14")
def test_dydx_refuses_a_fill_the_fund_cannot_pay() -> None:
    """Oracle 48,000: TNC = 1,100 - 2,000 = -900, TMMR 576; ABR = 1 (clamped): fillable
    48,000 - 57.6 = 47,942.4 -> 47,943. A 0.1 BTC fill at 47,943: g = -900 x 57.6/576 = -90,
    executed -5.7: ΔIF = -95.7 and the fund is empty: refused, the position stays open."""
    ex, _ = run(dydx_long(), BookSnapshot(3, "BTC-USD", ((usdc("47943"), dbtc("2")),), ()))
    ex, outs = run(ex, OraclePrice(5, "BTC-USD", usdc("48000")))
    assert liqs(outs) == []
    assert [o for o in outs if isinstance(o, UncoveredLossOut)] == [
        UncoveredLossOut(5, "a", None, None, usdc("900"), True, "INS-REF-01")
    ]
    assert ex.accounts["a"].positions[("BTC-USD", "BOTH")].size == dbtc("1")
    # with 100 USDC in the fund the same fill is made and the fund pays 95.7
    ex, _ = run(dydx_long(), BookSnapshot(3, "BTC-USD", ((usdc("47943"), dbtc("2")),), ()))
    ex, outs = run(funded(ex, "*", usdc("100")), OraclePrice(5, "BTC-USD", usdc("48000")))
    assert [(o.qty, o.insurance_delta) for o in liqs(outs)] == [(-dbtc("0.1"), -usdc("95.7"))]
    assert ex.insurance.balances == {"*": usdc("4.3")}


@pytest.mark.rule("LIQ-DYDX-12", "LIQ-DYDX-13")
def test_dydx_case_13_position_block_limits() -> None:
    """SRC-REF-DEFI §6 case 13 (qq): 1 BTC = $50k, min notional 100: portion 100% -> (100,
    50,000,000,000), 50% -> (100, 25,000,000,000); a $5 position with min $10: min = max =
    5,000,000. Sizing: 49,400 notional with cap 4,940 -> 0.1 BTC; a position of one lot goes whole."""
    assert position_limits(50_000_000_000, 100, 10**8) == (100, 50_000_000_000)
    assert position_limits(50_000_000_000, 100, 5 * 10**7) == (100, 25_000_000_000)
    assert position_limits(5_000_000, 10_000_000, 10**7) == (5_000_000, 5_000_000)
    proc = DYDX.liquidation_procedure_model
    lot = DYDX.market("BTC-USD").lot
    assert proc is not None
    assert proc.size_delta(usdc("49400"), dbtc("1"), usdc("49400"), lot, 9) == dbtc("0.1")
    assert proc.size_delta(usdc("4.94"), lot, usdc("49400"), lot, 9) == lot
    assert proc.size_delta(usdc("900"), dbtc("0.02"), usdc("45000"), lot, 9) == dbtc("0.02")  # < min


# --------------------------------------------------------------------------- Drift v2

DRIFT = load_profile("drift-v2")  # price 6, size 9, money 6; SOL-PERP MM 500 (5%), lot 0.01


def sol(x: str) -> int:
    return parse_units(x, 9)


@pytest.mark.rule("LIQ-DRF-11", "LIQ-DRF-12", "LIQ-DRF-13", "LIQ-DRF-14", "LIQ-TRG-03", "INS-SCP-01")
def test_drift_pl_01_partial_liquidation_to_cover_the_margin_shortage() -> None:
    """DRIFT-PL-01 (SRC-REF-LIQ §3.7): oracle 100, long 2 base with quote -200, deposit 5. Built
    by a fill at 100 while the oracle is 110 (initial collateral 25 >= IM 22), then oracle 100.
    MM 10, with the 2% buffer 14: shortage 9; IF fee min(1%, 0.95 (7% - 1% - 4.5%)) = 1%;
    Δbase = 9 / (100 x 6% - 100 x 1%) = 1.8. The liquidator takes 1.8 at 100 with 1.8 of fee,
    the market's fund 1.8: user base 0.2, quote -200 + 180 - 3.6 = -23.6 (quote entry -20);
    liquidator base 1.8, quote -180 + 1.8 = -178.2; total_liquidation_fee 1.8; afterwards
    TC 1.4 = MR 1 + buffer 0.4, margin ratio 1.4/20 = 700 (1e-4), out of liquidation."""
    ex, _ = run(
        initial_exchange(DRIFT),
        Deposit(0, "a", usdc("5")),
        Deposit(0, "b", usdc("100000")),
        OraclePrice(1, "SOL-PERP", usdc("110")),
        Fill(2, "SOL-PERP", sol("2"), usdc("100"), "a", "b", "seller", buyer_fee_rate=0, seller_fee_rate=0),
    )
    ex, outs = run(ex, OraclePrice(3, "SOL-PERP", usdc("100")))
    (liq,) = liqs(outs)
    assert (liq.qty, liq.price, liq.counterparty, liq.fee, liq.counterparty_fee, liq.insurance_delta) == (
        -sol("1.8"),
        usdc("100"),
        "@liquidator",
        usdc("1.8"),
        usdc("1.8"),
        usdc("1.8"),
    )
    a, lq = ex.accounts["a"], ex.accounts["@liquidator"]
    pa, pl = a.positions[("SOL-PERP", "BOTH")], lq.positions[("SOL-PERP", "BOTH")]
    # Drift's quote_asset_amount = collateral - deposit - entry value (entry values in 1e-9 money)
    assert pa.size == sol("0.2") and pa.entry_value == usdc("20") * 10**9
    assert a.collateral - usdc("5") - pa.entry_value // 10**9 == -usdc("23.6")
    assert pl.size == sol("1.8") and lq.collateral - pl.entry_value // 10**9 == -usdc("178.2")
    assert ex.insurance.balances == {"SOL-PERP": usdc("1.8")}
    # TC = 5 + (20 - 23.6) = 1.4 = MR 1 + buffer 0.4; margin ratio 1.4 / 20 = 7.00%
    assert a.collateral == usdc("1.4")
    assert a.collateral * 10_000 // usdc("20") == 700
    assert ex.liquidations == {}


@pytest.mark.rule("LIQ-DRF-13")
def test_drift_case_15_base_to_cover_the_shortage() -> None:
    """SRC-REF-DEFI §6 case 15: $10 shortage, MR 10%, $100: liq fee 0 -> 1e9 base; 1% ->
    1,111,111,111 (10/9, floored); 1% + IF 1% -> 1,250,000,000. (The quote-price 0.99 variant
    is not modelled: the model has no quote oracle.) Rates in 1e-6."""
    assert base_to_cover(usdc("10"), 100_000, 0, 0, usdc("100"), 9) == 10**9
    assert base_to_cover(usdc("10"), 100_000, 10_000, 0, usdc("100"), 9) == 1_111_111_111
    assert base_to_cover(usdc("10"), 100_000, 10_000, 10_000, usdc("100"), 9) == 1_250_000_000
    assert base_to_cover(usdc("10"), 10_000, 10_000, 0, usdc("100"), 9) is None  # m <= f_liq


@pytest.mark.rule("LIQ-DRF-12")
def test_drift_case_16_if_fee() -> None:
    """SRC-REF-DEFI §6 case 16: shortage $20, 10 base at $100, MR 5%, liq fee 1%, max IF 5%:
    0.95 x (5% - 1% - 2%) = 19,000; shortage $1: 0.95 x 3.9% = 37,050; $1,000: 0; liq fee
    10% >= MR: 0."""
    sc = (9, 6, 6)
    assert if_fee(usdc("20"), sol("10"), 50_000, 10_000, usdc("100"), 50_000, sc) == 19_000
    assert if_fee(usdc("1"), sol("10"), 50_000, 10_000, usdc("100"), 50_000, sc) == 37_050
    assert if_fee(usdc("1000"), sol("10"), 50_000, 10_000, usdc("100"), 50_000, sc) == 0
    assert if_fee(usdc("20"), sol("10"), 50_000, 100_000, usdc("100"), 50_000, sc) == 0


@pytest.mark.rule("LIQ-DRF-11")
def test_drift_case_17_liquidator_fee_ramp() -> None:
    """SRC-REF-DEFI §6 case 17: base 2%, max 5%, slots 10 / 10,000 / 100,000 -> 20,000 /
    30,000 / 50,000 (grace 1,500 slots, +1e-6 a slot)."""
    assert [liquidator_fee(20_000, 50_000, 1, s, 1500) for s in (10, 10_000, 100_000)] == [
        20_000,
        30_000,
        50_000,
    ]
    assert liquidator_fee(20_000, 50_000, 1, 1500, 1500) == 21_500


# --------------------------------------------------------------------------- Dutch auction

AUCTION = """[liquidation_procedure]
model = "dutch-auction"
start_premium = "1%"
decay_per_second = "0.1%"
keeper_discount = "{d}"
"""


def usdt(x: str) -> int:
    return parse_units(x, 8)


def auction_account(discount: str) -> Exchange:
    """binance-usdm (price 2, size 3, money 8): 1,000 USDT, long 1 BTC at 20,000 as taker (fee 10):
    collateral 990; at mark 19,050 equity 40 <= MM 76.2; bankruptcy price 19,050 - 40 = 19,010."""
    ex, _ = run(
        initial_exchange(profile_with("binance-usdm", AUCTION.format(d=discount))),
        Deposit(0, "a", usdt("1000")),
        Deposit(0, "b", usdt("100000")),
        MarkPrice(1, "BTCUSDT", parse_units("20000", 2)),
        Fill(2, "BTCUSDT", parse_units("1", 3), parse_units("20000", 2), "a", "b", "seller"),
    )
    return ex


@pytest.mark.rule("LIQ-AUC-01")
def test_dutch_auction_fills_at_the_first_event_the_keeper_accepts() -> None:
    """Start at t = 1 s: p_a = 19,010 + floor(19,010 x (1% - 0.1% t)) rounded down to the tick
    0.10: 19,200.10 at 0 s, 19,067.00 at 7 s (above the mark 19,050: no keeper), 19,048.00
    (19,048.02 on the grid toward p_bk) at 8 s <= 19,050: the keeper @keeper buys the 1 BTC
    there; the account keeps 990 - 952 = 38."""
    assert auction_price(1_901_000, True, 10**6, 10**5, 0, 1) == 1_920_010
    assert auction_price(1_901_000, False, 10**6, 10**5, 8, 1) == 1_901_000 - 3_802
    ex, outs = run(auction_account("0"), MarkPrice(1000, "BTCUSDT", parse_units("19050", 2)))
    assert liqs(outs) == [] and ex.liquidations["a"].slices == 0
    ex, outs = run(ex, ClockTick(8000))
    assert liqs(outs) == []
    ex, outs = run(ex, ClockTick(9000))
    assert [(o.qty, o.price, o.counterparty) for o in liqs(outs)] == [
        (-parse_units("1", 3), parse_units("19048", 2), "@keeper")
    ]
    assert ex.accounts["a"].collateral == usdt("38")
    assert ex.liquidations == {}


@pytest.mark.rule("LIQ-AUC-01", "LIQ-SET-02")
def test_dutch_auction_without_a_keeper_ends_in_a_takeover_at_the_floor() -> None:
    """Keeper discount 1%: the keeper wants <= 18,859.50, below the floor 19,010: no fill until
    the premium is gone (10 s); then the counterparty takes the position at the mark, settled at
    bankruptcy: the fund gets the 40 left."""
    ex, _ = run(auction_account("1%"), MarkPrice(1000, "BTCUSDT", parse_units("19050", 2)))
    ex, outs = run(ex, ClockTick(10999))
    assert liqs(outs) == []
    ex, outs = run(ex, ClockTick(11000))
    assert [(o.qty, o.price, o.insurance_delta) for o in liqs(outs)] == [
        (-parse_units("1", 3), parse_units("19050", 2), usdt("40"))
    ]
    assert [o.delta for o in outs if isinstance(o, InsuranceOut)] == [usdt("40")]
    assert ex.accounts["a"].collateral == 0
