"""Deribit size-scaled margin: DRB-MG-01."""

from __future__ import annotations

import pytest
from perpspec.margin import PositionRisk
from perpspec.margin.deribit import DeribitSizeLinear
from perpspec.profiles import load_profile, parameter_problems
from perpspec.units import parse_units

SIZE = 4  # deribit size decimals
MONEY = 8


def pos(size: str, price: str) -> PositionRisk:
    s = parse_units(size, SIZE)
    n, rest = divmod(s * parse_units(price, MONEY), 10**SIZE)
    assert rest == 0  # every case here is exact
    return PositionRisk(size=s, notional=n)


def model(market: str) -> DeribitSizeLinear:
    m = load_profile("deribit").market(market).margin
    assert isinstance(m, DeribitSizeLinear)
    return m


@pytest.mark.rule("MRG-DRB-01")
def test_drb_mg_01_btc() -> None:
    """DRB-MG-01 (Deribit support "Linear Perpetual"): BTC_USDC at 100,000: 25 BTC -> IM 2.125% =
    53,125 USDC, MM 1.125% = 28,125 USDC; 350 BTC -> IM 3.75% = 1,312,500 USDC (MM derived 2.75% =
    962,500)."""
    m = model("BTC_USDC-PERPETUAL")
    p25 = pos("25", "100000")
    assert m.im_rate_scaled(p25.size) == parse_units("2.125%", 8) * m.per_size
    assert m.mm_rate_scaled(p25.size) == parse_units("1.125%", 8) * m.per_size
    assert m.initial(p25) == parse_units("53125", MONEY)
    assert m.maintenance(p25) == parse_units("28125", MONEY)
    p350 = pos("350", "100000")
    assert m.im_rate_scaled(p350.size) == parse_units("3.75%", 8) * m.per_size
    assert m.initial(p350) == parse_units("1312500", MONEY)
    assert m.maintenance(p350) == parse_units("962500", MONEY)


@pytest.mark.rule("MRG-DRB-01")
def test_drb_mg_01_sol() -> None:
    """DRB-MG-01 (Deribit support "Linear Perpetual"): SOL_USDC at 200: 25 SOL -> IM 4.0125% =
    200.625 USDC, MM 2.0125% = 100.625 USDC; 6,000 SOL -> IM 7% = 84,000 USDC."""
    m = model("SOL_USDC-PERPETUAL")
    p25 = pos("25", "200")
    assert m.initial(p25) == parse_units("200.625", MONEY)
    assert m.maintenance(p25) == parse_units("100.625", MONEY)
    p6000 = pos("6000", "200")
    assert m.im_rate_scaled(p6000.size) == parse_units("7%", 8) * m.per_size
    assert m.initial(p6000) == parse_units("84000", MONEY)


@pytest.mark.rule("MRG-DRB-01")
def test_fractional_size_and_rounding() -> None:
    """Hand-computed: 0.0001 BTC at 100,000 (N = 10 USDC): IM rate 2% + 0.0001 × 0.005% = 2.0000005%,
    IM = 0.200000050 USDC -> 20,000,005 units at 1e-8 exactly; MM 1.0000005% -> 10,000,005."""
    m = model("BTC_USDC-PERPETUAL")
    p = PositionRisk(size=1, notional=parse_units("10", MONEY))
    assert m.initial(p) == 20_000_005
    assert m.maintenance(p) == 10_000_005


@pytest.mark.rule("MRG-DRB-01")
def test_check() -> None:
    """Validation: non-negative rates, positive size unit, IM rates >= MM rates."""
    assert parameter_problems(model("SOL_USDC-PERPETUAL")) == []
    bad = DeribitSizeLinear(1, 2, 1, 2, 0)
    assert [p for p, _ in parameter_problems(bad)] == ["per_size", "base_im", "im_per_size"]
