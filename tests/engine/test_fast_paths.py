"""The hot-path shortcuts compute the same function as the definitions they shortcut.

- perpspec.numeric: every helper's plain-int fast path equals its Z3 definition evaluated on
  constants (the proofs use the Z3 path).
- perpspec.margin.piecewise: on ints, ``select`` (tier_index) equals the ite chain
  (``select_chain``) for ANY floors, and ``progressive_scaled`` equals the chain over every
  tier's ``x * rate_k - d_k``; the bundled tiered margin models give the same IM and MM on
  ints as their Z3 definitions evaluated on constants.
- perpspec.units.parse_units: the plain-decimal fast path equals parse_fraction + to_units.
- the engine's holder index equals a scan of every account after random trading, and a
  funding settlement through the index equals one through a full scan.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec import numeric as n
from perpspec.engine import step
from perpspec.events import Deposit, Fill, FundingSettlement, MarkPrice, Reject
from perpspec.margin import PositionRisk
from perpspec.margin.piecewise import deductions, progressive_scaled, select, select_chain, tier_index
from perpspec.numeric import Rounding
from perpspec.profiles import load_profile
from perpspec.state import Exchange, holder_index, initial_exchange
from perpspec.units import parse_fraction, parse_units, to_units

ints = st.integers(min_value=-(10**24), max_value=10**24)
nonzero = ints.filter(lambda b: b != 0)


def z3_value(term: Any) -> int:
    """An int, or a Z3 term over constants simplified to its value."""
    if isinstance(term, int):
        return term
    return z3.simplify(term).as_long()


def K(x: int) -> z3.ArithRef:
    return z3.IntVal(x)


# --------------------------------------------------------------------------- numeric


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02", "RND-DIV-03", "RND-DIV-04", "RND-DIV-05")
@settings(max_examples=300, deadline=None)
@given(a=ints, b=nonzero)
def test_numeric_int_fast_paths_equal_the_z3_definitions(a: int, b: int) -> None:
    for f in (n.div_floor, n.div_ceil, n.div_trunc, n.div_half_even, n.div_half_up):
        fast = f(a, b)
        assert type(fast) is int
        assert fast == z3_value(f(K(a), K(b))), f.__name__
    for mode in Rounding:
        assert n.div_round(a, b, mode) == z3_value(n.div_round(K(a), K(b), mode))
    assert n.max_(a, b) == z3_value(n.max_(K(a), K(b)))
    assert n.min_(a, b) == z3_value(n.min_(K(a), K(b)))
    assert n.abs_(a) == z3_value(n.abs_(K(a)))
    assert n.ite(a < b, a, b) == z3_value(n.ite(K(a) < K(b), K(a), K(b)))


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02")
@settings(max_examples=200, deadline=None)
@given(a=ints, frm=st.integers(0, 20), to=st.integers(0, 20), mode=st.sampled_from(list(Rounding)))
def test_rescale_fast_path_equals_z3_definition(a: int, frm: int, to: int, mode: Rounding) -> None:
    assert n.rescale(a, frm, to, mode) == z3_value(n.rescale(K(a), frm, to, mode))


def test_int_fast_paths_keep_the_errors() -> None:
    with pytest.raises(ZeroDivisionError):
        n.div_floor(1, 0)
    with pytest.raises(ZeroDivisionError):
        n.div_ceil(1, 0)
    # not an int and not a Z3 term: still refused by the general path
    with pytest.raises(TypeError):
        n.ite(True, 1, Fraction(5, 2))


# --------------------------------------------------------------------------- piecewise

floors_st = st.lists(st.integers(0, 10**9), min_size=1, max_size=12)


@pytest.mark.rule("MRG-BRK-01", "MRG-BRK-02")
@settings(max_examples=400, deadline=None)
@given(
    floors=floors_st,
    data=st.data(),
    x=st.integers(-(10**3), 2 * 10**9),
)
def test_select_fast_path_equals_ite_chain_for_any_floors(floors: list[int], data: Any, x: int) -> None:
    values = data.draw(st.lists(ints, min_size=len(floors), max_size=len(floors)))
    want = select_chain(x, floors, values)
    assert select(x, floors, values) == want
    assert select(x, tuple(floors), tuple(values)) == want
    assert values[tier_index(x, floors)] == want
    # and the ite chain on Z3 constants (what the proofs build) has the same value
    assert z3_value(select(K(x), floors, values)) == want


@pytest.mark.rule("MRG-BRK-01", "MRG-BRK-02")
@settings(max_examples=400, deadline=None)
@given(
    raw=st.lists(st.integers(1, 10**8), min_size=1, max_size=12, unique=True),
    data=st.data(),
    x=st.integers(0, 10**13),
)
def test_progressive_fast_path_equals_ite_chain(raw: list[int], data: Any, x: int) -> None:
    floors = tuple([0, *sorted(raw)][: len(raw)])
    rates = tuple(data.draw(st.lists(st.integers(0, 10**8), min_size=len(floors), max_size=len(floors))))
    ded = deductions(floors, rates)
    want = select_chain(x, floors, [x * r - d for r, d in zip(rates, ded, strict=True)])
    assert progressive_scaled(x, floors, rates) == want
    assert progressive_scaled(x, list(floors), list(rates)) == want
    assert z3_value(progressive_scaled(K(x), floors, rates)) == want


TIERED = [
    ("binance-usdm", "BTCUSDT"),
    ("binance-usdm", "ETHUSDT"),
    ("bybit-linear", None),
    ("hyperliquid", None),
    ("okx-swap", None),
]


def _tiered_models() -> list[tuple[str, str, Any]]:
    out = []
    for name, sym in TIERED:
        prof = load_profile(name)
        symbol = sym or sorted(prof.markets)[0]
        out.append((name, symbol, prof.markets[symbol].margin))
    return out


@pytest.mark.rule("MRG-BRK-01", "MRG-BRK-03")
@pytest.mark.parametrize(("name", "symbol", "model"), _tiered_models(), ids=lambda v: str(v)[:20])
def test_tiered_models_int_path_equals_z3_definition(name: str, symbol: str, model: Any) -> None:
    rng = random.Random(f"{name}/{symbol}")
    floors = [0, 1, 10**6]
    for attr in ("brackets", "tiers"):
        for row in getattr(model, attr, ()):
            f = getattr(row, "floor", None)
            if isinstance(f, int):
                floors += [f - 1, f, f + 1]
    points = [p for p in floors if p >= 0] + [rng.randrange(0, 10**16) for _ in range(60)]
    for x in points:
        for lev in (None, 1, 20, 125, 1000):
            size = max(1, x // 1000)
            pos = PositionRisk(size=size, notional=x, leverage=lev)
            sym = PositionRisk(size=K(size), notional=K(x), leverage=lev)
            assert model.maintenance(pos) == z3_value(model.maintenance(sym)), (x, lev)
            assert model.initial(pos) == z3_value(model.initial(sym)), (x, lev)
            cap = model.max_leverage(x)
            if cap is not None:
                assert cap == z3_value(model.max_leverage(K(x)))


# --------------------------------------------------------------------------- units


@pytest.mark.rule("UNT-DEC-01")
@settings(max_examples=500, deadline=None)
@given(
    whole=st.text("0123456789", min_size=0, max_size=12),
    dot=st.sampled_from(["", "."]),
    frac=st.text("0123456789", min_size=0, max_size=12),
    decimals=st.integers(0, 12),
)
def test_parse_units_fast_path_equals_fraction_path(whole: str, dot: str, frac: str, decimals: int) -> None:
    text = whole + dot + (frac if dot else "")
    try:
        want: Any = to_units(parse_fraction(text), decimals)
    except ValueError as exc:
        want = ("error", str(exc))
    try:
        got: Any = parse_units(text, decimals)
    except ValueError as exc:
        got = ("error", str(exc))
    assert got == want


@pytest.mark.rule("UNT-DEC-01")
def test_parse_units_unusual_inputs_take_the_general_path() -> None:
    assert parse_units("1_000.5", 1, separators=True) == 10005
    assert parse_units("-0.5", 1) == -5 == to_units(parse_fraction("-0.5"), 1)
    assert parse_units("0.65%", 8) == 650_000
    # the fast path and the general one agree on refusing what UNT-DEC-01 refuses:
    # non-ASCII digits, spaces, "_" outside profile files
    for bad in ("1.", ".5", "1e3", "1.2.3", "", "١٢.٥", " 2.5 ", "1_000.5"):
        with pytest.raises(ValueError):
            parse_units(bad, 3)
    with pytest.raises(ValueError, match="not a whole number"):
        parse_units("1.2345", 3)


# --------------------------------------------------------------------------- holder index


def _trade_randomly(seed: int) -> Exchange:
    prof = load_profile("binance-usdm")
    spec = prof.markets["BTCUSDT"]
    rng = random.Random(seed)
    accounts = [f"a{i}" for i in range(12)]
    ex = initial_exchange(prof)
    for a in accounts:
        ex, _ = step(ex, Deposit(0, a, 10**6 * 10**8))
    ex, _ = step(ex, MarkPrice(0, "BTCUSDT", 3_000_000))
    t = 1
    for _ in range(300):
        b, s = rng.sample(accounts, 2)
        qty = spec.lot * rng.randint(1, 5)
        ex2, outs = step(
            ex, Fill(t, "BTCUSDT", qty, 3_000_000 + spec.tick * rng.randint(-50, 50), b, s, "buyer")
        )
        assert not (outs and isinstance(outs[0], Reject)), outs
        ex, t = ex2, t + 1
        assert ex.holders == holder_index(ex.markets, ex.accounts)
    return ex


@pytest.mark.rule("ENG-FUND-01", "INV-02")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_holder_index_tracks_positions_and_funding_uses_it(seed: int) -> None:
    ex = _trade_randomly(seed)
    holders = ex.holders
    assert holders is not None
    # some accounts closed to flat and left the index; the rest are in it
    flat = [a for a, acct in ex.accounts.items() if all(p.size == 0 for p in acct.positions.values())]
    assert set(holders["BTCUSDT"]) == set(ex.accounts) - set(flat)
    ev = FundingSettlement(ex.t + 1, "BTCUSDT", 10_000)
    via_index = step(ex, ev)
    via_scan = step(Exchange(**{**_fields(ex), "holders": None}), ev)  # index rebuilt by a scan
    assert via_index[1] == via_scan[1]
    assert via_index[0] == via_scan[0]


def _fields(ex: Exchange) -> dict[str, Any]:
    import attrs

    return {f.name: getattr(ex, f.name) for f in attrs.fields(Exchange)}


@pytest.mark.rule("ACC-CRS-01", "ENG-IMR-01")
@pytest.mark.parametrize("profile", ["binance-usdm", "bybit-inverse", "okx-swap", "dydx-v4"])
def test_one_pass_cross_equity_and_im_equal_the_account_functions(profile: str) -> None:
    """The fill path's one-pass ``(equity, IM)`` equals ``account.equity`` and
    ``account.requirement(...).initial`` (several markets, isolated and flat positions, leverage)."""
    from perpspec import account as acc_mod
    from perpspec.account import Account
    from perpspec.position import Position

    prof = load_profile(profile)
    rng = random.Random(profile)
    syms = sorted(prof.markets)
    for _ in range(200):
        positions = {}
        marks = {}
        for sym in syms:
            spec = prof.markets[sym]
            marks[sym] = spec.tick * rng.randint(1, 10**6)
            size = spec.lot * rng.randint(-1000, 1000)
            entry = -size * spec.tick * rng.randint(1, 10**6) if size else 0
            iso = rng.random() < 0.3
            positions[(sym, "BOTH")] = Position(
                size, entry, rng.choice([None, 1, 5, 20]), iso, rng.randint(0, 10**9) if iso else 0
            )
        acct = Account("x", rng.randint(-(10**12), 10**12), positions)
        oi = {sym: rng.randint(0, 10**15) for sym in syms}
        assert acc_mod.equity_and_initial(acct, marks, prof, oi) == (
            acc_mod.equity(acct, marks, prof),
            acc_mod.requirement(acct, marks, prof, oi).initial,
        )
