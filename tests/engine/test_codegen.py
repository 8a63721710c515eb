"""Generated fast paths compute exactly what their one definition computes.

- perpspec.codegen: a formula evaluated once over symbolic inputs and emitted as Python
  equals the formula on ints, for every rounding helper of perpspec.numeric (any signs,
  including Euclidean division by a negative divisor) and with ``None`` inputs;
- perpspec.market_runtime: for every market of every bundled profile, the generated
  notional, uPnL, IM, MM and fee functions equal the definitions (position.notional_term,
  position.upnl_term, the margin variant, fees.fill_fee_term) on random inputs, and the
  formulas the hot path uses were generated (not served by the fallback), and a market whose
  ``reads_oi`` is false has IM and MM independent of the open-interest notional.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec import numeric as n
from perpspec.codegen import NotTraceable, generate
from perpspec.fees import fill_fee_term
from perpspec.margin import PositionRisk
from perpspec.margin.flat import FlatMargin
from perpspec.market_runtime import MarketRuntime, runtime_of
from perpspec.numeric import Rounding
from perpspec.position import margin_notional_term, notional_term, upnl_term
from perpspec.profiles import bundled_names, load_profile

ints = st.integers(min_value=-(10**24), max_value=10**24)
nonzero = ints.filter(lambda b: b != 0)

MARKETS = [(name, sym) for name in bundled_names() for sym in sorted(load_profile(name).markets)]
#: margin variants whose definitions branch on values (no generated IM/MM; the fallback serves them)
UNTRACEABLE_MARGIN = {"DriftSizePremium"}


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02", "RND-DIV-03", "RND-DIV-04", "RND-DIV-05")
@settings(max_examples=300, deadline=None)
@given(a=ints, b=nonzero, mode=st.sampled_from(list(Rounding)))
def test_generated_rounding_equals_the_definition(a: int, b: int, mode: Rounding) -> None:
    g = generate("f", ("a", "b"), lambda x, y: n.div_round(x, y, mode))
    assert g.fn(a, b) == n.div_round(a, b, mode)
    h = generate("h", ("a",), lambda x: n.div_round(x, b, mode))  # constant divisor folded in
    assert h.fn(a) == n.div_round(a, b, mode)


@pytest.mark.rule("RND-DIV-01")
@settings(max_examples=200, deadline=None)
@given(a=ints, b=ints, c=ints)
def test_generated_conditions_equal_the_definition(a: int, b: int, c: int) -> None:
    def f(x: Any, y: Any, z: Any) -> Any:
        both = n.and_(x > y, n.or_(z < 0, n.not_(y == z)))
        return n.ite(both, n.max_(x, z) - n.abs_(y), n.min_(y, z) * 3 + n.sign(x))

    assert generate("f", ("x", "y", "z"), f).fn(a, b, c) == f(a, b, c)


def test_division_by_zero_is_kept() -> None:
    g = generate("f", ("a", "b"), lambda x, y: n.div_floor(x, y))
    with pytest.raises(ZeroDivisionError):
        g.fn(1, 0)


def test_optional_parameters_take_the_definition_branch() -> None:
    def f(x: Any, lev: Any) -> Any:
        return x * 2 if lev is None else n.div_ceil(x, lev)

    g = generate("f", ("x", "lev"), f, ("lev",))
    assert g.fn(7, None) == 14
    assert g.fn(7, 2) == 4
    assert "is None" in g.source


def test_branching_on_a_value_is_not_traceable() -> None:
    def f(x: Any) -> Any:
        return x if x > 0 else -x  # a Python `if` on a value: not a formula of the interface

    with pytest.raises(NotTraceable):
        generate("f", ("x",), f)
    with pytest.raises(NotTraceable):
        generate("g", ("x",), lambda x: int(x))


def _outcome(f: Any, *args: Any) -> Any:
    """``f(*args)``, or the ZeroDivisionError it raises (a definition may divide by a
    leverage of 0: the generated function must raise too)."""
    try:
        return f(*args)
    except ZeroDivisionError:
        return ZeroDivisionError


def _runtime(name: str, sym: str) -> MarketRuntime:
    return runtime_of(load_profile(name)).markets[sym]


@pytest.mark.rule("PNL-NOT-01", "PNL-NOT-02", "PNL-LIN-01", "PNL-INV-01", "FEE-MT-01")
@pytest.mark.parametrize("name,sym", MARKETS)
def test_bundled_markets_have_generated_fast_paths(name: str, sym: str) -> None:
    rt = _runtime(name, sym)
    if name == "dydx-v4" and sym == "LINK-USD":  # OI-scaled IMF (MRG-DYDX-01)
        assert rt.reads_oi
    assert {"notional", "margin_notional", "upnl", "fee"} <= set(rt.generated)
    if type(rt.spec.margin).__name__ not in UNTRACEABLE_MARGIN:
        assert {"initial", "maintenance"} <= set(rt.generated)


sizes = st.integers(min_value=-(10**12), max_value=10**12)
prices = st.integers(min_value=1, max_value=10**13)
notionals = st.integers(min_value=0, max_value=10**20)
#: the engine's domain: no leverage, or a positive one (ENG-AMT-01). A definition on ints
#: evaluates both branches of an ite, so ``ite(lev > 0, N / lev, ...)`` raises for lev = 0
#: where the generated code (lazy, like Z3's If) takes the other branch; see perpspec.codegen.
leverages = st.one_of(st.none(), st.integers(min_value=1, max_value=200))
rates = st.integers(min_value=-(10**6), max_value=10**6)


@pytest.mark.rule(
    "PNL-NOT-01",
    "PNL-LIN-01",
    "PNL-INV-01",
    "FEE-MT-01",
    "MRG-BRK-01",
    "MRG-BRK-03",
    "MRG-BYB-01",
    "MRG-BMX-01",
    "MRG-HL-01",
    "MRG-DYDX-02",
    "MRG-DYDX-03",
    "MRG-DRB-01",
    "MRG-OKX-01",
)
@pytest.mark.parametrize("name,sym", MARKETS)
@settings(max_examples=60, deadline=None)
@given(
    q=sizes,
    e=st.integers(min_value=-(10**25), max_value=10**25),
    p=prices,
    nn=notionals,
    lev=leverages,
    oi=notionals,
    r=rates,
)
def test_generated_market_formulas_equal_the_definitions(
    name: str, sym: str, q: int, e: int, p: int, nn: int, lev: int | None, oi: int, r: int
) -> None:
    rt = _runtime(name, sym)
    spec, scales, acc = rt.spec, rt.scales, rt.accounting
    pr = runtime_of(load_profile(name))
    assert rt.notional(abs(q), p) == notional_term(abs(q), p, spec, scales, acc)
    assert rt.margin_notional(abs(q), p) == margin_notional_term(abs(q), p, spec, scales, acc)
    assert rt.upnl(q, e, p) == upnl_term(q, e, p, spec, scales, acc)
    risk = PositionRisk(abs(q), nn, lev, oi)
    assert _outcome(rt.initial, abs(q), nn, lev, oi) == _outcome(spec.margin.initial, risk)
    assert _outcome(rt.maintenance, abs(q), nn, lev, oi) == _outcome(spec.margin.maintenance, risk)
    if not rt.reads_oi:  # the engine then leaves the OI notional out (it cannot matter)
        at_zero = PositionRisk(abs(q), nn, lev, 0)
        assert spec.margin.initial(risk) == spec.margin.initial(at_zero)
        assert spec.margin.maintenance(risk) == spec.margin.maintenance(at_zero)
    per_contract = acc.per_contract_rounding()
    want = fill_fee_term(abs(q), p, nn, r, pr.fee_rounding, spec, scales, per_contract)
    assert rt.fee(abs(q), p, nn, r) == want


@pytest.mark.rule("MRG-FLAT-01")
@settings(max_examples=200, deadline=None)
@given(
    nn=notionals,
    lev=leverages,
    mmr=st.integers(0, 10**8),
    imr=st.integers(0, 10**8),
    mode=st.sampled_from(list(Rounding)),
)
def test_generated_flat_margin_equals_the_definition(
    nn: int, lev: int | None, mmr: int, imr: int, mode: Rounding
) -> None:
    m = FlatMargin(mmr=mmr, imr=imr, rounding=mode)  # type: ignore[arg-type]
    params = ("size", "notional", "leverage", "oi")
    im = generate("im", params, lambda q, x, lv, oi: m.initial(PositionRisk(q, x, lv, oi)), ("leverage",))
    mm = generate("mm", params, lambda q, x, lv, oi: m.maintenance(PositionRisk(q, x, lv, oi)))
    risk = PositionRisk(1, nn, lev, 0)
    assert im.fn(1, nn, lev, 0) == m.initial(risk)
    assert mm.fn(1, nn, lev, 0) == m.maintenance(risk)


@pytest.mark.rule("FND-PAY-01", "FND-SUM-01")
@settings(max_examples=40, deadline=None)
@given(
    half=st.lists(st.integers(1, 10**9), min_size=256, max_size=400),
    price=st.integers(1, 10**12),
    rate_long=st.integers(-(10**6), 10**6),
    rate_short=st.integers(-(10**6), 10**6),
    rounding=st.sampled_from(list(Rounding)),
    inverse=st.booleans(),
)
def test_generated_funding_payments_equal_the_definitions(
    half: list[int], price: int, rate_long: int, rate_short: int, rounding: Rounding, inverse: bool
) -> None:
    from perpspec import funding as fnd
    from perpspec.profile import ContractKind

    linear = fnd.Contract(ContractKind.LINEAR, 3, 2, 6)
    contract = fnd.Contract(ContractKind.INVERSE, 0, 1, 8, 100) if inverse else linear
    sizes = [*half, -sum(half[: len(half) // 2]), *(-q for q in half[len(half) // 2 :])]
    assert len(sizes) >= fnd._GENERATE_FROM  # the generated path runs
    got = fnd.settle_sides(contract, sizes, price, rate_long, rate_short, rounding)
    owed = [fnd.owed_fraction(contract, q, price, rate_long if q > 0 else rate_short) for q in sizes]
    assert got == fnd.settle_owed(owed, rounding)
