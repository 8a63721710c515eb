"""Account settings: leverage, margin mode (cross / isolated), position mode (one-way / hedge)
and the transfer of margin between the collateral and an isolated position.

Rules: ENG-LEV-01, ENG-LEV-02, ENG-MOD-01, ENG-ISO-01, ENG-ISO-02, ENG-AMT-01.
"""

from __future__ import annotations

from typing import Any

import attrs
from perpspec import account as acc_mod
from perpspec.account import Account
from perpspec.engine.common import (
    Output,
    Rejected,
    account,
    handles,
    market_spec,
    oi_notional,
    slots_for_setting,
    with_bad_debt,
)
from perpspec.events import (
    BalanceOut,
    IsolatedMarginTransfer,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
    SettingOut,
)
from perpspec.position import Position, margin_notional
from perpspec.profile import MarketSpec
from perpspec.state import Exchange
from perpspec.traceability import implements


@implements("ENG-LEV-01")
def _max_leverage(spec: MarketSpec, pos: Position, price: int | None, ex: Exchange) -> int | None:
    """Rule: ENG-LEV-01. The highest leverage the market's margin model allows for ``pos``.

    The margin model's ``max_leverage(notional)`` at the position's margin notional
    (PNL-NOT-02) at the valuation price (0 when flat or unpriced): the tier's cap of a tiered
    model, ``floor(1 / imr)`` of a flat one, ``None`` (no maximum) for a model that states none.
    """
    profile = ex.profile
    acc = profile.accounting_model
    n = 0 if price is None else margin_notional(abs(pos.size), price, spec, profile.scales, acc)
    limit = spec.margin.max_leverage(n)
    return None if limit is None else int(limit)


def _set_position_settings(acct: Account, symbol: str, **changes: Any) -> Account:
    positions = dict(acct.positions)
    for slot in slots_for_setting(acct):
        positions[(symbol, slot)] = attrs.evolve(positions.get((symbol, slot)) or Position(), **changes)
    return attrs.evolve(acct, positions=positions)


@handles(SetLeverage)
@implements("ENG-LEV-01", "ENG-LEV-02")
def set_leverage(ex: Exchange, ev: SetLeverage) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-LEV-01, ENG-LEV-02. Set the leverage of every slot of ``symbol``.

    The leverage must not exceed the margin model's maximum for the current position
    (ENG-LEV-01); with an open position the account must still meet initial margin with the
    new leverage (ENG-LEV-02). Setting the same leverage is a valid no-op.
    """
    spec = market_spec(ex, ev.symbol)
    acct = account(ex, ev.account)
    if ev.leverage <= 0:
        raise Rejected("ENG-AMT-01", f"leverage must be a positive integer, got {ev.leverage}")
    slots = slots_for_setting(acct)
    current = [acct.positions.get((ev.symbol, s)) or Position() for s in slots]
    price = ex.markets[ev.symbol].valuation_price()
    for pos in current:
        limit = _max_leverage(spec, pos, price, ex)
        if limit is not None and ev.leverage > limit:
            raise Rejected(
                "ENG-LEV-01", f"leverage {ev.leverage} exceeds the maximum {limit} for {ev.symbol}"
            )
    if all(p.leverage == ev.leverage for p in current):
        return attrs.evolve(ex, t=ev.t), []
    new = _set_position_settings(acct, ev.symbol, leverage=ev.leverage)
    if any(p.size != 0 for p in current):
        marks = ex.marks()
        oi = oi_notional(ex, marks)
        eq = acc_mod.collateral(new, marks, ex.profile, initial=True)  # ACC-COL-01
        im = acc_mod.requirement(new, marks, ex.profile, oi).initial
        ok = eq >= im
        for s in slots:
            key = (ev.symbol, s)
            if new.positions[key].isolated and new.positions[key].size != 0:
                ok = (
                    ok
                    and acc_mod.isolated_equity(new, key, marks, ex.profile)
                    >= acc_mod.isolated_requirement(new, key, marks, ex.profile, oi).initial
                )
        if not ok:
            raise Rejected(
                "ENG-LEV-02",
                f"account {ev.account!r} would not meet initial margin at leverage {ev.leverage}",
            )
    accounts = ex.accounts.set(ev.account, new)
    return attrs.evolve(ex, t=ev.t, accounts=accounts), [
        SettingOut(ev.t, ev.account, ev.symbol, "leverage", str(ev.leverage))
    ]


@handles(SetMarginMode)
@implements("ENG-MOD-01")
def set_margin_mode(ex: Exchange, ev: SetMarginMode) -> tuple[Exchange, list[Output]]:
    """Rule: ENG-MOD-01. Cross <-> isolated, only while the symbol's positions are flat."""
    market_spec(ex, ev.symbol)
    acct = account(ex, ev.account)
    if ev.mode not in ("cross", "isolated"):
        raise Rejected("ENG-AMT-01", f"margin mode must be 'cross' or 'isolated', got {ev.mode!r}")
    isolated = ev.mode == "isolated"
    slots = slots_for_setting(acct)
    current = [acct.positions.get((ev.symbol, s)) or Position() for s in slots]
    if all(p.isolated == isolated for p in current):
        return attrs.evolve(ex, t=ev.t), []
    if any(p.size != 0 or p.isolated_margin != 0 for p in current):
        raise Rejected(
            "ENG-MOD-01",
            f"account {ev.account!r} has an open {ev.symbol} position: "
            "close it before changing the margin mode",
        )
    new = _set_position_settings(acct, ev.symbol, isolated=isolated)
    accounts = ex.accounts.set(ev.account, new)
    return attrs.evolve(ex, t=ev.t, accounts=accounts), [
        SettingOut(ev.t, ev.account, ev.symbol, "margin_mode", ev.mode)
    ]


