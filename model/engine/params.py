"""Parameter changes: one profile parameter, edited by :mod:`perpspec.profiles.edit`.

Rule: ENG-PAR-01.
"""

from __future__ import annotations

import attrs
from perpspec.engine.common import Output, Rejected, handles
from perpspec.events import ParamChange, ParamOut
from perpspec.profiles.edit import GRID_FIELDS, ParamError, change_param
from perpspec.state import Exchange
from perpspec.traceability import implements


@handles(ParamChange)
@implements("ENG-PAR-01")
def param_change(ex: Exchange, ev: ParamChange) -> tuple[Exchange, list[Output]]:
    """Rule: ENG-PAR-01. Change one profile parameter, validated like a profile file; a
    market's ``tick`` and ``lot`` only while it has no open interest."""
    try:
        profile = change_param(ex.profile, ev.path, ev.value)
    except ParamError as exc:
        raise Rejected("ENG-PAR-01", str(exc)) from None
    parts = ev.path.split(".")
    if len(parts) == 3 and parts[2] in GRID_FIELDS:
        m = ex.markets.get(parts[1])
        if m is not None and (m.oi_long or m.oi_short):
            raise Rejected(
                "ENG-PAR-01",
                f"{ev.path!r} cannot be changed while {parts[1]} has open interest "
                f"({m.oi_long} size units): positions would sit off the new grid",
            )
    return attrs.evolve(ex, t=ev.t, profile=profile), [ParamOut(ev.t, ev.path, str(ev.value))]
