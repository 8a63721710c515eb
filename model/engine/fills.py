"""Trades: a fill moves both sides at once, each side validated, its PnL realized and its fee paid.

Rules: ENG-UNK-01, ENG-SELF-01, ENG-AMT-01, ENG-LOT-01, ENG-TCK-01, ENG-SLOT-01, ENG-RO-01,
ENG-IMR-01, ENG-PRC-01, ENG-FILL-01, ACC-ISO-01, FEE-MT-01, INV-02, INV-03.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    priced,
    with_bad_debt,
    with_position_debt,
)
from perpspec.engine.prices import PUBLISHED, model_mark
from perpspec.events import FeeOut, Fill, FillOut
from perpspec.fees import side_rate
from perpspec.market_runtime import MarketRuntime, ProfileRuntime, runtime_of
from perpspec.numeric import div_floor
from perpspec.position import Position, apply_fill
from perpspec.state import Exchange, Holders, Market, exchange_with, market_with
from perpspec.traceability import implements


class Side:
    """One validated side of a trade (internal, never part of a state)."""

    __slots__ = (
        "account",
        "after",
        "before",
        "cash",
        "deficit",
        "fee",
        "increasing",
        "key",
        "liquidity",
        "notional",
        "qty",
        "rate",
        "realized",
    )

    def __init__(
        self,
        account: Account,
        key: tuple[str, str],
        before: Position,
        after: Position,
        qty: int,
        realized: int,
        fee: int,
        rate: int,
        notional: int,
        liquidity: str,
        cash: int,  # collateral change before the fee: realized PnL (cross) or the slot's payout
        deficit: int = 0,  # new bad debt of the isolated position (ENG-FILL-01, INV-03)
        increasing: bool = False,  # opens, grows or flips the position (_increases)
    ) -> None:
        self.increasing = increasing
        self.account, self.key, self.before, self.after = account, key, before, after
        self.qty, self.realized, self.fee, self.rate = qty, realized, fee, rate
        self.notional, self.liquidity, self.cash, self.deficit = notional, liquidity, cash, deficit


_FLAT = Position()


def _increases(before: int, after: int) -> bool:
    """A fill increases risk if it opens, grows, or flips the position."""
    if after == 0:
        return False
    if before == 0 or (before > 0) != (after > 0):
        return True
    return abs(after) > abs(before)


@implements("ENG-SLOT-01", "ENG-RO-01", "ENG-FILL-01", "ACC-ISO-01")
def trade_side(
    rt: ProfileRuntime,
    ev: Fill,
    market: MarketRuntime,
    acct: Account,
    sign: int,
    slot: str,
    rate_override: int | None,
    reduce_only: bool,
    is_maker: bool,
    adjust: int = 0,
) -> Side:
    """Rules: ENG-SLOT-01, ENG-RO-01, FEE-MT-01, ENG-FILL-01, ACC-ISO-01. One side of a trade,
    validated. An isolated slot settles its realized PnL itself: ``release + realized`` to the
    wallet when >= 0, else the loss from the slot's remaining margin and the rest as the
    position's ``deficit`` (its bad debt). ``rt`` and ``market`` are the profile's and the
    market's runtime (:mod:`perpspec.market_runtime`): the notional, fee and IM are their
    generated formulas. ``adjust`` (money) is added to what the side settles, as realized
    PnL is: the liquidation engine's settlement against the bankruptcy price and its fees
    (LIQ-SET-01/02), taken from an isolated slot's margin like a loss."""
    if acct.hedge_mode and slot == "BOTH":
        raise Rejected(
            "ENG-SLOT-01", f"account {acct.id!r} is in hedge mode: a fill names slot LONG or SHORT"
        )
    if not acct.hedge_mode and slot != "BOTH":
        raise Rejected(
            "ENG-SLOT-01", f"account {acct.id!r} is in one-way mode: a fill uses slot BOTH, not {slot}"
        )
    key = (ev.symbol, slot)
    before = acct.positions.get(key) or _FLAT
    qty = sign * ev.qty
    after, realized = apply_fill(before, qty, ev.price, market.spec, market.scales, market.accounting)
    if (slot == "LONG" and after.size < 0) or (slot == "SHORT" and after.size > 0):
        raise Rejected(
            "ENG-SLOT-01", f"the fill would turn account {acct.id!r}'s {slot} slot to the other side"
        )
    increasing = _increases(before.size, after.size)
    if reduce_only and increasing:
        raise Rejected(
            "ENG-RO-01",
            f"reduce-only fill would increase account {acct.id!r}'s position ({before.size} -> {after.size})",
        )
    n = market.notional(ev.qty, ev.price)
    rate = side_rate(rt.maker_rate, rt.taker_rate, is_maker, rate_override)
    fee = market.fee(ev.qty, ev.price, n, rate)
    cash, deficit = realized + adjust, 0
    if before.isolated:
        iso = before.isolated_margin
        flipped = before.size != 0 and after.size != 0 and (before.size > 0) != (after.size > 0)
        if after.size == 0 or flipped:
            release = iso
        elif abs(after.size) < abs(before.size):
            release = int(div_floor(iso * (abs(before.size) - abs(after.size)), abs(before.size)))
        else:
            release = 0
        add = 0
        if increasing:
            added = abs(after.size) if (flipped or before.size == 0) else abs(after.size) - abs(before.size)
            # the margin model's notional (PNL-NOT-02), as for every other IM of a position
            add = market.initial(added, market.margin_notional(added, ev.price), before.leverage, 0)
        # the slot settles its own realized PnL: released margin + PnL goes to the wallet when
        # >= 0; a loss beyond the released margin comes from the slot's remaining margin, and
        # beyond that it is the position's bad debt (ACC-ISO-01)
        back = release + realized + adjust
        take = 0
        if back < 0:
            take = min(-back, iso - release)
            deficit = -back - take
            back = 0
        cash = back - add
        after = Position(
            after.size, after.entry_value, after.leverage, after.isolated, iso - release - take + add
        )
    return Side(
        acct,
        key,
        before,
        after,
        qty,
        realized,
        fee,
        rate,
        n,
        "maker" if is_maker else "taker",
        cash,
        deficit,
        increasing,
    )


