"""Accounts: cross and isolated equity and requirement, slots, withdrawal margin, liquidation
predicate. Published case: BIN-LP-01 intermediate values (cex-venues.md sec 1.2 / sec 9)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from perpspec.account import (
    Account,
    Requirement,
    available_for_withdrawal,
    equity,
    is_liquidatable,
    isolated_equity,
    isolated_liquidatable,
    isolated_requirement,
    liquidatable,
    liquidatable_keys,
    position_requirement,
    position_upnl,
    requirement,
    slot_errors,
    slot_for,
    transfer_requirement,
)
from perpspec.margin import MarginModel, PositionRisk
from perpspec.margin.accounting import ExactAccounting, Trigger
from perpspec.margin.flat import FlatMargin
from perpspec.numeric import Rounding, Term, div_round
from perpspec.position import Position, entry_value_at, notional
from perpspec.profile import ContractKind, MarketSpec, Meta, Profile, Scales
from perpspec.profiles import load_profile
from perpspec.quantities import Price, Rate, Size
from perpspec.units import RATE_ONE, format_units, parse_units


@attrs.frozen
class RateCum(MarginModel):
    """Test-only margin model: one bracket, MM = N * mmr - cum (BIN-LP-01's stated brackets)."""

    mmr: int  # 1e-8
    cum: int  # money units

    def maintenance(self, pos: PositionRisk) -> Term:
        return div_round(pos.notional * self.mmr, RATE_ONE, Rounding.CEIL) - self.cum

    def initial(self, pos: PositionRisk) -> Term:
        return div_round(pos.notional, pos.leverage or 1, Rounding.CEIL)


SC = Scales(price_decimals=2, size_decimals=3, money_decimals=8)  # binance-usdm scales


def _profile(markets: Mapping[str, MarketSpec], mechanisms: Mapping[str, object] | None = None) -> Profile:
    meta = Meta(name="test", title="test", settlement="USDT")
    return Profile(meta=meta, scales=SC, markets=markets, mechanisms=mechanisms or {}, source="test")


def _lin(margin: object) -> MarketSpec:
    return MarketSpec(ContractKind.LINEAR, Price(1), Size(1), margin)


def _m(s: str) -> int:
    return parse_units(s, 8)


def _pos(size: str, price: str, market: MarketSpec, **kw: object) -> Position:
    q, p = parse_units(size, SC.size_decimals), parse_units(price, SC.price_decimals)
    return Position(size=q, entry_value=entry_value_at(q, p, market, SC), **kw)


def _bin_lp_01() -> tuple[Account, dict[str, int], Profile]:
    btc = _lin(RateCum(mmr=2_500_000, cum=_m("16300")))
    eth = _lin(RateCum(mmr=10_000_000, cum=_m("135365")))
    prof = _profile({"BTCUSDT": btc, "ETHUSDT": eth})
    acct = Account(
        id="bin-lp-01",
        collateral=_m("1535443.01"),
        positions={
            ("BTCUSDT", "BOTH"): _pos("109.488", "32481.98", btc),
            ("ETHUSDT", "BOTH"): _pos("3683.979", "1456.84", eth),
        },
    )
    marks = {"BTCUSDT": parse_units("31967.27", 2), "ETHUSDT": parse_units("1335.18", 2)}
    return acct, marks, prof


@pytest.mark.rule("ACC-CRS-01", "PNL-LIN-01", "PNL-NOT-01")
def test_bin_lp_01_intermediate_values() -> None:
    """BIN-LP-01 (Binance USDⓈ-M liquidation FAQ example via freqtrade test_binance.py @ c9ae5e1):
    BTC notional 3,500,032.45776, MM 71,200.811444, UPNL -56,354.56848; ETH notional
    4,918,775.08122, MM 356,512.508122 (= TMM1 for BTC), UPNL -448,192.88514 (= UPNL1).
    All exact at 8 decimals. The secondary copy's UPNL1 -447,482.100 is a doc typo (sec 1.2)."""
    acct, marks, prof = _bin_lp_01()
    btc_key, eth_key = ("BTCUSDT", "BOTH"), ("ETHUSDT", "BOTH")
    btc, eth = acct.positions[btc_key], acct.positions[eth_key]
    assert (
        format_units(notional(btc.size, marks["BTCUSDT"], prof.market("BTCUSDT"), SC), 8) == "3500032.45776"
    )
    assert (
        format_units(notional(eth.size, marks["ETHUSDT"], prof.market("ETHUSDT"), SC), 8) == "4918775.08122"
    )
    r_btc = position_requirement("BTCUSDT", btc, marks, prof)
    r_eth = position_requirement("ETHUSDT", eth, marks, prof)
    assert format_units(r_btc.maintenance, 8) == "71200.811444"
    assert format_units(r_eth.maintenance, 8) == "356512.508122"
    assert format_units(position_upnl("BTCUSDT", btc, marks, prof), 8) == "-56354.56848"
    assert format_units(position_upnl("ETHUSDT", eth, marks, prof), 8) == "-448192.88514"
    eq = equity(acct, marks, prof)
    assert format_units(eq, 8) == "1030895.55638"  # WB + both UPNLs
    req = requirement(acct, marks, prof)
    assert req.maintenance == r_btc.maintenance + r_eth.maintenance
    assert not liquidatable(acct, marks, prof)


@pytest.mark.rule("ACC-CRS-01", "PNL-NOT-01", "ACC-LIQ-01")
def test_bin_lp_01_with_bundled_binance_brackets() -> None:
    """BIN-LP-01 with the bundled binance-usdm bracket tables: the FAQ example uses the 2021
    BTCUSDT table (market ``BTCUSDT-2021``: 1M-10M bracket 2.5% / cum 16,300) and the 2021
    ETHUSDT table (2M-5M bracket 10% / cum 135,365); same MM and UPNL figures."""
    p = load_profile("binance-usdm")
    if "ETHUSDT" not in p.markets or "BTCUSDT-2021" not in p.markets:
        pytest.skip("binance-usdm profile does not ship the 2021 BTCUSDT/ETHUSDT brackets")
    acct0, marks0, _ = _bin_lp_01()
    btc, eth = acct0.positions[("BTCUSDT", "BOTH")], acct0.positions[("ETHUSDT", "BOTH")]
    acct = attrs.evolve(acct0, positions={("BTCUSDT-2021", "BOTH"): btc, ("ETHUSDT", "BOTH"): eth})
    marks = {"BTCUSDT-2021": marks0["BTCUSDT"], "ETHUSDT": marks0["ETHUSDT"]}
    assert format_units(position_requirement("BTCUSDT-2021", btc, marks, p).maintenance, 8) == "71200.811444"
    assert format_units(position_requirement("ETHUSDT", eth, marks, p).maintenance, 8) == "356512.508122"
    assert format_units(position_upnl("ETHUSDT", eth, marks, p), 8) == "-448192.88514"
    assert format_units(equity(acct, marks, p), 8) == "1030895.55638"
    assert format_units(requirement(acct, marks, p).maintenance, 8) == "427713.319566"
    assert not liquidatable(acct, marks, p)


@pytest.mark.rule("ACC-ISO-01", "ACC-CRS-01")
def test_isolated_position_is_its_own_account() -> None:
    """ACC-ISO-01: an isolated position's equity is its margin plus its uPnL; cross equity and
    requirement ignore it. Bybit BYB-LP-01 figures: 1 BTC long @ 20,000, 50x: IM 400, MM 100."""
    flat = _lin(FlatMargin(mmr=Rate(500_000), imr=Rate(2_000_000)))
    prof = _profile({"BTCUSDT": flat})
    key = ("BTCUSDT", "BOTH")
    iso = _pos("1", "20000", flat, leverage=50, isolated=True, isolated_margin=_m("400"))
    acct = Account(id="a", collateral=_m("1000"), positions={key: iso})
    marks = {"BTCUSDT": parse_units("19800", 2)}
    assert isolated_equity(acct, key, marks, prof) == _m("200")
    r = isolated_requirement(acct, key, marks, prof)
    assert (r.initial, r.maintenance) == (_m("396"), _m("99"))  # at mark 19,800, 50x
    assert equity(acct, marks, prof) == _m("1000")
    assert requirement(acct, marks, prof) == Requirement(0, 0)
    assert not isolated_liquidatable(acct, key, marks, prof)
    low = {"BTCUSDT": parse_units("19699", 2)}  # equity 400 - 301 = 99 >= MM 98.495: not liquidatable
    assert not isolated_liquidatable(acct, key, low, prof)
    lower = {"BTCUSDT": parse_units("19690", 2)}  # equity 90 < MM 98.45
    assert isolated_liquidatable(acct, key, lower, prof)
    assert liquidatable_keys(acct, lower, prof) == [key]
    assert not liquidatable(acct, lower, prof)


@pytest.mark.rule("ACC-HDG-01")
def test_slots_one_way_and_hedge() -> None:
    """ACC-HDG-01: one-way accounts use BOTH; hedge-mode accounts LONG (size >= 0) and SHORT."""
    flat = _lin(FlatMargin(mmr=Rate(500_000), imr=Rate(1_000_000)))
    long_ = _pos("1", "100", flat)
    short = _pos("-2", "110", flat)
    hedge = Account(id="h", hedge_mode=True, positions={("X", "LONG"): long_, ("X", "SHORT"): short})
    assert slot_errors(hedge) == []
    assert slot_for(hedge, +1) == "LONG" and slot_for(hedge, -1) == "SHORT"
    one_way = Account(id="o", positions={("X", "BOTH"): long_})
    assert slot_errors(one_way) == [] and slot_for(one_way, -1) == "BOTH"
    bad = Account(id="b", hedge_mode=True, positions={("X", "LONG"): short, ("Y", "BOTH"): long_})
    msgs = dict(slot_errors(bad))
    assert "cannot hold a short" in msgs[("X", "LONG")] and "LONG and SHORT" in msgs[("Y", "BOTH")]
    assert slot_errors(Account(id="c", positions={("X", "LONG"): long_}))[0][1].startswith("a one-way")
    assert "unknown slot" in slot_errors(Account(id="d", positions={("X", "UP"): long_}))[0][1]
    assert (
        "SHORT slot" in slot_errors(Account(id="e", hedge_mode=True, positions={("X", "SHORT"): long_}))[0][1]
    )
    # both hedge slots are margined separately and both count in cross equity
    prof = _profile({"X": flat})
    marks = {"X": parse_units("105", 2)}
    assert equity(hedge, marks, prof) == _m("5") + _m("10")
    assert requirement(hedge, marks, prof).maintenance == _m("0.525") + _m("1.05")


@pytest.mark.rule("ACC-LIQ-01")
@pytest.mark.parametrize(
    ("trigger", "eq", "mm", "expected"),
    [
        (Trigger.EQUITY_LT_MM, 10, 10, False),
        (Trigger.EQUITY_LT_MM, 9, 10, True),
        (Trigger.EQUITY_LE_MM, 10, 10, True),
        (Trigger.EQUITY_LE_MM, 0, 0, False),
        (Trigger.EQUITY_LE_MM, 11, 10, False),
        (Trigger.MM_POSITIVE_GT_EQUITY, 10, 10, False),
        (Trigger.MM_POSITIVE_GT_EQUITY, -5, 0, False),
        (Trigger.MM_POSITIVE_GT_EQUITY, 9, 10, True),
    ],
)
def test_liquidation_predicates(trigger: Trigger, eq: int, mm: int, expected: bool) -> None:
    """ACC-LIQ-01: Hyperliquid E < MM; Binance/OKX E <= MM (MM > 0); dYdX MMR > 0 and MMR > NC
    (a negative-NC account without positions is not liquidatable in dYdX)."""
    assert bool(is_liquidatable(eq, mm, trigger)) is expected


@pytest.mark.rule("ACC-LIQ-01")
def test_liquidation_predicate_on_z3() -> None:
    """ACC-LIQ-01 runs on Z3 terms: E <= MM with MM > 0 is never true for E > MM."""
    import z3

    e, mm = z3.Ints("e mm")
    s = z3.Solver()
    s.add(e > mm, is_liquidatable(e, mm, Trigger.EQUITY_LE_MM))
    assert s.check() == z3.unsat


@pytest.mark.rule("ACC-WDR-01")
def test_transfer_margin_hyperliquid_ten_percent() -> None:
    """ACC-WDR-01 (Hyperliquid margining): transfer requirement = max(IM, 10% of position value).
    1 BTC @ 100,000 at 20x: IM 5,000 < 10% x 100,000 = 10,000, so 10,000 is kept back."""
    p = load_profile("hyperliquid")
    acc = p.mechanism("accounting")
    assert acc.transfer_min_rate == 10_000_000
    key = ("BTC", "BOTH")
    market = p.market("BTC")
    size = parse_units("1", p.scales.size_decimals)
    px = parse_units("100000", p.scales.price_decimals)
    pos = Position(size=size, entry_value=entry_value_at(size, px, market, p.scales), leverage=20)
    acct = Account(id="hl", collateral=parse_units("25000", 6), positions={key: pos})
    marks = {"BTC": px}
    im = requirement(acct, marks, p).initial
    assert im <= parse_units("10000", 6)
    assert available_for_withdrawal(acct, marks, p) == parse_units("15000", 6)
    # default rule (rate 0): equity - IM
    assert transfer_requirement(5, 100, ExactAccounting()) == 5
    assert transfer_requirement(5, 100, ExactAccounting(transfer_min_rate=Rate(10_000_000))) == 10
    poor = attrs.evolve(acct, collateral=parse_units("5000", 6))
    assert available_for_withdrawal(poor, marks, p) == 0


@pytest.mark.rule("ACC-CRS-01", "ACC-LIQ-01")
@given(st.integers(-(10**6), 10**6), st.integers(1, 10**6), st.integers(1, 10**5))
def test_cross_equity_is_collateral_plus_upnl(coll: int, mark: int, size: int) -> None:
    """Cross equity moves one-for-one with the mark for a linear long of size 1 unit price;
    the account is liquidatable (E < MM) exactly when collateral + uPnL < MM."""
    flat = _lin(FlatMargin(mmr=Rate(500_000), imr=Rate(1_000_000)))
    prof = _profile({"X": flat})
    pos = Position(size=size, entry_value=size * 1000)
    acct = Account(id="p", collateral=coll, positions={("X", "BOTH"): pos})
    marks = {"X": mark}
    upnl = (size * mark - size * 1000) * 1000  # 10^-(3+2) -> 10^-8
    assert equity(acct, marks, prof) == coll + upnl
    mm = requirement(acct, marks, prof).maintenance
    assert liquidatable(acct, marks, prof) == (coll + upnl < mm)


@pytest.mark.rule("ACC-CRS-01")
def test_missing_mark_and_flat_positions() -> None:
    """A position without a mark is an error; a flat position needs no margin."""
    flat = _lin(FlatMargin(mmr=Rate(500_000), imr=Rate(1_000_000)))
    prof = _profile({"X": flat})
    acct = Account(id="m", positions={("X", "BOTH"): Position(size=1, entry_value=100)})
    with pytest.raises(KeyError, match="no mark price for X"):
        equity(acct, {}, prof)
    assert position_requirement("X", Position(), {}, prof) == Requirement(0, 0)
