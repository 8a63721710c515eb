"""Drift v2 size-premium margin ratios and unrealized-PnL weights: defi-engines §6 case 14, §2.2."""

from __future__ import annotations

import pytest
from perpspec.margin import PositionRisk
from perpspec.margin.drift import (
    MAX_POSITIVE_UPNL_FOR_INITIAL_MARGIN,
    DriftSizePremium,
    Requirement,
    high_leverage_initial_ratio,
    size_discount_asset_weight,
    size_premium_ratio,
)
from perpspec.profiles import load_profile, parameter_problems

BASE = 10**9  # BASE_PRECISION
QUOTE = 10**6  # QUOTE_PRECISION


def market() -> DriftSizePremium:
    m = load_profile("drift-v2").market("SOL-PERP").margin
    assert isinstance(m, DriftSizePremium)
    return m


@pytest.mark.rule("MRG-DRF-01")
def test_case_14_size_premium_initial() -> None:
    """defi case 14 (Drift state/perp_market/tests.rs smart_hlm_size @ protocol-v2): IM 1000, MM 500,
    imf 50; size 1,000,000 base, Initial: 800 + floor(isqrt(1e16 + 1) × 50 / 1e7) = 800 + 500 = 1300."""
    m = market()
    assert m.margin_ratio(1_000_000 * BASE, Requirement.INITIAL) == 1300
    assert size_premium_ratio(1_000_000 * BASE, 50, 1000) == 1300
    # small sizes keep the default; imf 0 never changes the ratio
    assert m.margin_ratio(BASE, Requirement.INITIAL) == 1000
    assert size_premium_ratio(10**30, 0, 1000) == 1000
    # unbounded premium can sit below the default (used by HLM)
    assert size_premium_ratio(10 * BASE, 50, 1000, bounded=False) == 801


