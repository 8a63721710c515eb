"""Zero-sum settlement with a named dust sink (FND-SUM-01), property-tested with Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec.funding import Contract, owed_fraction, settle, settle_owed
from perpspec.funding.drift import DriftFunding
from perpspec.funding.dydx import DydxFunding
from perpspec.numeric import Rounding
from perpspec.profile import ContractKind
from perpspec.profiles import bundled_names, load_profile

LINEAR = Contract(ContractKind.LINEAR, size_decimals=3, price_decimals=2, money_decimals=8)
INVERSE = Contract(ContractKind.INVERSE, size_decimals=0, price_decimals=1, money_decimals=8,
                   contract_value=100)


@st.composite
def balanced_sizes(draw: st.DrawFn) -> list[int]:
    """Signed sizes of 1..8 accounts that net to zero (the last account takes the rest)."""
    sizes = draw(st.lists(st.integers(-10**9, 10**9), min_size=1, max_size=7))
    return [*sizes, -sum(sizes)]


@pytest.mark.rule("FND-SUM-01", "FND-PAY-01")
@settings(max_examples=300, deadline=None)
@given(
    sizes=balanced_sizes(),
    price=st.integers(1, 10**9),
    rate=st.integers(-4_000_000, 4_000_000),
    inverse=st.booleans(),
)
def test_settlement_is_zero_sum_and_dust_favours_the_sink(sizes: list[int], price: int, rate: int,
                                                          inverse: bool) -> None:
    """sum(payments) + dust == 0 exactly; with ceil rounding of what is owed, 0 <= dust < n."""
    contract = INVERSE if inverse else LINEAR
    s = settle(contract, sizes, price, rate)
    assert s.total() == 0
    assert 0 <= s.dust < len(sizes)
    assert s.sink == "insurance-fund"
    # every account is within one money unit of its exact flow, never better off
    for q, paid in zip(sizes, s.payments, strict=True):
        num, den = owed_fraction(contract, q, price, rate)
        assert -paid * den >= num and (-paid - 1) * den < num


@pytest.mark.rule("FND-SUM-01")
@settings(max_examples=200, deadline=None)
@given(sizes=balanced_sizes(), price=st.integers(1, 10**9), rate=st.integers(-10**6, 10**6))
def test_truncating_settlement_dust_is_bounded(sizes: list[int], price: int, rate: int) -> None:
    """With toward-zero rounding (Drift's rule) the dust may take either sign, |dust| < n."""
    s = settle_owed([owed_fraction(LINEAR, q, price, rate) for q in sizes], Rounding.TRUNC, "amm-fee-pool")
    assert s.total() == 0 and abs(s.dust) < len(sizes)


@pytest.mark.rule("FND-DYDX-05", "FND-SUM-01")
@settings(max_examples=200, deadline=None)
@given(sizes=balanced_sizes(), now=st.integers(-10**12, 10**12), entry=st.integers(-10**12, 10**12))
def test_dydx_lazy_settlement_protocol_keeps_dust(sizes: list[int], now: int, entry: int) -> None:
    """dYdX: Euclidean floor of each account's settlement; the protocol keeps 0 <= dust < n."""
    s = DydxFunding().settle(now, [(q, entry) for q in sizes])
    assert s.total() == 0 and 0 <= s.dust < len(sizes)


@pytest.mark.rule("FND-DRF-04", "FND-SUM-01")
@settings(max_examples=200, deadline=None)
@given(sizes=balanced_sizes(), rate=st.integers(-10**9, 10**9))
def test_drift_settlement_accounts_for_truncation(sizes: list[int], rate: int) -> None:
    """Drift: payments truncate magnitudes; the residual goes to the AMM fee pool, |dust| < n."""
    s = DriftFunding().settle(rate, rate, sizes)
    assert s.total() == 0 and abs(s.dust) < len(sizes) and s.sink == "amm-fee-pool"


@pytest.mark.rule("FND-SUM-01")
def test_unbalanced_positions_are_refused() -> None:
    """Settlement needs every long matched by a short; otherwise the flows would not sum to zero."""
    with pytest.raises(ValueError, match="net to zero"):
        settle(LINEAR, [1, 2], 100, 10)


@pytest.mark.rule("FND-PAY-01", "FND-SUM-01")
def test_every_bundled_profile_has_a_funding_model_with_a_sink() -> None:
    """Each of the 10 bundled profiles selects a funding variant; each names where dust goes."""
    names = bundled_names()
    for name in ("binance-usdm", "binance-coinm", "bybit-linear", "bybit-inverse", "bitmex-xbtusd",
                 "okx-swap", "hyperliquid", "dydx-v4", "drift-v2", "deribit"):
        assert name in names
        fund = load_profile(name).mechanism("funding")
        assert fund is not None and isinstance(fund.sink, str) and fund.sink
