"""``perpspec.state.market_with`` / ``exchange_with``: the engine's copies of state with fields changed."""

from __future__ import annotations

import attrs
import pytest
from perpspec.profiles import load_profile
from perpspec.state import FundingState, Market, exchange_with, initial_exchange, market_with


def _market() -> Market:
    return Market(
        symbol="BTCUSDT",
        index=1,
        mark=2,
        oracle=3,
        last_price=4,
        book=(((5, 6),), ((7, 8),)),
        funding=FundingState(samples=((0, 9),), last_settlement=10, last_rate=11, index=12),
        oi_long=13,
        oi_short=13,
        realized_pnl=-14,
        mark_state=("s",),
        mark_source="model",
        mark_sampled_at=15,
    )


def test_changes_only_the_named_fields_and_shares_the_rest() -> None:
    m = _market()
    got = market_with(m, oi_long=20, mark_source=None)
    assert got == attrs.evolve(m, oi_long=20, mark_source=None)
    assert got.oi_long == 20 and got.mark_source is None and m.oi_long == 13
    assert got.funding is m.funding and got.book is m.book


def test_every_field_is_carried() -> None:
    # a field the replacement forgot would come back as its default: compare field by field
    m = _market()
    got = market_with(m)
    for f in attrs.fields(Market):
        assert getattr(got, f.name) == getattr(m, f.name), f.name
        assert getattr(m, f.name) != f.default or f.name == "symbol", (
            f"fixture leaves {f.name} at its default"
        )


def test_an_unknown_field_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        market_with(_market(), oi=1)


def test_exchange_with_equals_evolve_and_keeps_the_holder_index() -> None:
    ex = initial_exchange(load_profile("binance-usdm"))
    got = exchange_with(ex, t=5, fee_pool=7)
    assert got == attrs.evolve(ex, t=5, fee_pool=7)
    assert got.t == 5 and got.fee_pool == 7 and ex.t == 0
    assert got.holders is ex.holders and got.accounts is ex.accounts
