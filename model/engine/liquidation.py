"""Liquidation: find the liquidatable units after an event, close them as the profile's procedure
plans, settle each slice with the insurance fund, and record what the fund cannot cover.

The pass (:func:`sweep`) runs after every accepted event when the profile's procedure has
``source = "model"`` (LIQ-SRC-01), over the candidate accounts (:func:`candidates`), in account
id order, the cross part of an account before its isolated positions (sorted by key): rule
LIQ-PAS-01. A unit is liquidatable when the accounting predicate (ACC-LIQ-01) holds between its
collateral and the trigger's requirement (LIQ-TRG-*). The procedure plans slices; each is
executed (LIQ-EXE-01) against the counterparty account and settled (LIQ-SET-01/02); the unit is
re-checked and planned again, up to :data:`MAX_ROUNDS` rounds per event, until it is no longer
liquidatable or the procedure plans nothing. A unit closed with negative collateral has its
deficit covered by the insurance fund as far as the policy pays (INS-PAY-01); the rest is an
uncovered loss for the next step of the waterfall (LIQ-UNC-01).

A ``liquidation`` event of the log (:func:`liquidation_event`) is checked and settled by the
same rules (LIQ-LOG-01).

Rules: LIQ-PAS-01, LIQ-SRC-01, LIQ-UNC-01, LIQ-LOG-01, INS-PAY-01 (one slice:
:mod:`perpspec.engine.slices`).
"""

from __future__ import annotations

from perpspec.account import Account, Key, is_liquidatable
from perpspec.engine.common import (
    Output,
    Rejected,
    account,
    handles,
    market_spec,
    oi_notional,
)
from perpspec.engine.figures import account_units
from perpspec.engine.slices import execute_slice, triggered, unit_id, unit_positions, unit_view, with_fund
from perpspec.engine.watch import LiquidationIndex, bands_of
from perpspec.events import (
    Deposit,
    Event,
    Fill,
    FundingSettlement,
    InsuranceOut,
    IsolatedMarginTransfer,
    Liquidation,
    ParamChange,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
    UncoveredLossOut,
    Withdraw,
)
from perpspec.liquidation.procedure import (
    LiquidationProcedure,
    LiquidationStatus,
    is_system_account,
)
from perpspec.state import Exchange, exchange_with, position_debt_key
from perpspec.traceability import implements

#: At most this many plan-and-execute rounds per unit per event (a procedure that keeps planning
#: while the unit stays liquidatable cannot loop forever).
MAX_ROUNDS = 16


# --------------------------------------------------------------------------- candidates


def _event_accounts(ev: Event) -> tuple[str, ...]:
    if isinstance(ev, Fill):
        return (ev.buyer, ev.seller)
    if isinstance(
        ev,
        (Deposit, Withdraw, SetLeverage, SetMarginMode, SetPositionMode, IsolatedMarginTransfer),
    ):
        return (ev.account,)
    if isinstance(ev, Liquidation):  # the counterparty it names took a position too
        return (ev.account, ev.counterparty) if ev.counterparty else (ev.account,)
    return ()


@implements("LIQ-PAS-01", "LIQ-IDX-01")
def candidates(before: Exchange, after: Exchange, ev: Event, idx: LiquidationIndex) -> list[str]:
    """Rules: LIQ-PAS-01, LIQ-IDX-01. The accounts whose units the event may have made
    liquidatable, sorted: in every market whose valuation price changed, the accounts whose band
    the new price leaves (:class:`~perpspec.engine.watch.LiquidationIndex`, valid for ``before``);
    after a funding settlement every holder of its market that paid, after a parameter change every
    account; the accounts the event names; the units already being liquidated."""
    ids: set[str] = set(_event_accounts(ev))
    if isinstance(ev, ParamChange):
        ids.update(after.accounts.keys())
    else:
        for sym, price in _moved_markets(before, after):
            ids.update(idx.crossed(sym, price))
        if isinstance(ev, FundingSettlement):
            # only a holder that paid can have become liquidatable; a receiver's bands stay safe
            old_accounts = before.accounts
            for aid in (after.holders or {}).get(ev.symbol, ()):
                new_acct, old_acct = after.accounts[aid], old_accounts.get(aid)
                if new_acct is not old_acct and (old_acct is None or _lost_funds(old_acct, new_acct)):
                    ids.add(aid)
    for uid in after.liquidations:
        ids.add(uid.split("/", 1)[0])
    return sorted(i for i in ids if i in after.accounts and not is_system_account(i))


