"""Exact integer arithmetic with named rounding, over two backends.

Every formula in perpspec is written once, over this interface, so that the same
function runs on Python ``int`` (the model) and on Z3 integer terms (the proofs).
Plain ``+``, ``-``, ``*`` and comparisons work on both; everything that would need a
Python ``if``, ``//``, ``%``, ``min`` or ``max`` on a value goes through a helper here.

The backend is inferred from the argument types: if every argument is an ``int`` the
Python path runs (fast, no Z3 import); if any argument is a Z3 term, a Z3 term comes back.
Each helper starts with a fast path for plain ``int`` arguments (``type(x) is int``) that
computes exactly what its general int path computes, without the type dispatch.

Rules: RND-DIV-01 (floor), RND-DIV-02 (ceil), RND-DIV-03 (toward zero),
RND-DIV-04 (half-even), RND-DIV-05 (half away from zero), RND-TICK-01 (round to a step).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeAlias

from perpspec.traceability import implements

if TYPE_CHECKING:  # pragma: no cover
    import z3

    Term: TypeAlias = int | "z3.ArithRef"
    Cond: TypeAlias = bool | "z3.BoolRef"
else:
    Term = Any
    Cond = Any


class Rounding(enum.Enum):
    """A named rounding direction. Which one a rule uses is part of the rule (spec/rounding.md)."""

    FLOOR = "floor"  #: toward -infinity (RND-DIV-01)
    CEIL = "ceil"  #: toward +infinity (RND-DIV-02)
    TRUNC = "trunc"  #: toward zero (RND-DIV-03)
    HALF_EVEN = "half-even"  #: nearest, ties to even (RND-DIV-04)
    HALF_UP = "half-up"  #: nearest, ties away from zero (RND-DIV-05)


def is_symbolic(*xs: object) -> bool:
    """True if any argument is a Z3 expression or a :class:`perpspec.codegen.Expr` (a
    symbolic backend is then used; :func:`_backend` says which)."""
    for x in xs:
        if not isinstance(x, (int, bool)):
            from perpspec.codegen import Expr

            if type(x) is Expr:
                return True
            import z3

            if z3.is_expr(x):
                return True
            raise TypeError(f"perpspec arithmetic takes int or Z3 terms, got {type(x).__name__}")
    return False


def _backend(*xs: object) -> Any:
    """The symbolic backend of the arguments: :mod:`perpspec.codegen` (it records the
    formula to emit a fast path from it) if any is an ``Expr``, else :mod:`z3`. Both
    provide ``If``, ``And``, ``Or``, ``Not``, Euclidean ``/`` and ``%``."""
    from perpspec import codegen

    if codegen.is_expr(*xs):
        return codegen
    import z3

    return z3


def ite(c: Cond, a: Term, b: Term) -> Term:
    """``a if c else b`` on both backends (both branches are evaluated on ints)."""
    if type(a) is int and type(b) is int and type(c) is bool:
        return a if c else b
    if is_symbolic(c, a, b):
        return _backend(c, a, b).If(c, a, b)
    return a if c else b


def max_(a: Term, b: Term) -> Term:
    """The larger of ``a`` and ``b``."""
    if type(a) is int and type(b) is int:
        return a if a >= b else b
    return ite(a >= b, a, b)


def min_(a: Term, b: Term) -> Term:
    """The smaller of ``a`` and ``b``."""
    if type(a) is int and type(b) is int:
        return a if a <= b else b
    return ite(a <= b, a, b)


def abs_(a: Term) -> Term:
    """``|a|``."""
    if type(a) is int:
        return a if a >= 0 else -a
    return ite(a >= 0, a, -a)


def clamp(x: Term, lo: Term, hi: Term) -> Term:
    """``min(max(x, lo), hi)``; the caller guarantees ``lo <= hi``."""
    return min_(max_(x, lo), hi)


def sign(a: Term) -> Term:
    """-1, 0 or +1."""
    return ite(a > 0, 1, ite(a < 0, -1, 0))


def and_(*cs: Cond) -> Cond:
    """Logical and on both backends."""
    if is_symbolic(*cs):
        return _backend(*cs).And(*cs)
    return all(cs)


def or_(*cs: Cond) -> Cond:
    """Logical or on both backends."""
    if is_symbolic(*cs):
        return _backend(*cs).Or(*cs)
    return any(cs)


def not_(c: Cond) -> Cond:
    """Logical not on both backends."""
    if is_symbolic(c):
        return _backend(c).Not(c)
    return not c


def _check_divisor(b: Term) -> None:
    if isinstance(b, int) and b == 0:
        raise ZeroDivisionError("perpspec division by zero")


@implements("RND-DIV-01")
def div_floor(a: Term, b: Term) -> Term:
    """Rule RND-DIV-01: :math:`\\lfloor a/b \\rfloor` (toward -infinity), any signs, b != 0.

    Z3's integer ``/`` is Euclidean division, which equals floor division only for a
    positive divisor; for a negative divisor ``floor(a/b) = floor(-a/-b)``.
    """
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ZeroDivisionError("perpspec division by zero")
        return a // b
    if is_symbolic(a, b):
        return _backend(a, b).If(b > 0, a / b, (-a) / (-b))
    _check_divisor(b)
    return a // b


@implements("RND-DIV-02")
def div_ceil(a: Term, b: Term) -> Term:
    """Rule RND-DIV-02: :math:`\\lceil a/b \\rceil` (toward +infinity) = ``-floor(-a/b)``."""
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ZeroDivisionError("perpspec division by zero")
        return -(-a // b)
    return -div_floor(-a, b)


@implements("RND-DIV-03")
def div_trunc(a: Term, b: Term) -> Term:
    """Rule RND-DIV-03: a/b rounded toward zero (Go's and Rust's integer ``/``)."""
    if (type(a) is not int or type(b) is not int) and is_symbolic(a, b):
        same_sign = (a >= 0) == (b > 0)
        return ite(same_sign, div_floor(a, b), div_ceil(a, b))
    _check_divisor(b)
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@implements("RND-DIV-05")
def div_half_up(a: Term, b: Term) -> Term:
    """Rule RND-DIV-05: a/b to the nearest integer, ties away from zero.

    :math:`\\operatorname{sign}(ab)\\,\\lfloor (2|a| + |b|) / (2|b|) \\rfloor`.
    """
    if (type(a) is not int or type(b) is not int) and is_symbolic(a, b):
        q = div_floor(2 * abs_(a) + abs_(b), 2 * abs_(b))
        return ite((a >= 0) == (b > 0), q, -q)
    _check_divisor(b)
    q = (2 * abs(a) + abs(b)) // (2 * abs(b))
    return q if (a >= 0) == (b > 0) else -q


@implements("RND-DIV-04")
def div_half_even(a: Term, b: Term) -> Term:
    """Rule RND-DIV-04: a/b to the nearest integer, ties to the even neighbour (banker's)."""
    if (type(a) is not int or type(b) is not int) and is_symbolic(a, b):
        n, d = abs_(a), abs_(b)
        q = div_floor(n, d)
        r = n - q * d
        up = ite(2 * r > d, q + 1, ite(2 * r == d, q + (q % 2), q))
        return ite((a >= 0) == (b > 0), up, -up)
    _check_divisor(b)
    n, d = abs(a), abs(b)
    q, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and q % 2 == 1):
        q += 1
    return q if (a >= 0) == (b > 0) else -q


