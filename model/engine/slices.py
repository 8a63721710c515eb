"""One liquidation slice: the unit it acts on, its execution and its settlement.

A *unit* (LIQ-UNT-01) is the cross part of an account or one isolated position; :func:`unit_view`
shows it to the procedure, :func:`triggered` applies the trigger (ACC-LIQ-01, LIQ-TRG-*). A
:class:`~perpspec.liquidation.procedure.Slice` is executed (:func:`execute_slice`) as parts at the
valuation price, at a given price or into the book (LIQ-EXE-01), each part a trade with the
counterparty through the same side function a fill uses (:func:`perpspec.engine.fills.trade_side`),
and settled by its fees (LIQ-SET-01), against the bankruptcy price (LIQ-SET-02), the fund
paying or refusing (INS-PAY-01, INS-REF-01), or as a takeover of the released margin by the
counterparty (LIQ-SET-03).

Rules: LIQ-UNT-01, LIQ-TRG-01, LIQ-EXE-01, LIQ-SET-01, LIQ-SET-02, LIQ-SET-03, INS-REF-01, INV-09.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from perpspec import account as acc_mod
from perpspec.account import Account, Key
from perpspec.engine.common import (
    Output,
    oi_notional,
    with_bad_debt,
    with_position_debt,
)
from perpspec.engine.fills import apply_side, holders_after, market_after_trade, trade_side
from perpspec.engine.prices import PUBLISHED, model_mark
from perpspec.events import (
    Fill,
    InsuranceOut,
    LiquidationOut,
    UncoveredLossOut,
)
from perpspec.liquidation.procedure import (
    Book,
    Execution,
    LiquidationProcedure,
    Settle,
    Slice,
    Unit,
)
from perpspec.liquidation.trigger import unit_requirement
from perpspec.market_runtime import runtime_of
from perpspec.numeric import div_ceil, div_floor
from perpspec.position import Position, apply_fill
from perpspec.state import Exchange, InsuranceFund, exchange_with, market_with, position_debt_key
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

_FLAT = Position()


# --------------------------------------------------------------------------- units


def unit_id(account_id: str, key: Key | None) -> str:
    """The key of a unit in ``Exchange.liquidations``: the account id (cross part) or
    ``ACCOUNT/SYMBOL/SLOT`` (an isolated position)."""
    return account_id if key is None else position_debt_key(account_id, key[0], key[1])


def unit_positions(acct: Account, key: Key | None) -> tuple[tuple[Key, Position], ...]:
    if key is None:
        return tuple((k, p) for k, p in acc_mod.cross_positions(acct) if p.size != 0)
    p = acct.positions.get(key)
    return ((key, p),) if p is not None and p.size != 0 else ()


@implements("LIQ-UNT-01", "LIQ-TRG-01")
def unit_view(
    ex: Exchange, acct: Account, key: Key | None, marks: Mapping[str, int], event_round: int = 0
) -> Unit:
    """Rules: LIQ-UNT-01, LIQ-TRG-01. The :class:`Unit` of ``acct``'s cross part (``key`` None)
    or of its isolated position ``key``, at the valuation prices ``marks``; ``event_round`` is
    the number of rounds already run for it in this event (LIQ-PAS-01)."""
    profile = ex.profile
    oi = oi_notional(ex, marks)
    positions = unit_positions(acct, key)
    if key is None:
        collateral = acc_mod.collateral(acct, marks, profile, initial=False)
        mm = acc_mod.requirement(acct, marks, profile, oi).maintenance
    else:
        collateral = acc_mod.isolated_equity(acct, key, marks, profile)
        mm = acc_mod.isolated_requirement(acct, key, marks, profile, oi).maintenance
    status = ex.liquidations.get(unit_id(acct.id, key))
    requirement, by_market = unit_requirement(positions, marks, profile, mm, status is not None)
    notional = sum(by_market.values())
    oracles = {s: m.oracle for s, m in ex.markets.items() if m.oracle is not None}
    books = {s: m.book for s, m in ex.markets.items() if m.book is not None}
    return Unit(
        t=ex.t,
        account=acct.id,
        isolated=key is not None,
        positions=positions,
        collateral=collateral,
        maintenance=mm,
        requirement=requirement,
        notional=notional,
        prices=marks,
        oracles=oracles,
        books=books,
        status=status,
        profile=profile,
        event_round=event_round,
    )


@implements("ACC-LIQ-01")
def triggered(ex: Exchange, unit: Unit) -> bool:
    """Rule: ACC-LIQ-01. Is ``unit`` liquidatable: the accounting predicate between its collateral
    and the trigger's requirement (a unit without positions never is)?"""
    if not unit.positions:
        return False
    return bool(
        acc_mod.is_liquidatable(unit.collateral, unit.requirement, ex.profile.accounting_model.trigger)
    )


