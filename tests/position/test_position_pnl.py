"""Position accounting: entry value, realized/unrealized PnL, average entry, reduce and flip.

Published cases reproduced (shared/reference/cex-venues.md sec 9): BMX-PNL-01, BYB-PNL-01,
OKX-PNL-01, BMX-FR-01 (PnL part).
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec.margin import PositionRisk
from perpspec.margin.accounting import AccountingBase, BitmexSatoshiAccounting, ExactAccounting
from perpspec.margin.flat import FlatMargin
from perpspec.numeric import Rounding, div_round, rescale
from perpspec.position import (
    Position,
    accounting_of,
    apply_fill,
    closed_entry,
    entry_price,
    fill_cost,
    notional,
    unrealized_pnl,
    upnl_term,
)
from perpspec.profile import ContractKind, MarketSpec, Scales
from perpspec.profiles import load_profile
from perpspec.quantities import Price, Rate, Size
from perpspec.units import format_units, parse_units

SAT = 10**8
EXACT = ExactAccounting()
BITMEX = BitmexSatoshiAccounting()


def _flat() -> FlatMargin:
    return FlatMargin(mmr=Rate(500_000), imr=Rate(1_000_000))


def _inverse(cv: int, price_decimals: int = 1) -> tuple[MarketSpec, Scales]:
    market = MarketSpec(ContractKind.INVERSE, Price(1), Size(1), _flat(), contract_value=cv)
    return market, Scales(price_decimals=price_decimals, size_decimals=0, money_decimals=8)


def _round_dp(amount: int, decimals: int, to: int) -> str:
    """A money amount rounded half up to ``to`` decimals, as the venue prints it."""
    return format_units(int(rescale(amount, decimals, to, Rounding.HALF_UP)), to)


# --- BMX-PNL-01 -------------------------------------------------------------------------


@pytest.mark.rule("PNL-INV-01", "PNL-RED-01", "PNL-AVG-02")
def test_bmx_pnl_01_bitmex_profile() -> None:
    """BMX-PNL-01 (BitMEX PnL guide, Qenv logic/bitmex.md @ bf999d4): long 1,000 XBTUSD @ 1,000,
    mark 1,250: uPnL 0.20 XBT; sell 500 @ 1,500 realizes (1/1000 - 1/1500) x 500 = 1/6 XBT,
    printed 0.17; the same 500 sold at the mark realizes 0.10 XBT.

    With the profile's bitmex-satoshi accounting the exit costs round(1e8/1500) = 66,667 sat
    per contract, so the realized PnL is 16,666,500 sat (0.166665 XBT, 0.17 printed); the exact
    1/6 XBT is 16,666,666.67 sat.
    """
    p = load_profile("bitmex-xbtusd")
    m, sc, acc = p.market("XBTUSD"), p.scales, accounting_of(p)
    assert isinstance(acc, BitmexSatoshiAccounting)
    px = lambda s: parse_units(s, sc.price_decimals)  # noqa: E731
    pos, r0 = apply_fill(Position(), 1000, px("1000"), m, sc, acc)
    assert r0 == 0 and pos.entry_value == 1 * SAT
    assert unrealized_pnl(pos, px("1250"), m, sc, acc) == 20_000_000  # 0.20 XBT
    after, realized = apply_fill(pos, -500, px("1500"), m, sc, acc)
    assert realized == 16_666_500
    assert _round_dp(realized, 8, 2) == "0.17"
    assert abs(Fraction(realized, SAT) - Fraction(1, 6)) < Fraction(500, SAT)
    assert after.size == 500 and after.entry_value == SAT // 2  # entry price kept
    _, at_mark = apply_fill(pos, -500, px("1250"), m, sc, acc)
    assert at_mark == 10_000_000  # 0.10 XBT


@pytest.mark.rule("PNL-INV-01", "PNL-RED-01", "PNL-AVG-01")
def test_bmx_pnl_01_exact_accounting() -> None:
    """BMX-PNL-01 with exact accounting (one rounding per fill, half up): realized
    16,666,667 sat = 1/6 XBT rounded to the satoshi; printed 0.17."""
    m, sc = _inverse(1)
    pos, _ = apply_fill(Position(), 1000, 10000, m, sc, EXACT)
    _, realized = apply_fill(pos, -500, 15000, m, sc, EXACT)
    assert realized == 16_666_667
    assert realized == div_round(SAT, 6, Rounding.HALF_UP)
    assert _round_dp(realized, 8, 2) == "0.17"
    assert entry_price(pos, m, sc, EXACT) == 10000  # exactly 1,000.0 in price units


# --- BYB-PNL-01 -------------------------------------------------------------------------


@pytest.mark.rule("PNL-INV-01", "PNL-NOT-01", "PNL-RED-01")
def test_byb_pnl_01_inverse_pnl_and_roe() -> None:
    """BYB-PNL-01 (Bybit P&L, help.bybit.com 360027239453): 800 contracts long @ 10,500.
    IM 0.00304762 BTC at 25x and 0.00152381 at 50x; PnL at 12,000 = 0.00952381 BTC = 114.29 USD;
    ROE published 312% / 624%. Exact ROE is 312.5% / 625%; the published figures are the
    ratio of the 8-dp rounded values (3.124998..., 6.249996...) **truncated** to a whole
    percent. We pin that reading (cex-venues.md sec 3.5).
    """
    p = load_profile("bybit-inverse")
    m, sc, acc = p.market("BTCUSD"), p.scales, accounting_of(p)
    px = lambda s: parse_units(s, sc.price_decimals)  # noqa: E731
    n = notional(800, px("10500"), m, sc, acc)
    assert n == 7_619_048  # ceil(800/10500 BTC) in satoshi
    flat = _flat()
    im25 = flat.initial(PositionRisk(size=800, notional=n, leverage=25))
    im50 = flat.initial(PositionRisk(size=800, notional=n, leverage=50))
    assert (format_units(im25, 8), format_units(im50, 8)) == ("0.00304762", "0.00152381")
    pos, _ = apply_fill(Position(leverage=25), 800, px("10500"), m, sc, acc)
    assert unrealized_pnl(pos, px("12000"), m, sc, acc) == 952_381
    flat_pos, realized = apply_fill(pos, -800, px("12000"), m, sc, acc)
    assert flat_pos.size == 0 and flat_pos.entry_value == 0
    assert format_units(realized, 8) == "0.00952381"
    assert abs(Fraction(realized, SAT) - Fraction(1, 105)) < Fraction(1, SAT)  # 800*(1/10500-1/12000)
    usd = Fraction(realized, SAT) * 12000
    assert format_units(int(div_round(usd.numerator * 100, usd.denominator, Rounding.HALF_UP)), 2) == "114.29"
    roe = [int(div_round(realized * 100, im, Rounding.TRUNC)) for im in (im25, im50)]
    assert roe == [312, 624]
    assert [Fraction(1, 105) / (Fraction(800, 10500) / lev) for lev in (25, 50)] == [
        Fraction(25, 8),
        Fraction(25, 4),
    ]


# --- OKX-PNL-01 -------------------------------------------------------------------------


def _okx() -> tuple[MarketSpec, Scales]:
    p = load_profile("okx-swap")
    return p.market("BTC-USDT-SWAP"), p.scales


@pytest.mark.rule("PNL-LIN-01", "PNL-RED-01")
@pytest.mark.parametrize(
    ("size", "entry", "close", "exit_px", "expected"),
    [(200, "5000", 100, "10000", "50"), (-1000, "5000", 800, "10000", "-400")],
)
def test_okx_pnl_01_linear_realized(size: int, entry: str, close: int, exit_px: str, expected: str) -> None:
    """OKX-PNL-01 (OKEx 2020 guide, Qenv logic/okex.md): face value 0.0001 BTC = one size unit
    of the okx-swap profile. Long 200 @ 5,000 close 100 @ 10,000: RPL 50 USDT; short 1,000 @ 5,000
    close 800 @ 10,000: RPL -400 USDT."""
    m, sc = _okx()
    px = lambda s: parse_units(s, sc.price_decimals)  # noqa: E731
    pos, _ = apply_fill(Position(), size, px(entry), m, sc)
    sign = 1 if size > 0 else -1
    after, realized = apply_fill(pos, -sign * close, px(exit_px), m, sc)
    assert format_units(realized, sc.money_decimals) == expected
    assert entry_price(after, m, sc) == px(entry)


@pytest.mark.rule("PNL-LIN-01")
@pytest.mark.parametrize(
    ("size", "entry", "mark", "expected"), [(600, "500", "600", "6"), (-1000, "1000", "500", "50")]
)
def test_okx_pnl_01_linear_unrealized(size: int, entry: str, mark: str, expected: str) -> None:
    """OKX-PNL-01: long 600 @ 500, mark 600: UPL 6 USDT; short 1,000 @ 1,000, mark 500: UPL 50 USDT."""
    m, sc = _okx()
    px = lambda s: parse_units(s, sc.price_decimals)  # noqa: E731
    pos, _ = apply_fill(Position(), size, px(entry), m, sc)
    assert format_units(unrealized_pnl(pos, px(mark), m, sc), sc.money_decimals) == expected


@pytest.mark.rule("PNL-INV-01", "PNL-RED-01")
@pytest.mark.parametrize(
    ("size", "entry", "close", "exit_px", "expected"),
    [(2, "500", 1, "1000", "0.1"), (-10, "500", 8, "1000", "-0.8")],
)
def test_okx_pnl_01_inverse_realized(size: int, entry: str, close: int, exit_px: str, expected: str) -> None:
    """OKX-PNL-01: coin-margined, face value 100 USD. Long 2 @ 500 close 1 @ 1,000: 0.1 BTC;
    short 10 @ 500 close 8 @ 1,000: -0.8 BTC."""
    m, sc = _inverse(100, price_decimals=2)
    px = lambda s: parse_units(s, sc.price_decimals)  # noqa: E731
    pos, _ = apply_fill(Position(), size, px(entry), m, sc)
    sign = 1 if size > 0 else -1
    _, realized = apply_fill(pos, -sign * close, px(exit_px), m, sc)
    assert format_units(realized, 8) == expected


# --- BMX-FR-01 (PnL part) ---------------------------------------------------------------


@pytest.mark.rule("PNL-INV-01", "PNL-AVG-02")
def test_bmx_fr_01_pnl() -> None:
    """BMX-FR-01 (bitmex.com/app/perpetualContractsGuideExamples): long 15,000 XBTUSD @ 750,
    exit 800: entry value 20 XBT, PnL 1.25 XBT. The guide computes exactly; with BitMEX's
    per-contract satoshi rounding (round(1e8/750) = 133,333 sat) the entry value is
    19.99995 XBT and the PnL 1.24995 XBT (which prints as 1.25 at 4 dp). We pin: the exact
    figures come from `exact` accounting, and the satoshi ones from the bitmex profile.
    """
    m, sc = _inverse(1)
    pos, _ = apply_fill(Position(), 15000, 7500, m, sc, EXACT)
    assert pos.entry_value == 20 * SAT
    _, pnl = apply_fill(pos, -15000, 8000, m, sc, EXACT)
    assert pnl == 125_000_000
    bpos, _ = apply_fill(Position(), 15000, 7500, m, sc, BITMEX)
    assert format_units(bpos.entry_value, 8) == "19.99995"
    _, bpnl = apply_fill(bpos, -15000, 8000, m, sc, BITMEX)
    assert format_units(bpnl, 8) == "1.24995"
    assert _round_dp(bpnl, 8, 4) == "1.25"


# --- average entry (PNL-AVG-01/02) ------------------------------------------------------


@pytest.mark.rule("PNL-AVG-02")
def test_bitmex_average_entry_floor_long_round_short() -> None:
    """PNL-AVG-02 (BitMEX support email, Qenv logic/bitmex.md): one contract @ 1,500 (66,667 sat)
    plus one @ 1,000 (100,000 sat) cost 166,667 sat; the average 83,333.5 sat/contract is
    floored for a long (83,333 -> entry 1e8/83,333) and rounded for a short (83,334)."""
    m, sc = _inverse(1)
    long_pos, _ = apply_fill(Position(), 1, 15000, m, sc, BITMEX)
    long_pos, _ = apply_fill(long_pos, 1, 10000, m, sc, BITMEX)
    assert long_pos.entry_value == 166_667
    assert entry_price(long_pos, m, sc, BITMEX) == Fraction(10**9, 83_333)
    short_pos, _ = apply_fill(Position(), -1, 15000, m, sc, BITMEX)
    short_pos, _ = apply_fill(short_pos, -1, 10000, m, sc, BITMEX)
    assert entry_price(short_pos, m, sc, BITMEX) == Fraction(10**9, 83_334)
    # exact accounting: harmonic mean 2 / (1/1500 + 1/1000) = 1200 (per-fill costs rounded)
    ex, _ = apply_fill(Position(), 1, 15000, m, sc, EXACT)
    ex, _ = apply_fill(ex, 1, 10000, m, sc, EXACT)
    assert ex.entry_value == 166_667
    assert entry_price(ex, m, sc, EXACT) == Fraction(2 * 10**9, 166_667)


@pytest.mark.rule("PNL-AVG-01", "PNL-LIN-01")
def test_linear_average_entry_is_exact_weighted_mean() -> None:
    """PNL-AVG-01: buy 1 @ 100.00 and 2 @ 101.00 -> entry (100 + 202)/3 = 100.666... exactly."""
    m, sc = _okx()
    pos, _ = apply_fill(Position(), 10000, 10000, m, sc)
    pos, _ = apply_fill(pos, 20000, 10100, m, sc)
    assert entry_price(pos, m, sc) == Fraction(30200, 3)
    with pytest.raises(ValueError):
        entry_price(Position(), m, sc)


# --- reduce rounding (PNL-RED-01) -------------------------------------------------------


@pytest.mark.rule("PNL-RED-01")
def test_reduce_rounds_realized_down_and_keeps_remainder() -> None:
    """PNL-RED-01: long 2 @ 100 and 101 (E = 201 in size*price units) reduced by 1: E_c is the
    ceiling of 100.5 (linear), so realized is rounded down and E keeps 100."""
    m = MarketSpec(ContractKind.LINEAR, Price(1), Size(1), _flat())
    sc = Scales(price_decimals=0, size_decimals=0, money_decimals=0)
    pos, _ = apply_fill(Position(), 1, 100, m, sc)
    pos, _ = apply_fill(pos, 1, 101, m, sc)
    assert closed_entry(pos.entry_value, pos.size, 1, m) == 101
    after, realized = apply_fill(pos, -1, 110, m, sc)
    assert realized == 9 and after.entry_value == 100
    # short side: E = -303 for size -3; closing -2 -> E_c = ceil(-202) = -202 (exact here)
    short, _ = apply_fill(Position(), -2, 100, m, sc)
    short, _ = apply_fill(short, -1, 103, m, sc)  # E = -303, size -3
    assert closed_entry(short.entry_value, short.size, -2, m) == -202
    # E = -201 for size -2, closing -1: exact -100.5; realized = 100.5 - P rounded down -> E_c = -100
    assert closed_entry(-201, -2, -1, m) == -100
    mi, _sci = _inverse(1, price_decimals=0)
    assert closed_entry(7, 2, 1, mi) == 3  # inverse: floor(3.5)
    assert closed_entry(-7, -2, -1, mi) == -4  # inverse short: floor(-3.5)


@pytest.mark.rule("PNL-FLIP-01")
def test_flip_closes_then_opens_at_fill_price() -> None:
    """PNL-FLIP-01: long 1 @ 100 sold 3 @ 120 -> realizes 20 and leaves short 2 @ 120."""
    m = MarketSpec(ContractKind.LINEAR, Price(1), Size(1), _flat())
    sc = Scales(price_decimals=0, size_decimals=0, money_decimals=0)
    pos, _ = apply_fill(Position(leverage=5), 1, 100, m, sc)
    flipped, realized = apply_fill(pos, -3, 120, m, sc)
    assert realized == 20
    assert flipped == Position(size=-2, entry_value=-240, leverage=5)
    assert entry_price(flipped, m, sc) == 120
    assert apply_fill(pos, 0, 120, m, sc) == (pos, 0)
    with pytest.raises(ValueError):
        fill_cost(1, 0, m, sc)


@pytest.mark.rule("PNL-NOT-01", "UNT-KND-01")
def test_notional_rounding_and_upnl_term_on_z3() -> None:
    """PNL-NOT-01, UNT-KND-01: inverse notional |q| * cv / P: COIN-M 100 BTCUSD contracts (100 USD
    each) at 25,000 = 0.4 BTC exactly (Binance COIN-M FAQ); inverse notional rounds up; linear
    notional |q| * P; the uPnL formula runs on Z3 terms."""
    m, sc = _inverse(100)
    assert notional(100, 250000, m, sc) == 40_000_000
    assert notional(1, 30000, m, sc) == 3_333_334  # 100/3000 BTC = 3,333,333.33 sat -> ceil
    assert notional(-1, 30000, m, sc, BITMEX) == 3_333_333  # per contract, half up
    lin, lsc = _okx()
    assert notional(-25, 1234567, lin, lsc) == 25 * 1234567 * 100  # 0.0025 BTC x 12,345.67 USDT
    import z3

    mark = z3.Int("mark")
    term = upnl_term(
        3, 300, mark, MarketSpec(ContractKind.LINEAR, Price(1), Size(1), _flat()), Scales(0, 0, 0)
    )
    s = z3.Solver()
    s.add(mark == 150, term != 150)
    assert s.check() == z3.unsat


# --- properties -------------------------------------------------------------------------

LIN = MarketSpec(ContractKind.LINEAR, Price(1), Size(1), None)
LIN_SCALES = Scales(price_decimals=2, size_decimals=3, money_decimals=8)  # binance-usdm: exact
INV, INV_SCALES = _inverse(1)

fills = st.lists(st.tuples(st.integers(-50, 50).filter(bool), st.integers(1, 10**6)), min_size=1, max_size=12)


def _run(
    market: MarketSpec, scales: Scales, seq: list[tuple[int, int]], acc: AccountingBase = EXACT
) -> tuple[Position, int]:
    pos, total = Position(), 0
    for q, p in seq:
        pos, r = apply_fill(pos, q, p, market, scales, acc)
        total += r
    return pos, total


@pytest.mark.rule("PNL-LIN-01", "PNL-RED-01", "PNL-FLIP-01")
@settings(max_examples=200, deadline=None)
@given(fills, st.integers(1, 10**6))
def test_linear_total_pnl_is_path_independent(seq: list[tuple[int, int]], mark: int) -> None:
    """Realized + unrealized PnL at a mark equals the exact PnL of the trades marked there:
    rescale(size_final * mark - sum q_i p_i) (exact when s + p <= m)."""
    pos, realized = _run(LIN, LIN_SCALES, seq)
    trade_pnl = pos.size * mark - sum(q * p for q, p in seq)
    assert realized + unrealized_pnl(pos, mark, LIN, LIN_SCALES) == rescale(trade_pnl, 5, 8, Rounding.FLOOR)
    closed, r_close = apply_fill(pos, -pos.size, mark, LIN, LIN_SCALES)
    assert closed.size == 0 and closed.entry_value == 0
    assert realized + r_close == rescale(trade_pnl, 5, 8, Rounding.FLOOR)


@pytest.mark.rule("PNL-INV-01", "PNL-AVG-02", "PNL-RED-01")
@settings(max_examples=200, deadline=None)
@given(fills, st.integers(1, 10**6))
def test_inverse_satoshi_total_pnl_is_path_independent(seq: list[tuple[int, int]], mark: int) -> None:
    """With per-contract costs F(q, p) = q * round(1e9/p) (linear in q, so splitting a flip
    changes nothing), realized + unrealized = sum F(q_i, p_i) - F(size, mark) exactly."""
    pos, realized = _run(INV, INV_SCALES, seq, BITMEX)
    unit = lambda p: div_round(10**9, p, Rounding.HALF_UP)  # noqa: E731
    expected = sum(q * unit(p) for q, p in seq) - pos.size * unit(mark)
    assert realized + unrealized_pnl(pos, mark, INV, INV_SCALES, BITMEX) == expected


@pytest.mark.rule("PNL-FLIP-01")
@settings(max_examples=200, deadline=None)
@given(fills, st.integers(-80, 80).filter(bool), st.integers(1, 10**6), st.booleans())
def test_flip_equals_close_then_open(seq: list[tuple[int, int]], q: int, price: int, inverse: bool) -> None:
    """Any fill equals: close min(|q|, |size|) of the position, then open the rest."""
    market, scales = (INV, INV_SCALES) if inverse else (LIN, LIN_SCALES)
    pos, _ = _run(market, scales, seq)
    direct, r = apply_fill(pos, q, price, market, scales)
    if pos.size != 0 and (pos.size > 0) != (q > 0) and abs(q) > abs(pos.size):
        mid, r1 = apply_fill(pos, -pos.size, price, market, scales)
        assert mid.size == 0 and mid.entry_value == 0
        end, r2 = apply_fill(mid, q + pos.size, price, market, scales)
        assert direct == end
        assert r2 == 0 and end.entry_value == fill_cost(q + pos.size, price, market, scales)
        # The fill's cost is rounded once (PNL-FLIP-01): closed part = F(q) - F(opened).
        closed_cost = fill_cost(q, price, market, scales) - end.entry_value
        sigma = 1 if inverse else -1
        if inverse:
            assert r == sigma * (pos.entry_value + closed_cost)
            assert abs(r - (r1 + r2)) <= 1  # separate roundings differ by at most one unit
        else:
            assert r == r1 + r2  # linear costs are exact: both readings agree
    assert direct.size == pos.size + q
    assert attrs.evolve(direct, size=0, entry_value=0) == attrs.evolve(pos, size=0, entry_value=0)


@pytest.mark.rule("PNL-RED-01", "PNL-AVG-01")
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**4), st.integers(1, 10**6), st.integers(1, 10**4))
def test_reduce_keeps_entry_price_when_divisible(size: int, price: int, part: int) -> None:
    """A single-price position reduced by any part keeps exactly its entry price."""
    part = min(part, size)
    pos, _ = apply_fill(Position(), size, price, LIN, LIN_SCALES)
    after, _ = apply_fill(pos, -part, price + 7, LIN, LIN_SCALES)
    if after.size:
        assert entry_price(after, LIN, LIN_SCALES) == price
