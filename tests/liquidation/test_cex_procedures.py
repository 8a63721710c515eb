"""The CEX liquidation procedures on the bundled profiles, hand-computed (spec/liquidation-cex.md).

Each flow goes through :func:`perpspec.engine.step` (deposit, fill, mark moves) and checks the
liquidation outputs (sizes, prices, fees, insurance deltas) and the balances after, with
``invariant_violations(ex) == []`` after every step. The arithmetic is in the comments; money
amounts are written in the settlement asset (``x("...")`` parses the profile's 8 decimals).
"""

from __future__ import annotations

import pytest
from perpspec.engine.slices import unit_view
from perpspec.events import (
    BookSnapshot,
    Deposit,
    Fill,
    InsuranceOut,
    Liquidation,
    LiquidationOut,
    MarkPrice,
    SetLeverage,
    UncoveredLossOut,
)
from perpspec.liquidation.procedure import Unit
from perpspec.liquidation.reduction import bankruptcy_limit, fee_on, restores
from perpspec.profiles import load_profile
from perpspec.state import Exchange, initial_exchange
from perpspec.units import parse_units

from tests.liquidation.helpers import profile_with, run


def x(v: str) -> int:
    """Money: 8 decimals on every profile here."""
    return parse_units(v, 8)


def liq(outs: list[object]) -> list[tuple[int, int, int, int, str]]:
    """(qty, price, fee, insurance delta, rule) of each liquidation output."""
    return [
        (o.qty, o.price, o.fee, o.insurance_delta, o.rule_id) for o in outs if isinstance(o, LiquidationOut)
    ]


def unit_of(ex: Exchange, aid: str = "a") -> Unit:
    return unit_view(ex, ex.accounts[aid], None, ex.marks())


# --------------------------------------------------------------------------- Binance


def btc3(v: str) -> int:
    return parse_units(v, 3)


def px2(v: str) -> int:
    return parse_units(v, 2)


def binance_opened() -> Exchange:
    # long 250 BTC at 60,000 (notional 15,000,000: bracket 5, MMR 2%, cum 131,450, max 25x:
    # IM 600,000); taker fee 0.05% = 7,500, so the collateral is 610,000 - 7,500 = 602,500
    ex = initial_exchange(load_profile("binance-usdm"))
    ex, _ = run(
        ex,
        Deposit(0, "a", x("610000")),
        Deposit(0, "b", x("10000000")),
        MarkPrice(1, "BTCUSDT", px2("60000")),
        Fill(2, "BTCUSDT", btc3("250"), px2("60000"), "a", "b", "seller"),
    )
    assert ex.accounts["a"].collateral == x("602500")
    return ex


@pytest.mark.rule("LIQ-BIN-10", "LIQ-BIN-11", "LIQ-RED-01", "LIQ-SET-01", "LIQ-SET-02")
def test_binance_ioc_down_a_bracket_then_takeover_at_bankruptcy() -> None:
    """SRC-REF-CEX §1.6: one large IOC, stop if compliant after it and the liquidation fee, else
    the fund takes over at the bankruptcy price; fee 1.25% (BTCUSDT liquidationFee, §1.1)."""
    ex = binance_opened()
    # mark 58,200: notional 14,550,000, MM = 291,000 - 131,450 = 159,550;
    # equity 602,500 - 250 x 1,800 = 152,500 <= MM: liquidatable.
    # IOC down to bracket 4 (cap 12,000,000): s = 206.185 (206.186 x 58,200 = 12,000,025.2 >= cap),
    # dq = 43.815, notional 2,550,033, fee 1.25% = 31,875.4125; MM' = 11,999,967 x 1% - 11,450 =
    # 108,549.67 < 152,500 - 31,875.4125 = 120,624.5875: restored.
    ex, outs = run(ex, MarkPrice(3, "BTCUSDT", px2("58200")))
    assert liq(outs) == [(-btc3("43.815"), px2("58200"), x("31875.4125"), x("31875.4125"), "LIQ-BIN-10")]
    a = ex.accounts["a"]
    # realized 43.815 x (58,200 - 60,000) = -78,867; 602,500 - 78,867 - 31,875.4125
    assert a.collateral == x("491757.5875")
    assert a.positions[("BTCUSDT", "BOTH")].size == btc3("206.185")
    assert ex.insurance.balances == {"*": x("31875.4125")}
    u = unit_of(ex)
    assert (u.collateral, u.maintenance) == (x("120624.5875"), x("108549.67"))
    # mark 57,800: equity 491,757.5875 - 206.185 x 2,200 = 38,150.5875; MM = 11,917,493 x 1% -
    # 11,450 = 107,724.93. Bracket 3 would save 1% of the notional closed, less than the 1.25% fee:
    # no IOC restores margin; the fund takes the position over at the mark, settled at bankruptcy:
    # dIF = C = 38,150.5875, all of it the clearance fee (1.25% x 11,917,493 is more).
    ex, outs = run(ex, MarkPrice(4, "BTCUSDT", px2("57800")))
    assert liq(outs) == [(-btc3("206.185"), px2("57800"), x("38150.5875"), x("38150.5875"), "LIQ-BIN-11")]
    assert ex.accounts["a"].collateral == 0
    assert ex.insurance.balances == {"*": x("70026")}
    # the IOC's rest (no book snapshot) and the takeover both went to the liquidation account
    assert ex.accounts["@liquidator"].positions[("BTCUSDT", "BOTH")].size == btc3("250")


