"""The step function: ``step(exchange, event) -> (exchange', outputs)``, pure and atomic.

Every event is validated first; a rejected (*invalid*) event returns the SAME exchange
object and exactly one :class:`~perpspec.events.Reject` naming the rule it breaks
(spec/events.md, ``ENG-*``). An accepted event builds a new exchange that shares every
untouched part with the old one (design §7). An accepted event that changes nothing but the
clock is a *valid no-op* (e.g. setting the leverage an account already has).

Nothing is clamped or saturated: an amount that would make a balance negative is either a
rejection (withdrawals, transfers, risk-increasing fills) or, where the venue lets it happen
(realized losses and fees of a risk-reducing fill ENG-IMR-01 accepts, funding), an explicit bad-debt record
(INV-03).

One module per event family, each registering its handlers by event class
(:func:`perpspec.engine.common.handles`): :mod:`~perpspec.engine.funds` (deposit, withdraw),
:mod:`~perpspec.engine.fills`, :mod:`~perpspec.engine.settings` (leverage, margin and position
mode, isolated margin transfer), :mod:`~perpspec.engine.prices` (mark, index, oracle, book, the
model's mark), :mod:`~perpspec.engine.funding` (samples, settlements),
:mod:`~perpspec.engine.params` (parameter changes) and :mod:`~perpspec.engine.clock`. The
liquidation and ADL families join as modules of their own.

After every accepted event the liquidation pass runs (:func:`perpspec.engine.liquidation.sweep`,
LIQ-PAS-01).

Rules: ENG-TIM-01, ENG-UNK-01, INV-05, INV-08, LIQ-PAS-01.
"""

from __future__ import annotations

from typing import Any

from perpspec.engine import clock, fills, funding, funds, liquidation, params, prices, settings  # noqa: F401  (register)
from perpspec.engine.common import HANDLERS, Output, Rejected
from perpspec.errors import ModelError
from perpspec.events import Event, Reject
from perpspec.state import Exchange, initial_exchange
from perpspec.traceability import implements

__all__ = ["HANDLERS", "Output", "Rejected", "initial_exchange", "run", "step"]

_HANDLERS = HANDLERS


@implements("ENG-TIM-01", "INV-05", "INV-08")
def step(ex: Exchange, event: Event) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-TIM-01, INV-05, INV-08. Apply one event. Pure: ``ex`` is never modified.

    Returns ``(ex, [Reject(...)])`` (the very same object) for an invalid event, or the new
    exchange and the outputs of an accepted one.
    """
    if event.t < ex.t:
        return ex, [
            Reject(
                event.t, "ENG-TIM-01", f"time goes backwards: event at {event.t} ms, exchange at {ex.t} ms"
            )
        ]
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise ModelError(f"no handler for event type {type(event).__name__}")
    try:
        ex2, outs = handler(ex, event)
    except Rejected as r:
        return ex, [Reject(event.t, r.rule_id, r.reason)]
    if ex2.profile.liquidation_procedure_model is None:
        return ex2, outs
    ex3, more = liquidation.sweep(ex, ex2, event)
    return (ex3, outs + more) if more else (ex3, outs)


def run(ex: Exchange, events: Any) -> tuple[Exchange, list[Output]]:
    """Apply events in order; the final exchange and every output (rejections included)."""
    outs: list[Output] = []
    for ev in events:
        ex, o = step(ex, ev)
        outs.extend(o)
    return ex, outs
