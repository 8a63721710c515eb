"""The display liquidation price (the venue's closed form) against the trigger the engine applies.

Rule LIQ-DSP-01: the engine liquidates when ACC-LIQ-01 holds between the unit's collateral and
its maintenance margin at the mark (``perpspec.account.liquidatable`` /
``isolated_liquidatable``, the engine's ``perpspec.engine.slices.triggered``); the closed form
of ``perpspec calc liquidation-price`` is the venue's display figure. Each case puts an account
on a bundled profile, finds the first mark (on the price grid) at which the trigger flips by
bisection, and checks it against the hand-computed trigger price and the display LP.

All cases: one position, first margin tier, entry in price units, margin in 10^-8 coin/USDT.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import pytest
from perpspec.account import Account, isolated_liquidatable, liquidatable
from perpspec.engine import step
from perpspec.engine.slices import triggered, unit_view
from perpspec.events import MarkPrice
from perpspec.liquidation.price import liquidation_price
from perpspec.position import Position
from perpspec.profile import Profile
from perpspec.profiles import load_profile
from perpspec.state import exchange_with, initial_exchange
from perpspec.units import parse_units

D = Fraction


def floor(x: Fraction) -> int:
    return x.numerator // x.denominator


def ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


def sat(x: str) -> int:
    return parse_units(x, 8)


def predicate(profile: Profile, acct: Account, sym: str, isolated: bool) -> Callable[[int], bool]:
    """The account-level trigger at a mark, checked equal to the engine's ``triggered``."""
    ex0 = initial_exchange(profile)

    def at(mark: int) -> bool:
        marks = {sym: mark}
        key = (sym, "BOTH")
        got = (
            isolated_liquidatable(acct, key, marks, profile)
            if isolated
            else liquidatable(acct, marks, profile)
        )
        ex, _ = step(ex0, MarkPrice(0, sym, mark))
        ex = exchange_with(ex, accounts=ex.accounts.set(acct.id, acct), holders=None)
        unit = unit_view(ex, acct, key if isolated else None, ex.marks())
        assert triggered(ex, unit) == got, mark
        return got

    return at


def first_liquidatable(at: Callable[[int], bool], safe: int, deep: int) -> int:
    """The mark nearest to ``safe`` (not liquidatable) at which ``at`` holds (it holds at ``deep``)."""
    assert not at(safe) and at(deep)
    while abs(deep - safe) > 1:
        mid = (safe + deep) // 2
        if at(mid):
            deep = mid
        else:
            safe = mid
    return deep


def display_lp(profile: Profile, acct: Account, sym: str, mark: int) -> tuple[Fraction, int]:
    res = liquidation_price(acct, sym, "BOTH", {sym: mark}, profile)
    assert res.exact is not None and res.rounded is not None
    return res.exact, res.rounded