def with_fund(ex: Exchange, fund: str, delta: int) -> Exchange:
    bal = dict(ex.insurance.balances)
    bal[fund] = bal.get(fund, 0) + delta
    return exchange_with(ex, insurance=InsuranceFund(balances=bal))


# --------------------------------------------------------------------------- one slice


def _parts(
    ex: Exchange, sym: str, closing_sell: bool, qty: int, sl: Slice
) -> tuple[list[tuple[int, int]], Book | None]:
    """Rule: LIQ-EXE-01. The ``(price, qty)`` parts a slice executes as, and the book left."""
    market = ex.markets[sym]
    price = market.valuation_price()
    assert price is not None  # a unit with a position in ``sym`` was valued
    if sl.execution is Execution.VALUATION:
        return [(price, qty)], market.book
    if sl.execution is Execution.PRICE:
        assert sl.price is not None, "a PRICE slice names its price"
        return [(sl.price, qty)], market.book
    parts: list[tuple[int, int]] = []
    book = market.book
    if book is None:
        return [(price, qty)], None
    bids, asks = book
    levels = list(bids if closing_sell else asks)
    rest = qty
    while rest and levels:
        lp, lq = levels[0]
        if sl.price is not None and (lp < sl.price if closing_sell else lp > sl.price):
            break
        take = min(rest, lq)
        parts.append((lp, take))
        rest -= take
        if take == lq:
            levels.pop(0)
        else:
            levels[0] = (lp, lq - take)
    if rest:
        parts.append((price, rest))  # the rest is taken over at the valuation price
    new_book = (tuple(levels), asks) if closing_sell else (bids, tuple(levels))
    return parts, new_book


def _unit_mm(ex: Exchange, acct: Account, key: Key | None, marks: Mapping[str, int]) -> int:
    oi = oi_notional(ex, marks)
    if key is None:
        return acc_mod.requirement(acct, marks, ex.profile, oi).maintenance
    return acc_mod.isolated_requirement(acct, key, marks, ex.profile, oi).maintenance


@implements("LIQ-SET-02", "LIQ-SET-03")
def _give_up(
    ex: Exchange,
    acct: Account,
    unit_key: Key | None,
    key: Key,
    scratch: Position,
    qty: int,
    size: int,
    marks: Mapping[str, int],
) -> tuple[int, int]:
    """Rules: LIQ-SET-02, LIQ-SET-03. The unit's collateral ``C`` before the slice and the share
    :math:`g = \\lceil C (MM - MM') / MM \\rceil` the slice releases (all of ``C`` when it closes
    the unit, :math:`\\lceil C \\Delta q / |q| \\rceil` when ``MM = 0``)."""
    unit = unit_view(ex, acct, unit_key, marks)
    c0, mm0 = unit.collateral, unit.maintenance
    positions = dict(acct.positions)
    positions[key] = scratch
    after = Account(acct.id, acct.collateral, positions, acct.hedge_mode)
    if not unit_positions(after, unit_key):
        return c0, c0
    if mm0 > 0:
        return c0, int(div_ceil(c0 * (mm0 - _unit_mm(ex, after, unit_key, marks)), mm0))
    return c0, int(div_ceil(c0 * qty, size))


