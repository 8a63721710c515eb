"""Bybit progressive tiers: BYB-MM-01 and validation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from perpspec.margin import PositionRisk
from perpspec.margin.bybit import BybitProgressive, ProgressiveTier
from perpspec.profiles import load_profile, parameter_problems
from perpspec.units import parse_units


def money(x: str) -> int:
    return parse_units(x, 8)


def model(profile: str, market: str) -> BybitProgressive:
    m = load_profile(profile).market(market).margin
    assert isinstance(m, BybitProgressive)
    return m


@pytest.mark.rule("MRG-BYB-01", "MRG-BYB-02")
def test_byb_mm_01_inverse() -> None:
    """BYB-MM-01 (Bybit Help Center "Maintenance Margin (Inverse Contract)"): XYZUSD tiers 1%..5% per
    10 XYZ; long 10,000 contracts @ 400 at 10x: PV = 25 XYZ, IM = 2.5 XYZ,
    MM = 10×1% + 10×2% + 5×3% = 0.45 XYZ."""
    p = load_profile("bybit-inverse")
    m = p.market("XYZUSD").margin
    cv = p.market("XYZUSD").contract_value
    pv = 10_000 * cv * 10**8 // 400
    assert pv == money("25")
    pos = PositionRisk(size=10_000, notional=pv, leverage=10)
    assert m.maintenance(pos) == money("0.45")
    assert m.initial(pos) == money("2.5")


@pytest.mark.rule("MRG-BYB-01")
def test_byb_mm_01_usdt() -> None:
    """BYB-MM-01 (Bybit Help Center "Maintenance Margin (USDT Contract)"; published MM truncated, value
    derived in cex-venues §3.3): 100 contracts @ 35, PV 3,500: MM = 20 + 25 + 30 + 17.5 = 92.5 USDT =
    3,500 × 3.5% − deduction 30."""
    m = model("bybit-linear", "XYZUSDT")
    assert m.maintenance(PositionRisk(size=100, notional=money("3500"))) == money("92.5")
    assert [d // 10**8 for d in m.deductions_scaled()] == [money(x) for x in ("0", "5", "15", "30", "50")]
    tier = m.maintenance_tiers()[3]
    assert (tier.rate, tier.deduction) == (Fraction(35, 1000), money("30"))


@pytest.mark.rule("MRG-BYB-01")
def test_btcusdt_progressive_reading() -> None:
    """Bybit BTCUSDT text example (cex-venues §3.3), progressive reading: at 2,600,000 the blended MMR
    is 0.56% (MM 14,560 = 2,000,000 × 0.5% + 600,000 × 0.76%)."""
    m = model("bybit-linear", "BTCUSDT")
    assert m.maintenance(PositionRisk(size=0, notional=money("2600000"))) == money("14560")
    assert m.maintenance(PositionRisk(size=0, notional=money("2000000"))) == money("10000")


@pytest.mark.rule("MRG-BYB-02")
def test_initial_with_tier_cap_and_without_leverage() -> None:
    """Hand-computed: a tier cap of 50x limits a 100x setting; no setting and no cap is 1x."""
    m = BybitProgressive((ProgressiveTier(0, 1_000_000, 50), ProgressiveTier(money("1000"), 2_000_000)))
    assert m.initial(PositionRisk(size=0, notional=money("500"), leverage=100)) == money("10")
    assert m.initial(PositionRisk(size=0, notional=money("2000"), leverage=100)) == money("20")
    assert m.initial(PositionRisk(size=0, notional=money("2000"))) == money("2000")


@pytest.mark.rule("MRG-BYB-01")
def test_check_rejects_bad_tiers() -> None:
    """Validation: non-monotone floors, negative rates and caps with IM < MM name their row."""
    assert BybitProgressive((ProgressiveTier(0, 1), ProgressiveTier(5, 2))).check() == []
    bad = BybitProgressive(
        (ProgressiveTier(0, -1), ProgressiveTier(0, 2, 100), ProgressiveTier(3, 3_000_000, 50))
    )
    paths = {p for p, _ in parameter_problems(bad)}
    assert paths == {"tiers[1].floor", "tiers[0].mmr", "tiers[2].max_leverage"}
