"""BitMEX risk-limit steps: BMX-RL-01."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from perpspec.margin import PositionRisk
from perpspec.margin.bitmex import BitmexRiskSteps
from perpspec.profiles import load_profile, parameter_problems
from perpspec.units import parse_units


def xbt(x: str) -> int:
    return parse_units(x, 8)


def model() -> BitmexRiskSteps:
    m = load_profile("bitmex-xbtusd").market("XBTUSD").margin
    assert isinstance(m, BitmexRiskSteps)
    return m


@pytest.mark.rule("MRG-BMX-01")
@pytest.mark.parametrize(
    ("position", "mm", "im"),
    [
        ("180", "0.40%", "1.00%"),
        ("230", "0.80%", "1.40%"),
        ("300", "0.80%", "1.40%"),
        ("450", "1.60%", "2.20%"),
    ],
)
def test_bmx_rl_01_rates(position: str, mm: str, im: str) -> None:
    """BMX-RL-01 (BitMEX risk limits via Qenv logic/bitmex.md @ bf999d4): base 200 XBT, step 100,
    0.40%/1.00%: 180 -> 0.40%/1.00%; 230 and 300 -> 0.80%/1.40%; 450 (3 steps) -> 1.60%/2.20%.
    300 XBT is one step (the worked example), not two (the table header '< 300'; reading in the profile)."""
    m = model()
    v = xbt(position)
    assert m.mm_rate(v) == parse_units(mm, 8)
    assert m.im_rate(v) == parse_units(im, 8)


@pytest.mark.rule("MRG-BMX-02")
def test_bmx_rl_01_amounts() -> None:
    """BMX-RL-01 (BitMEX risk limits via Qenv logic/bitmex.md): MM_180 = 0.40% × 180 = 0.72 XBT;
    MM_300 = 0.80% × 300 = 2.4 XBT."""
    m = model()
    assert m.maintenance(PositionRisk(size=0, notional=xbt("180"))) == xbt("0.72")
    assert m.maintenance(PositionRisk(size=0, notional=xbt("300"))) == xbt("2.4")
    # IM at 300: 1.40% = 4.2 XBT; a 10x setting asks more (30 XBT)
    assert m.initial(PositionRisk(size=0, notional=xbt("300"))) == xbt("4.2")
    assert m.initial(PositionRisk(size=0, notional=xbt("300"), leverage=10)) == xbt("30")
    assert m.initial(PositionRisk(size=0, notional=xbt("300"), leverage=100)) == xbt("4.2")


@pytest.mark.rule("MRG-BMX-02")
@given(st.integers(0, 10**12), st.integers(0, 10**12))
def test_mm_non_decreasing_with_jumps(a: int, b: int) -> None:
    """Property: BitMEX MM is non-decreasing in position value (it is not continuous: the rate
    jumps one base MM at each risk-limit step, e.g. 0.80 XBT -> 1.60 XBT just above 200 XBT)."""
    m = model()
    lo, hi = sorted((a, b))
    assert m.maintenance(PositionRisk(size=0, notional=lo)) <= m.maintenance(
        PositionRisk(size=0, notional=hi)
    )
    assert m.maintenance(PositionRisk(size=0, notional=xbt("200"))) == xbt("0.8")
    assert m.maintenance(PositionRisk(size=0, notional=xbt("200") + 1)) == xbt("1.6") + 1


@pytest.mark.rule("MRG-BMX-01")
def test_check() -> None:
    """Validation: positive limit and step, non-negative rates, base IM >= base MM."""
    assert parameter_problems(model()) == []
    bad = BitmexRiskSteps(0, 0, -1, -2)
    assert {p for p, _ in parameter_problems(bad)} == {"base_risk_limit", "step", "base_mm", "base_im"}
