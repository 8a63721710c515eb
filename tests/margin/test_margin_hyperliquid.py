"""Hyperliquid margin tiers: HL-MT-01."""

from __future__ import annotations

from fractions import Fraction

import pytest
from perpspec.margin import PositionRisk
from perpspec.margin.hyperliquid import HyperliquidTiers, LeverageTier
from perpspec.profiles import load_profile, parameter_problems
from perpspec.units import parse_units


def usdc(x: str) -> int:
    return parse_units(x, 6)


def model(market: str) -> HyperliquidTiers:
    m = load_profile("hyperliquid").market(market).margin
    assert isinstance(m, HyperliquidTiers)
    return m


@pytest.mark.rule("MRG-HL-01")
def test_hl_mt_01_btc() -> None:
    """HL-MT-01 (Hyperliquid docs trading/margin-tiers; defi-engines §6 derived): BTC 40x below 150M,
    20x above: MMR 1.25% / 2.5%, deduction 150M × (2.5% − 1.25%) = 1,875,000; MM at 200M =
    5,000,000 − 1,875,000 = 3,125,000 USDC."""
    m = model("BTC")
    t1, t2 = m.maintenance_tiers()
    assert (t1.rate, t2.rate) == (Fraction(1, 80), Fraction(1, 40))
    assert t2.deduction == usdc("1875000")
    assert m.maintenance(PositionRisk(size=0, notional=usdc("200000000"))) == usdc("3125000")
    # continuity at the boundary: both pieces give 1,875,000 at 150M
    b = usdc("150000000")
    assert t1.rate * b - t1.deduction == t2.rate * b - t2.deduction == usdc("1875000")


@pytest.mark.rule("MRG-HL-01")
def test_hl_mt_01_eth_exact_deduction() -> None:
    """HL-MT-01 (Hyperliquid docs trading/margin-tiers): ETH 25x below 100M, 15x above: deduction
    100M × (1/30 − 1/50) = 1,333,333.333… USDC, exactly 4,000,000/3 (kept as a rational; MM is rounded
    up once: at 120M, MM = 4,000,000 − 1,333,333.33… = 2,666,666.666667 after ceil)."""
    m = model("ETH")
    t2 = m.maintenance_tiers()[1]
    assert t2.deduction == Fraction(4_000_000, 3) * 10**6
    assert m.denominator() == 2 * 75
    assert m.maintenance(PositionRisk(size=0, notional=usdc("120000000"))) == usdc("2666666.666667")


@pytest.mark.rule("MRG-HL-02")
def test_initial_margin() -> None:
    """Hand-computed: IM = N / min(L, tier max): 1,000,000 USDC of BTC at 50x (capped to 40x) = 25,000;
    at 10x = 100,000; above 150M the cap is 20x."""
    m = model("BTC")
    assert m.initial(PositionRisk(size=0, notional=usdc("1000000"), leverage=50)) == usdc("25000")
    assert m.initial(PositionRisk(size=0, notional=usdc("1000000"), leverage=10)) == usdc("100000")
    assert m.initial(PositionRisk(size=0, notional=usdc("200000000"), leverage=40)) == usdc("10000000")
    assert m.initial(PositionRisk(size=0, notional=usdc("200000000"))) == usdc("10000000")


@pytest.mark.rule("MRG-HL-01")
def test_mmr_is_half_initial_at_max_leverage() -> None:
    """Hyperliquid docs trading/margining: MMR = 1/(2·maxLev): 40x -> 1.25%, 3x -> 16.66…% exactly 1/6."""
    m = HyperliquidTiers((LeverageTier(0, 3),))
    assert m.maintenance_tiers()[0].rate == Fraction(1, 6)
    assert m.maintenance(PositionRisk(size=0, notional=6)) == 1
    assert m.maintenance(PositionRisk(size=0, notional=7)) == 2  # 7/6 rounded up


@pytest.mark.rule("MRG-HL-01")
def test_check() -> None:
    """Validation: bounds strictly increasing from 0, leverage >= 1 and non-increasing."""
    assert parameter_problems(model("SOL")) == []
    bad = HyperliquidTiers((LeverageTier(0, 10), LeverageTier(0, 20), LeverageTier(5, 0)))
    assert {p for p, _ in parameter_problems(bad)} == {
        "tiers[1].lower_bound",
        "tiers[1].max_leverage",
        "tiers[2].max_leverage",
    }