@pytest.mark.rule("LIQ-BIN-11")
def test_binance_first_bracket_goes_straight_to_the_takeover() -> None:
    # 1 BTC at 20,000 (bracket 1, no lower one): 1,000 - 10 fee = 990; mark 19,050: equity 40 <=
    # MM 76.20 -> takeover, dIF = 40 (fee 40: 1.25% x 19,050 = 238.125 is more than the surplus)
    ex = initial_exchange(load_profile("binance-usdm"))
    ex, _ = run(
        ex,
        Deposit(0, "a", x("1000")),
        Deposit(0, "b", x("100000")),
        MarkPrice(1, "BTCUSDT", px2("20000")),
        Fill(2, "BTCUSDT", btc3("1"), px2("20000"), "a", "b", "seller"),
    )
    ex, outs = run(ex, MarkPrice(3, "BTCUSDT", px2("19050")))
    assert liq(outs) == [(-btc3("1"), px2("19050"), x("40"), x("40"), "LIQ-BIN-11")]
    assert ex.accounts["a"].collateral == 0


@pytest.mark.rule("LIQ-BIN-11", "LIQ-LOG-01")
def test_binance_log_partial_pays_the_fee_and_the_whole_close_settles_at_bankruptcy() -> None:
    extra = '[liquidation_procedure]\nmodel = "binance-ioc"\nsource = "log"\nfee_rate = "1.25%"\n'
    profile = profile_with("binance-usdm", extra, drop=("liquidation_procedure.toml",))
    ex = initial_exchange(profile)
    ex, _ = run(
        ex,
        Deposit(0, "a", x("1000")),
        Deposit(0, "b", x("100000")),
        MarkPrice(1, "BTCUSDT", px2("20000")),
        Fill(2, "BTCUSDT", btc3("1"), px2("20000"), "a", "b", "seller"),
        MarkPrice(3, "BTCUSDT", px2("19050")),
    )
    # 0.4 at 19,040: realized -384, fee 1.25% x 7,616 = 95.2 to the fund; 990 - 384 - 95.2
    ex, outs = run(ex, Liquidation(4, "a", "BTCUSDT", btc3("0.4"), px2("19040")))
    assert liq(outs) == [(-btc3("0.4"), px2("19040"), x("95.2"), x("95.2"), "LIQ-BIN-11")]
    assert ex.accounts["a"].collateral == x("510.8")
    # the rest, 0.6 at 19,040: C = 510.8 - 0.6 x 950 = -59.2; dIF = (-576 + 570) + (-59.2) = -65.2,
    # paid from the fund's 95.2; the account ends at 0
    ex, outs = run(ex, Liquidation(5, "a", "BTCUSDT", btc3("0.6"), px2("19040")))
    assert liq(outs) == [(-btc3("0.6"), px2("19040"), 0, -x("65.2"), "LIQ-BIN-11")]
    assert ex.accounts["a"].collateral == 0
    assert ex.insurance.balances == {"*": x("30")}