@implements("LIQ-EXE-01", "LIQ-SET-01", "LIQ-SET-02", "LIQ-SET-03", "INS-REF-01", "INV-09")
def execute_slice(
    ex: Exchange,
    proc: LiquidationProcedure,
    aid: str,
    unit_key: Key | None,
    sl: Slice,
    counterparty: str = "",
) -> tuple[Exchange, list[Output], bool]:
    """Rules: LIQ-EXE-01, LIQ-SET-01, LIQ-SET-02, LIQ-SET-03, INS-REF-01, INV-09. Execute and
    settle one slice.

    Returns the new exchange, the outputs and ``False`` when the fund refused the slice (it is
    then not made: an uncovered-loss record says so and the state is unchanged otherwise).
    """
    profile = ex.profile
    rt = runtime_of(profile)
    sym, slot = sl.key
    mrt = rt.markets[sym]
    acct = ex.accounts[aid]
    pos = acct.positions.get(sl.key) or _FLAT
    qty = min(sl.qty, abs(pos.size))
    if qty <= 0:
        return ex, [], True
    sign = -1 if pos.size > 0 else 1  # the account's change: a long sells, a short buys
    marks = ex.marks()
    mark = marks[sym]
    parts, new_book = _parts(ex, sym, pos.size > 0, qty, sl)
    # the slice's equity change when executed at its parts' prices, at the valuation price
    scratch, realized_total, notional = pos, 0, 0
    for p, q in parts:
        scratch, r = apply_fill(scratch, sign * q, p, mrt.spec, mrt.scales, mrt.accounting)
        realized_total += r
        notional += mrt.notional(q, p)
    d_eq = (
        realized_total
        + mrt.upnl(scratch.size, scratch.entry_value, mark)
        - mrt.upnl(pos.size, pos.entry_value, mark)
    )
    policy = profile.insurance_model
    fund = policy.fund_of(sym)
    balance = ex.insurance.balances.get(fund, 0)
    fee = cp_fee = if_delta = 0
    if sl.settle is Settle.TAKEOVER:
        c0, give_up = _give_up(ex, acct, unit_key, sl.key, scratch, qty, abs(pos.size), marks)
        cp_fee = give_up if c0 > 0 else 0  # the counterparty takes the margin the slice releases
        adjust = -cp_fee
    elif sl.settle is Settle.BANKRUPTCY:
        c0, give_up = _give_up(ex, acct, unit_key, sl.key, scratch, qty, abs(pos.size), marks)
        d = d_eq + give_up  # what the fund gets (> 0) or pays (< 0) against the bankruptcy price
        nominal = int(mrt.fee(qty, mark, mrt.notional(qty, mark), sl.fee_rate)) if sl.fee_rate else 0
        if d >= 0:
            cap = None if sl.surplus_cap is None else int(div_floor(notional * sl.surplus_cap, RATE_ONE))
            if_delta = d if cap is None else min(d, cap)
            fee = min(if_delta, nominal)
        else:
            paid = policy.payout(balance, -d)
            if paid < -d and policy.refuse_shortfall:
                return (
                    ex,
                    [
                        UncoveredLossOut(
                            ex.t,
                            aid,
                            sym if unit_key else None,
                            slot if unit_key else None,
                            -c0 if c0 < 0 else -d,
                            True,
                            "INS-REF-01",
                        )
                    ],
                    False,
                )
            if_delta = -paid
        adjust = -if_delta
    else:
        for p, q in parts:
            n = mrt.notional(q, p)
            fee += int(mrt.fee(q, p, n, sl.fee_rate)) if sl.fee_rate else 0
            cp_fee += int(mrt.fee(q, p, n, sl.counterparty_fee_rate)) if sl.counterparty_fee_rate else 0
        if_delta = fee
        adjust = -(fee + cp_fee)
    cp_id = counterparty or proc.counterparty
    return _commit(
        ex, aid, cp_id, sl, parts, sign, adjust, cp_fee, fee, if_delta, fund, new_book, pos.isolated
    )