def index_for(ex: Exchange) -> LiquidationIndex:
    """The liquidation index valid for ``ex``: the one it carries if it was last updated for
    ``ex`` itself, else one built from ``ex``'s accounts (LIQ-IDX-01)."""
    idx = ex.liq_index
    if isinstance(idx, LiquidationIndex) and idx.valid_for is ex:
        return idx
    return LiquidationIndex.build(ex)


# --------------------------------------------------------------------------- the pass


@implements("LIQ-PAS-01", "LIQ-SRC-01")
def sweep(before: Exchange, after: Exchange, ev: Event) -> tuple[Exchange, list[Output]]:
    """Rules: LIQ-PAS-01, LIQ-SRC-01. Liquidate every liquidatable unit among the candidates,
    then re-band every account checked or touched in the index the result carries."""
    proc = after.profile.liquidation_procedure_model
    if proc is None or proc.source.value != "model":
        return after, []
    if isinstance(ev, Deposit) and not _in_liquidation(after, ev.account):
        # a deposit only raises collateral: nothing can have become liquidatable and every band
        # stays safe (LIQ-IDX-01); the index passes on to the new state unchanged
        idx = before.liq_index
        if isinstance(idx, LiquidationIndex) and idx.valid_for is before:
            idx.valid_for = after
        return after, []
    idx = index_for(before)
    ex, outs = after, []
    ids = candidates(before, after, ev, idx)
    trigger = after.profile.accounting_model.trigger
    marks = ex.marks()
    oi = oi_notional(ex, marks)
    banded: set[str] = set()
    checked: set[str] = set()
    wave = ids
    for _ in range(MAX_ROUNDS):  # a liquidation that moves a price starts another wave
        prices_before = ex
        for aid in wave:
            checked.add(aid)
            acct = ex.accounts[aid]
            units = account_units(ex, acct, marks, oi)
            if units is None:
                continue  # a position without a price cannot be valued (ENG-PRC-01)
            if not any(is_liquidatable(u.collateral, u.requirement, trigger) for u in units) and not (
                ex.liquidations and _in_liquidation(ex, aid)
            ):
                idx.set(aid, acct, bands_of(ex, units, marks))  # the common case: safe, re-banded
                banded.add(aid)
                continue
            banded.discard(aid)
            keys: list[Key | None] = [None]
            keys += sorted(k for k, p in acct.positions.items() if p.isolated and p.size != 0)
            was = ex
            for key in keys:
                ex, more = liquidate_unit(ex, proc, aid, key)
                outs.extend(more)
            if ex is not was:  # a liquidation moved prices (the last trade price) or open interest
                marks = ex.marks()
                oi = oi_notional(ex, marks)
        moved = _moved_markets(prices_before, ex)
        if not moved:
            break
        # the holders whose band the liquidations' own trades left (LIQ-PAS-01: a cascade)
        idx.update(ex, sorted(checked - banded))
        banded |= checked
        crossed: set[str] = set()
        for sym, price in moved:
            crossed.update(idx.crossed(sym, price))
        wave = sorted(i for i in crossed if i in ex.accounts and not is_system_account(i))
        if not wave:
            break
    if isinstance(ev, ParamChange):
        idx = LiquidationIndex.build(ex)
    else:
        rest = {*checked, *_event_accounts(ev), proc.counterparty} - banded
        idx.update(ex, sorted(rest))
        idx.valid_for = ex
    if ex.liq_index is not idx:
        ex = exchange_with(ex, liq_index=idx)
        idx.valid_for = ex
    return ex, outs


def _lost_funds(old: Account, new: Account) -> bool:
    """Did the cross collateral or an isolated position's margin decrease from ``old`` to ``new``?"""
    if new.collateral < old.collateral:
        return True
    return any(
        p.isolated and p.isolated_margin < old.positions[k].isolated_margin
        for k, p in new.positions.items()
        if k in old.positions
    )


def _moved_markets(before: Exchange, after: Exchange) -> list[tuple[str, int]]:
    """``(symbol, price)`` of every market whose valuation price differs between ``before`` and
    ``after`` (only the market objects that changed are compared: an untouched market is shared,
    state.py)."""
    out = []
    for sym, m in after.markets.items():
        was = before.markets.get(sym)
        if m is was:
            continue
        price = m.valuation_price()
        if price is not None and (was is None or was.valuation_price() != price):
            out.append((sym, price))
    return out


