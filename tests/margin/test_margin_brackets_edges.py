"""Binance brackets: the boundaries of initial margin and of table validation (issue 8 section 5).

Mutation testing showed these unchecked: leverage 1 silently replaced by the bracket's cap, the
"max leverage must not increase" rule disabled, and every inclusive/exclusive bound of check().
Values are in USDT with 8 money decimals and rates in 1e-8; each expectation is computed by hand.
"""

from __future__ import annotations

import pytest
from perpspec.margin import PositionRisk
from perpspec.margin.brackets import BinanceBrackets, Bracket
from perpspec.profiles import parameter_problems
from perpspec.units import parse_units


def usdt(x: str) -> int:
    return parse_units(x, 8)


def rate(x: str) -> int:
    return parse_units(x, 8)


def bk(floor: str, mmr: str, lev: int, cum: str | None = None) -> Bracket:
    return Bracket(usdt(floor), rate(mmr), lev, None if cum is None else usdt(cum))


TABLE = BinanceBrackets((bk("0", "0.004", 125, "0"), bk("50000", "0.005", 100, "50")))


@pytest.mark.rule("MRG-BRK-03")
def test_leverage_one_is_not_replaced_by_the_bracket_cap() -> None:
    """IM = ceil(N / min(L, maxLev)): 100,000 USDT (100x bracket) at 1x needs the full 100,000;
    at 2x 50,000; a leverage of 0 means "no setting" and takes the cap (IM 1,000)."""
    n = usdt("100000")
    assert TABLE.initial(PositionRisk(size=0, notional=n, leverage=1)) == usdt("100000")
    assert TABLE.initial(PositionRisk(size=0, notional=n, leverage=2)) == usdt("50000")
    assert TABLE.initial(PositionRisk(size=0, notional=n, leverage=0)) == usdt("1000")
    # in the first bracket the cap is 125x: 10,000 USDT at 125x -> 80 USDT; at 1x -> 10,000
    assert TABLE.initial(PositionRisk(size=0, notional=usdt("10000"))) == usdt("80")
    assert TABLE.initial(PositionRisk(size=0, notional=usdt("10000"), leverage=1)) == usdt("10000")


@pytest.mark.rule("MRG-BRK-03")
def test_max_leverage_must_not_increase_with_notional() -> None:
    up = BinanceBrackets((bk("0", "0.004", 50), bk("50000", "0.005", 100)))
    assert up.check() == [("brackets[1].max_leverage", "max leverage must not increase with notional")]
    # equal leverage in consecutive brackets is allowed
    flat = BinanceBrackets((bk("0", "0.004", 100), bk("50000", "0.005", 100)))
    assert flat.check() == []
    # only the previous row counts: 100 -> 50 -> 75 is flagged on row 2
    dip = BinanceBrackets((bk("0", "0.004", 100), bk("50000", "0.005", 50), bk("90000", "0.01", 75)))
    assert dip.check() == [("brackets[2].max_leverage", "max leverage must not increase with notional")]


@pytest.mark.rule("MRG-BRK-01", "MRG-BRK-03")
def test_check_bounds_are_inclusive_where_the_rule_allows() -> None:
    # an MMR of 0, a max leverage of 1, equal consecutive rates: all valid
    assert parameter_problems(BinanceBrackets((bk("0", "0", 125), bk("50000", "0", 1)))) == []
    # MMR 100% at 1x: IM rate 1/1 = MM rate 1, allowed (IM >= MM)
    assert parameter_problems(BinanceBrackets((bk("0", "1", 1),))) == []


@pytest.mark.rule("MRG-BRK-01", "MRG-BRK-03")
def test_problems_name_row_and_field() -> None:
    """Per-field ranges (mmr 0..100%, max_leverage >= 1) come from the declared ranges; the
    relations between fields and rows from check()."""
    assert parameter_problems(BinanceBrackets((bk("0", "-0.004", 125),))) == [
        ("brackets[0].mmr", "must not be negative (0% to 100%), got -0.4%")
    ]
    # MMR 150% is out of range; at 1x it also makes IM (100%) below MM (150%)
    im_below_mm = (
        "brackets[0].max_leverage",
        "the initial rate 1/max_leverage is below the maintenance rate (IM < MM)",
    )
    too_high = BinanceBrackets((bk("0", "1.5", 1),))
    assert parameter_problems(too_high) == [
        ("brackets[0].mmr", "must be at most 100% (0% to 100%), got 150%"),
        im_below_mm,
    ]
    assert too_high.check() == [im_below_mm]
    assert parameter_problems(BinanceBrackets((bk("0", "0.01", 0),))) == [
        ("brackets[0].max_leverage", "must be positive (at least 1), got 0")
    ]
    assert BinanceBrackets((bk("0", "0.01", 50), bk("50000", "0.005", 50))).check() == [
        ("brackets[1].mmr", "bracket rates must be non-decreasing")
    ]
    # 2% at 100x: 0.02 * 100 = 2 > 1
    assert BinanceBrackets((bk("0", "0.02", 100),)).check() == [im_below_mm]


@pytest.mark.rule("MRG-BRK-02")
def test_cum_mismatch_states_the_expected_value() -> None:
    """cum_1 = 50,000 * (0.005 - 0.004) + 0 = 50 USDT = 5,000,000,000 units; published 51."""
    bad = BinanceBrackets((bk("0", "0.004", 125), bk("50000", "0.005", 100, "51")))
    assert bad.check() == [
        (
            "brackets[1].cum",
            "published cum does not match the recurrence cum_n = floor_n*(mmr_n - mmr_(n-1)) + cum_(n-1): "
            "got 5100000000, expected 5000000000 (in money units, 10^-money_decimals)",
        )
    ]
    assert TABLE.check() == []
