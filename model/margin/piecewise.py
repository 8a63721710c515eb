"""Shared machinery for tiered margin schedules (no variant is registered here).

A tiered schedule is a static table of floors (ascending, the first one 0) and rates.
The tier that holds a value ``x`` is the last one whose floor is ``<= x`` (floors are
inclusive, caps exclusive: ``[floor_k, floor_{k+1})``). Selection is written as a chain of
:func:`perpspec.numeric.ite` over the static table, so it runs on ints and on Z3 terms.

Rules: MRG-BRK-01, MRG-BRK-02 (the progressive deduction recurrence these helpers compute;
Binance "cum", Bybit "deduction" and Hyperliquid "deduction" are the same recurrence).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from perpspec.margin import LinearTier
from perpspec.numeric import Term, ite


def select(x: Term, floors: Sequence[int], values: Sequence[Term]) -> Term:
    """The value of the tier holding ``x``: ``values[k]`` for the last ``k`` with ``floors[k] <= x``.

    ``floors[0]`` is the lower end of the schedule; a value below it gets ``values[0]``.
    """
    out = values[0]
    for floor, value in zip(floors[1:], values[1:], strict=True):
        out = ite(x >= floor, value, out)
    return out


def deductions(floors: Sequence[int], rates: Sequence[int]) -> tuple[int, ...]:
    """Rule MRG-BRK-02: ``d_0 = 0``, ``d_k = d_{k-1} + floor_k * (rate_k - rate_{k-1})``.

    With floors in money units and rates as integers over a fixed denominator ``D``, the
    result is the deduction times ``D`` (exact integers, no rounding). This makes
    ``N * rate_k - d_k`` continuous across every floor.
    """
    out = [0]
    for k in range(1, len(floors)):
        out.append(out[-1] + floors[k] * (rates[k] - rates[k - 1]))
    return tuple(out)


def progressive_scaled(x: Term, floors: Sequence[int], rates: Sequence[int]) -> Term:
    """``x * rate_k - d_k`` for the tier holding ``x`` (times the rates' denominator)."""
    ded = deductions(floors, rates)
    return select(x, floors, [x * r - d for r, d in zip(rates, ded, strict=True)])


def linear_tiers(floors: Sequence[int], rates: Sequence[int], denominator: int) -> tuple[LinearTier, ...]:
    """The schedule as exact :class:`~perpspec.margin.LinearTier` pieces (money units)."""
    ded = deductions(floors, rates)
    out = []
    for k, floor in enumerate(floors):
        upper = floors[k + 1] if k + 1 < len(floors) else None
        out.append(LinearTier(floor, upper, Fraction(rates[k], denominator), Fraction(ded[k], denominator)))
    return tuple(out)


def check_floors(floors: Sequence[int], what: str = "floor") -> list[tuple[int, str]]:
    """Problems with a floor column: ``(row index, message)``."""
    out: list[tuple[int, str]] = []
    if not floors:
        return [(0, "the table needs at least one tier")]
    if floors[0] != 0:
        out.append((0, f"the first tier's {what} must be 0 (the schedule covers every position)"))
    for k in range(1, len(floors)):
        if floors[k] <= floors[k - 1]:
            out.append(
                (k, f"{what}s must be strictly increasing: this row's {what} is not above the previous row's")
            )
    return out
