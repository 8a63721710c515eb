"""Edge cases of the numeric helpers that mutation testing showed untested (issue 8 section 5).

Each expectation is computed by hand. The symbolic cases check the value of the returned term
(Z3 ``simplify`` after substitution) or, for the codegen backend, that an ``Expr`` node is built.
"""

from __future__ import annotations

import pytest
import z3
from perpspec import codegen
from perpspec import numeric as n
from perpspec.numeric import Rounding


def at(term: object, **values: int) -> int | bool:
    """The value of a Z3 term with its variables substituted."""
    assert isinstance(term, z3.ExprRef)
    subs = [(z3.Int(k), z3.IntVal(v)) for k, v in values.items()]
    out = z3.simplify(z3.substitute(term, *subs))
    return bool(z3.is_true(out)) if z3.is_bool(out) else out.as_long()


X, Y = z3.Int("x"), z3.Int("y")


def test_sign_on_ints_and_terms() -> None:
    assert [n.sign(v) for v in (-7, -1, 0, 1, 9)] == [-1, -1, 0, 1, 1]
    t = n.sign(X)
    assert [at(t, x=v) for v in (-3, 0, 4)] == [-1, 0, 1]


def test_ite_plain_values() -> None:
    assert n.ite(True, 1, 2) == 1
    assert n.ite(False, 1, 2) == 2
    # a non-bool condition takes the general path: Python truthiness
    assert n.ite(1, 5, 7) == 5
    assert n.ite(0, 5, 7) == 7


def test_ite_symbolic_condition_or_branch() -> None:
    t = n.ite(X > 0, 1, 2)
    assert (at(t, x=3), at(t, x=-3)) == (1, 2)
    assert at(n.ite(True, X, 1), x=8) == 8
    assert at(n.ite(False, 1, X), x=8) == 8
    assert at(n.ite(False, X, 1), x=8) == 1


@pytest.mark.parametrize("where", [0, 1, 2])
def test_ite_codegen_backend_in_any_position(where: int) -> None:
    e = codegen.Expr.var("v")
    if where == 0:
        out = n.ite(e > 0, 1, 2)
        assert type(out) is codegen.Expr and out.op == "ite"
    else:  # a constant condition picks the Expr branch itself (codegen.If, not z3.If)
        out = n.ite(True, e, 2) if where == 1 else n.ite(False, 1, e)
        assert out is e


def test_max_min_abs_clamp() -> None:
    assert n.max_(1, 3) == 3 and n.max_(3, 1) == 3 and n.max_(-2, -2) == -2
    assert n.min_(1, 3) == 1 and n.min_(3, 1) == 1
    assert n.abs_(4) == 4 and n.abs_(-4) == 4 and n.abs_(0) == 0
    assert n.clamp(-9, 0, 5) == 0 and n.clamp(3, 0, 5) == 3 and n.clamp(9, 0, 5) == 5
    t = n.max_(X, Y)
    assert (at(t, x=5, y=2), at(t, x=-1, y=2), at(t, x=2, y=2)) == (5, 2, 2)
    t = n.min_(X, Y)
    assert (at(t, x=5, y=2), at(t, x=-1, y=2), at(t, x=2, y=2)) == (2, -1, 2)
    assert (at(n.max_(X, 2), x=5), at(n.max_(2, X), x=-1)) == (5, 2)
    assert (at(n.min_(X, 2), x=5), at(n.min_(2, X), x=-1)) == (2, -1)
    t = n.abs_(X)
    assert (at(t, x=-6), at(t, x=6), at(t, x=0)) == (6, 6, 0)


def test_and_or_not_on_both_backends() -> None:
    assert n.and_(True, True) is True and n.and_(True, False) is False
    assert n.or_(False, True) is True and n.or_(False, False) is False
    assert n.not_(True) is False and n.not_(False) is True
    assert at(n.and_(X > 0, X < 5), x=3) is True and at(n.and_(X > 0, X < 5), x=7) is False
    assert at(n.or_(X < 0, X > 5), x=7) is True and at(n.or_(X < 0, X > 5), x=3) is False
    assert at(n.not_(X > 0), x=1) is False and at(n.not_(X > 0), x=0) is True
    e = codegen.Expr.var("v")
    assert type(n.and_(e > 0, e < 5)) is codegen.Expr
    assert type(n.or_(e > 0, e < 5)) is codegen.Expr
    assert type(n.not_(e > 0)) is codegen.Expr


def test_is_symbolic() -> None:
    assert n.is_symbolic(1, True, -3) is False
    assert n.is_symbolic() is False
    assert n.is_symbolic(1, X) is True
    assert n.is_symbolic(codegen.Expr.var("v")) is True
    with pytest.raises(TypeError, match="got float"):
        n.is_symbolic(1, 1.5)


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02", "RND-DIV-03", "RND-DIV-04", "RND-DIV-05")
@pytest.mark.parametrize("helper", [n.div_floor, n.div_ceil, n.div_trunc, n.div_half_even, n.div_half_up])
def test_zero_divisor_is_named(helper: object) -> None:
    assert callable(helper)
    with pytest.raises(ZeroDivisionError, match=r"^perpspec division by zero$"):
        helper(7, 0)
    # a divisor of 1 is fine (guards against testing ``b == 1``)
    assert helper(7, 1) == 7 and helper(-7, 1) == -7