def _in_liquidation(ex: Exchange, aid: str) -> bool:
    """Does a unit of account ``aid`` carry a liquidation status?"""
    return any(uid == aid or uid.startswith(aid + "/") for uid in ex.liquidations)


@implements("LIQ-UNT-01", "LIQ-UNC-01")
def liquidate_unit(
    ex: Exchange, proc: LiquidationProcedure, aid: str, key: Key | None
) -> tuple[Exchange, list[Output]]:
    """Rules: LIQ-UNT-01, LIQ-UNC-01. Plan and execute rounds of slices for one unit while it is
    liquidatable; then cover a closed unit's deficit from the fund, the rest uncovered.

    The unit's status is updated after every round that executed a slice (``last_slice`` = the
    event's time, ``slices`` + 1), so a later round of the same event sees that a slice already
    ran in it (``status.slices > 0 and status.last_slice == unit.t``). A unit that is liquidatable
    but had no slice gets a status with ``slices = 0``."""
    outs: list[Output] = []
    uid = unit_id(aid, key)
    acted = stale = False
    last_market = key[0] if key is not None else ""  # set by the first slice executed
    unit = unit_view(ex, ex.accounts[aid], key, ex.marks())
    still = triggered(ex, unit)
    if not still and uid not in ex.liquidations:
        return ex, outs  # the common case: a candidate that is not liquidatable
    for rnd in range(MAX_ROUNDS):
        if stale:
            unit = unit_view(ex, ex.accounts[aid], key, ex.marks(), rnd)
            still, stale = triggered(ex, unit), False
        if not still:
            break
        slices = proc.plan(unit)
        if not slices:
            break
        refused = done = False
        for sl in slices:
            ex, more, ok = execute_slice(ex, proc, aid, key, sl)
            outs.extend(more)
            if not ok:
                refused = True
                break
            done = True
            last_market = sl.key[0]
        if done:
            acted = stale = True
            ex = _with_status(ex, uid, _after_slice(ex.liquidations.get(uid), ex.t))
        if refused:
            break
    if stale:
        unit = unit_view(ex, ex.accounts[aid], key, ex.marks())
        still = triggered(ex, unit)
    status = ex.liquidations.get(uid)
    if not unit.positions:
        if status is not None:
            ex = _with_status(ex, uid, None)
    elif still and status is None:
        ex = _with_status(ex, uid, LiquidationStatus(started=ex.t, last_slice=ex.t, slices=0))
    elif (
        status is not None
        and not still
        and unit.collateral >= unit.requirement
        and not proc.retains_status(status, ex.t)
    ):
        ex = _with_status(ex, uid, None)  # margin restored (with the buffer, LIQ-TRG-03)
    if acted and not unit.positions:
        ex, more = cover_deficit(ex, aid, key, last_market)
        outs.extend(more)
    return ex, outs


def _after_slice(status: LiquidationStatus | None, t: int) -> LiquidationStatus:
    """A unit's status once a slice ran at ``t``: started now if it was not being liquidated."""
    if status is None:
        return LiquidationStatus(started=t, last_slice=t, slices=1)
    return LiquidationStatus(started=status.started, last_slice=t, slices=status.slices + 1)


def _with_status(ex: Exchange, uid: str, status: LiquidationStatus | None) -> Exchange:
    new = dict(ex.liquidations)
    if status is None:
        new.pop(uid, None)
    else:
        new[uid] = status
    return exchange_with(ex, liquidations=new)


@implements("LIQ-UNC-01", "INS-PAY-01")
def cover_deficit(ex: Exchange, aid: str, key: Key | None, market: str) -> tuple[Exchange, list[Output]]:
    """Rules: LIQ-UNC-01, INS-PAY-01. A closed unit's deficit (negative collateral of the cross
    part, the bad-debt record of an isolated position) is paid by the fund as far as the policy
    pays; what is left is an :class:`~perpspec.events.UncoveredLossOut` and stays a bad-debt record.
    Under a per-market fund a cross deficit is charged to ``market``, the market of the unit's last
    liquidated slice (INS-SCP-01)."""
    acct = ex.accounts[aid]
    debt_key = aid if key is None else position_debt_key(aid, key[0], key[1])
    deficit = -acct.collateral if key is None else ex.bad_debt.get(debt_key, 0)
    if deficit <= 0:
        return ex, []
    policy = ex.profile.insurance_model
    symbol = key[0] if key is not None else market
    fund = policy.fund_of(symbol)
    balance = ex.insurance.balances.get(fund, 0)
    paid = policy.payout(balance, deficit)
    outs: list[Output] = []
    bad = dict(ex.bad_debt)
    accounts = ex.accounts
    if paid:
        ex = with_fund(ex, fund, -paid)
        outs.append(InsuranceOut(ex.t, fund, -paid, ex.insurance.balances[fund], "bankruptcy", aid))
        if key is None:
            accounts = accounts.set(
                aid, Account(aid, acct.collateral + paid, acct.positions, acct.hedge_mode)
            )
    rest = deficit - paid
    if rest:
        bad[debt_key] = rest
        outs.append(
            UncoveredLossOut(
                ex.t,
                aid,
                None if key is None else key[0],
                None if key is None else key[1],
                rest,
                False,
                "LIQ-UNC-01",
            )
        )
    else:
        bad.pop(debt_key, None)
    return exchange_with(ex, accounts=accounts, bad_debt=bad), outs


