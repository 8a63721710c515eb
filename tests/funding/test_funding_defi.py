"""DeFi funding cases from shared/reference defi-engines.md §6 (cases 5, 6, 7, 19, 20, 24, 25)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from perpspec.funding.drift import DriftFunding
from perpspec.funding.dydx import DydxFunding, max_abs_clamp_ppm, median_half_away, to_quantums
from perpspec.funding.gmx import GmxSkew
from perpspec.funding.synthetix import SynthetixVelocity
from perpspec.profiles import load_profile


@pytest.mark.rule("FND-DYDX-01", "FND-DYDX-03")
def test_case_5_dydx_funding_clamp() -> None:
    """Case 5: clamp 600%, IM 15%, MF 80% -> 180,000 ppm; clamp 423,978,721, IM 745,345,
    MF 564,947 -> 137,481,459 ppm. Source: dYdX v4 TestLiquidityTierGetMaxAbsFundingClampPpm."""
    assert max_abs_clamp_ppm(6_000_000, 150_000, 800_000) == 180_000
    assert max_abs_clamp_ppm(423_978_721, 745_345, 564_947) == 137_481_459
    fund = load_profile("dydx-v4").mechanism("funding")
    assert fund.rate_8h_ppm(500_000, 150_000, 800_000) == 180_000
    assert fund.rate_8h_ppm(-500_000, 150_000, 800_000) == -180_000
    assert fund.premium_vote(10_100, 10_200, 10_000, 150_000, 800_000) == 10_000  # 1% in ppm


@pytest.mark.rule("FND-DYDX-04")
def test_case_6_dydx_funding_index() -> None:
    """Case 6: (a) atomic -4, price 1000e2, rate -1,001,999 ppm, dt 14,400 -> -5,009,995,000,000;
    (b) atomic -12, price 1000e0, rate +1,001,999, dt 28,800 -> 1,001 (toward zero).
    Source: dYdX v4 x/perpetuals/funding funding_test.go."""
    fund = DydxFunding()
    assert fund.index_delta(-1_001_999, 14_400, 1000, 2, -4) == -5_009_995_000_000
    assert fund.index_delta(1_001_999, 28_800, 1000, 0, -12) == 1_001
    assert fund.index_delta(-1_001_999, 28_800, 1000, 0, -12) == -1_001  # toward zero, not floor


@pytest.mark.rule("FND-DYDX-05", "FND-SUM-01")
def test_case_7_dydx_settlement() -> None:
    """Case 7: long 10,000,000 quantums, index 100 -> -200: +3,000,000,000 ppm-qq (+3,000 qq);
    short -5,000,000, index 100 -> -50: -750,000,000. Source: dYdX v4 TestGetSettlementPpmWithPerpetual."""
    fund = DydxFunding()
    assert fund.settlement_ppm(-200, 100, 10_000_000) == 3_000_000_000
    assert to_quantums(3_000_000_000) == 3_000
    assert fund.settlement_ppm(-50, 100, -5_000_000) == -750_000_000
    assert to_quantums(-750_000_000) == -750
    # Euclidean floor keeps the dust with the protocol: +-1.5 qq -> +1 / -2, dust 1
    s = fund.settle(1, [(1_500_000, 0), (-1_500_000, 0)])
    assert s.payments == (-2, 1) and s.dust == 1 and s.total() == 0


@pytest.mark.rule("FND-DYDX-02")
def test_dydx_samples_and_hour() -> None:
    """FND-DYDX-02: votes padded with zeros to max(#blocks, 15); median rounds half away from
    zero; the hour pads samples to 60 and averages toward zero."""
    fund = DydxFunding()
    assert fund.sample([100] * 10, 10) == 100  # 10 votes + 5 zeros: median of 15 is 100
    assert fund.sample([100] * 7, 7) == 0  # 7 votes + 8 zeros
    assert median_half_away([-5, -4]) == -5 and median_half_away([6, 7]) == 7
    assert fund.hourly_premium([600] * 30) == 300
    assert fund.hourly_premium([-7]) == 0


@pytest.mark.rule("FND-DRF-01", "FND-DRF-02")
def test_case_19_drift_funding_rate() -> None:
    """Case 19: mark TWAP $50, oracle TWAP $49, 1 h -> 41,666,666; max spread at $49:
    4,900,000 (default tier), 1,484,848 (tier B). Source: drift math/funding/tests.rs.

    The program's test helper has no offset; the controller adds oracle/5000 (-> 42,075,000).
    """
    fund = load_profile("drift-v2").mechanism("funding")
    assert isinstance(fund, DriftFunding)
    assert fund.rate_from_spread(50_000_000 - 49_000_000) == 41_666_666
    assert DriftFunding(offset_denominator=0).funding_rate(50_000_000, 49_000_000, "B") == 41_666_666
    assert fund.max_spread(49_000_000, "default") == 4_900_000
    assert fund.max_spread(49_000_000, "B") == 1_484_848
    assert fund.spread(50_000_000, 49_000_000) == 1_009_800
    assert fund.funding_rate(50_000_000, 49_000_000, "B") == 42_075_000
    assert fund.funding_rate(60_000_000, 49_000_000, "B") == 61_868_666  # clamped at 1,484,848


@pytest.mark.rule("FND-DRF-03", "FND-DRF-04")
def test_case_20_drift_asymmetric_funding() -> None:
    """Case 20: longs 12,295,081,967, shorts -24,590,163,934, AMM net -12,295,081,967, fee pool
    $0.5, rate 41,666,666 -> long 41,666,666, short 24,222,164, total_fee_minus_distributions
    416,667. Source: drift math/funding/tests.rs capped_sym_funding_test."""
    fund = DriftFunding()
    s = fund.split(41_666_666, 12_295_081_967, -24_590_163_934, -12_295_081_967, 500_000, 500_000)
    assert (s.rate_long, s.rate_short) == (41_666_666, 24_222_164)
    assert s.total_fee_minus_distributions == 416_667 and s.amm_pnl == -83_333
    # second half of the test: more longs than shorts, the AMM earns: symmetric, fees 1,012,295
    e = fund.split(41_666_666, 2 * 12_295_081_967, -12_295_081_967, 12_295_081_967, 500_000, 500_000)
    assert (e.rate_long, e.rate_short, e.total_fee_minus_distributions) == (41_666_666, 41_666_666, 1_012_295)
    # payments truncate magnitudes: the long pays 512,295 quote (1e6), not 512,295.07
    assert fund.payment_quote(41_666_666, 12_295_081_967) == -512_295
    assert fund.payment_quote(-41_666_666, 12_295_081_967) == 512_295


@pytest.mark.rule("FND-GMX-01", "FND-GMX-02")
def test_case_24_gmx_funding() -> None:
    """Case 24: factor 1/50,000 per s, exp 1, long OI 150k, short OI 50k: longs pay 0.001%/s,
    shorts receive 0.003%/s. Adaptive: imbalance 6% > 5%, increase 0.0001%, 600 s -> +0.0036%;
    imbalance 2% < 3%, decrease 0.000002%, 600 s -> -0.0012%. Source: gmx-synthetics README."""
    g = GmxSkew(
        funding_factor=Fraction(1, 50_000),
        increase_factor=Fraction(1, 10**6),
        decrease_factor=Fraction(2, 10**8),
        stable_threshold=Fraction(5, 100),
        decrease_threshold=Fraction(3, 100),
    )
    usd = 10**30
    f = g.funding(150_000 * usd, 50_000 * usd)
    assert f.long_pays
    assert g.as_rate(f.payer_factor) == 1_000  # 0.001%
    assert g.as_rate(f.receiver_factor) == 3_000  # 0.003%
    up = g.next_saved_factor(0, 106 * usd, 94 * usd, 600)
    assert g.as_rate(up) == 3_600  # +0.0036%
    base = 10**26
    down = g.next_saved_factor(base, 102 * usd, 98 * usd, 600) - base
    assert g.as_rate(down) == -1_200  # -0.0012%
    # between thresholds with the skew agreeing: unchanged
    assert g.next_saved_factor(base, 104 * usd, 96 * usd, 600) == base


@pytest.mark.rule("FND-SNX-01", "FND-SNX-02")
def test_case_25_synthetix_velocity() -> None:
    """Case 25: previous rate 0, velocity 0.0025 per day, 29,000 s -> rate 0.00083912.
    Source: Synthetix v3 PerpsMarket.sol::currentFundingRate comment."""
    s = SynthetixVelocity(max_funding_velocity=250_000, skew_scale=1_000)
    v = s.velocity(1_000)  # full skew: velocity = max
    assert v == 25 * 10**14
    assert s.velocity(2_000) == v and s.velocity(-500) == -v // 2
    rate = s.next_rate(0, v, 29_000)
    assert rate == 839_120_370_370_370
    assert s.as_rate(rate) == 83_912  # 0.00083912
    acc = s.accrued_per_unit(0, rate, 29_000, 1000 * 10**18)
    exact = -Fraction(rate, 2) * Fraction(29_000, 86_400) * 1000
    assert acc < 0 and abs(acc - exact) < 1000 * 10**18 // 10**12