@pytest.mark.rule("MRG-DRF-01")
def test_isqrt_floor() -> None:
    # MRG-DRF-01 takes floor(sqrt(10 s + 1)); s = 0 gives sqrt(1) = 1, and isqrt(0) must be 0
    assert [n.isqrt_floor(v) for v in (0, 1, 2, 3, 4, 8, 9, 10**18, 10**18 - 1)] == [
        0,
        1,
        1,
        1,
        2,
        2,
        3,
        10**9,
        10**9 - 1,
    ]
    with pytest.raises(ValueError, match=r"^isqrt of a negative number$"):
        n.isqrt_floor(-1)


def test_pow10() -> None:
    assert (n.pow10(0), n.pow10(1), n.pow10(8)) == (1, 10, 100_000_000)
    with pytest.raises(ValueError, match=r"^negative power of ten$"):
        n.pow10(-1)


@pytest.mark.rule("PNL-LIN-01")
def test_rescale_each_direction_and_rounding() -> None:
    # up: exact, 1.5 with 1 decimal -> 1.50000 with 5 decimals
    assert n.rescale(15, 1, 5, Rounding.FLOOR) == 150_000
    assert n.rescale(-15, 1, 1, Rounding.CEIL) == -15
    # down by 2 decimals: 12.345 (3 dp) -> 1 dp
    assert n.rescale(12_345, 3, 1, Rounding.FLOOR) == 123
    assert n.rescale(12_345, 3, 1, Rounding.CEIL) == 124
    assert n.rescale(-12_345, 3, 1, Rounding.FLOOR) == -124
    assert n.rescale(-12_345, 3, 1, Rounding.CEIL) == -123
    assert n.rescale(12_345, 3, 1, Rounding.TRUNC) == 123
    assert n.rescale(-12_345, 3, 1, Rounding.TRUNC) == -123
    assert n.rescale(12_350, 3, 1, Rounding.HALF_EVEN) == 124  # 123.50 -> 124 (even)
    assert n.rescale(12_250, 3, 1, Rounding.HALF_EVEN) == 122  # 122.50 -> 122 (even)
    assert n.rescale(12_250, 3, 1, Rounding.HALF_UP) == 123
    # exact multiples are unchanged by every rounding
    for mode in Rounding:
        assert n.rescale(12_300, 3, 1, mode) == 123
    # down by one decimal on the fast paths
    assert n.rescale(19, 1, 0, Rounding.FLOOR) == 1 and n.rescale(11, 1, 0, Rounding.CEIL) == 2
    # symbolic amounts take the general path
    assert at(n.rescale(X, 3, 1, Rounding.FLOOR), x=-12_345) == -124
    assert at(n.rescale(X, 3, 1, Rounding.CEIL), x=12_345) == 124
    assert at(n.rescale(X, 1, 3, Rounding.CEIL), x=-7) == -700


@pytest.mark.rule("RND-TICK-01")
def test_div_round_dispatches_by_name() -> None:
    # -7/2 = -3.5: floor -4, ceil -3, trunc -3, half-even -4, half-up -4
    got = {mode: n.div_round(-7, 2, mode) for mode in Rounding}
    assert got == {
        Rounding.FLOOR: -4,
        Rounding.CEIL: -3,
        Rounding.TRUNC: -3,
        Rounding.HALF_EVEN: -4,
        Rounding.HALF_UP: -4,
    }
    assert n.round_to_step(-57390835, 50, Rounding.TRUNC) == -57390800
    assert n.round_to_step(-57390825, 50, Rounding.HALF_EVEN) == -57390800


@pytest.mark.rule("RND-DIV-03", "RND-DIV-04", "RND-DIV-05")
@pytest.mark.parametrize(
    ("a", "b", "trunc", "half_even", "half_up"),
    [
        (5, 2, 2, 2, 3),  # 2.5: tie, even neighbour 2
        (7, 2, 3, 4, 4),  # 3.5: tie, even neighbour 4
        (-5, 2, -2, -2, -3),
        (-7, 2, -3, -4, -4),
        (5, -2, -2, -2, -3),
        (0, 3, 0, 0, 0),
        (0, -3, 0, 0, 0),
        (1, -3, 0, 0, 0),
    ],
)
def test_z3_backend_ties_and_signs(a: int, b: int, trunc: int, half_even: int, half_up: int) -> None:
    """The Z3 path (constants), hand-computed at the ties, where Hypothesis rarely lands."""
    za, zb = z3.IntVal(a), z3.IntVal(b)
    got = [z3.simplify(f(za, zb)).as_long() for f in (n.div_trunc, n.div_half_even, n.div_half_up)]
    assert got == [trunc, half_even, half_up]
