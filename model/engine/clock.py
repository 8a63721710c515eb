"""The clock: a tick only advances the time.

Rule: ENG-TIM-01 (checked by :func:`perpspec.engine.step` for every event).
"""

from __future__ import annotations

from perpspec.engine.common import Output, handles, with_markets
from perpspec.events import ClockTick
from perpspec.state import Exchange


@handles(ClockTick)
def clock(ex: Exchange, ev: ClockTick) -> tuple[Exchange, list[Output]]:
    """A clock tick only advances the time (a valid no-op otherwise)."""
    return with_markets(ex, ev.t, ex.markets), []
