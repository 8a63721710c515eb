"""Exact moving averages for mark prices: a simple moving average over the last N points
and a time-weighted exponential moving average.

Rule: PRC-EMA-01.

Both are frozen attrs states with a pure ``update(state, ...) -> state``; the engine keeps
the state in its Market. Venues publish the continuous idea (a 30-point basis MA, a 150 s
EMA), never an integer rule; the integer rules here are perpspec's reading:

- **SMA**: the last ``window`` samples (ints, in units of ``1/scale`` price units) are kept;
  the value is ``sum / (count * scale)`` rounded with the caller's rounding. With fewer
  than ``window`` samples the average is over the samples present; with none there is no
  value (``None``).
- **EMA** (time constant ``tau`` seconds): the state keeps ``v`` (the EMA in price units
  times :data:`EMA_SCALE`) and ``w`` (the decayed time weight, seconds times EMA_SCALE).
  The first sample sets ``v = x`` and ``w = EMA_SCALE`` (one second). A sample ``x`` arriving
  ``dt >= 0`` seconds after the previous one is weighted by ``dt`` (Hyperliquid's
  numerator/denominator form); the old weight decays by ``tau/(tau+dt)``, the [0/1] Padé
  approximant of ``exp(-dt/tau)``:

  ``w' = floor(w * tau / (tau + dt)) + dt * EMA_SCALE``
  ``v' = v + half_even((x - v) * dt * EMA_SCALE / w')``

  Since ``0 <= dt*EMA_SCALE/w' <= 1`` the new value lies between ``v`` and ``x``: the EMA
  never leaves the range of its samples. Read-out: ``half_even(v / EMA_SCALE)``.
"""

from __future__ import annotations

import attrs
from perpspec.numeric import Rounding, Term, div_floor, div_round
from perpspec.traceability import implements

#: Extra fixed-point precision of the EMA state (10^8, even so half price units are exact).
EMA_SCALE = 10**8


@attrs.frozen
class MovingAverage:
    """Rule: PRC-EMA-01. Simple moving average state over the last ``window`` samples."""

    window: int = attrs.field(validator=attrs.validators.gt(0))
    scale: int = attrs.field(default=1, validator=attrs.validators.gt(0))
    samples: tuple[int, ...] = ()


@implements("PRC-EMA-01")
def ma_update(state: MovingAverage, sample: int) -> MovingAverage:
    """Rule: PRC-EMA-01. Append ``sample`` and keep the last ``window`` samples."""
    kept = (*state.samples, sample)[-state.window :]
    return attrs.evolve(state, samples=kept)


@implements("PRC-EMA-01")
def ma_value(state: MovingAverage, rounding: Rounding) -> Term | None:
    """Rule: PRC-EMA-01. ``sum(samples) / (count * scale)`` rounded; ``None`` without samples."""
    if not state.samples:
        return None
    return div_round(sum(state.samples), len(state.samples) * state.scale, rounding)


@attrs.frozen
class Ema:
    """Rule: PRC-EMA-01. Time-weighted EMA state with time constant ``tau_s`` seconds."""

    tau_s: int = attrs.field(validator=attrs.validators.gt(0))
    value: int = 0
    weight: int = 0
    last_time: int | None = None

    @property
    def empty(self) -> bool:
        return self.last_time is None


@implements("PRC-EMA-01")
def ema_step(value: Term, weight: Term, x: Term, dt: Term, tau: Term) -> tuple[Term, Term]:
    """Rule: PRC-EMA-01. One EMA step on scaled ints (runs on ints and Z3 terms):
    ``w' = floor(w*tau/(tau+dt)) + dt*S``, ``v' = v + half_even((x-v)*dt*S / w')``.
    The caller guarantees ``dt >= 0``, ``tau > 0`` and ``w' > 0``."""
    new_weight = div_floor(weight * tau, tau + dt) + dt * EMA_SCALE
    new_value = value + div_round((x - value) * dt * EMA_SCALE, new_weight, Rounding.HALF_EVEN)
    return new_value, new_weight


@implements("PRC-EMA-01")
def ema_update(state: Ema, now: int, numerator: int, denominator: int = 1) -> Ema:
    """Rule: PRC-EMA-01. Feed the sample ``numerator/denominator`` price units at time ``now``.

    ``denominator`` must divide :data:`EMA_SCALE` (1 for prices, 2 for a mid price).
    """
    if denominator <= 0 or EMA_SCALE % denominator != 0:
        raise ValueError(f"the sample denominator must divide {EMA_SCALE}, got {denominator}")
    x = numerator * (EMA_SCALE // denominator)
    if state.last_time is None:
        return attrs.evolve(state, value=x, weight=EMA_SCALE, last_time=now)
    dt = now - state.last_time
    if dt < 0:
        raise ValueError(f"EMA sample at {now} is earlier than the previous one at {state.last_time}")
    value, weight = ema_step(state.value, state.weight, x, dt, state.tau_s)
    return attrs.evolve(state, value=value, weight=weight, last_time=now)


@implements("PRC-EMA-01")
def ema_value(state: Ema, rounding: Rounding = Rounding.HALF_EVEN) -> Term | None:
    """Rule: PRC-EMA-01. The EMA in price units, rounded; ``None`` before the first sample."""
    if state.last_time is None:
        return None
    return div_round(state.value, EMA_SCALE, rounding)