@handles(SetPositionMode)
@implements("ENG-MOD-01")
def set_position_mode(ex: Exchange, ev: SetPositionMode) -> tuple[Exchange, list[Output]]:
    """Rule: ENG-MOD-01. One-way <-> hedge, only while every position of the account is flat.

    The per-symbol settings (leverage, isolated) carry over to the new mode's slots.
    """
    acct = account(ex, ev.account)
    if ev.mode not in ("one-way", "hedge"):
        raise Rejected("ENG-AMT-01", f"position mode must be 'one-way' or 'hedge', got {ev.mode!r}")
    hedge = ev.mode == "hedge"
    if acct.hedge_mode == hedge:
        return attrs.evolve(ex, t=ev.t), []
    if any(p.size != 0 or p.isolated_margin != 0 for p in acct.positions.values()):
        raise Rejected(
            "ENG-MOD-01",
            f"account {ev.account!r} has open positions: close them before changing the position mode",
        )
    new_slots = ("LONG", "SHORT") if hedge else ("BOTH",)
    positions: dict[tuple[str, str], Position] = {}
    for (sym, _slot), pos in sorted(acct.positions.items()):
        for s in new_slots:
            positions.setdefault((sym, s), Position(leverage=pos.leverage, isolated=pos.isolated))
    new = attrs.evolve(acct, hedge_mode=hedge, positions=positions)
    accounts = ex.accounts.set(ev.account, new)
    return attrs.evolve(ex, t=ev.t, accounts=accounts), [
        SettingOut(ev.t, ev.account, None, "position_mode", ev.mode)
    ]


@handles(IsolatedMarginTransfer)
@implements("ENG-ISO-01", "ENG-ISO-02")
def isolated_transfer(ex: Exchange, ev: IsolatedMarginTransfer) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-ISO-01, ENG-ISO-02, INV-03. Move margin between collateral and an isolated
    position.

    Adding (``amount > 0``) is limited like a withdrawal (ENG-WDR-01's withdrawable amount);
    removing needs :math:`isolated\\_equity - |amount| \\ge IM` and at most the margin held.
    The account's bad-debt record follows its collateral (INV-03): removing margin while the
    collateral is negative lowers (or clears) the deficit.
    """
    market_spec(ex, ev.symbol)
    acct = account(ex, ev.account)
    key = (ev.symbol, ev.slot)
    pos = acct.positions.get(key)
    if pos is None or not pos.isolated or pos.size == 0:
        raise Rejected(
            "ENG-ISO-01",
            f"account {ev.account!r} has no open isolated position in {ev.symbol} slot {ev.slot}",
        )
    if ev.amount == 0:
        raise Rejected("ENG-AMT-01", "a margin transfer of 0 moves nothing")
    marks = ex.marks()
    oi = oi_notional(ex, marks)
    if ev.amount > 0:
        free = min(acct.collateral, acc_mod.available_for_withdrawal(acct, marks, ex.profile, oi))
        if ev.amount > free:
            raise Rejected("ENG-ISO-02", f"transfer of {ev.amount} exceeds the transferable {max(free, 0)}")
    else:
        ieq = acc_mod.isolated_equity(acct, key, marks, ex.profile)
        iim = acc_mod.isolated_requirement(acct, key, marks, ex.profile, oi).initial
        if -ev.amount > pos.isolated_margin or ieq + ev.amount < iim:
            raise Rejected(
                "ENG-ISO-02",
                f"removing {-ev.amount} would leave the isolated position below its initial margin "
                f"(margin {pos.isolated_margin}, equity {ieq}, IM {iim})",
            )
    positions = dict(acct.positions)
    positions[key] = attrs.evolve(pos, isolated_margin=pos.isolated_margin + ev.amount)
    new = attrs.evolve(acct, collateral=acct.collateral - ev.amount, positions=positions)
    accounts = ex.accounts.set(ev.account, new)
    bad, bad_outs = with_bad_debt(ev.t, ex.bad_debt, accounts, [ev.account])
    return attrs.evolve(ex, t=ev.t, accounts=accounts, bad_debt=bad), [
        BalanceOut(ev.t, ev.account, -ev.amount, new.collateral, f"isolated_margin:{ev.symbol}:{ev.slot}"),
        *bad_outs,
    ]
