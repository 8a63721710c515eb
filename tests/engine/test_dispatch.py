"""The engine package: one handler per event class, registered by the event-family modules,
and state built by keyword only (issue 7 item 3)."""

from __future__ import annotations

import pytest
from perpspec.engine import HANDLERS, step
from perpspec.engine.common import handles
from perpspec.errors import ModelError
from perpspec.events import EVENT_TYPES, ClockTick
from perpspec.profiles import load_profile
from perpspec.state import Exchange, FundingState, Market, initial_exchange


@pytest.mark.rule("ENG-UNK-01")
def test_every_event_class_has_exactly_one_handler() -> None:
    assert set(HANDLERS) == set(EVENT_TYPES)
    with pytest.raises(ValueError, match="two handlers for ClockTick"):
        handles(ClockTick)(lambda ex, ev: (ex, []))


@pytest.mark.rule("ENG-TIM-01")
def test_an_event_class_without_handler_is_a_model_error() -> None:
    class Unknown:
        t = 5

    ex = initial_exchange(load_profile("binance-usdm"))
    with pytest.raises(ModelError, match="no handler for event type Unknown"):
        step(ex, Unknown())  # type: ignore[arg-type]


def test_state_records_are_built_by_keyword_only() -> None:
    with pytest.raises(TypeError):
        Market("BTCUSDT", 1, 2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        FundingState((), 0, 0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Exchange(load_profile("binance-usdm"), 0)  # type: ignore[misc]
    assert Market(symbol="BTCUSDT", oi_long=3).oi_long == 3
