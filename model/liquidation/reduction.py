"""What-if arithmetic for partial liquidations: a unit's requirement with one position resized,
the sizes at the tier boundaries below a position, and the bankruptcy price as a limit.

A procedure that reduces a position (Binance's IOC, BitMEX's step down a risk limit, OKX's tier
reduction, Deribit's increments) asks, at the unit's valuation prices: *if ``Δq`` of position
``key`` were closed there and the liquidation fee paid, would the unit still be liquidatable?*
Closing at the valuation price turns the closed part's uPnL into realized PnL, so the unit's
collateral changes only by the fee: :math:`C' = C - fee(\\Delta q)`; its maintenance margin
becomes :math:`MM' = MM - MM_i(|q|) + MM_i(|q| - \\Delta q)` and the trigger's requirement
:math:`R'` follows from ``MM'`` (LIQ-TRG-*). The margin models of these venues do not read the
market's open interest, so a position's MM is taken with an open interest of 0.

Rule: LIQ-RED-01 (:func:`restores`), LIQ-RED-02 (:func:`bankruptcy_limit`).
"""

from __future__ import annotations

from collections.abc import Callable

from perpspec import account as acc_mod
from perpspec.account import Key
from perpspec.liquidation.procedure import Unit
from perpspec.margin import MarginModel
from perpspec.market_runtime import MarketRuntime, runtime_of
from perpspec.numeric import first_true
from perpspec.position import Position
from perpspec.traceability import implements

#: Bound on the doubling search of a short's bankruptcy price.
_MAX_DOUBLINGS = 64


def position(unit: Unit, key: Key) -> Position:
    """The unit's position ``key`` (it must be one of the unit's positions)."""
    for k, p in unit.positions:
        if k == key:
            return p
    raise KeyError(key)


def market(unit: Unit, key: Key) -> MarketRuntime:
    return runtime_of(unit.profile).markets[key[0]]


def margin_model(unit: Unit, key: Key) -> MarginModel:
    return unit.profile.markets[key[0]].margin


def position_mm(unit: Unit, key: Key, size: int) -> int:
    """MM of position ``key`` at absolute size ``size`` (money units, at the valuation price)."""
    if size == 0:
        return 0
    rt, pos = market(unit, key), position(unit, key)
    n = rt.margin_notional(size, unit.prices[key[0]])
    return int(rt.maintenance(size, n, pos.leverage, 0))


def margin_notional(unit: Unit, key: Key, size: int) -> int:
    """The margin notional of ``size`` of position ``key`` at the valuation price."""
    return int(market(unit, key).margin_notional(size, unit.prices[key[0]])) if size else 0


def fee_on(unit: Unit, key: Key, qty: int, rate: int) -> int:
    """The fee at ``rate`` on ``qty`` of ``key`` at the valuation price (rounded as the
    profile's trading fees, FEE-MT-01)."""
    if qty == 0 or rate == 0:
        return 0
    rt, price = market(unit, key), unit.prices[key[0]]
    return int(rt.fee(qty, price, rt.notional(qty, price), rate))


def requirement_after(unit: Unit, key: Key, size: int) -> int:
    """The trigger's requirement ``R'`` of the unit with position ``key`` at absolute size
    ``size`` (same side), every other position unchanged (LIQ-TRG-*)."""
    old = abs(position(unit, key).size)
    mm = unit.maintenance - position_mm(unit, key, old) + position_mm(unit, key, size)
    rt, price = market(unit, key), unit.prices[key[0]]
    notional = unit.notional - rt.notional(old, price) + (rt.notional(size, price) if size else 0)
    trigger = unit.profile.liquidation_trigger_model
    close_fee = 0
    if trigger.reads_close_fee():
        taker = runtime_of(unit.profile).taker_rate
        for k, p in unit.positions:
            q = size if k == key else abs(p.size)
            close_fee += fee_on(unit, k, q, taker)
    return int(trigger.requirement(mm, notional, close_fee, unit.status is not None))


@implements("LIQ-RED-01")
def restores(unit: Unit, key: Key, size: int, fee: int) -> bool:
    """Rule: LIQ-RED-01. Would reducing position ``key`` to ``size`` at the valuation price, the
    account paying ``fee``, leave the unit not liquidatable: not ACC-LIQ-01 between
    :math:`C - fee` and :math:`R'`?"""
    trigger = unit.profile.accounting_model.trigger
    return not acc_mod.is_liquidatable(unit.collateral - fee, requirement_after(unit, key, size), trigger)


