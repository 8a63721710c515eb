"""Impact prices, impact notional and the premium index (spec/pricing.md)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec.numeric import Rounding
from perpspec.pricing.impact import (
    BookLevel,
    BookScale,
    ImpactPrices,
    Measure,
    Side,
    impact_notional,
    impact_notional_at_leverage,
    impact_price,
    impact_price_exact,
    impact_prices,
    premium_index,
)
from perpspec.profile import ContractKind
from perpspec.quantities import Price, Size

USDM = BookScale(price_decimals=2, size_decimals=3, money_decimals=8)  # binance-usdm scales
INVERSE = BookScale(1, 0, 8, ContractKind.INVERSE, contract_value=1)  # bybit-inverse / XBTUSD
USDT = 10**8


def lv(price: int, size: int) -> BookLevel:
    return BookLevel(Price(price), Size(size))


ASKS = [lv(10300, 5000), lv(10000, 1000), lv(10100, 2000)]  # 100.00 x 1, 101.00 x 2, 103.00 x 5
BIDS = [lv(9900, 1000), lv(9800, 3000)]  # 99.00 x 1, 98.00 x 3


@pytest.mark.rule("PRC-IMP-01")
def test_impact_prices_on_a_hand_made_linear_book() -> None:
    """Impact notional 250 USDT.

    Ask: 100 USDT at 100.00 (1 base), then 150 of the 202 USDT at 101.00 (150/101 base):
    avg = 250 / (251/101) = 25250/251 = 100.5976..., ceil -> 100.60.
    Bid: 99 USDT at 99.00 (1 base), then 151 USDT at 98.00 (151/98 base):
    avg = 250 / (249/98) = 24500/249 = 98.3935..., floor -> 98.39.
    """
    assert impact_price_exact(ASKS, Side.ASK, 250 * USDT, USDM) == Fraction(2525000, 251)
    assert impact_price_exact(BIDS, Side.BID, 250 * USDT, USDM) == Fraction(2450000, 249)
    assert impact_prices(BIDS, ASKS, 250 * USDT, USDM) == ImpactPrices(bid=Price(9839), ask=Price(10060))
    # The rounding is named and can be overridden.
    assert impact_price(ASKS, Side.ASK, 250 * USDT, USDM, rounding=Rounding.FLOOR) == 10059


@pytest.mark.rule("PRC-IMP-01")
def test_insufficient_depth_gives_none_and_exact_depth_fills() -> None:
    # The bids hold 99 + 294 = 393 USDT.
    assert impact_price(BIDS, Side.BID, 394 * USDT, USDM) is None
    assert impact_price_exact(BIDS, Side.BID, 393 * USDT, USDM) == Fraction(9825)  # 393 / 4 base
    assert impact_prices([], ASKS, 250 * USDT, USDM) == ImpactPrices(bid=None, ask=Price(10060))
    with pytest.raises(ValueError):
        impact_price(BIDS, Side.BID, 0, USDM)


@pytest.mark.rule("PRC-IMP-01")
def test_impact_prices_inverse_book_harmonic_mean() -> None:
    """Inverse, 1 USD contracts, price units 0.1. Asks 10000.0 x 5000, 10100.0 x 10000.

    10,000 contracts: 5000 USD buys 0.5 XBT, 5000 USD buys 50/101 XBT:
    avg = 10000 / (0.5 + 50/101) = 2020000/201 = 10049.75..., ceil -> 10049.8.
    0.6 XBT (money measure): 0.5 XBT for 5000 USD, 0.1 XBT for 1010 USD: avg = 6010/0.6.
    """
    asks = [lv(100000, 5000), lv(101000, 10000)]
    assert impact_price_exact(asks, Side.ASK, 10000, INVERSE, Measure.SIZE) == Fraction(20200000, 201)
    assert impact_price(asks, Side.ASK, 10000, INVERSE, Measure.SIZE) == 100498
    assert impact_price_exact(asks, Side.ASK, 60_000_000, INVERSE) == Fraction(300500, 3)
    assert impact_price(asks, Side.ASK, 60_000_000, INVERSE) == 100167


@pytest.mark.rule("PRC-IMP-02")
def test_impact_notional_examples() -> None:
    """BIN-FR-02 (Binance funding FAQ): 200 USDT / 0.8% = 25,000 USDT (BTCUSDT 125x);
    200 USDT / 5% = 4,000 USDT (BNBUSDT 20x). BitMEX: 0.1 XBT / 1% = 10 XBT."""
    assert impact_notional(200 * USDT, 800_000) == 25_000 * USDT
    assert impact_notional(200 * USDT, 5_000_000) == 4_000 * USDT
    assert impact_notional_at_leverage(200 * USDT, 125) == 25_000 * USDT
    assert impact_notional_at_leverage(200 * USDT, 20) == 4_000 * USDT
    assert impact_notional(10_000_000, 1_000_000) == 1_000_000_000  # satoshi
    assert impact_notional(1, 3) == 33_333_333  # floor: the notional the margin covers


@pytest.mark.rule("PRC-PRM-01")
def test_premium_index() -> None:
    """HL-FR-01 premium: impact bid 10,100, oracle 10,000 -> 1% exactly. Others hand-made,
    rounded toward zero."""
    assert premium_index(10100, 10200, 10000) == 1_000_000
    assert premium_index(9839, 10060, 10000) == 0  # index inside the impact spread
    assert premium_index(9839, 10060, 9800) == 397_959  # 39/9800 = 0.00397959183...
    assert premium_index(9839, 10060, 10100) == -396_039  # -40/10100 = -0.00396039603...
    assert premium_index(9839, 10060, 10100, Rounding.FLOOR) == -396_040


@pytest.mark.rule("PRC-IMP-01", "PRC-PRM-01")
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(9000, 9999), st.integers(1, 5000)), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(10000, 11000), st.integers(1, 5000)), min_size=1, max_size=6),
    st.integers(1, 2000),
    st.integers(9000, 11000),
)
def test_impact_prices_lie_within_the_levels_used(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]], amount: int, index: int
) -> None:
    b_levels = [lv(p, s) for p, s in bids]
    a_levels = [lv(p, s) for p, s in asks]
    got = impact_prices(b_levels, a_levels, amount * USDT, USDM)
    if got.bid is not None:
        assert min(bids)[0] <= got.bid <= max(bids)[0]
    if got.ask is not None:
        assert min(asks)[0] <= got.ask <= max(asks)[0]
    if got.bid is not None and got.ask is not None:
        p = premium_index(got.bid, got.ask, index)
        assert (p > 0) <= (got.bid > index) and (p < 0) <= (got.ask < index)