def apply_side(side: Side) -> Account:
    acct = side.account
    positions = dict(acct.positions)
    positions[side.key] = side.after
    return Account(
        acct.id,
        acct.collateral + side.cash - side.fee,
        positions,
        acct.hedge_mode,
    )


@implements("ENG-IMR-01")
def _check_initial_margin(
    ex2: Exchange, side: Side, new_acct: Account, marks: Mapping[str, int], oi: Mapping[str, int]
) -> None:
    """Rule: ENG-IMR-01. After a risk-increasing fill the account must meet initial margin.

    Cross: :math:`equity \\ge IM_{cross}` at the valuation prices after the fill; isolated:
    the collateral still covers the cross part and :math:`isolated\\_equity \\ge IM` of the
    position. Risk-reducing fills are checked by :func:`_check_reducing` instead. ``marks``
    and ``oi`` are ``ex2.marks()`` and its open-interest notionals.
    """
    if side.deficit:
        raise Rejected(
            "ENG-IMR-01",
            f"account {new_acct.id!r}'s isolated {side.key[0]} {side.key[1]} position would close "
            f"with a deficit of {side.deficit} beyond its margin before flipping",
        )
    profile = ex2.profile
    eq, im = acc_mod.equity_and_initial(new_acct, marks, profile, oi)
    if eq < im or new_acct.collateral < 0:
        raise Rejected(
            "ENG-IMR-01",
            f"account {new_acct.id!r} would have equity {eq} below its initial margin {im} "
            f"(collateral {new_acct.collateral}) after a risk-increasing fill",
        )
    if side.after.isolated:
        ieq = acc_mod.isolated_equity(new_acct, side.key, marks, profile)
        iim = acc_mod.position_initial(side.key[0], new_acct.positions[side.key], marks, profile, oi)
        if ieq < iim:
            raise Rejected(
                "ENG-IMR-01",
                f"account {new_acct.id!r}'s isolated {side.key[0]} position would have equity {ieq} "
                f"below its initial margin {iim}",
            )


