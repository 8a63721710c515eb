"""Proofs of the numeric core: each division helper satisfies its defining inequality.

The helpers are the ones in :mod:`perpspec.numeric`, called on Z3 terms exactly as the
model calls them; the properties are the textbook definitions of each rounding, stated
without using the helper's own construction. Unbounded: ``a, b`` range over all integers.
"""

from __future__ import annotations

import z3
from perpspec.numeric import (
    Rounding,
    abs_,
    div_ceil,
    div_floor,
    div_half_even,
    div_half_up,
    div_trunc,
    round_to_step,
)
from perpspec.proofs.framework import Claim, Obligation, proof

_UNBOUNDED = "a, b ∈ ℤ unbounded, b ≠ 0"


def _ab() -> tuple[z3.ArithRef, z3.ArithRef]:
    return z3.Int("a"), z3.Int("b")


def _show(a: z3.ArithRef, b: z3.ArithRef, q: object) -> dict[str, tuple[object, int]]:
    return {"a": (a, 0), "b": (b, 0), "q": (q, 0)}


@proof("PRF-RND-01", rules=("RND-DIV-01",), bounds=_UNBOUNDED, timeout_s=20, fast=True)
def floor_division(_: object) -> Obligation:
    """div_floor is floor division: q·b ≤ a < (q+1)·b for b > 0 (mirrored for b < 0).

    Rules: RND-DIV-01.
    """
    a, b = _ab()
    q = div_floor(a, b)
    goal = z3.If(b > 0, z3.And(q * b <= a, a < (q + 1) * b), z3.And(q * b >= a, a > (q + 1) * b))
    return Obligation((Claim(goal, (b != 0,), _show(a, b, q)),))


@proof("PRF-RND-02", rules=("RND-DIV-02",), bounds=_UNBOUNDED, timeout_s=20, fast=True)
def ceil_division(_: object) -> Obligation:
    """div_ceil is ceiling division: (q−1)·b < a ≤ q·b for b > 0 (mirrored for b < 0).

    Rules: RND-DIV-02.
    """
    a, b = _ab()
    q = div_ceil(a, b)
    goal = z3.If(b > 0, z3.And((q - 1) * b < a, a <= q * b), z3.And((q - 1) * b > a, a >= q * b))
    return Obligation((Claim(goal, (b != 0,), _show(a, b, q)),))


@proof("PRF-RND-03", rules=("RND-DIV-03",), bounds=_UNBOUNDED, timeout_s=20)
def trunc_division(_: object) -> Obligation:
    """div_trunc rounds toward zero: |q·b| ≤ |a| < |q·b| + |b| and q has the sign of a/b (or is 0).

    Rules: RND-DIV-03.
    """
    a, b = _ab()
    q = div_trunc(a, b)
    same = (a > 0) == (b > 0)
    goal = z3.And(
        abs_(q * b) <= abs_(a),
        abs_(a) < abs_(q * b) + abs_(b),
        z3.Or(q == 0, z3.And(q > 0, same), z3.And(q < 0, z3.Not(same))),
    )
    return Obligation((Claim(goal, (b != 0,), _show(a, b, q)),))


@proof("PRF-RND-04", rules=("RND-DIV-04",), bounds=_UNBOUNDED, timeout_s=20)
def half_even_division(_: object) -> Obligation:
    """div_half_even is the nearest integer, ties to even: 2|a − q·b| ≤ |b|, and q is even on a tie.

    Rules: RND-DIV-04.
    """
    a, b = _ab()
    q = div_half_even(a, b)
    r = a - q * b
    even = div_floor(q, 2) * 2 == q
    goal = z3.And(2 * abs_(r) <= abs_(b), z3.Implies(2 * abs_(r) == abs_(b), even))
    return Obligation((Claim(goal, (b != 0,), _show(a, b, q)),))


@proof("PRF-RND-05", rules=("RND-DIV-05",), bounds=_UNBOUNDED, timeout_s=20)
def half_up_division(_: object) -> Obligation:
    """div_half_up is the nearest integer, ties away from zero: 2|a − q·b| ≤ |b|, |q·b| > |a| on a tie.

    Rules: RND-DIV-05.
    """
    a, b = _ab()
    q = div_half_up(a, b)
    r = a - q * b
    goal = z3.And(2 * abs_(r) <= abs_(b), z3.Implies(2 * abs_(r) == abs_(b), abs_(q * b) > abs_(a)))
    return Obligation((Claim(goal, (b != 0,), _show(a, b, q)),))


@proof("PRF-RND-06", rules=("RND-TICK-01",), bounds="a ∈ ℤ unbounded, step s ≥ 1", timeout_s=20)
def round_to_step_grid(_: object) -> Obligation:
    """round_to_step stays within one step: down ≤ a < down + s, up − s < a ≤ up, |nearest − a| ≤ s/2.

    (The result is on the grid by construction: it is an integer times ``s``.)

    Rules: RND-TICK-01.
    """
    a, s = z3.Int("a"), z3.Int("s")
    down = round_to_step(a, s, Rounding.FLOOR)
    up = round_to_step(a, s, Rounding.CEIL)
    near = round_to_step(a, s, Rounding.HALF_UP)
    show = {"a": (a, 0), "step": (s, 0), "down": (down, 0), "up": (up, 0), "nearest": (near, 0)}
    claims = (
        Claim(z3.And(down <= a, a < down + s), (s >= 1,), show, "floor"),
        Claim(z3.And(up - s < a, a <= up), (s >= 1,), show, "ceil"),
        Claim(2 * abs_(near - a) <= s, (s >= 1,), show, "half-up"),
    )
    return Obligation(claims)