@pytest.mark.rule("MRG-DRF-01", "MRG-DRF-02")
def test_case_14_high_leverage_mode() -> None:
    """defi case 14 (Drift smart_hlm_size): HLM IM 100 / MM 50: Initial 0.1 and 1 base -> 100 (the HLM
    default), 10 base -> 104, 3,000 base -> 221; Maintenance 3,000 base -> 67, 300,000 base -> 313."""
    m = market()
    assert m.margin_ratio(BASE // 10, Requirement.INITIAL, high_leverage=True) == 100
    assert m.margin_ratio(BASE, Requirement.INITIAL, high_leverage=True) == 100
    assert m.margin_ratio(10 * BASE, Requirement.INITIAL, high_leverage=True) == 104
    assert m.margin_ratio(3000 * BASE, Requirement.INITIAL, high_leverage=True) == 221
    assert m.margin_ratio(3000 * BASE, Requirement.MAINTENANCE, high_leverage=True) == 67
    assert m.margin_ratio(300_000 * BASE, Requirement.MAINTENANCE, high_leverage=True) == 313
    # above the normal premium, HLM initial equals the normal size-adjusted ratio
    assert m.margin_ratio(1_000_000 * BASE, Requirement.INITIAL, high_leverage=True) == 1300
    assert high_leverage_initial_ratio(1000, 1000, 100) == 100
    assert high_leverage_initial_ratio(1000, 1300, 100) == 1300


@pytest.mark.rule("MRG-DRF-01")
def test_fill_ratio_is_floor_of_average() -> None:
    """Drift get_margin_ratio: Fill = (IM + MM) / 2 floor: (1000 + 500)/2 = 750; HLM (100 + 50)/2 = 75."""
    m = market()
    assert m.margin_ratio(BASE, Requirement.FILL) == 750
    assert m.margin_ratio(BASE, Requirement.FILL, high_leverage=True) == 75


@pytest.mark.rule("MRG-DRF-02")
def test_high_leverage_fill_interpolates_like_initial() -> None:
    """Drift ``PerpMarket::get_margin_ratio`` (protocol-v2 @ bcaf43e): in HLM, Fill interpolates
    between the HLM Fill default (100 + 50)/2 = 75 and the normal Fill ratio 750 size-adjusted,
    as Initial does. Values from the program itself (libdrift_ffi_sys 2.156.3,
    ``perp_market_get_margin_ratio``): 10 base -> 79, 3,000 -> 196, 300,000 -> 873,
    1,000,000 -> 1100 (the size premium of 750 above 750)."""
    m = market()
    assert [
        m.margin_ratio(n * BASE, Requirement.FILL, high_leverage=True)
        for n in (1, 10, 3000, 300_000, 1_000_000)
    ] == [75, 79, 196, 873, 1100]
    assert [
        m.margin_ratio(n * BASE, Requirement.INITIAL, high_leverage=True) for n in (300_000, 1_000_000)
    ] == [1073, 1300]
    assert m.margin_ratio(1_000_000 * BASE, Requirement.MAINTENANCE, high_leverage=True) == 540


@pytest.mark.rule("MRG-DRF-03")
def test_requirement_amounts() -> None:
    """Hand-computed: 10 SOL at $100 (N = 1,000 USDC): IM 10% = 100 USDC, MM 5% = 50 USDC;
    1,000,000 SOL at $1 at ratio 1300: 130,000 USDC; a user custom ratio 2000 raises IM to 200 USDC."""
    m = market()
    pos = PositionRisk(size=10 * BASE, notional=1000 * QUOTE)
    assert m.initial(pos) == 100 * QUOTE
    assert m.maintenance(pos) == 50 * QUOTE
    big = PositionRisk(size=1_000_000 * BASE, notional=1_000_000 * QUOTE)
    assert m.initial(big) == 130_000 * QUOTE
    assert m.requirement(pos, Requirement.INITIAL, custom_ratio=2000) == 200 * QUOTE
    # floor: 1 quote unit at 10% -> 0
    assert m.initial(PositionRisk(size=1, notional=1)) == 0


@pytest.mark.rule("MRG-DRF-04", "MRG-DRF-05")
def test_positive_upnl_capped_at_100_for_initial() -> None:
    """defi-engines §2.2 and §3 (FFI note: driftpy TC 300 vs program 200): positive uPnL of $300 at
    weight 1 counts $100 for Initial, $300 for Maintenance and Fill; negative uPnL is never capped."""
    m = market()
    upnl = 300 * QUOTE
    assert (
        m.weighted_unrealized_pnl(upnl, Requirement.INITIAL)
        == 100 * QUOTE
        == MAX_POSITIVE_UPNL_FOR_INITIAL_MARGIN
    )
    assert m.weighted_unrealized_pnl(upnl, Requirement.MAINTENANCE) == 300 * QUOTE
    assert m.weighted_unrealized_pnl(upnl, Requirement.FILL) == 300 * QUOTE
    assert m.weighted_unrealized_pnl(-upnl, Requirement.INITIAL) == -300 * QUOTE
    # the FFI account: $100 deposit + $300 uPnL -> total collateral 200 for Initial
    assert 100 * QUOTE + m.weighted_unrealized_pnl(upnl, Requirement.INITIAL) == 200 * QUOTE


@pytest.mark.rule("MRG-DRF-04")
def test_maintenance_weight_and_negative_weight() -> None:
    """Hand-computed: maintenance weight 8000 (80%) on +$300 -> $240; negative uPnL has weight 10000."""
    m = DriftSizePremium(1000, 500, unrealized_pnl_maintenance_asset_weight=8000)
    assert m.unrealized_asset_weight(300 * QUOTE, Requirement.MAINTENANCE) == 8000
    assert m.weighted_unrealized_pnl(300 * QUOTE, Requirement.MAINTENANCE) == 240 * QUOTE
    assert m.unrealized_asset_weight(-300 * QUOTE, Requirement.MAINTENANCE) == 10_000
    assert m.unrealized_asset_weight(0, Requirement.INITIAL) == 10_000


@pytest.mark.rule("MRG-DRF-04")
def test_initial_weight_size_discount() -> None:
    """Hand-computed size discount: uPnL $1,000 -> s = 1e12 (1e-9), isqrt(1e13 + 1) = 3,162,277;
    upnl imf 1,000,000: 3,162,277 × 1e6 / 1e5 = 31,622,770; weight = floor(1.1e10 / 32,622,770) = 337;
    weighted = 1e9 × 337 / 1e4 = 33,700,000 ($33.70). With imf 100 the discount (10,965) exceeds the
    weight, which stays 10000."""
    assert size_discount_asset_weight(1000 * QUOTE * 1000, 1_000_000, 10_000) == 337
    assert size_discount_asset_weight(1000 * QUOTE * 1000, 100, 10_000) == 10_000
    m = DriftSizePremium(1000, 500, unrealized_pnl_imf_factor=1_000_000)
    assert m.weighted_unrealized_pnl(1000 * QUOTE, Requirement.INITIAL) == 33_700_000


@pytest.mark.rule("MRG-DRF-04")
def test_imbalance_and_quote_price() -> None:
    """Hand-computed: max imbalance $50 with net user PnL $200 scales the initial weight to
    10000 × 50/200 = 2500 ($100 -> $25); a zero initial weight stays 0; quote price 0.99 scales
    $100 to $99 (truncated)."""
    m = DriftSizePremium(1000, 500, unrealized_pnl_max_imbalance=50 * QUOTE)
    assert m.unrealized_asset_weight(100 * QUOTE, Requirement.INITIAL, net_user_pnl=200 * QUOTE) == 2500
    assert m.weighted_unrealized_pnl(100 * QUOTE, Requirement.INITIAL, net_user_pnl=200 * QUOTE) == 25 * QUOTE
    zero = DriftSizePremium(1000, 500, unrealized_pnl_initial_asset_weight=0)
    assert zero.weighted_unrealized_pnl(100 * QUOTE, Requirement.INITIAL) == 0
    assert (
        market().weighted_unrealized_pnl(100 * QUOTE, Requirement.MAINTENANCE, quote_price=990_000)
        == 99 * QUOTE
    )
    # truncation toward zero: 1 unit at weight 5000 -> 0
    half = DriftSizePremium(1000, 500, unrealized_pnl_maintenance_asset_weight=5000)
    assert half.weighted_unrealized_pnl(1, Requirement.MAINTENANCE) == 0


@pytest.mark.rule("MRG-DRF-03")
def test_check() -> None:
    """Validation: non-negative fields, IM >= MM (normal and HLM), weights <= 10000."""
    assert parameter_problems(market()) == []
    bad = DriftSizePremium(400, 500, -1, 10, 20, unrealized_pnl_initial_asset_weight=20_000)
    paths = {p for p, _ in parameter_problems(bad)}
    assert paths == {
        "imf_factor",
        "margin_ratio_initial",
        "high_leverage_margin_ratio_initial",
        "unrealized_pnl_initial_asset_weight",
    }
