"""The step function: ``step(exchange, event) -> (exchange', outputs)``, pure and atomic.

Every event is validated first; a rejected (*invalid*) event returns the SAME exchange
object and exactly one :class:`~perpspec.events.Reject` naming the rule it breaks
(spec/events.md, ``ENG-*``). An accepted event builds a new exchange that shares every
untouched part with the old one (design §7). An accepted event that changes nothing but the
clock is a *valid no-op* (e.g. setting the leverage an account already has).

Nothing is clamped or saturated: an amount that would make a balance negative is either a
rejection (withdrawals, transfers, risk-increasing fills) or, where the venue lets it happen
(realized losses and fees of a risk-reducing fill ENG-IMR-01 accepts, funding), an explicit bad-debt record
(INV-03).

Rules: ENG-TIM-01, ENG-UNK-01, ENG-AMT-01, ENG-SELF-01, ENG-LOT-01, ENG-TCK-01, ENG-SLOT-01,
ENG-RO-01, ENG-IMR-01, ENG-WDR-01, ENG-LEV-01, ENG-LEV-02, ENG-MOD-01, ENG-ISO-01, ENG-ISO-02,
ENG-BOOK-01, ENG-FND-01, ENG-PRC-01, ENG-PAR-01, ENG-FILL-01, ENG-FUND-01, ENG-FSM-01,
ENG-IDX-01, ENG-MRK-01, INV-01, INV-02, INV-03.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs
from perpspec import account as acc_mod
from perpspec.account import Account
from perpspec.errors import ModelError
from perpspec.events import (
    BadDebtOut,
    BalanceOut,
    BookSnapshot,
    ClockTick,
    Deposit,
    Event,
    FeeOut,
    Fill,
    FillOut,
    FundingPayment,
    FundingRateOut,
    FundingSample,
    FundingSettlement,
    IndexPrice,
    IsolatedMarginTransfer,
    MarkPrice,
    OraclePrice,
    ParamChange,
    ParamOut,
    PriceOut,
    Reject,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
    SettingOut,
    Withdraw,
)
from perpspec.fees import fee_rate, fee_rounding, fill_fee
from perpspec.margin import PositionRisk
from perpspec.numeric import div_floor
from perpspec.position import Position, accounting_of, apply_fill, notional
from perpspec.profile import MarketSpec, Profile
from perpspec.quantities import Price, Rate
from perpspec.state import (
    SHARED,
    Exchange,
    FundingState,
    Holders,
    InsuranceFund,
    Market,
    initial_exchange,
    position_debt_key,
)
from perpspec.units import RATE_ONE

__all__ = ["Output", "Rejected", "initial_exchange", "run", "step"]

Output = Any


class Rejected(Exception):
    """Raised inside a handler while validating; :func:`step` turns it into a Reject."""

    def __init__(self, rule_id: str, reason: str) -> None:
        super().__init__(f"{rule_id}: {reason}")
        self.rule_id, self.reason = rule_id, reason


def step(ex: Exchange, event: Event) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-TIM-01, INV-05, INV-08. Apply one event. Pure: ``ex`` is never modified.

    Returns ``(ex, [Reject(...)])`` (the very same object) for an invalid event, or the new
    exchange and the outputs of an accepted one.
    """
    if event.t < ex.t:
        return ex, [
            Reject(
                event.t, "ENG-TIM-01", f"time goes backwards: event at {event.t} ms, exchange at {ex.t} ms"
            )
        ]
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise ModelError(f"no handler for event type {type(event).__name__}")
    try:
        return handler(ex, event)
    except Rejected as r:
        return ex, [Reject(event.t, r.rule_id, r.reason)]


def run(ex: Exchange, events: Any) -> tuple[Exchange, list[Output]]:
    """Apply events in order; the final exchange and every output (rejections included)."""
    outs: list[Output] = []
    for ev in events:
        ex, o = step(ex, ev)
        outs.extend(o)
    return ex, outs


# --------------------------------------------------------------------------- helpers


def _market_spec(ex: Exchange, symbol: str) -> MarketSpec:
    spec = ex.profile.markets.get(symbol)
    if spec is None:
        raise Rejected(
            "ENG-UNK-01",
            f"unknown market {symbol!r}; this profile has: {', '.join(sorted(ex.profile.markets))}",
        )
    return spec


def _account(ex: Exchange, account_id: str) -> Account:
    acct = ex.accounts.get(account_id)
    if acct is None:
        raise Rejected("ENG-UNK-01", f"unknown account {account_id!r} (a deposit creates an account)")
    return acct


def _oi_notional(ex: Exchange, marks: Mapping[str, int]) -> dict[str, int]:
    """Open interest (long side) of each market at its valuation price, money units."""
    out = {}
    acc = accounting_of(ex.profile)
    for sym, m in ex.markets.items():
        p = m.oracle if m.oracle is not None else marks.get(sym)
        if p is not None and m.oi_long:
            out[sym] = notional(m.oi_long, p, ex.profile.markets[sym], ex.profile.scales, acc)
    return out


def _with_bad_debt(
    t: int, bad_debt: Mapping[str, int], accounts: Mapping[str, Account], touched: list[str]
) -> tuple[Mapping[str, int], list[Output]]:
    """Rule: INV-03. Keep the bad-debt records of ``touched`` accounts equal to their deficits."""
    new: dict[str, int] | None = None
    outs: list[Output] = []
    for aid in touched:
        c = accounts[aid].collateral
        old = bad_debt.get(aid)
        if c < 0 and old != -c:
            new = dict(bad_debt) if new is None else new
            new[aid] = -c
            outs.append(BadDebtOut(t, aid, -c))
        elif c >= 0 and old is not None:
            new = dict(bad_debt) if new is None else new
            del new[aid]
    return (bad_debt if new is None else new), outs