@pytest.mark.rule("LIQ-BIN-11")
def test_binance_coinm_takeover() -> None:
    # 100 contracts x 100 USD long at 10,000 (1 BTC of notional), 20x; fee 0.05% = 0.0005 BTC.
    # mark 5,010: notional 10,000/5,010 = 1.996007984...; uPnL = 1 - 1.996007984... = -0.99600798
    # (to the satoshi, toward zero); equity 0.9995 - 0.99600798 = 0.00349202 <= MM 0.4% x 1.996 =
    # 0.00798...: the fund takes it over, dIF = 0.00349202, all of it the clearance fee.
    ex = initial_exchange(load_profile("binance-coinm"))
    ex, _ = run(
        ex,
        Deposit(0, "a", x("1")),
        Deposit(0, "b", x("100")),
        SetLeverage(0, "a", "BTCUSD", 20),
        SetLeverage(0, "b", "BTCUSD", 20),
        MarkPrice(1, "BTCUSD", 100000),
        Fill(2, "BTCUSD", 100, 100000, "a", "b", "seller"),
    )
    assert ex.accounts["a"].collateral == x("0.9995")
    ex, outs = run(ex, MarkPrice(3, "BTCUSD", 50100))
    assert liq(outs) == [(-100, 50100, x("0.00349202"), x("0.00349202"), "LIQ-BIN-11")]
    assert ex.accounts["a"].collateral == 0
    assert ex.insurance.balances == {"*": x("0.00349202")}


# --------------------------------------------------------------------------- Bybit


@pytest.mark.rule("LIQ-BYB-10")
def test_bybit_linear_takeover_at_bankruptcy() -> None:
    """SRC-REF-CEX §3.2, §3.7: takeover at the bankruptcy price, leftover margin to the fund."""
    ex = initial_exchange(load_profile("bybit-linear"))
    # long 1 BTC at 20,000, 50x, taker 0.055% = 11: collateral 989
    ex, _ = run(
        ex,
        Deposit(0, "a", x("1000")),
        Deposit(0, "b", x("100000")),
        SetLeverage(0, "a", "BTCUSDT", 50),
        SetLeverage(0, "b", "BTCUSDT", 50),
        MarkPrice(1, "BTCUSDT", px2("20000")),
        Fill(2, "BTCUSDT", btc3("1"), px2("20000"), "a", "b", "seller"),
    )
    # 19,200: equity 189 > MM 96; 19,100: equity 89 < MM 95.5 -> takeover; dIF = 89, of which the
    # fee to close 0.055% x 19,100 = 10.505
    ex, outs = run(ex, MarkPrice(3, "BTCUSDT", px2("19200")))
    assert liq(outs) == []
    ex, outs = run(ex, MarkPrice(4, "BTCUSDT", px2("19100")))
    assert liq(outs) == [(-btc3("1"), px2("19100"), x("10.505"), x("89"), "LIQ-BYB-10")]
    assert ex.accounts["a"].collateral == 0
    assert ex.insurance.balances == {"*": x("89")}


@pytest.mark.rule("LIQ-BYB-10")
def test_bybit_inverse_takeover_at_bankruptcy() -> None:
    ex = initial_exchange(load_profile("bybit-inverse"))
    # long 10,000 USD at 8,000 (1.25 BTC), 10x; fee 0.055% x 1.25 = 0.006875: collateral 0.4993125
    ex, _ = run(
        ex,
        Deposit(0, "a", x("0.5")),
        Deposit(0, "b", x("1000")),
        SetLeverage(0, "a", "BTCUSD", 10),
        SetLeverage(0, "b", "BTCUSD", 10),
        MarkPrice(1, "BTCUSD", 80000),
        Fill(2, "BTCUSD", 10000, 80000, "a", "b", "seller"),
    )
    # 5,745.5: uPnL 1.25 - 1.740492... -> equity 0.00881994 > MM 0.00870247: not liquidatable.
    # 5,745: notional 10,000/5,745 = 1.74064403829...; uPnL floored -0.49064404, equity 0.00866846
    # < MM ceil(0.5% x 1.74064404) = 0.00870323 -> takeover; dIF = 0.00866846, fee to close
    # ceil(0.075% x 1.74064404) = 0.00130549
    ex, outs = run(ex, MarkPrice(3, "BTCUSD", 57455))
    assert liq(outs) == []
    ex, outs = run(ex, MarkPrice(4, "BTCUSD", 57450))
    assert liq(outs) == [(-10000, 57450, x("0.00130549"), x("0.00866846"), "LIQ-BYB-10")]
    assert ex.accounts["a"].collateral == 0
    assert ex.insurance.balances == {"*": x("0.00866846")}