_DIVIDERS = {
    Rounding.FLOOR: div_floor,
    Rounding.CEIL: div_ceil,
    Rounding.TRUNC: div_trunc,
    Rounding.HALF_EVEN: div_half_even,
    Rounding.HALF_UP: div_half_up,
}


def div_round(a: Term, b: Term, mode: Rounding) -> Term:
    """``a/b`` rounded to an integer in the named direction."""
    return _DIVIDERS[mode](a, b)


@implements("RND-TICK-01")
def round_to_step(a: Term, step: Term, mode: Rounding) -> Term:
    """Rule RND-TICK-01: the multiple of ``step`` nearest ``a`` in direction ``mode``."""
    return div_round(a, step, mode) * step


def round_fraction(x: Fraction, mode: Rounding) -> int:
    """An exact rational rounded to an integer in the named direction (int backend only)."""
    return int(div_round(x.numerator, x.denominator, mode))


@implements("RND-TICK-01")
def fraction_to_step(x: Fraction, step: int, mode: Rounding) -> int:
    """Rule RND-TICK-01 for an exact rational: the multiple of ``step`` nearest ``x``."""
    return int(div_round(x.numerator, x.denominator * step, mode)) * step


def first_true(pred: Callable[[int], bool], lo: int, hi: int) -> int:
    """The smallest integer ``x`` in ``(lo, hi]`` with ``pred(x)``, for a monotone ``pred`` (false
    up to some point, true from it on) with ``pred(hi)`` true; ``pred(lo)`` is assumed false and
    never evaluated. Bisection: O(log(hi - lo)) calls (int backend only). The last ``x`` where a
    true-then-false predicate holds is ``first_true(lambda x: not pred(x), lo, hi) - 1``."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid
    return hi


def isqrt_floor(n: int) -> int:
    """:math:`\\lfloor \\sqrt{n} \\rfloor` for ``n >= 0`` (int backend only)."""
    from math import isqrt

    if n < 0:
        raise ValueError("isqrt of a negative number")
    return isqrt(n)


def pow10(k: int) -> int:
    """``10**k`` for ``k >= 0``."""
    if k < 0:
        raise ValueError("negative power of ten")
    return 10**k


def rescale(a: Term, from_decimals: int, to_decimals: int, mode: Rounding) -> Term:
    """An amount with ``from_decimals`` decimals expressed with ``to_decimals`` decimals.

    Exact when ``to_decimals >= from_decimals``; otherwise divided with rounding ``mode``.
    """
    if to_decimals >= from_decimals:
        return a * pow10(to_decimals - from_decimals)
    if type(a) is int and mode is Rounding.FLOOR:
        return a // 10 ** (from_decimals - to_decimals)
    if type(a) is int and mode is Rounding.CEIL:
        return -(-a // 10 ** (from_decimals - to_decimals))
    return div_round(a, pow10(from_decimals - to_decimals), mode)
