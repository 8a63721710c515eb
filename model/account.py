"""Accounts: collateral plus positions in slots; cross and isolated equity and requirements.

- ``collateral`` is the cross wallet balance in money units. It does **not** include the
  margin held by isolated positions (that lives in ``Position.isolated_margin``).
- ``positions`` maps ``(symbol, slot)`` to a :class:`~perpspec.position.Position`. One-way
  accounts use the slot ``"BOTH"``; hedge-mode accounts use ``"LONG"`` (size >= 0) and
  ``"SHORT"`` (size <= 0) (rule ACC-HDG-01).

Rules: ACC-CRS-01, ACC-COL-01, ACC-ISO-01, ACC-HDG-01, ACC-WDR-01, ACC-LIQ-01.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
from perpspec.margin import collateral_upnl
from perpspec.margin.accounting import AccountingBase, Trigger
from perpspec.market_runtime import runtime_of
from perpspec.numeric import Term, and_, div_ceil, max_
from perpspec.position import Position, accounting_of, notional
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

Slot = Literal["BOTH", "LONG", "SHORT"]
SLOTS: tuple[str, ...] = ("BOTH", "LONG", "SHORT")
Key = tuple[str, str]


@attrs.frozen
class Account:
    """One account (frozen). ``positions`` is never mutated, only replaced."""

    id: str
    collateral: int = 0
    positions: Mapping[Key, Position] = attrs.field(factory=dict)
    hedge_mode: bool = False


@attrs.frozen
class Requirement:
    """Initial and maintenance margin, money units."""

    initial: int
    maintenance: int


@implements("ACC-HDG-01")
def slot_errors(account: Account) -> list[tuple[Key, str]]:
    """Rule: ACC-HDG-01. Positions in slots the account's mode does not allow."""
    out: list[tuple[Key, str]] = []
    for key, pos in account.positions.items():
        _sym, slot = key
        if slot not in SLOTS:
            out.append((key, f"unknown slot {slot!r}; expected BOTH, LONG or SHORT"))
        elif not account.hedge_mode and slot != "BOTH":
            out.append((key, "a one-way account holds positions in slot BOTH only"))
        elif account.hedge_mode and slot == "BOTH":
            out.append((key, "a hedge-mode account holds positions in slots LONG and SHORT"))
        elif slot == "LONG" and pos.size < 0:
            out.append((key, "the LONG slot cannot hold a short position"))
        elif slot == "SHORT" and pos.size > 0:
            out.append((key, "the SHORT slot cannot hold a long position"))
    return out


@implements("ACC-HDG-01")
def slot_for(account: Account, side: int) -> str:
    """Rule: ACC-HDG-01. The slot a fill on ``side`` (+1 buy / -1 sell opening) goes to."""
    if not account.hedge_mode:
        return "BOTH"
    return "LONG" if side > 0 else "SHORT"


def _mark(marks: Mapping[str, int], symbol: str) -> int:
    try:
        return marks[symbol]
    except KeyError:
        raise KeyError(f"no mark price for {symbol}") from None


def position_upnl(symbol: str, pos: Position, marks: Mapping[str, int], profile: Any) -> int:
    """uPnL of one position at its market's mark (money units): :func:`~perpspec.position.upnl_term`
    through the market's generated fast path (:mod:`perpspec.market_runtime`)."""
    rt = runtime_of(profile).markets[symbol]
    return rt.upnl(pos.size, pos.entry_value, _mark(marks, symbol))


def position_requirement(
    symbol: str,
    pos: Position,
    marks: Mapping[str, int],
    profile: Any,
    oi_notional: Mapping[str, int] | None = None,
) -> Requirement:
    """IM and MM of one position from its market's margin model, at the mark.

    ``PositionRisk(|size|, |N(mark)|, leverage, oi_notional[symbol])`` fed to
    ``market.margin.initial`` and ``.maintenance``, with ``N`` the margin notional (PNL-NOT-02).
    """
    rt = runtime_of(profile).markets[symbol]
    if pos.size == 0:
        return Requirement(0, 0)
    size = abs(pos.size)
    n = rt.margin_notional(size, _mark(marks, symbol))
    oi = (oi_notional or {}).get(symbol, 0)
    return Requirement(
        initial=rt.initial(size, n, pos.leverage, oi), maintenance=rt.maintenance(size, n, pos.leverage, oi)
    )


def position_initial(
    symbol: str,
    pos: Position,
    marks: Mapping[str, int],
    profile: Any,
    oi_notional: Mapping[str, int] | None = None,
) -> int:
    """The IM of one position: ``position_requirement(...).initial`` without computing the MM."""
    rt = runtime_of(profile).markets[symbol]
    if pos.size == 0:
        return 0
    size = abs(pos.size)
    n = rt.margin_notional(size, _mark(marks, symbol))
    return rt.initial(size, n, pos.leverage, (oi_notional or {}).get(symbol, 0))