def _with_position_debt(
    t: int, bad_debt: Mapping[str, int], deficits: list[tuple[str, tuple[str, str], int]]
) -> tuple[Mapping[str, int], list[Output]]:
    """Rules: ACC-ISO-01, INV-03. Add each isolated position's new ``deficit`` (> 0) to its
    bad-debt record (key :func:`~perpspec.state.position_debt_key`), one output per change."""
    new = dict(bad_debt)
    outs: list[Output] = []
    for aid, (sym, slot), deficit in deficits:
        if deficit > 0:
            key = position_debt_key(aid, sym, slot)
            new[key] = new.get(key, 0) + deficit
            outs.append(BadDebtOut(t, key, new[key]))
    return new, outs


def _slots_for_setting(acct: Account) -> tuple[str, ...]:
    return ("LONG", "SHORT") if acct.hedge_mode else ("BOTH",)


def _max_leverage(spec: MarketSpec, pos: Position, price: int | None, ex: Exchange) -> int | None:
    """Rule: ENG-LEV-01. The highest leverage the market's margin model allows for ``pos``.

    A margin model may define ``max_leverage(notional) -> int`` (tiered models: the tier of
    the position's notional at the valuation price, 0 when flat); a flat model allows
    ``floor(1 / imr)``; a model with neither sets no maximum.
    """
    margin = spec.margin
    fn = getattr(margin, "max_leverage", None)
    if callable(fn):
        acc = accounting_of(ex.profile)
        n = 0 if price is None else notional(abs(pos.size), price, spec, ex.profile.scales, acc)
        return int(fn(n))
    imr = getattr(margin, "imr", None)
    if isinstance(imr, int) and imr > 0:
        return int(div_floor(RATE_ONE, imr))
    return None


# --------------------------------------------------------------------------- money in / out


def _deposit(ex: Exchange, ev: Deposit) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-AMT-01, INV-01. Credit collateral; a deposit to a new id creates the account."""
    if ev.amount <= 0:
        raise Rejected("ENG-AMT-01", f"a deposit must be positive, got {ev.amount}")
    old = ex.accounts.get(ev.account)
    if old is None:
        parts = ev.account.rsplit("/", 2)
        if len(parts) == 3 and parts[1] in ex.profile.markets and parts[2] in ("BOTH", "LONG", "SHORT"):
            raise Rejected(
                "ENG-AMT-01",
                f"account id {ev.account!r} has the form ACCOUNT/SYMBOL/SLOT, reserved for the "
                "bad-debt records of isolated positions (INV-03)",
            )
        old = Account(id=ev.account)
    new = Account(old.id, old.collateral + ev.amount, old.positions, old.hedge_mode)
    accounts = ex.accounts.set(ev.account, new)
    bad, outs = _with_bad_debt(ev.t, ex.bad_debt, accounts, [ev.account])
    ex2 = Exchange(
        ex.profile,
        ev.t,
        ex.markets,
        accounts,
        ex.insurance,
        ex.fee_pool,
        ex.dust,
        ex.net_deposits + ev.amount,
        bad,
        ex.holders,
    )
    return ex2, [BalanceOut(ev.t, ev.account, ev.amount, new.collateral, "deposit"), *outs]


def _withdraw(ex: Exchange, ev: Withdraw) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-AMT-01, ENG-WDR-01. Debit collateral up to the withdrawable amount.

    Withdrawable: :math:`\\min(collateral, \\max(0, equity - \\max(IM, rate \\cdot \\sum|N|)))`
    (rule ACC-WDR-01 for the second term); unrealized profit is not withdrawable.
    """
    acct = _account(ex, ev.account)
    if ev.amount <= 0:
        raise Rejected("ENG-AMT-01", f"a withdrawal must be positive, got {ev.amount}")
    marks = ex.marks()
    _priced(acct, marks)
    free = acc_mod.available_for_withdrawal(acct, marks, ex.profile, _oi_notional(ex, marks))
    limit = min(acct.collateral, free)
    if ev.amount > limit:
        raise Rejected(
            "ENG-WDR-01",
            f"withdrawal of {ev.amount} exceeds the withdrawable {max(limit, 0)} "
            f"(collateral {acct.collateral}, free of the transfer margin requirement {free})",
        )
    new = Account(acct.id, acct.collateral - ev.amount, acct.positions, acct.hedge_mode)
    accounts = ex.accounts.set(ev.account, new)
    ex2 = attrs.evolve(ex, t=ev.t, accounts=accounts, net_deposits=ex.net_deposits - ev.amount)
    return ex2, [BalanceOut(ev.t, ev.account, -ev.amount, new.collateral, "withdraw")]


# --------------------------------------------------------------------------- trades


class _Side:
    """One validated side of a trade (internal, never part of a state)."""

    __slots__ = (
        "account",
        "after",
        "before",
        "cash",
        "deficit",
        "fee",
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
    ) -> None:
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


