"""The one-pass unit figures equal their definitions (LIQ-UNT-01, LIQ-TRG-01).

``perpspec.engine.figures.account_units`` is the liquidation pass's fast path; on random accounts
(cross positions in every market, an isolated one, both sides, in and out of liquidation) of every
bundled profile its collateral, maintenance margin, requirement and notionals must equal those of
``perpspec.account`` and ``perpspec.liquidation.trigger.unit_requirement``.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec import account as acc_mod
from perpspec.account import Account
from perpspec.engine.common import oi_notional
from perpspec.engine.figures import account_units
from perpspec.liquidation.procedure import LiquidationStatus
from perpspec.liquidation.trigger import unit_requirement
from perpspec.position import Position, apply_fill
from perpspec.profiles import bundled_names, load_profile
from perpspec.state import initial_exchange, market_with, position_debt_key

PROFILES = {name: load_profile(name) for name in bundled_names()}


@pytest.mark.rule("LIQ-UNT-01", "LIQ-TRG-01")
@pytest.mark.parametrize("name", sorted(PROFILES))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_account_units_equal_the_definitions(name: str, data: st.DataObject) -> None:
    profile = PROFILES[name]
    syms = sorted(profile.markets)
    prices, positions = {}, {}
    for i, sym in enumerate(syms):
        spec = profile.markets[sym]
        price = spec.tick * data.draw(st.integers(1, 10**6 // max(1, spec.tick // 100 or 1)), label=f"p{i}")
        prices[sym] = price
        lots = data.draw(st.integers(-2_000, 2_000), label=f"q{i}")
        if lots == 0:
            continue
        entry = spec.tick * data.draw(st.integers(1, 10**6), label=f"e{i}")
        pos, _ = apply_fill(
            Position(), lots * spec.lot, entry, spec, profile.scales, profile.accounting_model
        )
        if i == 0 and data.draw(st.booleans(), label="iso"):
            pos = attrs.evolve(pos, isolated=True, isolated_margin=data.draw(st.integers(0, 10**12)))
        positions[(sym, "BOTH")] = pos
    acct = Account("a", data.draw(st.integers(-(10**12), 10**14), label="c"), positions)
    ex = initial_exchange(profile)
    ex = attrs.evolve(
        ex,
        markets={s: market_with(m, mark=prices[s]) for s, m in ex.markets.items()},
        accounts={"a": acct},
        holders=None,
    )
    if data.draw(st.booleans(), label="in-liquidation"):
        status = LiquidationStatus(started=0, last_slice=0)
        ex = attrs.evolve(ex, liquidations={"a": status, position_debt_key("a", syms[0], "BOTH"): status})
    marks = ex.marks()
    oi = oi_notional(ex, marks)
    units = account_units(ex, acct, marks, oi)
    assert units is not None
    want = []
    cross = [(k, p) for k, p in acct.positions.items() if not p.isolated and p.size]
    if cross:
        mm = acc_mod.requirement(acct, marks, profile, oi).maintenance
        r, n = unit_requirement(cross, marks, profile, mm, "a" in ex.liquidations)
        want.append((None, acc_mod.collateral(acct, marks, profile, initial=False), mm, r, n))
    for k, p in sorted(acct.positions.items()):
        if p.isolated and p.size:
            mm = acc_mod.isolated_requirement(acct, k, marks, profile, oi).maintenance
            r, n = unit_requirement(
                [(k, p)], marks, profile, mm, position_debt_key("a", *k) in ex.liquidations
            )
            want.append((k, acc_mod.isolated_equity(acct, k, marks, profile), mm, r, n))
    got = [(u.key, u.collateral, u.maintenance, u.requirement, u.notional) for u in units]
    assert got == want
