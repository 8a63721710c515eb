"""Mark price variants and the exact moving averages (spec/pricing.md)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec.numeric import Rounding
from perpspec.pricing.averages import (
    EMA_SCALE,
    Ema,
    MovingAverage,
    ema_update,
    ema_value,
    ma_update,
    ma_value,
)
from perpspec.pricing.mark import (
    BinanceMedian3,
    BitmexFairPrice,
    HyperliquidMedian3,
    IndexBasisMa,
    LastPriceMark,
    MarkInputs,
    OracleMark,
    funding_basis_price,
    median3,
    weighted_median,
)
from perpspec.profiles import load_profile
from perpspec.quantities import Price, Rate
from perpspec.units import format_units, parse_units

FOUR_HOURS, EIGHT_HOURS = 4 * 3600, 8 * 3600


def bin_mp_01_inputs(price_decimals: int, last: str | None = None) -> MarkInputs:
    return MarkInputs(
        index=Price(parse_units("10000", price_decimals)),
        last_price=None if last is None else Price(parse_units(last, price_decimals)),
        funding_rate=Rate(parse_units("0.03%", 8)),
        seconds_to_funding=FOUR_HOURS,
        funding_interval_s=EIGHT_HOURS,
    )


@pytest.mark.rule("PRC-MRK-01")
def test_bin_mp_01_price1_exact() -> None:
    """BIN-MP-01 (Binance FAQ 2020, Qenv logic/binance.md; cex-venues.md sec 1.4 and 9):
    index 10,000, last funding 0.03%, 4 h of 8 h to funding -> basis 0.015%, mark 10,001.5.

    Reproduced exactly (no rounding needed) through Price1 of the binance-usdm profile.
    """
    model = load_profile("binance-usdm").mechanism("mark")
    assert isinstance(model, BinanceMedian3)
    inp = bin_mp_01_inputs(2)
    basis_rate = funding_basis_price(10**8, inp.funding_rate, FOUR_HOURS, EIGHT_HOURS, Rounding.TRUNC) - 10**8
    assert format_units(basis_rate, 8) == "0.00015"  # 0.015%
    p1 = model.price1(inp)
    assert p1 == 1_000_150 and format_units(p1, 2) == "10001.5"
    # Exact: I*F*t/T = 1_000_000 * 30_000 * 14_400 / (10^8 * 28_800) = 150, remainder 0.
    assert (1_000_000 * 30_000 * 14_400) % (10**8 * 28_800) == 0


@pytest.mark.rule("PRC-MRK-01", "PRC-EMA-01")
def test_binance_median_of_three() -> None:
    """Price1 = 10,001.50; basis samples 0.40, 0.60 (mid - index) -> MA 0.50, Price2 = 10,000.50."""
    model = BinanceMedian3(basis_points=30, sample_interval_s=1, rounding=Rounding.HALF_UP)
    state = model.initial_state()
    for t, (bid, ask) in enumerate([(1_000_030, 1_000_050), (1_000_050, 1_000_070)]):
        quote = MarkInputs(index=Price(1_000_000), best_bid=Price(bid), best_ask=Price(ask))
        state = model.observe(state, t, quote)
    assert model.price2(state) == 50
    cases = {"10002": 1_000_150, "10001": 1_000_100, "9999": 1_000_050}
    for last, expected in cases.items():
        assert model.mark(state, bin_mp_01_inputs(2, last)) == expected
    # Missing inputs: no mark, never 0.
    assert model.mark(model.initial_state(), bin_mp_01_inputs(2, "10002")) is None
    assert model.mark(state, bin_mp_01_inputs(2)) is None
    assert model.mark(state, MarkInputs(last_price=Price(1))) is None


@pytest.mark.rule("PRC-MRK-01")
def test_price1_rounding_is_named() -> None:
    # Index 10,000.01: I*F*t/T = 150.00015 price units -> 150 (half-up) -> 10,001.51.
    inp = MarkInputs(index=Price(1_000_001), funding_rate=Rate(30_000), seconds_to_funding=FOUR_HOURS)
    assert BinanceMedian3().price1(inp) == 1_000_151
    # Negative funding: -150.00015 -> -150 (half-up is away from zero only at ties).
    neg = MarkInputs(index=Price(1_000_001), funding_rate=Rate(-30_000), seconds_to_funding=FOUR_HOURS)
    assert BinanceMedian3().price1(neg) == 999_851


@pytest.mark.rule("PRC-MRK-01", "PRC-MRK-03")
def test_median3_all_orders() -> None:
    for a, b, c in [(1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1)]:
        assert median3(a, b, c) == 2
    assert median3(5, 5, 1) == 5 and median3(1, 5, 5) == 5 and median3(7, 7, 7) == 7


@pytest.mark.rule("PRC-MRK-01")
@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 10**9),
    st.integers(-3_000_000, 3_000_000),
    st.integers(0, EIGHT_HOURS),
    st.lists(st.tuples(st.integers(-10**6, 10**6), st.integers(0, 10**6)), min_size=1, max_size=40),
    st.integers(1, 2 * 10**9),
)
def test_binance_mark_lies_between_its_three_inputs(
    index: int, rate: int, t: int, quotes: list[tuple[int, int]], last: int
) -> None:
    model = BinanceMedian3()
    state = model.initial_state()
    for k, (off, spread) in enumerate(quotes):
        bid = index + off
        quote = MarkInputs(index=Price(index), best_bid=Price(bid), best_ask=Price(bid + spread))
        state = model.observe(state, k, quote)
    inp = MarkInputs(
        index=Price(index), last_price=Price(last), funding_rate=Rate(rate), seconds_to_funding=t
    )
    p1 = model.price1(inp)
    basis = model.price2(state)
    assert p1 is not None and basis is not None
    three = [p1, index + basis, last]
    mark = model.mark(state, inp)
    assert mark is not None and min(three) <= mark <= max(three)
    assert mark in three


@pytest.mark.rule("PRC-MRK-02")
def test_bitmex_fair_price() -> None:
    """Fair = Index * (1 + F * t/T): the BIN-MP-01 numbers at BitMEX scales (0.1) -> 10,001.5."""
    model = load_profile("bitmex-xbtusd").mechanism("mark")
    assert isinstance(model, BitmexFairPrice)
    state = model.initial_state()
    assert model.mark(state, bin_mp_01_inputs(1)) == 100_015
    # At funding time the basis has decayed to zero: mark = index.
    inp = MarkInputs(index=Price(100_000), funding_rate=Rate(30_000), seconds_to_funding=0)
    assert model.mark(state, inp) == 100_000
    assert model.mark(state, MarkInputs()) is None
    assert model.observe(state, 0, inp) is state


@pytest.mark.rule("PRC-MRK-03", "PRC-EMA-01")
def test_hyperliquid_median_of_three() -> None:
    """Whole-dollar price units. One sample: bid 101, ask 103, oracle 100 -> EMA(mid -
    oracle) = 2, p1 = 102; p2 = median(101, 103, last 105) = 103; CEX marks 99, 104, 110
    (equal weights) -> lower weighted median 104. Mark = median(102, 103, 104) = 103.
    Without CEX marks: the 30 s mid EMA (102) is added: median(102, 103, 102) = 102."""
    model = load_profile("hyperliquid").mechanism("mark")
    assert isinstance(model, HyperliquidMedian3)
    quote = MarkInputs(index=Price(100), best_bid=Price(101), best_ask=Price(103), last_price=Price(105))
    state = model.observe(model.initial_state(), 0, quote)
    cex = ((Price(99), 1), (Price(104), 1), (Price(110), 1))
    full = attrs.evolve(quote, cex_marks=cex)
    assert model.components(state, full) == [102, 103, 104]
    assert model.mark(state, full) == 103
    assert model.components(state, quote) == [102, 103, 102]
    assert model.mark(state, quote) == 102
    # Readings: two values left -> their mean (half-even); one -> itself; none -> no mark.
    only_cex = MarkInputs(cex_marks=cex)
    assert model.mark(model.initial_state(), only_cex) == 104
    two = MarkInputs(index=Price(100), cex_marks=((Price(105), 1),))
    assert model.mark(state, two) == 102  # p1 = 102, CEX 105, plus the mid EMA 102 -> 102
    assert model.mark(model.initial_state(), MarkInputs()) is None


@pytest.mark.rule("PRC-MRK-03")
def test_weighted_median() -> None:
    assert weighted_median([(10, 1), (20, 1), (30, 1)]) == 20
    assert weighted_median([(10, 1), (20, 1)]) == 10  # lower median at an exact half
    assert weighted_median([(10, 1), (20, 5), (30, 1)]) == 20
    assert weighted_median([(30, 6), (10, 1), (20, 1)]) == 30
    assert weighted_median([(10, 0)]) is None and weighted_median([]) is None
    with pytest.raises(ValueError):
        weighted_median([(10, -1)])


@pytest.mark.rule("PRC-MRK-04")
def test_oracle_and_last_price_marks() -> None:
    for name in ("dydx-v4", "drift-v2"):
        model = load_profile(name).mechanism("mark")
        assert isinstance(model, OracleMark)
        st0 = model.initial_state()
        assert model.mark(st0, MarkInputs(index=Price(50_000_000_000), last_price=Price(1))) == 50_000_000_000
        assert model.mark(st0, MarkInputs(last_price=Price(1))) is None
        assert model.observe(st0, 0, MarkInputs()) is st0
    last = LastPriceMark()
    assert last.mark(last.initial_state(), MarkInputs(index=Price(5), last_price=Price(7))) == 7


@pytest.mark.rule("PRC-MRK-05", "PRC-EMA-01")
def test_index_basis_ma() -> None:
    for name in ("okx-swap", "bybit-linear", "bybit-inverse", "deribit"):
        model = load_profile(name).mechanism("mark")
        assert isinstance(model, IndexBasisMa) and model.reading
    model = IndexBasisMa(basis_points=2)
    state = model.initial_state()
    assert model.mark(state, MarkInputs(index=Price(1000))) is None
    for t, (bid, ask) in enumerate([(999, 1003), (1001, 1003), (1003, 1006)]):
        quote = MarkInputs(index=Price(1000), best_bid=Price(bid), best_ask=Price(ask))
        state = model.observe(state, t, quote)
    # Last two doubled bases: 4 and 9 -> MA 13/4 = 3.25 -> 3 (half-even).
    assert model.mark(state, MarkInputs(index=Price(1000))) == 1003


@pytest.mark.rule("PRC-EMA-01")
def test_sma_window() -> None:
    ma = MovingAverage(window=3)
    assert ma_value(ma, Rounding.HALF_EVEN) is None
    for x in (1, 2, 3, 4):
        ma = ma_update(ma, x)
    assert ma.samples == (2, 3, 4) and ma_value(ma, Rounding.HALF_EVEN) == 3
    halves = ma_update(ma_update(MovingAverage(window=30, scale=2), 3), 4)  # 1.5 and 2
    assert ma_value(halves, Rounding.HALF_UP) == 2 and ma_value(halves, Rounding.FLOOR) == 1


@pytest.mark.rule("PRC-EMA-01")
def test_ema_hand_computed() -> None:
    """tau = 1 s. 100 at t=0 (weight 1 s), 200 at t=1: the old weight decays to 1/2, the
    new sample weighs 1 s: EMA = (100*1/2 + 200*1) / (3/2) = 166.66... -> 167."""
    e = ema_update(Ema(tau_s=1), 0, 100)
    assert (e.value, e.weight, ema_value(e)) == (100 * EMA_SCALE, EMA_SCALE, 100)
    e = ema_update(e, 1, 200)
    assert e.weight == 3 * EMA_SCALE // 2
    assert e.value == 16_666_666_667  # 100*S + half_even(100*S*S / (3S/2))
    assert ema_value(e) == 167
    # A second sample at the same instant weighs 0 and changes nothing.
    assert ema_update(e, 1, 10**6) == e
    assert ema_value(Ema(tau_s=150)) is None
    with pytest.raises(ValueError):
        ema_update(e, 0, 5)
    with pytest.raises(ValueError):
        ema_update(e, 2, 5, denominator=3)


@pytest.mark.rule("PRC-EMA-01")
@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 300),
    st.lists(st.tuples(st.integers(0, 120), st.integers(-10**9, 10**9)), min_size=1, max_size=30),
)
def test_ema_stays_within_its_samples(tau: int, steps: list[tuple[int, int]]) -> None:
    e = Ema(tau_s=tau)
    now = 0
    for k, (dt, x) in enumerate(steps):
        now += dt
        e = ema_update(e, now, x)
        xs = [s for _, s in steps[: k + 1]]
        assert min(xs) * EMA_SCALE <= e.value <= max(xs) * EMA_SCALE
    v = ema_value(e)
    assert v is not None and min(x for _, x in steps) <= v <= max(x for _, x in steps)


@pytest.mark.rule("PRC-EMA-01")
def test_ema_converges_to_a_constant_input() -> None:
    e = ema_update(Ema(tau_s=150), 0, 0)
    for t in range(1, 3001):
        e = ema_update(e, t, 1000)
    assert ema_value(e) == 1000


@pytest.mark.rule("PRC-MRK-01", "PRC-MRK-03")
def test_median3_on_z3_terms_lies_between_min_and_max() -> None:
    """The same median3 runs on Z3 terms: no a, b, c put it outside [min, max]."""
    import z3

    a, b, c = z3.Ints("a b c")
    m = median3(a, b, c)
    lo = z3.If(a <= b, z3.If(a <= c, a, c), z3.If(b <= c, b, c))
    hi = z3.If(a >= b, z3.If(a >= c, a, c), z3.If(b >= c, b, c))
    solver = z3.Solver()
    solver.add(z3.Or(m < lo, m > hi, z3.And(m != a, m != b, m != c)))
    assert solver.check() == z3.unsat