def _side(
    ex: Exchange,
    ev: Fill,
    spec: MarketSpec,
    acct: Account,
    sign: int,
    slot: str,
    rate_override: int | None,
    reduce_only: bool,
    is_maker: bool,
) -> _Side:
    """Rules: ENG-SLOT-01, ENG-RO-01, FEE-MT-01, ENG-FILL-01, ACC-ISO-01. One side of a trade,
    validated. An isolated slot settles its realized PnL itself: ``release + realized`` to the
    wallet when >= 0, else the loss from the slot's remaining margin and the rest as the
    position's ``deficit`` (its bad debt)."""
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
    profile = ex.profile
    scales, accounting = profile.scales, accounting_of(profile)
    qty = sign * ev.qty
    after, realized = apply_fill(before, qty, ev.price, spec, scales, accounting)
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
    n = notional(ev.qty, ev.price, spec, scales, accounting)
    rate = fee_rate(profile, is_maker, rate_override)
    fee = fill_fee(
        ev.qty, ev.price, n, rate, fee_rounding(profile), spec, scales, accounting.per_contract_rounding()
    )
    cash, deficit = realized, 0
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
            added_n = notional(added, ev.price, spec, scales, accounting)
            add = int(
                spec.margin.initial(PositionRisk(size=added, notional=added_n, leverage=before.leverage))
            )
        # the slot settles its own realized PnL: released margin + PnL goes to the wallet when
        # >= 0; a loss beyond the released margin comes from the slot's remaining margin, and
        # beyond that it is the position's bad debt (ACC-ISO-01)
        back = release + realized
        take = 0
        if back < 0:
            take = min(-back, iso - release)
            deficit = -back - take
            back = 0
        cash = back - add
        after = Position(
            after.size, after.entry_value, after.leverage, after.isolated, iso - release - take + add
        )
    return _Side(
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
    )


def _apply_side(side: _Side) -> Account:
    acct = side.account
    positions = dict(acct.positions)
    positions[side.key] = side.after
    return Account(
        acct.id,
        acct.collateral + side.cash - side.fee,
        positions,
        acct.hedge_mode,
    )


