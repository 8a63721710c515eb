"""The rounding helpers: hand-computed values, and the int and Z3 backends agree."""

from __future__ import annotations

from fractions import Fraction

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec import numeric as n
from perpspec.numeric import Rounding

ints = st.integers(min_value=-(10**30), max_value=10**30)
nonzero = ints.filter(lambda b: b != 0)
small_nonzero = st.integers(min_value=-50, max_value=50).filter(lambda b: b != 0)

HELPERS = [n.div_floor, n.div_ceil, n.div_trunc, n.div_half_even, n.div_half_up]


def z3_value(term: z3.ArithRef) -> int:
    return z3.simplify(term).as_long()


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02", "RND-DIV-03", "RND-DIV-04", "RND-DIV-05")
@pytest.mark.parametrize(
    ("a", "b", "floor", "ceil", "trunc", "half_even", "half_up"),
    [
        (7, 2, 3, 4, 3, 4, 4),
        (5, 2, 2, 3, 2, 2, 3),
        (-5, 2, -3, -2, -2, -2, -3),
        (-7, 2, -4, -3, -3, -4, -4),
        (7, -2, -4, -3, -3, -4, -4),
        (-7, -2, 3, 4, 3, 4, 4),
        (6, 3, 2, 2, 2, 2, 2),
        (1, 3, 0, 1, 0, 0, 0),
        (2, 3, 0, 1, 0, 1, 1),
        (-1, 3, -1, 0, 0, 0, 0),
    ],
)
def test_hand_computed(
    a: int, b: int, floor: int, ceil: int, trunc: int, half_even: int, half_up: int
) -> None:
    assert n.div_floor(a, b) == floor
    assert n.div_ceil(a, b) == ceil
    assert n.div_trunc(a, b) == trunc
    assert n.div_half_even(a, b) == half_even
    assert n.div_half_up(a, b) == half_up


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02", "RND-DIV-03", "RND-DIV-04", "RND-DIV-05")
@settings(max_examples=300, deadline=None)
@given(a=ints, b=nonzero)
def test_int_backend_matches_exact_rationals(a: int, b: int) -> None:
    x = Fraction(a, b)
    import math

    assert n.div_floor(a, b) == math.floor(x)
    assert n.div_ceil(a, b) == math.ceil(x)
    assert n.div_trunc(a, b) == int(x)
    assert n.div_half_even(a, b) == round(x)  # Fraction.__round__ is half-even
    lo = math.floor(x)
    frac = x - lo
    expect = lo + 1 if frac > Fraction(1, 2) or (frac == Fraction(1, 2) and x > 0) else lo
    assert n.div_half_up(a, b) == expect


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02", "RND-DIV-03", "RND-DIV-04", "RND-DIV-05")
@settings(max_examples=200, deadline=None)
@given(a=ints, b=nonzero)
def test_z3_backend_agrees_on_constants(a: int, b: int) -> None:
    za, zb = z3.IntVal(a), z3.IntVal(b)
    for helper in HELPERS:
        assert z3_value(helper(za, zb)) == helper(a, b), helper.__name__


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02", "RND-DIV-03", "RND-DIV-04", "RND-DIV-05")
@settings(max_examples=60, deadline=None)
@given(a=st.integers(-1000, 1000), b=small_nonzero)
def test_z3_backend_agrees_on_symbols(a: int, b: int) -> None:
    """With symbolic operands the solver finds the same (unique) value the int backend gives."""
    x, y, q = z3.Ints("x y q")
    for helper in HELPERS:
        s = z3.Solver()
        s.add(x == a, y == b, q == helper(x, y), q != helper(a, b))
        assert s.check() == z3.unsat, helper.__name__


@pytest.mark.rule("RND-TICK-01")
def test_round_to_step_and_fractions() -> None:
    assert n.round_to_step(57390835, 50, Rounding.CEIL) == 57390850
    assert n.round_to_step(57390835, 50, Rounding.FLOOR) == 57390800
    assert n.fraction_to_step(Fraction(573908352, 100000), 50, Rounding.CEIL) == 5750
    assert n.round_fraction(Fraction(-5, 2), Rounding.HALF_EVEN) == -2
    assert n.round_fraction(Fraction(-5, 2), Rounding.HALF_UP) == -3


def test_helpers_refuse_floats_and_zero() -> None:
    with pytest.raises(TypeError):
        n.div_floor(1.5, 2)  # type: ignore[arg-type]
    with pytest.raises(ZeroDivisionError):
        n.div_ceil(1, 0)


def test_ite_min_max_abs_on_both_backends() -> None:
    assert n.max_(3, -4) == 3 and n.min_(3, -4) == -4 and n.abs_(-4) == 4 and n.clamp(9, 0, 5) == 5
    x = z3.Int("x")
    s = z3.Solver()
    s.add(n.abs_(x) < 0)
    assert s.check() == z3.unsat


def test_first_true_finds_the_boundary_of_a_monotone_predicate() -> None:
    from perpspec.numeric import first_true

    calls: list[int] = []

    def at_least_37(x: int) -> bool:
        calls.append(x)
        return x >= 37

    assert first_true(at_least_37, 0, 1000) == 37
    assert 0 not in calls and len(calls) <= 10  # lo is never evaluated; log2(1000) probes
    assert first_true(at_least_37, 36, 37) == 37  # adjacent bounds: no probe at all
    assert first_true(lambda x: not x < 5, 1, 9) - 1 == 4  # last x with x < 5
