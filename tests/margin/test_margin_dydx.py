"""dYdX v4 liquidity tiers: defi-engines §6 cases 1-4."""

from __future__ import annotations

import pytest
from perpspec.margin import PositionRisk
from perpspec.margin.dydx import DydxLiquidityTier, base_to_quote_quantums
from perpspec.profiles import load_profile, parameter_problems


@pytest.mark.rule("MRG-DYDX-01")
def test_case_1_oimf() -> None:
    """defi case 1 (dYdX v4 TestGetAdjustedInitialMarginPpm @ 84d4664b): base IMF 200,000 ppm, caps
    1,000,000–2,000,000: OI 1,234,567 -> 387,653 (floor); 1,500,000 -> 600,000; >= upper cap -> 1,000,000."""
    t = DydxLiquidityTier(200_000, 500_000, 1_000_000, 2_000_000)
    assert t.adjusted_imf_ppm(1_234_567) == 387_653
    assert t.adjusted_imf_ppm(1_500_000) == 600_000
    assert t.adjusted_imf_ppm(2_000_000) == 1_000_000
    assert t.adjusted_imf_ppm(5_000_000) == 1_000_000
    assert t.adjusted_imf_ppm(1_000_000) == 200_000
    assert t.adjusted_imf_ppm(0) == 200_000
    # no upper cap: never scaled
    assert DydxLiquidityTier(200_000, 500_000).adjusted_imf_ppm(10**18) == 200_000


@pytest.mark.rule("MRG-DYDX-01", "MRG-DYDX-02")
def test_case_2_imr_with_oimf() -> None:
    """defi case 2 (dYdX v4 TestGetInitialMarginQuoteQuantums): IMF 20%, notional 500,000 qq,
    OI 28,123,456,789,123, caps 25e12–60e12: IMF 271,393 ppm, IMR = ceil(135,696.5) = 135,697."""
    t = DydxLiquidityTier(200_000, 500_000, 25 * 10**12, 60 * 10**12)
    oi = 28_123_456_789_123
    assert t.adjusted_imf_ppm(oi) == 271_393
    assert t.initial(PositionRisk(size=0, notional=500_000, oi_notional=oi)) == 135_697


@pytest.mark.rule("MRG-DYDX-02")
def test_case_3_imr_rounding() -> None:
    """defi case 3 (dYdX v4 TestGetInitialMarginQuoteQuantums): 567,243 ppm × 123,456 qq -> 70,030
    (ceil of 70,029.76…); 10% × 1 qq -> 1 (ceil)."""
    assert DydxLiquidityTier(567_243, 0).initial(PositionRisk(size=0, notional=123_456)) == 70_030
    assert DydxLiquidityTier(100_000, 0).initial(PositionRisk(size=0, notional=1)) == 1


@pytest.mark.rule("MRG-DYDX-02", "MRG-DYDX-03", "MRG-DYDX-04")
def test_case_4_position_requirements() -> None:
    """defi case 4 (dYdX v4 lib_test.go TestGetMarginRequirementsInQuoteQuantums): atomic resolution 4,
    price 123,456,789,123 × 10^-5, 1 base quantum, IM 20%, MF 50%: IMR 2,469,135,782,460,000,
    MMR 1,234,567,891,230,000. With OI caps 1e12/2e12 and OI 1e12 base quantums: IMF = 100%,
    IMR 12,345,678,912,300,000, MMR unchanged."""
    n = base_to_quote_quantums(1, 123_456_789_123, -5, 4)
    assert n == 12_345_678_912_300_000
    t = DydxLiquidityTier(200_000, 500_000)
    assert t.initial(PositionRisk(size=1, notional=n)) == 2_469_135_782_460_000
    assert t.maintenance(PositionRisk(size=1, notional=n)) == 1_234_567_891_230_000
    capped = DydxLiquidityTier(200_000, 500_000, 10**12, 2 * 10**12)
    oi = base_to_quote_quantums(10**12, 123_456_789_123, -5, 4)
    pos = PositionRisk(size=1, notional=n, oi_notional=oi)
    assert capped.initial(pos) == 12_345_678_912_300_000
    assert capped.maintenance(pos) == 1_234_567_891_230_000


@pytest.mark.rule("MRG-DYDX-04")
def test_base_to_quote_truncates_toward_zero() -> None:
    """defi-engines §1.1: with a negative power of ten the division truncates toward zero, so a short's
    signed notional rounds toward 0. Price 5,000,000,001 × 10^-5, atomic resolution -10 (power -9):
    3 quantums -> 15, -3 -> -15; 1 quantum -> 5.000000001 -> 5, and -1 -> -5 (floor would give -6)."""
    assert base_to_quote_quantums(3, 5_000_000_000, -5, -10) == 15
    assert base_to_quote_quantums(-3, 5_000_000_000, -5, -10) == -15
    assert base_to_quote_quantums(1, 5_000_000_001, -5, -10) == 5
    assert base_to_quote_quantums(-1, 5_000_000_001, -5, -10) == -5
    # the BTC test perp of the liquidation cases: 0.1 BTC (1e7 quantums at resolution -8) at $50,000
    assert base_to_quote_quantums(10_000_000, 5_000_000_000, -5, -8) == 5_000_000_000


@pytest.mark.rule("MRG-DYDX-03")
def test_tier_maintenance_ppm_and_check() -> None:
    """Testing-genesis tiers (defi-engines §1.2): Large-Cap 2% × 60% -> MM 1.2% (12,000 ppm); validation
    rejects fractions above 1e6 and an upper cap below the lower cap."""
    btc = load_profile("dydx-v4").market("BTC-USD").margin
    assert isinstance(btc, DydxLiquidityTier)
    assert btc.maintenance_margin_ppm() == 12_000
    assert parameter_problems(btc) == []
    bad = DydxLiquidityTier(2_000_000, -1, -5, -6, 2_000_000)
    assert {p for p, _ in parameter_problems(bad)} == {
        "initial_margin_ppm",
        "maintenance_fraction_ppm",
        "open_interest_lower_cap",
        "open_interest_upper_cap",
        "custom_imf_ppm",
    }
