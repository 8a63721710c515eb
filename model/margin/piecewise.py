"""Shared machinery for tiered margin schedules (no variant is registered here).

A tiered schedule is a static table of floors (ascending, the first one 0) and rates.
The tier that holds a value ``x`` is the last one whose floor is ``<= x`` (floors are
inclusive, caps exclusive: ``[floor_k, floor_{k+1})``). Selection is written as a chain of
:func:`perpspec.numeric.ite` over the static table, so it runs on ints and on Z3 terms.

Fast int path: on a plain ``int`` input and an all-``int`` table, :func:`select` and
:func:`progressive_scaled` find the tier with :func:`tier_index` (the index the ite chain
picks, for any floors) and evaluate only that tier's expression, the same expression the
chain builds for it. Z3 terms always take the ite chain (the proofs reason over it).
Derived table data (deductions, the all-int check) is computed once per pair of tuples.

Rules: MRG-BRK-01, MRG-BRK-02 (the progressive deduction recurrence these helpers compute;
Binance "cum", Bybit "deduction" and Hyperliquid "deduction" are the same recurrence).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from perpspec.margin import LinearTier
from perpspec.numeric import Term, ite
from perpspec.traceability import implements

# (id(a), id(b)) -> (a, b, deductions or None, all-int verdict); the entry holds a and b,
# so their ids cannot be reused while it lives (tuples are immutable: the data cannot go stale)
_PAIRS: dict[tuple[int, int], tuple[Any, Any, Any, bool]] = {}
_PAIRS_LIMIT = 4096


def _all_int(xs: Sequence[Any]) -> bool:
    for v in xs:
        if type(v) is not int:
            return False
    return True


def _pair(a: Sequence[Any], b: Sequence[Any], with_deductions: bool) -> tuple[Any, bool]:
    """``(deductions(a, b) or None, a and b are equally long non-empty all-int sequences)``,
    computed once per pair of tuples (every time for other sequences)."""
    cacheable = type(a) is tuple and type(b) is tuple
    if cacheable:
        hit = _PAIRS.get((id(a), id(b)))
        if hit is not None and hit[0] is a and hit[1] is b and (hit[2] is not None or not with_deductions):
            return hit[2], hit[3]
    ded = _deductions(a, b) if with_deductions else None
    ok = 0 < len(a) == len(b) and _all_int(a) and _all_int(b) and (ded is None or _all_int(ded))
    if cacheable:
        if len(_PAIRS) >= _PAIRS_LIMIT:
            _PAIRS.clear()
        _PAIRS[(id(a), id(b))] = (a, b, ded, ok)
    return ded, ok


_COLUMNS: dict[tuple[int, str], tuple[Any, tuple[Any, ...]]] = {}


def column(rows: Sequence[Any], name: str) -> tuple[Any, ...]:
    """``tuple(row.<name> for row in rows)``; computed once per tuple of (frozen) rows."""
    if type(rows) is not tuple:
        return tuple(getattr(r, name) for r in rows)
    key = (id(rows), name)
    hit = _COLUMNS.get(key)
    if hit is not None and hit[0] is rows:
        return hit[1]
    out = tuple(getattr(r, name) for r in rows)
    if len(_COLUMNS) >= _PAIRS_LIMIT:
        _COLUMNS.clear()
    _COLUMNS[key] = (rows, out)
    return out


def tier_index(x: int, floors: Sequence[int]) -> int:
    """The tier :func:`select_chain` picks for an int ``x``: the last ``k >= 1`` with
    ``floors[k] <= x``, else 0 (for any floors; ascending floors make it the tier holding ``x``)."""
    for k in range(len(floors) - 1, 0, -1):
        if x >= floors[k]:
            return k
    return 0


def select(x: Term, floors: Sequence[int], values: Sequence[Term]) -> Term:
    """The value of the tier holding ``x``: ``values[k]`` for the last ``k`` with ``floors[k] <= x``.

    ``floors[0]`` is the lower end of the schedule; a value below it gets ``values[0]``.
    Ints: :func:`tier_index`; otherwise :func:`select_chain` (the same function).
    """
    if type(x) is int and _pair(floors, values, False)[1]:
        return values[tier_index(x, floors)]
    return select_chain(x, floors, values)


def select_chain(x: Term, floors: Sequence[int], values: Sequence[Term]) -> Term:
    """:func:`select` as a chain of :func:`~perpspec.numeric.ite` (ints and Z3 terms)."""
    out = values[0]
    for floor, value in zip(floors[1:], values[1:], strict=True):
        out = ite(x >= floor, value, out)
    return out


@implements("MRG-BRK-02")
def deductions(floors: Sequence[int], rates: Sequence[int]) -> tuple[int, ...]:
    """Rule MRG-BRK-02: ``d_0 = 0``, ``d_k = d_{k-1} + floor_k * (rate_k - rate_{k-1})``.

    With floors in money units and rates as integers over a fixed denominator ``D``, the
    result is the deduction times ``D`` (exact integers, no rounding). This makes
    ``N * rate_k - d_k`` continuous across every floor.
    """
    if type(floors) is tuple and type(rates) is tuple:
        ded: tuple[int, ...] = _pair(floors, rates, True)[0]
        return ded
    return _deductions(floors, rates)


def _deductions(floors: Sequence[int], rates: Sequence[int]) -> tuple[int, ...]:
    out = [0]
    for k in range(1, len(floors)):
        out.append(out[-1] + floors[k] * (rates[k] - rates[k - 1]))
    return tuple(out)


@implements("MRG-BRK-01")
def progressive_scaled(x: Term, floors: Sequence[int], rates: Sequence[int]) -> Term:
    """``x * rate_k - d_k`` for the tier holding ``x`` (times the rates' denominator).

    Ints: only the selected tier's ``x * rate_k - d_k`` is evaluated (see the module docstring).
    """
    ded, ok = _pair(floors, rates, True)
    if ok and type(x) is int:
        k = tier_index(x, floors)
        return x * rates[k] - ded[k]
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