def _check_initial_margin(
    ex2: Exchange, side: _Side, new_acct: Account, marks: Mapping[str, int], oi: Mapping[str, int]
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


def _check_reducing(
    ex2: Exchange, side: _Side, new_acct: Account, marks: Mapping[str, int], oi: Mapping[str, int]
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
        _transition(
            f"account {new_acct.id!r}'s cross part",
            acc_mod.equity(old, marks, profile),
            acc_mod.requirement(old, marks, profile, oi).maintenance,
            eq,
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


def _priced(acct: Account, marks: Mapping[str, int]) -> None:
    """Rule: ENG-PRC-01. Every non-flat position of ``acct`` needs a valuation price (a flat
    position that only carries settings needs none)."""
    for (sym, _slot), p in acct.positions.items():
        if p.size != 0 and sym not in marks:
            raise Rejected("ENG-PRC-01", f"no price for {sym} yet: account {acct.id!r} cannot be valued")


def _holds(acct: Account, symbol: str) -> bool:
    """Does ``acct`` hold a non-zero position in ``symbol`` (any slot)?"""
    return any(p.size != 0 for (sym, _slot), p in acct.positions.items() if sym == symbol)


def _fill(ex: Exchange, ev: Fill) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-UNK-01, ENG-SELF-01, ENG-AMT-01, ENG-LOT-01, ENG-TCK-01, ENG-FILL-01, INV-02.

    One trade, both sides at once: positions change by ``+qty`` (buyer) and ``-qty``
    (seller); each side realizes PnL (PNL-RED-01) and pays its fee (FEE-MT-01) to the fee
    pool; open interest is updated by both sides' changes, so long OI == short OI.
    """
    spec = _market_spec(ex, ev.symbol)
    buyer = _account(ex, ev.buyer)
    seller = _account(ex, ev.seller)
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
    b = _side(
        ex, ev, spec, buyer, 1, ev.buyer_slot, ev.buyer_fee_rate, ev.buyer_reduce_only, ev.maker == "buyer"
    )
    s = _side(
        ex,
        ev,
        spec,
        seller,
        -1,
        ev.seller_slot,
        ev.seller_fee_rate,
        ev.seller_reduce_only,
        ev.maker == "seller",
    )
    new_b, new_s = _apply_side(b), _apply_side(s)
    market = ex.markets[ev.symbol]
    d_long = d_short = 0
    for side in (b, s):
        before, after = side.before.size, side.after.size
        d_long += (after if after > 0 else 0) - (before if before > 0 else 0)
        d_short += (-after if after < 0 else 0) - (-before if before < 0 else 0)
    new_market = Market(
        market.symbol,
        market.index,
        market.mark,
        market.oracle,
        ev.price,
        market.book,
        market.funding,
        market.oi_long + d_long,
        market.oi_short + d_short,
        market.realized_pnl + b.realized + s.realized,
        market.mark_state,
        market.mark_source,
        market.mark_sampled_at,
    )
    if market.mark_source != PUBLISHED:
        mark_model = ex.profile.mechanisms.get("mark")
        if mark_model is not None and _traits(mark_model)[1]:
            new_market = _model_mark(ex, new_market, ev.t, observe=False)
    with ex.accounts.mutate() as mm:
        mm[ev.buyer] = new_b
        mm[ev.seller] = new_s
        accounts = mm.finish()
    markets = dict(ex.markets)
    markets[ev.symbol] = new_market
    holders = _holders_after(ex, ev.symbol, ((ev.buyer, b, new_b), (ev.seller, s, new_s)))
    ex2 = Exchange(
        ex.profile,
        ev.t,
        markets,
        accounts,
        ex.insurance,
        ex.fee_pool + b.fee + s.fee,
        ex.dust,
        ex.net_deposits,
        ex.bad_debt,
        holders,
    )
    marks = ex2.marks()
    oi = _oi_notional(ex2, marks)
    try:
        for side, new_acct in ((b, new_b), (s, new_s)):
            if _increases(side.before.size, side.after.size):
                _check_initial_margin(ex2, side, new_acct, marks, oi)
            else:
                _check_reducing(ex2, side, new_acct, marks, oi)
    except KeyError:  # a position without a price: ENG-PRC-01 (checked only then, off the hot path)
        _priced(new_b, marks)
        _priced(new_s, marks)
        raise
    bad, bad_outs = _with_bad_debt(ev.t, ex.bad_debt, accounts, [ev.buyer, ev.seller])
    if b.deficit or s.deficit:
        bad, more = _with_position_debt(
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


def _holders_after(
    ex: Exchange, symbol: str, sides: tuple[tuple[str, _Side, Account], ...]
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


# --------------------------------------------------------------------------- settings


def _set_position_settings(acct: Account, symbol: str, **changes: Any) -> Account:
    positions = dict(acct.positions)
    for slot in _slots_for_setting(acct):
        positions[(symbol, slot)] = attrs.evolve(positions.get((symbol, slot)) or Position(), **changes)
    return attrs.evolve(acct, positions=positions)


def _set_leverage(ex: Exchange, ev: SetLeverage) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-LEV-01, ENG-LEV-02. Set the leverage of every slot of ``symbol``.

    The leverage must not exceed the margin model's maximum for the current position
    (ENG-LEV-01); with an open position the account must still meet initial margin with the
    new leverage (ENG-LEV-02). Setting the same leverage is a valid no-op.
    """
    spec = _market_spec(ex, ev.symbol)
    acct = _account(ex, ev.account)
    if ev.leverage <= 0:
        raise Rejected("ENG-AMT-01", f"leverage must be a positive integer, got {ev.leverage}")
    slots = _slots_for_setting(acct)
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
        oi = _oi_notional(ex, marks)
        eq = acc_mod.equity(new, marks, ex.profile)
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


def _set_margin_mode(ex: Exchange, ev: SetMarginMode) -> tuple[Exchange, list[Output]]:
    """Rule: ENG-MOD-01. Cross <-> isolated, only while the symbol's positions are flat."""
    _market_spec(ex, ev.symbol)
    acct = _account(ex, ev.account)
    if ev.mode not in ("cross", "isolated"):
        raise Rejected("ENG-AMT-01", f"margin mode must be 'cross' or 'isolated', got {ev.mode!r}")
    isolated = ev.mode == "isolated"
    slots = _slots_for_setting(acct)
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


def _set_position_mode(ex: Exchange, ev: SetPositionMode) -> tuple[Exchange, list[Output]]:
    """Rule: ENG-MOD-01. One-way <-> hedge, only while every position of the account is flat.

    The per-symbol settings (leverage, isolated) carry over to the new mode's slots.
    """
    acct = _account(ex, ev.account)
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


def _isolated_transfer(ex: Exchange, ev: IsolatedMarginTransfer) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-ISO-01, ENG-ISO-02. Move margin between collateral and an isolated position.

    Adding (``amount > 0``) is limited like a withdrawal (ENG-WDR-01's withdrawable amount);
    removing needs :math:`isolated\\_equity - |amount| \\ge IM` and at most the margin held.
    """
    _market_spec(ex, ev.symbol)
    acct = _account(ex, ev.account)
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
    oi = _oi_notional(ex, marks)
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
    return attrs.evolve(ex, t=ev.t, accounts=accounts), [
        BalanceOut(ev.t, ev.account, -ev.amount, new.collateral, f"isolated_margin:{ev.symbol}:{ev.slot}")
    ]


# --------------------------------------------------------------------------- prices


def _price_event(field: str) -> Callable[[Exchange, Any], tuple[Exchange, list[Output]]]:
    def handler(ex: Exchange, ev: Any) -> tuple[Exchange, list[Output]]:
        """Rules: ENG-UNK-01, ENG-AMT-01, ENG-IDX-01, ENG-MRK-01. Record a price of a market.

        A published mark takes precedence over the model's for good; an index or oracle price
        feeds the profile's ``[mark]`` variant, which recomputes the mark (ENG-MRK-01). An
        ``index_price`` with ``sources`` is computed by the ``[index]`` variant (ENG-IDX-01).
        """
        _market_spec(ex, ev.symbol)
        price = ev.price
        if field == "index" and ev.sources is not None:
            price = _index_from_sources(ex, ev)
        if price is None or price <= 0:
            raise Rejected("ENG-AMT-01", f"a price must be positive, got {price}")
        old = ex.markets[ev.symbol]
        published = field == "mark"
        m = Market(
            old.symbol,
            price if field == "index" else old.index,
            price if published else old.mark,
            price if field == "oracle" else old.oracle,
            old.last_price,
            old.book,
            old.funding,
            old.oi_long,
            old.oi_short,
            old.realized_pnl,
            old.mark_state,
            PUBLISHED if published else old.mark_source,
            old.mark_sampled_at,
        )
        if not published:
            m = _model_mark(ex, m, ev.t, observe=True)
        markets = dict(ex.markets)
        markets[ev.symbol] = m
        return _with_markets(ex, ev.t, markets), [
            PriceOut(ev.t, ev.symbol, m.index, m.mark, m.oracle, m.mark_source)
        ]

    if field not in ("index", "mark", "oracle"):
        raise ValueError(f"no price field {field!r}")

    return handler


def _index_from_sources(ex: Exchange, ev: IndexPrice) -> int:
    """Rule: ENG-IDX-01. The index of an ``index_price`` event's constituents, computed by the
    profile's ``[index]`` variant at the event time: staleness is measured in milliseconds
    (a source is stale when ``t - updated_at > stale_after_s * 1000``); a source updated after
    the event, a profile without an ``[index]`` variant and *no index* (PRC-IDX-03) are rejected.
    """
    from perpspec.pricing.index import IndexSource, NoIndex

    model = ex.profile.mechanism("index")
    if model is None or not hasattr(model, "index"):
        raise Rejected("ENG-IDX-01", "this profile has no [index] variant: give the index price")
    sources = ev.sources or ()
    for i, (_p, _w, u) in enumerate(sources):
        if u > ev.t:
            raise Rejected(
                "ENG-IDX-01", f"constituent {i} was updated at {u} ms, after the event time {ev.t} ms"
            )
    result = model.index([IndexSource(Price(p), w, u) for p, w, u in sources], ev.t, ticks_per_second=1000)
    if isinstance(result, NoIndex):
        raise Rejected("ENG-IDX-01", f"no index for {ev.symbol}: {result.reason}")
    return int(result.price)


# --------------------------------------------------------------------------- the model's mark

#: ``Market.mark_source`` values (rule ENG-MRK-01).
PUBLISHED = "published"
MODEL = "model"

_HOUR_MS = 3_600_000
_EIGHT_HOURS_MS = 8 * _HOUR_MS


def _traits(model: Any) -> tuple[bool, bool]:
    """``(reads_oracle, reads_last_price)`` a mark variant declares (spec ENG-MRK-01). A
    variant that declares nothing is assumed to read the index and the last price (the mark
    is then recomputed on every fill)."""
    return getattr(model, "reads_oracle", False), getattr(model, "reads_last_price", True)


def funding_interval_ms(ex: Exchange, m: Market) -> int:
    """Rule: ENG-MRK-01. The funding interval of ``m`` (ms) that a mark variant reads: the
    carried interval of a variant that changes it (FND-INT-02), else the variant's own period
    (``interval_hours``; hourly Hyperliquid; Drift ``funding_period`` s; dYdX ``tick_seconds``;
    Deribit ``period_ms``), else 8 hours."""
    carried = getattr(m.funding.extra, "interval_hours", None)
    if type(carried) is int and carried > 0:
        return carried * _HOUR_MS
    model = ex.profile.mechanism("funding")
    if model is None:
        return _EIGHT_HOURS_MS
    if hasattr(model, "hourly_divisor"):
        return _HOUR_MS
    for name, unit in (
        ("interval_hours", _HOUR_MS),
        ("funding_period", 1000),
        ("tick_seconds", 1000),
        ("period_ms", 1),
    ):
        v = getattr(model, name, None)
        if type(v) is int and v > 0:
            return v * unit
    return _EIGHT_HOURS_MS


def mark_inputs(ex: Exchange, m: Market, t: int, reads_oracle: bool) -> Any:
    """Rule: ENG-MRK-01. The :class:`~perpspec.pricing.mark.MarkInputs` of ``m`` at ``t``:
    ``index`` is the index (the oracle, else the index, for oracle-based variants); last trade
    price; top of the last book; ``funding_rate`` the last settled rate (0 before the first);
    ``funding_interval_s`` = :func:`funding_interval_ms` / 1000 and ``seconds_to_funding`` =
    ``floor((T - t mod T) / 1000)`` with ``T`` in ms (settlements on multiples of the interval
    since the epoch, as the venues' 00:00/08:00/16:00 UTC schedule)."""
    from perpspec.pricing.mark import MarkInputs

    book = m.book
    bid = ask = None
    if book is not None:
        bid = book[0][0][0] if book[0] else None
        ask = book[1][0][0] if book[1] else None
    index = (m.oracle if m.oracle is not None else m.index) if reads_oracle else m.index
    interval = funding_interval_ms(ex, m)
    rate = m.funding.last_rate
    # state holds plain ints; MarkInputs names their units (Price, Rate) for the reader
    return MarkInputs(
        index=cast(Price | None, index),
        last_price=cast(Price | None, m.last_price),
        best_bid=cast(Price | None, bid),
        best_ask=cast(Price | None, ask),
        funding_rate=Rate(0 if rate is None else rate),
        seconds_to_funding=div_floor(interval - t % interval, 1000),
        funding_interval_s=div_floor(interval, 1000),
    )


def _model_mark(ex: Exchange, m: Market, t: int, observe: bool) -> Market:
    """Rule: ENG-MRK-01. ``m`` with its ``[mark]`` variant fed and its mark recomputed.

    With ``observe`` (index, oracle and book events) the variant takes a sample, at most one
    per ``sample_interval_s`` seconds for variants that name one (the first event at least that
    long after the previous sample), at ``floor(t / 1000)`` seconds; a fill only recomputes the
    mark (its last price), and only for variants that read it. The mark is replaced when the
    variant gives one (``None``: the old mark stays); a published mark is never replaced.
    """
    model = ex.profile.mechanism("mark")
    if model is None or m.mark_source == PUBLISHED:
        return m
    reads_oracle, _reads_last = _traits(model)
    inputs = mark_inputs(ex, m, t, reads_oracle)
    state = m.mark_state if m.mark_state is not None else model.initial_state()
    sampled_at = m.mark_sampled_at
    if observe:
        interval = getattr(model, "sample_interval_s", 0)
        interval = interval if type(interval) is int else 0
        if sampled_at is None or interval <= 0 or t - sampled_at >= interval * 1000:
            new_state = model.observe(state, div_floor(t, 1000), inputs)
            if new_state is not state:
                state, sampled_at = new_state, t
    mark = model.mark(state, inputs)
    source = m.mark_source
    if mark is not None:
        source = MODEL
    else:
        mark = m.mark
    if state is m.mark_state and mark == m.mark and source == m.mark_source:
        if sampled_at == m.mark_sampled_at:
            return m
    return Market(
        m.symbol,
        m.index,
        mark,
        m.oracle,
        m.last_price,
        m.book,
        m.funding,
        m.oi_long,
        m.oi_short,
        m.realized_pnl,
        state,
        source,
        sampled_at,
    )


def _book(ex: Exchange, ev: BookSnapshot) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-BOOK-01, ENG-MRK-01. Store a book snapshot: bids strictly descending, asks
    strictly ascending, positive sizes, not crossed (best bid < best ask); it feeds the
    ``[mark]`` variant."""
    _market_spec(ex, ev.symbol)
    for name, levels, desc in (("bids", ev.bids, True), ("asks", ev.asks, False)):
        for i, (p, q) in enumerate(levels):
            if p <= 0 or q <= 0:
                raise Rejected("ENG-BOOK-01", f"{name}[{i}] has a non-positive price or size")
            if i and ((p >= levels[i - 1][0]) if desc else (p <= levels[i - 1][0])):
                raise Rejected(
                    "ENG-BOOK-01",
                    f"{name} must be strictly {'descending' if desc else 'ascending'} in price (level {i})",
                )
    if ev.bids and ev.asks and ev.bids[0][0] >= ev.asks[0][0]:
        raise Rejected("ENG-BOOK-01", f"crossed book: best bid {ev.bids[0][0]} >= best ask {ev.asks[0][0]}")
    m = attrs.evolve(ex.markets[ev.symbol], book=(tuple(ev.bids), tuple(ev.asks)))
    markets = dict(ex.markets)
    markets[ev.symbol] = _model_mark(ex, m, ev.t, observe=True)
    return _with_markets(ex, ev.t, markets), []


# --------------------------------------------------------------------------- funding


_TIERS: dict[int, tuple[Any, tuple[int, int]]] = {}


def _first_tier_rates(margin: Any) -> tuple[int, int]:
    """``funding.first_tier_rates(margin)``, cached per margin object (a ``param_change`` of the
    market's margin makes a new object, so the cache never serves stale rates)."""
    from perpspec import funding as fnd

    hit = _TIERS.get(id(margin))
    if hit is None or hit[0] is not margin:
        hit = (margin, fnd.first_tier_rates(margin))
        _TIERS[id(margin)] = hit
    return hit[1]


def funding_context(ex: Exchange, symbol: str, t: int, with_book: bool = True) -> Any:
    """Rule: FND-ENG-01. The :class:`~perpspec.funding.FundingContext` of market ``symbol`` at
    ``t``: its prices, the impact and top-of-book prices of its last book snapshot (only
    ``with_book``), the first-tier margin rates, the samples and carry since the last
    settlement and the open interest (no AMM: ``amm_net = 0``)."""
    from perpspec import funding as fnd

    spec = ex.profile.markets[symbol]
    scales = ex.profile.scales
    m = ex.markets[symbol]
    contract = fnd.Contract(
        spec.contract, scales.size_decimals, scales.price_decimals, scales.money_decimals, spec.contract_value
    )
    first_mmr, first_imr = _first_tier_rates(spec.margin)
    model = ex.profile.mechanism("funding")
    bi = fnd.BookInputs()
    if with_book and model is not None and hasattr(model, "impact_notional_for"):
        bi = fnd.book_inputs(model, symbol, m.book, contract, first_imr)
    return fnd.FundingContext(
        symbol,
        t,
        contract,
        index=m.index,
        mark=m.mark,
        oracle=m.oracle,
        last_price=m.last_price,
        impact_bid=bi.impact_bid,
        impact_ask=bi.impact_ask,
        best_bid=bi.best_bid,
        best_ask=bi.best_ask,
        first_mmr=first_mmr,
        first_imr=first_imr,
        samples=m.funding.samples,
        last_settlement=m.funding.last_settlement,
        carry=m.funding.extra,
        long_size=m.oi_long,
        short_size=m.oi_short,
        amm_net=0,
    )


def _funding_sample(ex: Exchange, ev: FundingSample) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-UNK-01, ENG-FSM-01, FND-ENG-02. Append a premium sample to the market's
    funding accumulator: the event's ``premium``, else the one the profile's funding variant
    takes from the market's prices and book (``sample_premium``); when the variant takes none
    (an input is missing, or it takes no samples) nothing is recorded (a valid no-op)."""
    _market_spec(ex, ev.symbol)
    m = ex.markets[ev.symbol]
    premium = ev.premium
    if premium is None:
        model = ex.profile.mechanism("funding")
        if model is None or not hasattr(model, "sample_premium"):
            return _with_markets(ex, ev.t, ex.markets), []
        computed = model.sample_premium(funding_context(ex, ev.symbol, ev.t))
        if computed is None:
            return _with_markets(ex, ev.t, ex.markets), []
        premium = int(computed)
    f = m.funding
    f = FundingState((*f.samples, (ev.t, premium)), f.last_settlement, f.last_rate, f.index, f.extra)
    markets = dict(ex.markets)
    markets[ev.symbol] = Market(
        m.symbol,
        m.index,
        m.mark,
        m.oracle,
        m.last_price,
        m.book,
        f,
        m.oi_long,
        m.oi_short,
        m.realized_pnl,
        m.mark_state,
        m.mark_source,
        m.mark_sampled_at,
    )
    return _with_markets(ex, ev.t, markets), []


def _with_markets(ex: Exchange, t: int, markets: Mapping[str, Market]) -> Exchange:
    """``ex`` at time ``t`` with ``markets`` (everything else shared)."""
    return Exchange(
        ex.profile,
        t,
        markets,
        ex.accounts,
        ex.insurance,
        ex.fee_pool,
        ex.dust,
        ex.net_deposits,
        ex.bad_debt,
        ex.holders,
    )


def _funding_price(ex: Exchange, m: Market, model: Any) -> int:
    which = getattr(getattr(model, "notional_price", None), "value", "mark")
    price = {"mark": m.mark, "oracle": m.oracle, "index": m.index}.get(which)
    price = price if price is not None else m.valuation_price()
    if price is None:
        raise Rejected("ENG-PRC-01", f"no price for {m.symbol} yet: funding cannot be settled")
    return price


def _funding_settlement(ex: Exchange, ev: FundingSettlement) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-FND-01, ENG-PRC-01, ENG-FUND-01, FND-ENG-03, FND-ENG-04. Settle funding over
    every open position of the market.

    The rates are ``explicit_rates(ctx, rate)`` for the event's (replayed) rate, else the
    profile's funding variant's ``settlement_rates(ctx)`` (``None``: rejected, ENG-FND-01).
    :func:`perpspec.funding.settle_market` settles them zero-sum (FND-SUM-01): each account's
    collateral changes by its payment (an isolated position's margin instead, ACC-ISO-01: a
    debit beyond it is the position's bad debt) and the dust goes to the variant's sink (the
    insurance fund, or a named dust sink). The samples are cleared; the rate and the carry are kept.
    """
    from perpspec import funding as fnd

    _market_spec(ex, ev.symbol)
    m = ex.markets[ev.symbol]
    model = ex.profile.mechanism("funding")
    ctx = funding_context(ex, ev.symbol, ev.t, with_book=ev.rate is None)
    rates: Any
    if ev.rate is not None:
        if model is not None and hasattr(model, "explicit_rates"):
            rates = model.explicit_rates(ctx, ev.rate)
        else:
            rates = fnd.SettlementRates.symmetric(ev.rate, ctx.carry)
    else:
        if model is None or not hasattr(model, "settlement_rates"):
            raise Rejected(
                "ENG-FND-01", "this profile's funding model cannot compute the rate: give the rate"
            )
        rates = model.settlement_rates(ctx)
        if rates is None:
            raise Rejected(
                "ENG-FND-01",
                f"the funding model cannot compute {ev.symbol}'s rate (no samples since the last "
                "settlement, or a price or margin rate it needs is missing): give the rate",
            )
    price = _funding_price(ex, m, model)
    # the holder index lists exactly the accounts with a non-zero position in the market;
    # the order is (account id, slot), as if every account were scanned and sorted
    ids = ex.holders.get(ev.symbol) if ex.holders is not None else None
    scan = ex.accounts if ids is None else ids
    holders = []
    for aid in sorted(scan):
        acct = ex.accounts[aid]
        for slot, size in sorted(
            (slot, pos.size)
            for (sym, slot), pos in acct.positions.items()
            if sym == ev.symbol and pos.size != 0
        ):
            holders.append((aid, slot, size))
    sizes = [q for _, _, q in holders]
    result = fnd.settle_market(model, ctx.contract, sizes, price, rates)
    payments = [int(p) for p in result.payments]
    dust = int(result.dust)
    if sum(payments) + dust != 0:
        raise ModelError("funding settlement is not zero-sum (FND-SUM-01)")
    rate, rate_long, rate_short = int(rates.rate), int(rates.rate_long), int(rates.rate_short)
    outs: list[Output] = []
    touched: list[str] = []
    deficits: list[tuple[str, tuple[str, str], int]] = []
    with ex.accounts.mutate() as mm:
        for (aid, slot, q), pay in zip(holders, payments, strict=True):
            a = mm[aid]
            key = (ev.symbol, slot)
            pos = a.positions[key]
            if pos.isolated:
                # an isolated position's funding settles against its own margin (ACC-ISO-01);
                # a debit beyond it is the position's bad debt, never the cross wallet's
                margin = pos.isolated_margin + pay
                if margin < 0:
                    deficits.append((aid, key, -margin))
                    margin = 0
                positions = dict(a.positions)
                positions[key] = attrs.evolve(pos, isolated_margin=margin)
                mm[aid] = Account(a.id, a.collateral, positions, a.hedge_mode)
            else:
                mm[aid] = Account(a.id, a.collateral + pay, a.positions, a.hedge_mode)
                touched.append(aid)
            outs.append(FundingPayment(ev.t, aid, ev.symbol, slot, rate_long if q > 0 else rate_short, pay))
        accounts = mm.finish()
    insurance, dust_map = ex.insurance, ex.dust
    if result.sink == fnd.DEFAULT_SINK:
        bal = dict(insurance.balances)
        bal[SHARED] = bal.get(SHARED, 0) + dust
        insurance = InsuranceFund(bal)
    else:
        dm = dict(dust_map)
        dm[result.sink] = dm.get(result.sink, 0) + dust
        dust_map = dm
    bad, bad_outs = _with_bad_debt(ev.t, ex.bad_debt, accounts, sorted(set(touched)))
    if deficits:
        bad, more = _with_position_debt(ev.t, bad, deficits)
        bad_outs = bad_outs + more
    carry = rates.carry
    f = m.funding
    funding = FundingState((), ev.t, rate, carry if type(carry) is int else f.index, carry)
    markets = dict(ex.markets)
    markets[ev.symbol] = attrs.evolve(m, funding=funding)
    ex2 = attrs.evolve(
        ex, t=ev.t, accounts=accounts, markets=markets, insurance=insurance, dust=dust_map, bad_debt=bad
    )
    return ex2, [*outs, FundingRateOut(ev.t, ev.symbol, rate, dust, result.sink), *bad_outs]


# --------------------------------------------------------------------------- clock, params


def _clock(ex: Exchange, ev: ClockTick) -> tuple[Exchange, list[Output]]:
    """A clock tick only advances the time (a valid no-op otherwise)."""
    return _with_markets(ex, ev.t, ex.markets), []


def _param_change(ex: Exchange, ev: ParamChange) -> tuple[Exchange, list[Output]]:
    """Rule: ENG-PAR-01. Change one profile parameter, validated like a profile file; a
    market's ``tick`` and ``lot`` only while it has no open interest."""
    try:
        profile = change_param(ex.profile, ev.path, ev.value)
    except ParamError as exc:
        raise Rejected("ENG-PAR-01", str(exc)) from None
    parts = ev.path.split(".")
    if len(parts) == 3 and parts[2] in _GRID_FIELDS:
        m = ex.markets.get(parts[1])
        if m is not None and (m.oi_long or m.oi_short):
            raise Rejected(
                "ENG-PAR-01",
                f"{ev.path!r} cannot be changed while {parts[1]} has open interest "
                f"({m.oi_long} size units): positions would sit off the new grid",
            )
    return attrs.evolve(ex, t=ev.t, profile=profile), [ParamOut(ev.t, ev.path, str(ev.value))]


#: Market parameters that a ``param_change`` cannot change at all (they fix what every entry
#: value and balance of the market means), and those it changes only without open interest.
_FIXED_MARKET_FIELDS = ("contract", "contract_value")
_GRID_FIELDS = ("tick", "lot")


class ParamError(ValueError):
    """A parameter change that names no parameter or gives a value the profile would refuse."""


def change_param(profile: Profile, path: str, value: Any) -> Profile:
    """Rule: ENG-PAR-01. ``profile`` with parameter ``path`` set to ``value`` (TOML-style value).

    ``path`` is ``section.field`` (``fees.taker_rate``, ``funding.clamp``) or
    ``markets.SYMBOL.field`` (``markets.BTCUSDT.margin.mmr``, ``markets.BTCUSDT.tick``); a
    list element is ``field[i]``. The value is converted exactly as the profile loader does
    (scales, strict types) and the changed section's semantic checks run again; the variant
    (``model``), the fixed ``[profile]``/``[scales]`` sections and a market's ``contract`` and
    ``contract_value`` cannot be changed.
    """
    from perpspec.profiles import _checks, _converter

    parts = path.split(".")
    if len(parts) < 2 or parts[0] in ("profile", "scales") or "model" in parts:
        raise ParamError(
            f"{path!r} is not a changeable parameter (use section.field or markets.SYMBOL.field)"
        )
    conv = _converter(profile.scales)
    if parts[0] == "markets":
        if len(parts) < 3 or parts[1] not in profile.markets:
            raise ParamError(
                f"{path!r}: unknown market (this profile has: {', '.join(sorted(profile.markets))})"
            )
        if parts[2] in _FIXED_MARKET_FIELDS:
            raise ParamError(
                f"{path!r} cannot be changed: the contract kind and contract value fix what every "
                "entry value and balance of the market means (list a new market instead)"
            )
        root, rest = profile.markets[parts[1]], parts[2:]
    else:
        if parts[0] not in profile.mechanisms:
            raise ParamError(f"{path!r}: this profile has no [{parts[0]}] section")
        root, rest = profile.mechanisms[parts[0]], parts[1:]
    new_root = _set_field(root, rest, value, conv, path)
    for rel, msg in _checks(new_root):
        raise ParamError(f"{path}: {rel}: {msg}" if rel else f"{path}: {msg}")
    if parts[0] == "markets":
        markets = dict(profile.markets)
        markets[parts[1]] = new_root
        return attrs.evolve(profile, markets=markets)
    mechanisms = dict(profile.mechanisms)
    mechanisms[parts[0]] = new_root
    return attrs.evolve(profile, mechanisms=mechanisms)


def _set_field(obj: Any, rest: list[str], value: Any, conv: Any, path: str) -> Any:
    import re
    import typing

    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?", rest[0])
    if m is None or not attrs.has(type(obj)):
        raise ParamError(f"{path!r}: {rest[0]!r} is not a parameter")
    name, idx = m.group(1), m.group(2)
    attrs.resolve_types(type(obj))
    fields = attrs.fields_dict(type(obj))
    if name not in fields:
        raise ParamError(
            f"{path!r}: unknown parameter {name!r}; expected one of: {', '.join(sorted(fields))}"
        )
    ftype = fields[name].type
    current = getattr(obj, name)
    try:
        if idx is not None:
            if not isinstance(current, tuple) or int(idx) >= len(current):
                raise ParamError(f"{path!r}: {name} has no element {idx}")
            i = int(idx)
            elem_t = (typing.get_args(ftype) or (Any,))[0]
            item = (
                _set_field(current[i], rest[1:], value, conv, path)
                if len(rest) > 1
                else conv.structure(value, elem_t)
            )
            new_val: Any = (*current[:i], item, *current[i + 1 :])
        elif len(rest) > 1:
            new_val = _set_field(current, rest[1:], value, conv, path)
        else:
            if ftype is Any or attrs.has(type(current)):
                raise ParamError(f"{path!r} is a section, not a single parameter")
            new_val = conv.structure(value, ftype)
    except ParamError:
        raise
    except Exception as exc:
        from perpspec.profiles import _first_error

        raise ParamError(f"{path}: {_first_error(exc)[1]}") from None
    return attrs.evolve(obj, **{name: new_val})


_HANDLERS: dict[type, Callable[[Exchange, Any], tuple[Exchange, list[Output]]]] = {
    Deposit: _deposit,
    Withdraw: _withdraw,
    Fill: _fill,
    SetLeverage: _set_leverage,
    SetMarginMode: _set_margin_mode,
    SetPositionMode: _set_position_mode,
    IsolatedMarginTransfer: _isolated_transfer,
    IndexPrice: _price_event("index"),
    OraclePrice: _price_event("oracle"),
    MarkPrice: _price_event("mark"),
    BookSnapshot: _book,
    FundingSample: _funding_sample,
    FundingSettlement: _funding_settlement,
    ClockTick: _clock,
    ParamChange: _param_change,
}