# --------------------------------------------------------------------------- BitMEX


def bitmex_opened() -> Exchange:
    # long 2,500,000 contracts at 10,000 (10,000 sat each: 250 XBT, one step above the 200 XBT
    # base limit: MM 0.80%, IM 1.40%); taker 0.075% x 250 = 0.1875: collateral 7.3125
    ex = initial_exchange(load_profile("bitmex-xbtusd"))
    ex, _ = run(
        ex,
        Deposit(0, "a", x("7.5")),
        Deposit(0, "b", x("1000")),
        MarkPrice(1, "XBTUSD", 100000),
        Fill(2, "XBTUSD", 2_500_000, 100000, "a", "b", "seller"),
    )
    assert ex.accounts["a"].collateral == x("7.3125")
    return ex


@pytest.mark.rule("LIQ-BMX-10", "LIQ-BMX-11", "LIQ-RED-02", "LIQ-TRG-02")
def test_bitmex_step_down_then_takeover_into_the_book() -> None:
    """SRC-REF-CEX §2.3, §2.4: step down to a lower risk limit, else a limit order at bankruptcy."""
    ex = bitmex_opened()
    # mark 9,800: round(1e8/9,800) = 10,204 sat a contract; value 255.1 XBT; equity 7.3125 -
    # 2.5e6 x 204 sat = 2.2125 <= R = 0.8% x 255.1 + close fee 0.075% x 255.1 = 2.232125.
    # Step down to 200 XBT: s = floor(2e10 / 10,204) = 1,960,015 (value 199.9999306), R' =
    # ceil(0.4% x 199.9999306) + 0.15 = 0.94999968 < 2.2125 -> close 539,985 (no book: at the mark)
    ex, outs = run(ex, MarkPrice(3, "XBTUSD", 98000))
    assert liq(outs) == [(-539_985, 98000, 0, 0, "LIQ-BMX-10")]
    # realized 539,985 x 204 sat = -1.1015694
    assert ex.accounts["a"].collateral == x("6.2109306")
    assert unit_of(ex).requirement == x("0.94999968")
    # book: bids 9,695 x 1,000,000 and 9,650 x 2,000,000. mark 9,700 (10,309 sat): equity
    # 6.2109306 - 1,960,015 x 309 sat = 0.15448425 <= R; the step down (R' ~ 0.95) cannot restore.
    # Bankruptcy limit: the lowest tick p with 1,960,015 x (round(1e8/p) - 10,000) <= 621,093,060 sat:
    # round(1e8/p) <= 10,316 -> p = 9,693.5. The bid at 9,695 (10,315 sat) fills 1,000,000, 9,650 is
    # below the limit, the rest 960,015 is taken over at the mark. dIF = C + (1e6 x (309 - 315) sat)
    # = 0.15448425 - 0.06 = 0.09448425.
    book = ((96950, 1_000_000), (96500, 2_000_000)), ((97050, 1_000_000),)
    ex, _ = run(ex, BookSnapshot(4, "XBTUSD", book[0], book[1]))
    assert bankruptcy_limit(unit_of(ex), ("XBTUSD", "BOTH")) == 96935
    ex, outs = run(ex, MarkPrice(5, "XBTUSD", 97000))
    assert liq(outs) == [
        (-1_000_000, 96950, 0, 0, "LIQ-BMX-11"),
        (-960_015, 97000, 0, x("0.09448425"), "LIQ-BMX-11"),
    ]
    assert ex.accounts["a"].collateral == 0
    assert ex.insurance.balances == {"*": x("0.09448425")}
    assert ex.markets["XBTUSD"].book == (((96500, 2_000_000),), ((97050, 1_000_000),))