@implements("ENG-IMR-01")
def _check_reducing(
    ex2: Exchange, side: Side, new_acct: Account, marks: Mapping[str, int], oi: Mapping[str, int]
) -> None:
    """Rule: ENG-IMR-01. A fill that does not increase risk, leaving a part of the account
    (its cross part; the isolated position it trades) below initial margin, is accepted only
    if that part's maintenance margin does not increase and its NC/MM ratio does not get
    worse (dYdX v4 ``IsValidStateTransitionForUndercollateralizedSubaccount``), compared at the
    same prices (``marks``, ``oi``: those after the fill) before and after. Only a part that
    ends below IM is compared (the before-values are computed only then)."""
    profile = ex2.profile
    eq, im = acc_mod.equity_and_initial(new_acct, marks, profile, oi)
    if eq < im:
        old = side.account
        # NC/MM on the maintenance collateral (ACC-COL-01) before and after; ``eq`` is the
        # initial collateral, which only decides whether the part ends below IM
        _transition(
            f"account {new_acct.id!r}'s cross part",
            acc_mod.collateral(old, marks, profile, initial=False),
            acc_mod.requirement(old, marks, profile, oi).maintenance,
            acc_mod.collateral(new_acct, marks, profile, initial=False),
            acc_mod.requirement(new_acct, marks, profile, oi).maintenance,
        )
    if side.before.isolated:
        # the slot's NC after the fill counts the deficit it would leave (ENG-FILL-01); a closed
        # slot has IM = MM = 0 and NC = -deficit
        sym = side.key[0]
        if side.after.size != 0:
            ieq = acc_mod.isolated_equity(new_acct, side.key, marks, profile) - side.deficit
            req = acc_mod.position_requirement(sym, side.after, marks, profile, oi)
        else:
            ieq, req = -side.deficit, acc_mod.Requirement(0, 0)
        if ieq < req.initial:
            before = side.before
            _transition(
                f"account {new_acct.id!r}'s isolated {sym} {side.key[1]} position",
                before.isolated_margin + acc_mod.position_upnl(sym, before, marks, profile),
                acc_mod.position_requirement(sym, before, marks, profile, oi).maintenance,
                ieq,
                req.maintenance,
            )


@implements("ENG-IMR-01")
def _transition(what: str, nc_old: int, mm_old: int, nc_new: int, mm_new: int) -> None:
    """Rule: ENG-IMR-01. dYdX's undercollateralized state transition: MM must not increase;
    if either MM is 0, both must be 0 and NC must strictly increase; else
    :math:`NC_{new} \\cdot MM_{old} \\ge NC_{old} \\cdot MM_{new}` (cross-multiplied, exact)."""
    if mm_new > mm_old:
        ok = False
    elif mm_new == 0 or mm_old == 0:
        ok = mm_new == 0 and mm_old == 0 and nc_new > nc_old
    else:
        ok = nc_new * mm_old >= nc_old * mm_new
    if not ok:
        raise Rejected(
            "ENG-IMR-01",
            f"{what} would end below its initial margin with NC {nc_old} -> {nc_new} and "
            f"MM {mm_old} -> {mm_new}: a fill below IM must not increase MM nor worsen NC/MM "
            f"(needs NC_new * MM_old >= NC_old * MM_new; with MM 0 after, MM 0 before and NC up)",
        )


@implements("INV-02")
def market_after_trade(market: Market, price: int, sides: tuple[Side, Side]) -> Market:
    """Rule: INV-02. ``market`` after a trade of its two ``sides`` at ``price``: the last price,
    the long and short open interest moved by both sides' changes (so they stay equal), and
    the realized PnL of both sides added (INV-01). A fill and a liquidation's part both use it."""
    d_long = d_short = realized = 0
    for side in sides:
        before, after = side.before.size, side.after.size
        d_long += (after if after > 0 else 0) - (before if before > 0 else 0)
        d_short += (-after if after < 0 else 0) - (-before if before < 0 else 0)
        realized += side.realized
    return market_with(
        market,
        last_price=price,
        oi_long=market.oi_long + d_long,
        oi_short=market.oi_short + d_short,
        realized_pnl=market.realized_pnl + realized,
    )


def _holds(acct: Account, symbol: str) -> bool:
    """Does ``acct`` hold a non-zero position in ``symbol`` (any slot)?"""
    return any(p.size != 0 for (sym, _slot), p in acct.positions.items() if sym == symbol)


