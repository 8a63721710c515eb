"""Properties of every tiered margin model in the bundled profiles, and the Z3 backend.

- MM is continuous at each tier boundary (the exact pieces agree there, and the rounded model
  equals the rounded piece on both sides) and non-decreasing in notional (Hypothesis, ints).
- ``maintenance()`` / ``initial()`` accept a ``z3.Int`` notional and the term evaluates to the
  int result (all models except Drift, whose integer square root is int-only).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec.margin import LinearTier, PositionRisk
from perpspec.margin.drift import DriftSizePremium
from perpspec.numeric import Rounding, round_fraction
from perpspec.profiles import bundled_names, load_profile

TIERED_RULES = ("MRG-BRK-01", "MRG-BRK-02", "MRG-BYB-01", "MRG-HL-01")


def _markets(pred: Any) -> list[tuple[str, str, Any]]:
    out = []
    for name in bundled_names():
        for sym, spec in load_profile(name).markets.items():
            if pred(spec.margin):
                out.append((name, sym, spec.margin))
    return out


TIERED = _markets(lambda m: m.maintenance_tiers() is not None)
SYMBOLIC = _markets(lambda m: not isinstance(m, DriftSizePremium))


def _ids(items: list[tuple[str, str, Any]]) -> list[str]:
    return [f"{p}:{s}" for p, s, _ in items]


def _mm(m: Any, n: int) -> int:
    return int(m.maintenance(PositionRisk(size=0, notional=n)))


def test_every_tiered_variant_is_covered() -> None:
    """The property tests below run on each tiered variant the bundled profiles use."""
    names = {type(m).variant_name for _, _, m in TIERED}
    assert names == {"binance-brackets", "bybit-progressive", "hyperliquid-tiers"}


@pytest.mark.rule(*TIERED_RULES)
@pytest.mark.parametrize(("profile", "market", "m"), TIERED, ids=_ids(TIERED))
def test_mm_continuous_at_boundaries(profile: str, market: str, m: Any) -> None:
    """At each boundary b the left piece (rate_{k-1}, d_{k-1}) and the right piece give the same exact
    MM, and the model's rounded MM at b-1, b and b+1 matches the piece it is in."""
    tiers: tuple[LinearTier, ...] = m.maintenance_tiers()
    for left, right in itertools.pairwise(tiers):
        b = right.lower
        assert left.upper == b
        assert left.rate * b - left.deduction == right.rate * b - right.deduction
        assert _mm(m, b) == round_fraction(right.rate * b - right.deduction, Rounding.CEIL)
        assert _mm(m, b - 1) == round_fraction(left.rate * (b - 1) - left.deduction, Rounding.CEIL)
        assert _mm(m, b) - _mm(m, b - 1) <= 1


@pytest.mark.rule(*TIERED_RULES)
@pytest.mark.parametrize(("profile", "market", "m"), TIERED, ids=_ids(TIERED))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mm_non_decreasing_and_near_boundaries(
    profile: str, market: str, m: Any, data: st.DataObject
) -> None:
    """Property: 0 <= MM(a) <= MM(b) for a <= b, sampled across the whole table and right around the
    tier boundaries; MM changes by at most one money unit per money unit of notional there."""
    tiers = m.maintenance_tiers()
    top = 2 * tiers[-1].lower + 10**12
    a = data.draw(st.integers(0, top))
    b = data.draw(st.integers(a, top))
    assert 0 <= _mm(m, a) <= _mm(m, b)
    bound = data.draw(st.sampled_from([t.lower for t in tiers]))
    x = data.draw(st.integers(max(bound - 1000, 0), bound + 1000))
    assert 0 <= _mm(m, x + 1) - _mm(m, x) <= 1


def _z3_eval(expr: Any, var: Any, value: int) -> int:
    if isinstance(expr, int):
        return expr
    out = z3.simplify(z3.substitute(expr, (var, z3.IntVal(value))))
    assert z3.is_int_value(out), out
    return int(out.as_long())


@pytest.mark.rule(
    "MRG-BRK-01",
    "MRG-BRK-03",
    "MRG-BYB-01",
    "MRG-BYB-02",
    "MRG-BMX-02",
    "MRG-HL-01",
    "MRG-HL-02",
    "MRG-DYDX-02",
    "MRG-DYDX-03",
    "MRG-DRB-01",
    "MRG-OKX-01",
)
@pytest.mark.parametrize(("profile", "market", "m"), SYMBOLIC, ids=_ids(SYMBOLIC))
@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 10**16), s=st.integers(0, 10**9))
def test_z3_terms_agree_with_ints(profile: str, market: str, m: Any, n: int, s: int) -> None:
    """Z3 smoke test: maintenance()/initial() accept z3.Int notional, size and OI, and the term
    evaluated at a point equals the int result there (one definition, two backends)."""
    nv, sv = z3.Int("N"), z3.Int("S")
    sym = PositionRisk(size=s, notional=nv, leverage=None, oi_notional=nv)
    num = PositionRisk(size=s, notional=n, leverage=None, oi_notional=n)
    assert _z3_eval(m.maintenance(sym), nv, n) == m.maintenance(num)
    assert _z3_eval(m.initial(sym), nv, n) == m.initial(num)
    by_size = PositionRisk(size=sv, notional=n, leverage=z3.IntVal(20), oi_notional=0)
    assert _z3_eval(m.maintenance(by_size), sv, s) == m.maintenance(
        PositionRisk(size=s, notional=n, oi_notional=0)
    )
    assert _z3_eval(m.initial(by_size), sv, s) == m.initial(
        PositionRisk(size=s, notional=n, leverage=20, oi_notional=0)
    )