def cross_positions(account: Account) -> list[tuple[Key, Position]]:
    """The account's cross positions, sorted by key (deterministic order)."""
    out = [(k, p) for k, p in account.positions.items() if not p.isolated]
    if len(out) > 1:
        out.sort(key=_key)
    return out


def _key(kp: tuple[Key, Position]) -> Key:
    return kp[0]


@implements("ACC-CRS-01")
def equity(account: Account, marks: Mapping[str, int], profile: Any) -> int:
    """Rule: ACC-CRS-01. Cross equity :math:`= collateral + \\sum_{cross} uPnL_i(mark_i)`."""
    total = account.collateral
    markets = runtime_of(profile).markets
    for (sym, _slot), p in cross_positions(account):
        if p.size == 0:  # a flat position (settings only) has no uPnL and needs no price
            continue
        total += markets[sym].upnl(p.size, p.entry_value, _mark(marks, sym))
    return total


@implements("ACC-COL-01")
def collateral(account: Account, marks: Mapping[str, int], profile: Any, initial: bool) -> int:
    """Rule: ACC-COL-01. The cross collateral an initial-margin (``initial=True``) or a
    maintenance-margin check compares with the requirement:
    :math:`collateral + \\sum_{cross} w(uPnL_i)`, with ``w`` the market's margin model's
    weighting of uPnL for that check (Drift: asset weights, and at most $100 of positive uPnL
    per position for initial margin, MRG-DRF-04/05); ``w(u) = u`` for models without one, so
    both figures equal :func:`equity` there."""
    total = account.collateral
    markets = runtime_of(profile).markets
    for (sym, _slot), p in cross_positions(account):
        if p.size == 0:
            continue
        rt = markets[sym]
        upnl = rt.upnl(p.size, p.entry_value, _mark(marks, sym))
        total += collateral_upnl(rt.spec.margin, upnl, initial) if rt.weights_upnl else upnl
    return total


@implements("ACC-CRS-01")
def requirement(
    account: Account, marks: Mapping[str, int], profile: Any, oi_notional: Mapping[str, int] | None = None
) -> Requirement:
    """Rule: ACC-CRS-01. Cross requirement: :math:`\\sum_{cross} IM_i`, :math:`\\sum_{cross} MM_i`."""
    im = mm = 0
    for key, pos in cross_positions(account):
        r = position_requirement(key[0], pos, marks, profile, oi_notional)
        im += r.initial
        mm += r.maintenance
    return Requirement(im, mm)


@implements("ACC-CRS-01", "ACC-COL-01")
def equity_and_initial(
    account: Account, marks: Mapping[str, int], profile: Any, oi_notional: Mapping[str, int] | None = None
) -> tuple[int, int]:
    """Rules: ACC-CRS-01, ACC-COL-01. ``(collateral(..., initial=True), requirement(...).initial)``
    in one pass over the cross positions: the figures of an initial-margin check. Without the
    maintenance margins and without sorting (the sums do not depend on the order). The engine
    calls it on every side of every fill; the formulas are the markets' generated fast paths
    (:mod:`perpspec.market_runtime`)."""
    markets = runtime_of(profile).markets
    oi = oi_notional or {}
    eq, im = account.collateral, 0
    for (sym, _slot), p in account.positions.items():
        size = p.size
        if size == 0 or p.isolated:  # flat positions (settings only) need no price
            continue
        rt = markets[sym]
        price = marks.get(sym)
        if price is None:
            price = _mark(marks, sym)
        upnl = rt.upnl(size, p.entry_value, price)
        eq += collateral_upnl(rt.spec.margin, upnl, True) if rt.weights_upnl else upnl
        if size < 0:
            size = -size
        im += rt.initial(size, rt.margin_notional(size, price), p.leverage, oi.get(sym, 0))
    return eq, im


@implements("ACC-ISO-01")
def isolated_equity(account: Account, key: Key, marks: Mapping[str, int], profile: Any) -> int:
    """Rule: ACC-ISO-01. Isolated equity :math:`= isolated\\_margin + uPnL(mark)` of one position."""
    pos = account.positions[key]
    return pos.isolated_margin + position_upnl(key[0], pos, marks, profile)


@implements("ACC-ISO-01")
def isolated_requirement(
    account: Account,
    key: Key,
    marks: Mapping[str, int],
    profile: Any,
    oi_notional: Mapping[str, int] | None = None,
) -> Requirement:
    """Rule: ACC-ISO-01. IM and MM of one isolated position (its own margin model)."""
    return position_requirement(key[0], account.positions[key], marks, profile, oi_notional)