@handles(Fill)
@implements("ENG-UNK-01", "ENG-SELF-01", "ENG-AMT-01", "ENG-LOT-01", "ENG-TCK-01", "ENG-FILL-01", "INV-02")
def fill(ex: Exchange, ev: Fill) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-UNK-01, ENG-SELF-01, ENG-AMT-01, ENG-LOT-01, ENG-TCK-01, ENG-FILL-01, INV-02.

    One trade, both sides at once: positions change by ``+qty`` (buyer) and ``-qty``
    (seller); each side realizes PnL (PNL-RED-01) and pays its fee (FEE-MT-01) to the fee
    pool; open interest is updated by both sides' changes, so long OI == short OI.
    """
    spec = market_spec(ex, ev.symbol)
    rt = runtime_of(ex.profile)
    mrt = rt.markets[ev.symbol]
    buyer = account(ex, ev.buyer)
    seller = account(ex, ev.seller)
    if ev.buyer == ev.seller:
        raise Rejected("ENG-SELF-01", f"account {ev.buyer!r} cannot trade with itself")
    if ev.qty <= 0 or ev.price <= 0:
        raise Rejected("ENG-AMT-01", f"a fill needs a positive size and price, got {ev.qty} at {ev.price}")
    if ev.qty % spec.lot != 0:
        raise Rejected("ENG-LOT-01", f"size {ev.qty} is not a multiple of the lot step {spec.lot}")
    if spec.min_size is not None and ev.qty < spec.min_size:
        raise Rejected("ENG-LOT-01", f"size {ev.qty} is below the minimum size {spec.min_size}")
    if ev.price % spec.tick != 0:
        raise Rejected("ENG-TCK-01", f"price {ev.price} is not a multiple of the tick {spec.tick}")
    if ev.maker not in ("buyer", "seller"):
        raise Rejected("ENG-AMT-01", f"maker must be 'buyer' or 'seller', got {ev.maker!r}")
    b = trade_side(
        rt, ev, mrt, buyer, 1, ev.buyer_slot, ev.buyer_fee_rate, ev.buyer_reduce_only, ev.maker == "buyer"
    )
    s = trade_side(
        rt,
        ev,
        mrt,
        seller,
        -1,
        ev.seller_slot,
        ev.seller_fee_rate,
        ev.seller_reduce_only,
        ev.maker == "seller",
    )
    new_b, new_s = apply_side(b), apply_side(s)
    new_market = market_after_trade(ex.markets[ev.symbol], ev.price, (b, s))
    if new_market.mark_source != PUBLISHED:
        mark_model = ex.profile.mark_model
        if mark_model is not None and mark_model.reads_last_price:
            new_market = model_mark(ex, new_market, ev.t, observe=False)
    with ex.accounts.mutate() as mm:
        mm[ev.buyer] = new_b
        mm[ev.seller] = new_s
        accounts = mm.finish()
    markets = dict(ex.markets)
    markets[ev.symbol] = new_market
    holders = holders_after(ex, ev.symbol, ((ev.buyer, b, new_b), (ev.seller, s, new_s)))
    ex2 = exchange_with(
        ex, t=ev.t, markets=markets, accounts=accounts, fee_pool=ex.fee_pool + b.fee + s.fee, holders=holders
    )
    marks = ex2.marks()
    oi = oi_notional(ex2, marks)
    try:
        for side, new_acct in ((b, new_b), (s, new_s)):
            if side.increasing:
                _check_initial_margin(ex2, side, new_acct, marks, oi)
            else:
                _check_reducing(ex2, side, new_acct, marks, oi)
    except KeyError:  # a position without a price: ENG-PRC-01 (checked only then, off the hot path)
        priced(new_b, marks)
        priced(new_s, marks)
        raise
    bad, bad_outs = with_bad_debt(ev.t, ex.bad_debt, accounts, [ev.buyer, ev.seller])
    if b.deficit or s.deficit:
        bad, more = with_position_debt(
            ev.t, bad, [(ev.buyer, b.key, b.deficit), (ev.seller, s.key, s.deficit)]
        )
        bad_outs = bad_outs + more
    if bad is not ex.bad_debt:
        ex2 = attrs.evolve(ex2, bad_debt=bad)
    outs: list[Output] = [
        FillOut(ev.t, new_b.id, ev.symbol, b.key[1], b.qty, ev.price, b.liquidity, b.after.size, b.realized),
        FeeOut(ev.t, new_b.id, ev.symbol, b.rate, b.notional, b.fee, "fee_pool"),
        FillOut(ev.t, new_s.id, ev.symbol, s.key[1], s.qty, ev.price, s.liquidity, s.after.size, s.realized),
        FeeOut(ev.t, new_s.id, ev.symbol, s.rate, s.notional, s.fee, "fee_pool"),
    ]
    return ex2, outs + bad_outs if bad_outs else outs


def holders_after(
    ex: Exchange, symbol: str, sides: tuple[tuple[str, Side, Account], ...]
) -> Mapping[str, Holders] | None:
    """The holder index after a fill: an account enters or leaves ``symbol``'s holders only
    when one of its positions there opens from or closes to zero."""
    holders = ex.holders
    if holders is None:
        return None
    ids = holders.get(symbol)
    if ids is None:
        return None  # a market the index does not know: rebuild it
    new_ids = ids
    for aid, side, acct in sides:
        if (side.before.size != 0) == (side.after.size != 0):
            continue
        if side.after.size != 0 or _holds(acct, symbol):
            new_ids = new_ids.set(aid, True)
        elif aid in new_ids:
            new_ids = new_ids.delete(aid)
    if new_ids is ids:
        return holders
    out = dict(holders)
    out[symbol] = new_ids
    return out
