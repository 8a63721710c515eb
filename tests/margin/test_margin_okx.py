"""OKX tiers and the margin-ratio liquidation threshold: OKX-MR-01."""

from __future__ import annotations

from fractions import Fraction

import pytest
from perpspec.margin import PositionRisk
from perpspec.margin.okx import OkxTiers, SizeTier
from perpspec.profiles import load_profile, parameter_problems
from perpspec.units import parse_units

SIZE = 4
USDT = 8


def model() -> OkxTiers:
    m = load_profile("okx-swap").market("BTC-USDT-SWAP").margin
    assert isinstance(m, OkxTiers)
    return m


@pytest.mark.rule("MRG-OKX-01", "MRG-OKX-02")
def test_okx_mr_01() -> None:
    """OKX-MR-01 (OKEx futures guide 2020, Qenv logic/okex.md): long 1 BTC (10,000 contracts × 0.0001)
    at 10,000, 10x: IM 1,000 USDT; at mark 9,010 UPL = −990, equity 10, MR = 10/9,010 ≈ 0.111%, below
    MMR 1.5% + liquidation fee 0.075% = 1.575%: liquidate."""
    m = model()
    size = parse_units("1", SIZE)
    entry = PositionRisk(size=size, notional=parse_units("10000", USDT), leverage=10)
    assert m.initial(entry) == parse_units("1000", USDT)
    at_mark = PositionRisk(size=size, notional=parse_units("9010", USDT), leverage=10)
    equity = parse_units("1000", USDT) + (parse_units("9010", USDT) - parse_units("10000", USDT))
    assert equity == parse_units("10", USDT)
    assert m.margin_ratio(equity, at_mark) == Fraction(10, 9010)
    assert m.threshold(at_mark) == Fraction(1575, 100_000)
    assert m.margin_ratio(equity, at_mark) < m.threshold(at_mark)
    assert m.liquidatable(equity, at_mark)
    # MM alone: 9,010 × 1.5% = 135.15; with the fee term 9,010 × 1.575% = 141.9075
    assert m.maintenance(at_mark) == parse_units("135.15", USDT)
    assert m.liquidation_requirement(at_mark) == parse_units("141.9075", USDT)


@pytest.mark.rule("MRG-OKX-02")
def test_threshold_is_inclusive_and_exact() -> None:
    """Current doc: liquidation when the margin ratio is <= 100%: equity exactly N × (mmr + fee) is
    liquidatable, one money unit more is not (exact cross-multiplication, no rounding)."""
    m = model()
    p = PositionRisk(size=parse_units("1", SIZE), notional=parse_units("9010", USDT))
    req = parse_units("141.9075", USDT)
    assert m.liquidatable(req, p)
    assert not m.liquidatable(req + 1, p)


@pytest.mark.rule("MRG-OKX-01")
def test_flat_per_tier_not_progressive() -> None:
    """Hand-computed with a two-tier size table (0: 0.4%, 10 BTC: 0.8%): MM is flat per tier, so it
    jumps at the boundary: 9.9999 BTC × 1,000 -> 39.9996; 10 BTC × 1,000 -> 80 (no deduction)."""
    m = OkxTiers((SizeTier(0, 400_000, 100), SizeTier(parse_units("10", SIZE), 800_000, 50)), 0)
    below = PositionRisk(size=parse_units("9.9999", SIZE), notional=parse_units("9999.9", USDT))
    at = PositionRisk(size=parse_units("10", SIZE), notional=parse_units("10000", USDT))
    assert m.maintenance(below) == parse_units("39.9996", USDT)
    assert m.maintenance(at) == parse_units("80", USDT)
    assert m.initial(PositionRisk(size=at.size, notional=at.notional, leverage=100)) == parse_units(
        "200", USDT
    )


@pytest.mark.rule("MRG-OKX-01")
def test_check() -> None:
    """Validation: floors from 0 strictly increasing, non-negative non-decreasing rates, IM >= MM,
    non-negative fee."""
    assert parameter_problems(model()) == []
    bad = OkxTiers((SizeTier(0, 2_000_000, 100), SizeTier(0, 1_000_000, 0)), -1)
    assert {p for p, _ in parameter_problems(bad)} == {
        "tiers[1].floor",
        "tiers[0].max_leverage",
        "tiers[1].mmr",
        "tiers[1].max_leverage",
        "liquidation_fee",
    }