@implements("ACC-LIQ-01")
def is_liquidatable(equity_: Term, maintenance: Term, trigger: Trigger) -> Any:
    """Rule: ACC-LIQ-01. The liquidation predicate (ints or Z3 terms).

    ``equity-lt-mm``: :math:`E < MM`; ``equity-le-mm``: :math:`E \\le MM` with :math:`MM > 0`;
    ``mm-positive-gt-equity`` (dYdX): :math:`MM > 0 \\wedge MM > E`.
    """
    if trigger is Trigger.EQUITY_LE_MM:
        return and_(maintenance > 0, equity_ <= maintenance)
    if trigger is Trigger.MM_POSITIVE_GT_EQUITY:
        return and_(maintenance > 0, maintenance > equity_)
    return equity_ < maintenance


@implements("ACC-LIQ-01", "ACC-COL-01")
def liquidatable(
    account: Account, marks: Mapping[str, int], profile: Any, oi_notional: Mapping[str, int] | None = None
) -> bool:
    """Rules: ACC-LIQ-01, ACC-COL-01, LIQ-TRG-01. Is the cross part of the account liquidatable
    (the venue's predicate between the maintenance collateral and the trigger's requirement, as
    for a unit not yet being liquidated)?"""
    from perpspec.liquidation.trigger import unit_requirement

    acc = accounting_of(profile)
    positions = [(k, p) for k, p in cross_positions(account) if p.size != 0]
    if not positions:
        return False
    mm = requirement(account, marks, profile, oi_notional).maintenance
    req, _ = unit_requirement(positions, marks, profile, mm, False)
    return bool(is_liquidatable(collateral(account, marks, profile, initial=False), req, acc.trigger))


@implements("ACC-ISO-01", "ACC-LIQ-01")
def isolated_liquidatable(
    account: Account,
    key: Key,
    marks: Mapping[str, int],
    profile: Any,
    oi_notional: Mapping[str, int] | None = None,
) -> bool:
    """Rules: ACC-ISO-01, ACC-LIQ-01, LIQ-TRG-01. Is the isolated position ``key`` liquidatable
    (against the trigger's requirement, as for a unit not yet being liquidated)?"""
    from perpspec.liquidation.trigger import unit_requirement

    acc = accounting_of(profile)
    pos = account.positions[key]
    if pos.size == 0:
        return False
    eq = isolated_equity(account, key, marks, profile)
    mm = isolated_requirement(account, key, marks, profile, oi_notional).maintenance
    req, _ = unit_requirement([(key, pos)], marks, profile, mm, False)
    return bool(is_liquidatable(eq, req, acc.trigger))


def liquidatable_keys(
    account: Account, marks: Mapping[str, int], profile: Any, oi_notional: Mapping[str, int] | None = None
) -> list[Key]:
    """Every liquidatable unit of the account: all cross keys if the cross part is, plus each
    liquidatable isolated key, sorted."""
    out = (
        [k for k, _ in cross_positions(account)] if liquidatable(account, marks, profile, oi_notional) else []
    )
    out += [
        k
        for k, p in account.positions.items()
        if p.isolated and isolated_liquidatable(account, k, marks, profile, oi_notional)
    ]
    return sorted(out)


@implements("ACC-WDR-01")
def transfer_requirement(initial: Term, total_notional: Term, accounting: AccountingBase) -> Term:
    """Rule: ACC-WDR-01. :math:`\\max(IM, \\lceil rate \\cdot \\sum |N_i| \\rceil)` (ints or Z3 terms)."""
    return max_(initial, div_ceil(total_notional * accounting.transfer_min_rate, RATE_ONE))


@implements("ACC-WDR-01", "ACC-COL-01")
def available_for_withdrawal(
    account: Account, marks: Mapping[str, int], profile: Any, oi_notional: Mapping[str, int] | None = None
) -> int:
    """Rules: ACC-WDR-01, ACC-COL-01. :math:`\\max(0, C_{init} - \\max(IM, rate \\cdot \\sum |N_i|))`
    over cross positions, ``C_init`` the initial collateral (equity for unweighted models).

    Default rate 0 (``C_init - IM``: Drift's free collateral); Hyperliquid 10% of the total
    position value.
    """
    acc = accounting_of(profile)
    req = requirement(account, marks, profile, oi_notional)
    total = sum(
        notional(abs(p.size), _mark(marks, k[0]), profile.market(k[0]), profile.scales, acc)
        for k, p in cross_positions(account)
        if p.size != 0
    )
    need = int(transfer_requirement(req.initial, total, acc))
    free = collateral(account, marks, profile, initial=True) - need
    return max(0, free)


__all__ = [
    "SLOTS",
    "Account",
    "Key",
    "Requirement",
    "Slot",
    "available_for_withdrawal",
    "collateral",
    "cross_positions",
    "equity",
    "equity_and_initial",
    "is_liquidatable",
    "isolated_equity",
    "isolated_liquidatable",
    "isolated_requirement",
    "liquidatable",
    "liquidatable_keys",
    "position_initial",
    "position_requirement",
    "position_upnl",
    "requirement",
    "slot_errors",
    "slot_for",
]