def largest_size(unit: Unit, key: Key, fits: Callable[[int], bool]) -> int:
    """The largest multiple of the lot step in ``[0, |q|]`` for which ``fits`` holds, ``fits``
    being true up to some size and false above it (0 when it holds only at 0)."""
    lot = unit.profile.markets[key[0]].lot
    hi = abs(position(unit, key).size) // lot  # fits(0) holds (by assumption)
    if fits(hi * lot):
        return hi * lot
    return (first_true(lambda m: not fits(m * lot), 0, hi) - 1) * lot


def largest_under(unit: Unit, key: Key, cap: int, inclusive: bool) -> int:
    """The largest lot multiple ``s <= |q|`` whose margin notional is below ``cap`` (at most
    ``cap`` when ``inclusive``), at the valuation price."""

    def fits(s: int) -> bool:
        n = margin_notional(unit, key, s)
        return n <= cap if inclusive else n < cap

    return largest_size(unit, key, fits)


def smallest_close(unit: Unit, key: Key, ok: Callable[[int], bool]) -> int | None:
    """The smallest lot multiple ``Δq`` in ``(0, |q|)`` for which ``ok(Δq)`` holds, ``ok`` being
    false below some size and true from it on; ``None`` when it fails just below ``|q|``."""
    lot = unit.profile.markets[key[0]].lot
    hi = abs(position(unit, key).size) // lot - 1  # leave at least one lot
    if hi < 1 or not ok(hi * lot):
        return None
    return first_true(lambda m: ok(m * lot), 0, hi) * lot  # ok(0) is false: the unit is liquidatable


def by_notional(unit: Unit) -> list[tuple[Key, Position]]:
    """The unit's positions, largest notional at the valuation price first (ties: key order)."""
    return sorted(
        unit.positions,
        key=lambda kp: (-margin_notional(unit, kp[0], abs(kp[1].size)), kp[0]),
    )


@implements("LIQ-RED-02")
def bankruptcy_limit(unit: Unit, key: Key) -> int | None:
    """Rule: LIQ-RED-02. The bankruptcy price of a unit holding only position ``key``, on the
    tick grid: for a long the lowest tick at which closing the whole position leaves
    :math:`C - uPnL(mark) + uPnL(p) \\ge 0` (rounded up), for a short the highest (rounded down).
    ``None`` (any price) when the unit holds other positions, its collateral is not positive, or
    a short's equity stays non-negative however high the price (inverse)."""
    if len(unit.positions) != 1 or unit.collateral <= 0:
        return None
    rt, pos = market(unit, key), position(unit, key)
    tick = unit.profile.markets[key[0]].tick
    mark = unit.prices[key[0]]
    base = unit.collateral - rt.upnl(pos.size, pos.entry_value, mark)

    def solvent(p: int) -> bool:
        return bool(base + rt.upnl(pos.size, pos.entry_value, p * tick) >= 0)

    top = mark // tick
    if pos.size > 0:  # solvent is monotone increasing in p; it holds at the mark
        return first_true(solvent, 0, top) * tick  # the first tick >= 1 that is solvent
    lo, hi = top, max(2 * top, 1)  # last solvent tick: [lo, hi)
    for _ in range(_MAX_DOUBLINGS):
        if not solvent(hi):
            break
        lo, hi = hi, 2 * hi
    else:
        return None
    return (first_true(lambda p: not solvent(p), lo, hi) - 1) * tick  # the last solvent tick in [lo, hi)


def closing_depth(unit: Unit, key: Key, limit: int | None) -> int | None:
    """What the last book snapshot can fill on the closing side of ``key`` (a long sells into the
    bids, a short buys from the asks) at prices no worse than ``limit``; ``None``: no snapshot."""
    book = unit.books.get(key[0])
    if book is None:
        return None
    bids, asks = book
    long = position(unit, key).size > 0
    levels = bids if long else asks
    total = 0
    for price, qty in levels:
        if limit is not None and (price < limit if long else price > limit):
            break
        total += qty
    return total


__all__ = [
    "bankruptcy_limit",
    "by_notional",
    "closing_depth",
    "fee_on",
    "largest_size",
    "largest_under",
    "margin_notional",
    "position",
    "position_mm",
    "requirement_after",
    "restores",
    "smallest_close",
]
