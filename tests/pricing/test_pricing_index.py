"""Index price: weighted constituents, outlier guard, stale feeds, no index (spec/pricing.md)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec.numeric import Rounding
from perpspec.pricing.index import (
    IndexMethod,
    IndexPrice,
    IndexSource,
    NoIndex,
    WeightedMedianGuard,
    compute_index,
    deviates,
    median_twice,
)
from perpspec.quantities import Price, Rate

GUARD = WeightedMedianGuard()  # Binance thresholds: 5%, 10 s, half-even


def src(price: int, weight: int, updated_at: int = 100) -> IndexSource:
    return IndexSource(Price(price), weight, updated_at)


@pytest.mark.rule("PRC-IDX-01", "PRC-IDX-02", "PRC-IDX-03")
def test_hand_computed_index_with_outlier_and_stale_feed() -> None:
    """Price units 0.01. now = 100.

    A 100.00 w1, B 100.50 w2, C 99.81 w1, D 110.00 w1 (outlier), E 100.20 w5 (last update
    at 85: 15 s old > 10 s, stale). Fresh median of 99.81, 100.00, 100.50, 110.00 is
    100.25; D deviates 9.73% > 5%, the others < 0.5%: D is dropped. Weighted mean of A, B,
    C = (10000 + 2*10050 + 9981) / 4 = 40081/4 = 10020.25 -> half-even 10020 (100.20).
    """
    sources = [src(10000, 1), src(10050, 2), src(9981, 1), src(11000, 1), src(10020, 5, updated_at=85)]
    got = compute_index(sources, now=100, params=GUARD)
    assert got == IndexPrice(
        price=Price(10020), method=IndexMethod.WEIGHTED, used=(0, 1, 2), outliers=(3,), stale=(4,)
    )


@pytest.mark.rule("PRC-IDX-01")
def test_weights_renormalise_and_rounding_is_named() -> None:
    sources = [src(10000, 1), src(10001, 1)]  # mean 10000.5
    assert compute_index(sources, 100, GUARD).price == 10000
    up = WeightedMedianGuard(rounding=Rounding.HALF_UP)
    assert compute_index(sources, 100, up).price == 10001
    # Weights as rates (0.25 / 0.75) give the same result as 1 / 3.
    rates = [src(10000, 25_000_000), src(10400, 75_000_000)]
    ints = [src(10000, 1), src(10400, 3)]
    assert compute_index(rates, 100, GUARD) == compute_index(ints, 100, GUARD)
    assert compute_index(ints, 100, GUARD).price == 10300


@pytest.mark.rule("PRC-IDX-02")
def test_more_than_one_outlier_gives_the_median() -> None:
    """80, 100, 100, 120 (weights 1, 1, 1, 5): median 100; 80 and 120 deviate by 20%."""
    sources = [src(8000, 1), src(10000, 1), src(10000, 1), src(12000, 5)]
    got = compute_index(sources, 100, GUARD)
    assert isinstance(got, IndexPrice)
    assert (got.price, got.method, got.outliers) == (10000, IndexMethod.MEDIAN, (0, 3))


@pytest.mark.rule("PRC-IDX-02")
def test_outlier_threshold_is_strict_and_exact() -> None:
    # Median 10000; 10500 is exactly 5% away: not an outlier; 10501 is.
    assert not deviates(10500, 20000, Rate(5_000_000))
    assert deviates(10501, 20000, Rate(5_000_000))
    assert deviates(9499, 20000, Rate(5_000_000))
    assert median_twice([3, 1, 2]) == 4 and median_twice([4, 1, 3, 2]) == 5


@pytest.mark.rule("PRC-IDX-03")
def test_stale_boundary_and_no_index() -> None:
    # Exactly 10 s old is still fresh; 11 s is stale.
    assert compute_index([src(10000, 1, updated_at=90)], 100, GUARD).price == 10000
    got = compute_index([src(10000, 1, updated_at=89), src(10100, 0)], 100, GUARD)
    assert got == NoIndex(reason="every constituent is stale or has weight 0", stale=(0,))
    assert isinstance(compute_index([], 100, GUARD), NoIndex)
    with pytest.raises(ValueError):
        compute_index([src(10000, 1, updated_at=101)], 100, GUARD)
    with pytest.raises(ValueError):
        src(10000, -1)


@pytest.mark.rule("PRC-IDX-01", "PRC-IDX-02", "PRC-IDX-03")
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(9000, 11000), st.integers(0, 5), st.integers(80, 100)), min_size=0, max_size=7
    )
)
def test_index_lies_within_the_non_outlier_fresh_sources(rows: list[tuple[int, int, int]]) -> None:
    sources = [src(p, w, t) for p, w, t in rows]
    got = compute_index(sources, 100, GUARD)
    fresh = [i for i, s in enumerate(sources) if 100 - s.updated_at <= 10 and s.weight > 0]
    if not fresh:
        assert isinstance(got, NoIndex)
        return
    assert isinstance(got, IndexPrice)
    m2 = median_twice([sources[i].price for i in fresh])
    good = [sources[i].price for i in fresh if not deviates(sources[i].price, m2, GUARD.outlier)]
    pool = good or [sources[i].price for i in fresh]
    assert min(pool) <= got.price <= max(pool)
    assert set(got.used) <= set(fresh) and not set(got.used) & set(got.stale)


@pytest.mark.rule("PRC-IDX-03")
def test_stale_boundary_in_milliseconds() -> None:
    """With ``ticks_per_second=1000`` times are ms: 10,000 ms old is fresh, 10,001 ms stale."""
    assert GUARD.index([src(10000, 1, updated_at=90_000)], 100_000, ticks_per_second=1000).price == 10000
    got = GUARD.index([src(10000, 1, updated_at=89_999)], 100_000, ticks_per_second=1000)
    assert isinstance(got, NoIndex) and got.stale == (0,)