@pytest.mark.rule("LIQ-BMX-10", "LIQ-BMX-11", "LIQ-RED-02")
def test_bitmex_fill_or_kill_step_down_killed_by_a_thin_book() -> None:
    ex = bitmex_opened()
    # only 100,000 bid at 9,790: the step down of 539,985 cannot fill -> killed, takeover.
    # Bankruptcy limit: 2.5e6 x (round(1e8/p) - 10,000) <= 731,250,000 sat -> round(1e8/p) <=
    # 10,292 -> p = 9,716.0. 100,000 at 9,790 (10,215 sat: -0.215 realized vs -0.204 at the mark),
    # the rest 2,400,000 at the mark: dIF = 2.2125 - 0.011 = 2.2015
    ex, _ = run(ex, BookSnapshot(3, "XBTUSD", ((97900, 100_000),), ((98100, 100_000),)))
    ex, outs = run(ex, MarkPrice(4, "XBTUSD", 98000))
    assert liq(outs) == [
        (-100_000, 97900, 0, 0, "LIQ-BMX-11"),
        (-2_400_000, 98000, 0, x("2.2015"), "LIQ-BMX-11"),
    ]
    assert ex.accounts["a"].collateral == 0


@pytest.mark.rule("LIQ-BMX-11", "LIQ-SET-02", "LIQ-RED-02")
def test_btcmex_if_01_fill_above_bankruptcy_credits_the_fund() -> None:
    """BTCMEX-IF-01 (SRC-REF-LIQ §3.2, §8): a long with BP 3,000 taken over when the mark touches
    3,100 and filled at 3,060 credits the fund 60 a unit (fill - BP), the whole surplus, no cap.

    A linear test market on the BitMEX profile: MM 3.2% + close fee 0.075% (LP 3,000/0.96725 =
    3,101.5...), 10 units long at 3,500 with 5,000 of collateral after the 26.25 fee: BP = 3,000.
    """
    extra = """
[markets.BTCMEX]
contract = "linear"
tick = "0.5"
lot = "1"
[markets.BTCMEX.margin]
model = "bitmex-risk-steps"
base_risk_limit = "1000000"
step = "100000"
base_mm = "3.2%"
base_im = "10%"
"""
    ex = initial_exchange(profile_with("bitmex-xbtusd", extra))
    ex, _ = run(
        ex,
        Deposit(0, "a", x("5026.25")),
        Deposit(0, "b", x("100000")),
        MarkPrice(1, "BTCMEX", 35000),
        Fill(2, "BTCMEX", 10, 35000, "a", "b", "seller"),
        BookSnapshot(3, "BTCMEX", ((30600, 10), (29900, 10)), ((31100, 10),)),
    )
    # 3,105: equity 1,050 > 3.275% x 31,050 = 1,016.89; 3,100: equity 1,000 <= 1,015.25
    ex, outs = run(ex, MarkPrice(4, "BTCMEX", 31050))
    assert liq(outs) == []
    assert (
        bankruptcy_limit(unit_view(ex, ex.accounts["a"], None, {"BTCMEX": 31000}), ("BTCMEX", "BOTH"))
        == 30000
    )
    ex, outs = run(ex, MarkPrice(5, "BTCMEX", 31000))
    assert liq(outs) == [(-10, 30600, 0, x("600"), "LIQ-BMX-11")]  # 10 x (3,060 - 3,000)
    assert ex.insurance.balances == {"*": x("600")}
    assert ex.markets["BTCMEX"].book == (((29900, 10),), ((31100, 10),))


# --------------------------------------------------------------------------- OKX

OKX_TIERS = """
[markets.TEST-SWAP]
contract = "linear"
tick = "0.01"
lot = "1"
[markets.TEST-SWAP.margin]
model = "okx-tiers"
liquidation_fee = "0.05%"
tiers = [
    { floor = "0", mmr = "1%", max_leverage = 50 },
    { floor = "2001", mmr = "2%", max_leverage = 30 },
    { floor = "10001", mmr = "3%", max_leverage = 20 },
]
"""