def check_one_percent(at: Callable[[int], bool], lp: int, side: int) -> None:
    """The issue's probe: at LP*(1 -/+ 1%) on the losing side the trigger holds, on the other not."""
    worse, better = (lp * 99 // 100, lp * 101 // 100) if side > 0 else (lp * 101 // 100, lp * 99 // 100)
    assert at(worse) and not at(better)


@pytest.mark.rule("LIQ-DSP-01", "LIQ-BYB-01", "ACC-LIQ-01")
@pytest.mark.parametrize("side", [1, -1])
def test_bybit_linear_isolated_trigger_is_mmr_times_the_distance_below_the_display_lp(side: int) -> None:
    """bybit-linear BTCUSDT, 1 BTC at 50,000, 50x, isolated margin M = IM = 1,000, MMR 0.5%.

    Display (LIQ-BYB-01, MM at the entry value 250): long 50,000 - 750 = 49,250, short 50,750.
    Trigger (equity < MM at the mark): long 1,000 + (P - 50,000) < 0.005 P, P* = 49,000 / 0.995
    = 49,246.2311...; short 1,000 - (P - 50,000) < 0.005 P, P* = 51,000 / 1.005 = 50,746.2686...
    So LP - P* = MMR * |EP - P*| for both sides: 3.7688 (long) and 3.7313 (short) USDT, 37.7 and
    37.3 ticks of 0.1, 0.0077% and 0.0074% of the LP: the long is liquidated 3.77 below its
    display LP, the short 3.73 before it.
    """
    p = load_profile("bybit-linear")
    q = 1000 * side
    pos = Position(q, q * 5000000, leverage=50, isolated=True, isolated_margin=sat("1000"))
    acct = Account("a", positions={("BTCUSDT", "BOTH"): pos})
    exact, lp = display_lp(p, acct, "BTCUSDT", 5000000)
    assert exact == (49250 if side > 0 else 50750) and lp == exact * 100
    at = predicate(p, acct, "BTCUSDT", True)
    flip = first_liquidatable(at, 5000000, 2500000 if side > 0 else 10000000)
    star = D(49_000_000, 995) if side > 0 else D(51_000_000, 1005)
    # the first liquidatable 0.01 step: at or below P* for the long, at or above it for the short
    assert flip == (floor(star * 100) if side > 0 else ceil(star * 100))
    assert exact - star == D(5, 1000) * abs(50000 - star)
    assert (lp - flip) == (377 if side > 0 else 373)  # in 0.01 units
    check_one_percent(at, lp, side)


@pytest.mark.rule("LIQ-DSP-01", "LIQ-BYB-04", "ACC-LIQ-01")
@pytest.mark.parametrize("side", [1, -1])
def test_bybit_inverse_cross_trigger_against_the_fee_inclusive_display_lp(side: int) -> None:
    """bybit-inverse BTCUSD, BYB-LP-02's account: balance B = 0.5 BTC, 10,000 contracts of 1 USD
    at 8,000 (N/EP = 1.25 BTC), MMR 0.5%, taker f = 0.075%.

    Display (LIQ-BYB-04: MM at the entry value N*MMR/EP plus the fee to close at BP): long
    5,739.083528 (5,739.5 on the 0.5 tick, the published figure), short (mirror) 13,213.305.
    Trigger (equity < MM = N*MMR/P at the mark): long 0.5 + N(1/8,000 - 1/P) < 50/P, P* = 10,050
    / 1.75 = 5,742.857...; short 0.5 - N(1/8,000 - 1/P) < 50/P, P* = 9,950 / 0.75 = 13,266.67.
    The long is liquidated 3.77 USD (0.066%) above its exact display LP, before it; the short
    53.36 USD (0.40%) above it, after it: the display's requirement (0.00625 + the fee) is below
    the mark's MM for the long (0.00871 BTC) and above it for the short (0.00377 BTC).
    """
    p = load_profile("bybit-inverse")
    acct = Account(
        "i", collateral=sat("0.5"), positions={("BTCUSD", "BOTH"): Position(10000 * side, side * sat("1.25"))}
    )
    exact, lp = display_lp(p, acct, "BTCUSD", 80000)
    at = predicate(p, acct, "BTCUSD", False)
    flip = first_liquidatable(at, 80000, 40000 if side > 0 else 200000)
    star = D(10050 * 100, 175) if side > 0 else D(9950 * 100, 75)
    if side > 0:
        assert abs(exact - D("5739.083528")) < D(1, 10**6) and lp == 57395
        assert flip == floor(star * 10) == 57428  # 5,742.8: the first 0.1 step below P*
    else:
        assert abs(exact - D("13213.305041")) < D(1, 10**6) and lp == 132130
        assert flip == ceil(star * 10) == 132667
    gap = star - exact
    assert (gap > D("3.77") and gap < D("3.78")) if side > 0 else (gap > D("53.36") and gap < D("53.37"))
    assert abs(gap / exact) < D(1, 200)  # within 0.5% of the display LP
    check_one_percent(at, lp, side)


@pytest.mark.rule("LIQ-DSP-01", "LIQ-BMX-01", "ACC-LIQ-01", "MRG-BMX-02")
@pytest.mark.parametrize("isolated", [True, False])
@pytest.mark.parametrize("side", [1, -1])
def test_bitmex_trigger_comes_after_the_unverified_display_lp(side: int, isolated: bool) -> None:
    """bitmex-xbtusd XBTUSD, 10,000 contracts at 50,000 (0.2 XBT, 2,000 sat a contract), 10x,
    0.02 XBT of margin (isolated, or the cross wallet).

    Display (LIQ-BMX-01, unverified): BP = 50,000 / (1 + s*0.0985) (IM = 1/10 - 2*0.075%),
    LP = BP + 50,000*(s*0.575%) (MM = 0.5% + taker): long 45,804.11 (45,804.5 up to the 0.5 tick),
    short 55,175.62 (55,175.5 down). Trigger (equity <= R, LIQ-TRG-02 as the profile sets it: R = MM
    + the taker fee to close = ceil(0.40% * V) + ceil(0.075% * V) at the mark, MRG-BMX-02, each
    contract valued at c = round(1e8/P) sat, V = 10,000 c): the long's equity 2,000,000 - 10,000 *
    (c - 2,000) sat reaches R at c = 2,190 (100,000 <= 87,600 + 16,425; at 2,189: 110,000 >
    87,560 + 16,418), i.e. 1e8/P >= 2,189.5, P <= 45,672.53 -> 45,672.5; the short at c = 1,808
    (80,000 <= 72,320 + 13,560; at 1,809: 90,000 > 72,360 + 13,568), P > 1e8/1,808.5 = 55,294.44
    -> 55,294.5. The trigger comes 0.29% (long) and 0.22% (short) after the display LP: the
    display's maintenance rate (0.5% + taker) is above the margin model's 0.40% + taker.
    """
    p = load_profile("bitmex-xbtusd")
    pos = Position(
        10000 * side,
        side * sat("0.2"),
        leverage=10,
        isolated=isolated,
        isolated_margin=sat("0.02") if isolated else 0,
    )
    acct = Account("m", collateral=0 if isolated else sat("0.02"), positions={("XBTUSD", "BOTH"): pos})
    exact, lp = display_lp(p, acct, "XBTUSD", 500000)
    at = predicate(p, acct, "XBTUSD", isolated)
    flip = first_liquidatable(at, 500000, 250000 if side > 0 else 1000000)
    if side > 0:
        assert exact == D(50000 * 10000, 10985) + D(575, 2) and lp == 458045
        assert flip == 456725
        assert D(28, 10000) < (exact - D(flip, 10)) / exact < D(29, 10000)
    else:
        assert exact == D(50000 * 10000, 9015) - D(575, 2) and lp == 551755
        assert flip == 552945
        assert D(21, 10000) < (D(flip, 10) - exact) / exact < D(22, 10000)
    assert not at(lp)  # at its display LP the position is not liquidatable yet
    check_one_percent(at, lp, side)
