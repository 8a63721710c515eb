"""The figures of every unit of an account in one pass: the liquidation pass's fast path.

For each unit (LIQ-UNT-01) of an account: its collateral ``C`` (ACC-COL-01: the maintenance
collateral of the cross part, an isolated position's equity), its maintenance margin, the
trigger's requirement ``R`` (LIQ-TRG-*) and its notional and sides by market, computed in a single
loop over the positions with the markets' generated formulas (:mod:`perpspec.market_runtime`).
The definitions are :func:`perpspec.account.collateral`, :func:`perpspec.account.requirement`,
:func:`perpspec.account.isolated_equity`, :func:`perpspec.account.isolated_requirement` and
:func:`perpspec.liquidation.trigger.unit_requirement`; ``tests/engine/test_figures.py`` checks
that these figures equal them on random accounts of every bundled profile. The pass uses them to
decide whether a candidate is liquidatable and, from the same figures, to re-band it in the
liquidation index (LIQ-IDX-01) without computing anything twice.

Rules: LIQ-UNT-01, LIQ-TRG-01.
"""

from __future__ import annotations

from collections.abc import Mapping

from perpspec.account import Account, Key
from perpspec.margin import collateral_upnl
from perpspec.market_runtime import runtime_of
from perpspec.state import Exchange, position_debt_key
from perpspec.traceability import implements


class UnitFigures:
    """One unit's figures (money units at the valuation prices); read-only by convention.

    ``key`` is ``None`` for the cross part. ``notional`` and ``sides`` are by market (``sides``:
    1 long, 2 short, 3 both)."""

    __slots__ = ("collateral", "key", "maintenance", "notional", "requirement", "sides", "sizes")

    def __init__(
        self,
        key: Key | None,
        collateral: int,
        maintenance: int,
        requirement: int,
        notional: dict[str, int],
        sides: dict[str, int],
        sizes: dict[str, list[int]],
    ) -> None:
        self.key, self.collateral, self.maintenance = key, collateral, maintenance
        self.requirement, self.notional, self.sides = requirement, notional, sides
        self.sizes = sizes  # the absolute size of each of the unit's positions, by market


@implements("LIQ-UNT-01", "LIQ-TRG-01")
def account_units(
    ex: Exchange, acct: Account, marks: Mapping[str, int], oi: Mapping[str, int]
) -> list[UnitFigures] | None:
    """Rules: LIQ-UNT-01, LIQ-TRG-01. The figures of every unit of ``acct`` holding a position,
    the cross part first then the isolated positions by key; ``None`` if a position has no
    valuation price."""
    profile = ex.profile
    rt = runtime_of(profile)
    markets = rt.markets
    trigger = profile.liquidation_trigger_model
    reads_fee = trigger.reads_close_fee()
    taker = rt.taker_rate
    c_cross, mm_cross, fee_cross = acct.collateral, 0, 0
    n_cross: dict[str, int] = {}
    s_cross: dict[str, int] = {}
    q_cross: dict[str, list[int]] = {}
    isolated: list[tuple[Key, int, int, int, int, int, int]] = []
    for key, p in acct.positions.items():
        size = p.size
        if size == 0:
            continue
        sym = key[0]
        price = marks.get(sym)
        if price is None:
            return None
        mrt = markets[sym]
        q = -size if size < 0 else size
        upnl = mrt.upnl(size, p.entry_value, price)
        mm = mrt.maintenance(q, mrt.margin_notional(q, price), p.leverage, oi.get(sym, 0))
        n = mrt.notional(q, price)
        fee = mrt.fee(q, price, n, taker) if reads_fee else 0
        side = 1 if size > 0 else 2
        if p.isolated:
            isolated.append((key, p.isolated_margin + upnl, mm, n, fee, side, q))
            continue
        c_cross += collateral_upnl(mrt.spec.margin, upnl, False) if mrt.weights_upnl else upnl
        mm_cross += mm
        fee_cross += fee
        n_cross[sym] = n_cross.get(sym, 0) + n
        s_cross[sym] = s_cross.get(sym, 0) | side
        q_cross.setdefault(sym, []).append(q)
    out: list[UnitFigures] = []
    statuses = ex.liquidations
    if n_cross:
        r = trigger.requirement(mm_cross, sum(n_cross.values()), fee_cross, acct.id in statuses)
        out.append(UnitFigures(None, c_cross, mm_cross, r, n_cross, s_cross, q_cross))
    for key, c, mm, n, fee, side, q in sorted(isolated):
        in_liq = bool(statuses) and position_debt_key(acct.id, key[0], key[1]) in statuses
        r = trigger.requirement(mm, n, fee, in_liq)
        out.append(UnitFigures(key, c, mm, r, {key[0]: n}, {key[0]: side}, {key[0]: [q]}))
    return out


__all__ = ["UnitFigures", "account_units"]