@pytest.mark.rule("LIQ-OKX-11", "LIQ-TRG-02", "INS-SCP-01")
def test_okx_mr_01_margin_ratio_below_mmr_plus_fee_closes_in_full() -> None:
    """OKX-MR-01 (SRC-REF-CEX §4.2, §9): long 1 BTC (10,000 contracts x 0.0001) at 10,000, 10x,
    IM 1,000; at 9,010 UPL = -990, MR = 10/9,010 = 0.111% < 1.5% + fee: liquidation. The bundled
    market is single-tier: full close at bankruptcy into the per-market fund."""
    ex = initial_exchange(load_profile("okx-swap"))
    ex, _ = run(
        ex,
        Deposit(0, "a", x("1005")),
        Deposit(0, "b", x("100000")),
        SetLeverage(0, "a", "BTC-USDT-SWAP", 10),
        SetLeverage(0, "b", "BTC-USDT-SWAP", 10),
        MarkPrice(1, "BTC-USDT-SWAP", px2("10000")),
        Fill(2, "BTC-USDT-SWAP", 10_000, px2("10000"), "a", "b", "seller"),
    )
    assert ex.accounts["a"].collateral == x("1000")  # 1,005 - 0.05% x 10,000
    # equity 10 <= R = 1.5% x 9,010 + 0.05% x 9,010 = 139.655; no book: taken over at the mark,
    # dIF = 10, fee min(10, 4.505)
    ex, outs = run(ex, MarkPrice(3, "BTC-USDT-SWAP", px2("9010")))
    assert liq(outs) == [(-10_000, px2("9010"), x("4.505"), x("10"), "LIQ-OKX-11")]
    assert ex.insurance.balances == {"BTC-USDT-SWAP": x("10")}


def okx_tiered() -> Exchange:
    # tiers: <= 2,000 at 1%, <= 10,000 at 2%, above at 3% (20x). Long 15,000 at 100 (tier 3):
    # IM 75,000, fee 0.05% x 1,500,000 = 750: collateral 75,250
    ex = initial_exchange(profile_with("okx-swap", OKX_TIERS))
    ex, _ = run(
        ex,
        Deposit(0, "a", x("76000")),
        Deposit(0, "b", x("1000000")),
        SetLeverage(0, "a", "TEST-SWAP", 20),
        SetLeverage(0, "b", "TEST-SWAP", 20),
        MarkPrice(1, "TEST-SWAP", px2("100")),
        Fill(2, "TEST-SWAP", 15_000 * 10_000, px2("100"), "a", "b", "seller"),
    )
    return ex


@pytest.mark.rule("LIQ-OKX-10")
def test_okx_2020_partial_fifteen_thousand_swaps_close_thirteen_thousand() -> None:
    """SRC-REF-CEX §4.2 (2020 swap example): 15,000 swaps in tier >= 3, tier-1 maximum 2,000:
    15,000 - 2,000 = 13,000 are closed (two tiers down, SRC-REF-LIQ §3.4). One swap = one size
    unit of this test market (lot 1)."""
    ex = okx_tiered()
    # mark 97: N = 1,455,000; equity 75,250 - 45,000 = 30,250 <= R3 = 3% N + 0.05% N = 44,377.5,
    # > R1 = 1% N + 0.05% N = 15,277.5: close 13,000 at 97 (no book), fee 0.05% x 1,261,000 = 630.5
    ex, outs = run(ex, MarkPrice(3, "TEST-SWAP", px2("97")))
    assert liq(outs) == [(-13_000 * 10_000, px2("97"), x("630.5"), x("630.5"), "LIQ-OKX-10")]
    assert ex.accounts["a"].positions[("TEST-SWAP", "BOTH")].size == 2_000 * 10_000
    assert ex.accounts["a"].collateral == x("35619.5")  # 75,250 - 39,000 - 630.5
    assert ex.insurance.balances == {"TEST-SWAP": x("630.5")}