@implements("LIQ-OUT-01", "INS-OUT-01")
def _commit(
    ex: Exchange,
    aid: str,
    cp_id: str,
    sl: Slice,
    parts: list[tuple[int, int]],
    sign: int,
    adjust: int,
    cp_fee: int,
    fee: int,
    if_delta: int,
    fund: str,
    new_book: Book | None,
    isolated: bool,
) -> tuple[Exchange, list[Output], bool]:
    """Rules: LIQ-OUT-01, INS-OUT-01. Apply the parts to both accounts (the settlement
    ``adjust`` and ``cp_fee`` with the last part), the market, the fund and the bad-debt
    records; one output per part."""
    rt = runtime_of(ex.profile)
    sym, slot = sl.key
    mrt = rt.markets[sym]
    outs: list[Output] = []
    deficits: list[tuple[str, tuple[str, str], int]] = []
    market = ex.markets[sym]
    accounts = ex.accounts
    holders = ex.holders
    if cp_id not in accounts:
        accounts = accounts.set(cp_id, Account(cp_id))
    for i, (p, q) in enumerate(parts):
        last = i == len(parts) - 1
        ev = Fill(ex.t, sym, q, p, aid, cp_id, "seller")  # only symbol, qty and price are read
        acct, cp = accounts[aid], accounts[cp_id]
        a = trade_side(rt, ev, mrt, acct, sign, slot, 0, False, False, adjust if last else 0)
        c = trade_side(
            rt, ev, mrt, cp, -sign, acc_mod.slot_for(cp, -sign), 0, False, True, cp_fee if last else 0
        )
        new_a, new_c = apply_side(a), apply_side(c)
        accounts = accounts.set(aid, new_a).set(cp_id, new_c)
        market = market_after_trade(market, p, (a, c))
        ex_h = exchange_with(ex, holders=holders)
        holders = holders_after(ex_h, sym, ((aid, a, new_a), (cp_id, c, new_c)))
        deficits += [(aid, a.key, a.deficit), (cp_id, c.key, c.deficit)]
        outs.append(
            LiquidationOut(
                ex.t,
                aid,
                sym,
                slot,
                a.qty,
                p,
                cp_id,
                a.after.size,
                a.realized,
                fee if last else 0,
                cp_fee if last else 0,
                if_delta if last else 0,
                0,
                sl.rule_id,
            )
        )
    if new_book is not market.book:
        market = market_with(market, book=new_book)
    if market.mark_source != PUBLISHED:
        mark_model = ex.profile.mark_model
        if mark_model is not None and mark_model.reads_last_price:
            market = model_mark(ex, market, ex.t, observe=False)
    markets = dict(ex.markets)
    markets[sym] = market
    ex2 = exchange_with(ex, markets=markets, accounts=accounts, holders=holders)
    if if_delta:
        ex2 = with_fund(ex2, fund, if_delta)
        outs.append(InsuranceOut(ex.t, fund, if_delta, ex2.insurance.balances[fund], "liquidation", aid))
    bad, bad_outs = with_bad_debt(ex.t, ex2.bad_debt, accounts, [aid, cp_id])
    if any(d for _, _, d in deficits):
        bad, more = with_position_debt(ex.t, bad, deficits)
        bad_outs += more
    if bad is not ex2.bad_debt:
        ex2 = exchange_with(ex2, bad_debt=bad)
    # the unit's remaining deficit, on the last part's record
    if isolated:
        deficit = bad.get(position_debt_key(aid, sym, slot), 0)
    else:
        deficit = max(0, -accounts[aid].collateral)
    outs[len(parts) - 1] = attrs.evolve(outs[len(parts) - 1], deficit=deficit)
    return ex2, outs + bad_outs, True


__all__ = ["execute_slice", "triggered", "unit_id", "unit_positions", "unit_view", "with_fund"]