# --------------------------------------------------------------------------- the log's liquidations


def _unit_name(key: Key | None) -> str:
    return "cross part" if key is None else f"isolated {key[0]} {key[1]} position"


@handles(Liquidation)
@implements("LIQ-LOG-01")
def liquidation_event(ex: Exchange, ev: Liquidation) -> tuple[Exchange, list[Output]]:
    """Rule: LIQ-LOG-01. A production engine's liquidation fill, checked by the model's rules:
    the profile has a procedure, the unit holding the position is liquidatable at the event's
    time, the fill reduces the position (``qty`` at most its size) on the tick and lot grids;
    then it is settled as the procedure settles its own slices."""
    spec = market_spec(ex, ev.symbol)
    acct = account(ex, ev.account)
    proc = ex.profile.liquidation_procedure_model
    if proc is None:
        raise Rejected(
            "LIQ-LOG-01", f"profile {ex.profile.name} has no [liquidation_procedure]: it liquidates nothing"
        )
    if ev.qty % spec.lot != 0:
        raise Rejected("ENG-LOT-01", f"size {ev.qty} is not a multiple of the lot step {spec.lot}")
    if ev.price % spec.tick != 0:
        raise Rejected("ENG-TCK-01", f"price {ev.price} is not a multiple of the tick {spec.tick}")
    key = (ev.symbol, ev.slot)
    pos = acct.positions.get(key)
    if pos is None or pos.size == 0:
        raise Rejected(
            "LIQ-LOG-01", f"account {ev.account!r} has no {ev.symbol} {ev.slot} position to liquidate"
        )
    if ev.qty > abs(pos.size):
        raise Rejected(
            "LIQ-LOG-01",
            f"liquidation of {ev.qty} exceeds account {ev.account!r}'s position of {abs(pos.size)}",
        )
    if is_system_account(ev.account):
        raise Rejected(
            "LIQ-LOG-01", f"account {ev.account!r} is a system account: it is never liquidated (LIQ-CPY-01)"
        )
    cp = ev.counterparty or proc.counterparty
    if cp == ev.account:
        raise Rejected("ENG-SELF-01", f"account {ev.account!r} cannot take over its own position")
    ex = exchange_with(ex, t=ev.t)
    unit_key = key if pos.isolated else None
    marks = ex.marks()
    unit = unit_view(ex, acct, unit_key, marks)
    if not triggered(ex, unit):
        raise Rejected(
            "LIQ-LOG-01",
            f"account {ev.account!r}'s {_unit_name(unit_key)} is not liquidatable: "
            f"collateral {unit.collateral}, requirement {unit.requirement}",
        )
    sl = proc.log_slice(unit, key, ev.qty, ev.price)
    ex2, outs, ok = execute_slice(ex, proc, ev.account, unit_key, sl, cp)
    if not ok:
        return ex2, outs
    uid = unit_id(ev.account, unit_key)
    status = ex2.liquidations.get(uid)
    left = unit_positions(ex2.accounts[ev.account], unit_key)
    ex2 = _with_status(ex2, uid, _after_slice(status, ev.t) if left else None)
    if not left:
        ex2, more = cover_deficit(ex2, ev.account, unit_key, ev.symbol)
        outs = outs + more
    return ex2, outs


__all__ = [
    "MAX_ROUNDS",
    "candidates",
    "cover_deficit",
    "execute_slice",
    "liquidate_unit",
    "liquidation_event",
    "sweep",
    "triggered",
    "unit_id",
    "unit_view",
]