@pytest.mark.rule("LIQ-OKX-11")
def test_okx_below_the_tier_one_requirement_closes_in_full() -> None:
    ex = okx_tiered()
    # mark 95.9: N = 1,438,500; equity 75,250 - 61,500 = 13,750 <= R1 = 1.05% N = 15,104.25:
    # full close at bankruptcy (taken over at the mark): dIF = 13,750, fee 0.05% N = 719.25
    ex, outs = run(ex, MarkPrice(3, "TEST-SWAP", px2("95.9")))
    assert liq(outs) == [(-15_000 * 10_000, px2("95.9"), x("719.25"), x("13750"), "LIQ-OKX-11")]
    assert ex.accounts["a"].collateral == 0


# --------------------------------------------------------------------------- Deribit

DRB = "BTC_USDC-PERPETUAL"


def btc4(v: str) -> int:
    return parse_units(v, 4)


@pytest.mark.rule("LIQ-DRB-10", "LIQ-DRB-11", "LIQ-RED-01", "LIQ-UNC-01")
def test_deribit_increment_then_gap_below_bankruptcy() -> None:
    """SRC-REF-CEX §6.2: incremental liquidation while equity < MM, fee BTC 0.75%."""
    ex = initial_exchange(load_profile("deribit"))
    # long 10 BTC at 100,000: IM 2.05% = 20,500, fee 0.05% = 500: collateral 30,000
    ex, _ = run(
        ex,
        Deposit(0, "a", x("30500")),
        Deposit(0, "b", x("10000000")),
        MarkPrice(1, DRB, px2("100000")),
        Fill(2, DRB, btc4("10"), px2("100000"), "a", "b", "seller"),
    )
    assert ex.accounts["a"].collateral == x("30000")
    # mark 98,000: equity 10,000 < MM 980,000 x 1.05% = 10,290. With x = 10 - d left, MM' =
    # 980 x + 4.9 x^2 and C' = 10,000 - 735 d: restored iff 4.9 x^2 + 245 x - 2,650 < 0, x < 9.14405:
    # d = 0.856 (x = 9.144: MM' = 9,370.8224064 < 9,370.84; x = 9.1441 fails). Fee 0.75% x 83,888.
    ex, outs = run(ex, MarkPrice(3, DRB, px2("98000")))
    assert liq(outs) == [(-btc4("0.856"), px2("98000"), x("629.16"), x("629.16"), "LIQ-DRB-10")]
    u = unit_of(ex)
    assert (u.collateral, u.maintenance) == (x("9370.84"), x("9370.8224064"))
    # mark 96,000: equity 9,370.84 - 9.144 x 2,000 = -8,917.16: no increment restores; the position
    # is closed at bankruptcy (limit: none, C <= 0), the fund pays all it has (629.16), 8,288 uncovered
    ex, outs = run(ex, MarkPrice(4, DRB, px2("96000")))
    assert liq(outs) == [(-btc4("9.144"), px2("96000"), 0, -x("629.16"), "LIQ-DRB-11")]
    assert [o for o in outs if isinstance(o, UncoveredLossOut)] == [
        UncoveredLossOut(4, "a", None, None, x("8288"), False, "LIQ-UNC-01")
    ]
    assert [o.balance for o in outs if isinstance(o, InsuranceOut)] == [0]
    assert ex.bad_debt == {"a": x("8288")}


@pytest.mark.rule("LIQ-RED-01")
def test_restores_at_the_deribit_boundary() -> None:
    ex = initial_exchange(load_profile("deribit"))
    ex, _ = run(
        ex,
        Deposit(0, "a", x("30500")),
        Deposit(0, "b", x("10000000")),
        MarkPrice(1, DRB, px2("100000")),
        Fill(2, DRB, btc4("10"), px2("100000"), "a", "b", "seller"),
    )
    u = unit_view(ex, ex.accounts["a"], None, {DRB: px2("98000")})
    key = (DRB, "BOTH")
    assert fee_on(u, key, btc4("0.856"), 750_000) == x("629.16")
    assert restores(u, key, btc4("9.144"), x("629.16"))
    # d = 0.8559: C' = 10,000 - 629.0865 = 9,370.9135 < MM'(9.1441) = 8,961.218 + 409.7114... = 9,370.93
    assert not restores(u, key, btc4("9.1441"), fee_on(u, key, btc4("0.8559"), 750_000))
