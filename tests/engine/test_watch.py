"""The liquidation index (LIQ-IDX-01): bands are safe, crossings are found, hand-computed bands.

Safety is the property that matters: for any price strictly inside an account's band, none of
its units is liquidatable. Checked on random cross (two markets) and isolated accounts on a
linear profile (binance-usdm brackets) and an inverse one (bitmex-xbtusd).
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from perpspec.account import Account
from perpspec.engine.common import oi_notional
from perpspec.engine.slices import triggered, unit_view
from perpspec.engine.watch import LiquidationIndex, account_bands
from perpspec.position import Position, apply_fill
from perpspec.profiles import load_profile
from perpspec.state import Exchange, initial_exchange, market_with

BIN = load_profile("binance-usdm")
BMX = load_profile("bitmex-xbtusd")


def _exchange(profile, acct: Account, prices: dict[str, int]) -> Exchange:  # type: ignore[no-untyped-def]
    ex = initial_exchange(profile)
    markets = {s: market_with(m, mark=prices[s]) if s in prices else m for s, m in ex.markets.items()}
    return attrs.evolve(ex, markets=markets, accounts={acct.id: acct}, holders=None)


def _position(profile, sym: str, size: int, entry: int, isolated_margin: int | None = None) -> Position:  # type: ignore[no-untyped-def]
    spec = profile.markets[sym]
    pos, _ = apply_fill(Position(), size, entry, spec, profile.scales, profile.accounting_model)
    if isolated_margin is not None:
        pos = attrs.evolve(pos, isolated=True, isolated_margin=isolated_margin)
    return pos


def _liquidatable_somewhere(ex: Exchange, acct: Account) -> bool:
    marks = ex.marks()
    keys = [None] + [k for k, p in acct.positions.items() if p.isolated and p.size]
    return any(triggered(ex, unit_view(ex, acct, k, marks)) for k in keys)


@pytest.mark.rule("LIQ-IDX-01")
def test_a_hand_computed_linear_band() -> None:
    # 1 BTC long at 20,000 with 1,000 USDT: C = 1,000, MM = 0.4% x 20,000 = 80 at P = 20,000;
    # S = 920 USDT - 8 money units (allowance, one market) = 91,999,999,992; N = 20,000 USDT =
    # 2e12. A long: down is adverse with K = 1, delta = ceil(S P / N) = ceil(91,999.999992) =
    # 92,000 price units (920 USDT); up with K = 2, ceil(S P / (2 N)) = 46,000 (460 USDT)
    pos = _position(BIN, "BTCUSDT", 1000, 2_000_000)
    acct = Account("a", 100_000_000_000, {("BTCUSDT", "BOTH"): pos})
    ex = _exchange(BIN, acct, {"BTCUSDT": 2_000_000})
    marks = ex.marks()
    assert account_bands(ex, acct, marks, oi_notional(ex, marks)) == (
        ("BTCUSDT", 2_000_000 - 92_000, 2_000_000 + 46_000),
    )
    idx = LiquidationIndex.build(ex)
    assert idx.crossed("BTCUSDT", 2_000_000 - 91_999) == set()
    assert idx.crossed("BTCUSDT", 2_000_000 - 92_000) == {"a"}
    assert idx.crossed("BTCUSDT", 2_000_000 - 99_000) == set()  # consumed until re-banded


@pytest.mark.rule("LIQ-IDX-01")
def test_an_account_without_slack_is_watched() -> None:
    pos = _position(BIN, "BTCUSDT", 1000, 2_000_000)
    acct = Account("a", 8_000_000_000, {("BTCUSDT", "BOTH"): pos})  # C = 80 = MM
    ex = _exchange(BIN, acct, {"BTCUSDT": 2_000_000})
    idx = LiquidationIndex.build(ex)
    assert idx.watched == {"a": frozenset({"BTCUSDT"})}
    assert idx.crossed("BTCUSDT", 2_000_001) == {"a"}
    assert idx.crossed("ETHUSDT", 2_000_001) == set()


_MOVES = st.integers(-400_000, 400_000)  # parts per million of the price


@pytest.mark.rule("LIQ-IDX-01")
@settings(max_examples=300, deadline=None)
@given(
    btc=st.integers(-5_000, 5_000).filter(bool),
    eth=st.integers(-50_000, 50_000),
    entry_btc=st.integers(1_500_000, 2_500_000),
    entry_eth=st.integers(100_000, 300_000),
    collateral=st.integers(0, 10**12),
    iso=st.one_of(st.none(), st.integers(0, 10**11)),
    move_btc=_MOVES,
    move_eth=_MOVES,
)
def test_inside_the_band_no_unit_is_liquidatable_linear(
    btc: int,
    eth: int,
    entry_btc: int,
    entry_eth: int,
    collateral: int,
    iso: int | None,
    move_btc: int,
    move_eth: int,
) -> None:
    positions = {("BTCUSDT", "BOTH"): _position(BIN, "BTCUSDT", btc, entry_btc, iso)}
    if eth:
        positions[("ETHUSDT", "BOTH")] = _position(BIN, "ETHUSDT", eth, entry_eth)
    acct = Account("a", collateral, positions)
    prices = {"BTCUSDT": entry_btc, "ETHUSDT": entry_eth}
    _check_safety(BIN, acct, prices, {"BTCUSDT": move_btc, "ETHUSDT": move_eth})


@pytest.mark.rule("LIQ-IDX-01")
@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(-200_000, 200_000).filter(bool),
    entry=st.integers(5_000, 100_000),
    collateral=st.integers(0, 10**9),
    iso=st.one_of(st.none(), st.integers(0, 10**9)),
    move=_MOVES,
)
# a BitMEX short at 500.0 whose margin notional is just under a risk-limit step (400 XBT): one tick
# down and the step's higher rate applies to the whole position (found by this test)
@example(size=-199961, entry=5000, collateral=525900639, iso=None, move=-1)
def test_inside_the_band_no_unit_is_liquidatable_inverse(
    size: int, entry: int, collateral: int, iso: int | None, move: int
) -> None:
    sym = sorted(BMX.markets)[0]
    acct = Account("a", collateral, {(sym, "BOTH"): _position(BMX, sym, size, entry, iso)})
    _check_safety(BMX, acct, {sym: entry}, {sym: move})


def _check_safety(profile, acct: Account, prices: dict[str, int], moves: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    ex = _exchange(profile, acct, prices)
    marks = ex.marks()
    bands = account_bands(ex, acct, marks, oi_notional(ex, marks))
    if bands is None:
        return  # watched: checked on every move
    assert not _liquidatable_somewhere(ex, acct)  # a banded account has positive slack
    by_sym = {s: (lo, hi) for s, lo, hi in bands}
    new = {}
    for sym, p in prices.items():
        q = max(1, p + p * moves.get(sym, 0) // 1_000_000)
        q -= q % profile.markets[sym].tick or 0
        lo, hi = by_sym.get(sym, (0, None))
        q = max(q, lo + 1)
        if hi is not None:
            q = min(q, hi - 1)
        new[sym] = max(q, 1)
    moved = _exchange(profile, acct, new)
    assert not _liquidatable_somewhere(moved, acct), (bands, new)
