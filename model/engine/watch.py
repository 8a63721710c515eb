"""The liquidation index: which accounts a price move can have made liquidatable, without a scan.

For every account the index keeps, per market it holds, a *band* of valuation prices
``lo < p < hi`` inside which none of its units can have become liquidatable since its last
check (rule LIQ-IDX-01). A price move in a market visits only the accounts whose band it
leaves: two heaps per market (the lower bounds, largest first; the upper bounds, smallest
first) give them in O(log N + k). Those accounts are then checked exactly by the liquidation
pass and re-banded; so is every account an event names. A conservative band can only cause an
extra exact check, never a missed liquidation.

The band. A unit's slack is :math:`S = C - R` (collateral minus the trigger's requirement) at
the prices of the check, less a rounding allowance of 4 money units per market and 4 more. With
the unit's notional in market ``j`` :math:`N_j` (money units, the sum over its positions there)
and ``k`` markets, a move of market ``j`` alone changes ``C − R`` by at most
:math:`K \\cdot |N_j(p) - N_j(P)|`: in the adverse direction the uPnL falls one for one with the
notional (asset weights are at most 1); the maintenance margin is non-decreasing in the notional
with a rate of at most 100% (INV-20; models whose margin reads the open interest are not banded,
see below), and the close fee or the buffer (rates below 100%) follow the notional. So ``K = 1``
where the adverse move shrinks the notional (a linear long falling, an inverse short rising), ``K
= 3`` where it grows it, ``K = 2`` for a favourable move that grows the notional (margin and fee
may outgrow the uPnL gain, which is not counted) and no bound for a favourable move that shrinks
it; a market held both long and short has ``K = 3`` both ways (:data:`_FACTORS`). Giving each
market ``S/k``, the unit is safe while :math:`K |N_j(p) - N_j(P)| < S/k` in every market:

- linear (:math:`N \\propto p`): :math:`|p - P| < \\delta = S P / (k K N_j)`, so the band's bound
  on that side is :math:`P \\mp \\lceil\\delta\\rceil` (open);
- inverse (:math:`N \\propto 1/p`): :math:`p > P kKN/(kKN + S)` below and, when :math:`kKN > S`,
  :math:`p < P kKN/(kKN - S)` above (no upper bound otherwise).

An account's band in a market is the narrowest of its units' bands there. An account with a unit
whose slack is not positive after the allowance, or holding a market whose margin model reads the
open interest (dYdX: another account's trade moves it), is *watched*: checked on every change of
any market it holds.

The index is derived data, like the holder index: the result of every step is the same with or
without it (a Hypothesis test compares it with a full scan after every step). It is owned by the
latest exchange it was updated for (``valid_for``); a step from any other exchange (an older state,
a state built by hand) rebuilds it from that exchange's accounts.

Rule: LIQ-IDX-01.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from perpspec.account import Account
from perpspec.engine.common import oi_notional
from perpspec.engine.figures import UnitFigures, account_units
from perpspec.liquidation.procedure import is_system_account
from perpspec.market_runtime import runtime_of
from perpspec.numeric import first_true
from perpspec.state import Exchange
from perpspec.traceability import implements

#: the largest Lipschitz factor of ``C - R`` in the notional (see the module docstring)
K = 3
#: rounding allowance, money units per market of a unit, and per unit
ALLOWANCE = 4

#: one band: (symbol, lo, hi); ``hi`` None = unbounded
Band = tuple[str, int, int | None]


class LiquidationIndex:
    """Rule: LIQ-IDX-01. Per-market heaps of account price bands (see the module docstring).

    Mutable, owned by the exchange it was last updated for (``valid_for``)."""

    __slots__ = ("bands", "highs", "live", "lows", "valid_for", "versions", "watched")

    def __init__(self) -> None:
        self.valid_for: Exchange | None = None
        self.versions: dict[str, int] = {}
        self.bands: dict[str, tuple[Band, ...]] = {}
        self.watched: dict[str, frozenset[str]] = {}  # account -> the markets it holds
        self.lows: dict[str, list[tuple[int, int, str]]] = {}  # (-lo, version, account)
        self.highs: dict[str, list[tuple[int, int, str]]] = {}  # (hi, version, account)
        self.live: dict[str, int] = {}  # symbol -> number of live bands

    @classmethod
    def build(cls, ex: Exchange) -> LiquidationIndex:
        """The index of every account of ``ex`` (O(N))."""
        idx = cls()
        marks = ex.marks()
        oi = oi_notional(ex, marks)
        for aid, acct in ex.accounts.items():
            idx._band(ex, aid, acct, marks, oi)
        idx.valid_for = ex
        return idx

    def update(self, ex: Exchange, ids: Iterable[str]) -> None:
        """Re-band the accounts ``ids`` from ``ex`` (their positions or balances changed, or they
        were just checked)."""
        marks = ex.marks()
        oi = oi_notional(ex, marks)
        for aid in ids:
            acct = ex.accounts.get(aid)
            if acct is None:
                self._forget(aid)
            else:
                self._band(ex, aid, acct, marks, oi)
        self._compact()

    def crossed(self, symbol: str, price: int) -> set[str]:
        """The accounts whose band in ``symbol`` a valuation price of ``price`` leaves (their
        entries are consumed: they are re-banded after their check), and the watched accounts
        holding ``symbol``."""
        out = {aid for aid, syms in self.watched.items() if symbol in syms}
        lows = self.lows.get(symbol)
        while lows and -lows[0][0] >= price:
            _lo, ver, aid = heapq.heappop(lows)
            if self.versions.get(aid) == ver:
                out.add(aid)
        highs = self.highs.get(symbol)
        while highs and highs[0][0] <= price:
            _hi, ver, aid = heapq.heappop(highs)
            if self.versions.get(aid) == ver:
                out.add(aid)
        return out

    # -- internals -----------------------------------------------------------------------

    def _forget(self, aid: str) -> None:
        self.versions[aid] = self.versions.get(aid, 0) + 1
        for sym, _lo, _hi in self.bands.pop(aid, ()):
            self.live[sym] -= 1
        self.watched.pop(aid, None)

    def _band(
        self, ex: Exchange, aid: str, acct: Account, marks: Mapping[str, int], oi: Mapping[str, int]
    ) -> None:
        if is_system_account(aid):
            self._forget(aid)
            return
        self.set(aid, acct, account_bands(ex, acct, marks, oi))

    def set(self, aid: str, acct: Account, bands: tuple[Band, ...] | None) -> None:
        """Give account ``aid`` (holding ``acct``'s positions) the bands ``bands``, or watch it
        (``None``)."""
        self._forget(aid)
        held = frozenset(k[0] for k, p in acct.positions.items() if p.size != 0)
        if bands is None:
            if held:
                self.watched[aid] = held
            return
        ver = self.versions[aid]
        self.bands[aid] = bands
        for sym, lo, hi in bands:
            self.live[sym] = self.live.get(sym, 0) + 1
            heapq.heappush(self.lows.setdefault(sym, []), (-lo, ver, aid))
            if hi is not None:
                heapq.heappush(self.highs.setdefault(sym, []), (hi, ver, aid))

    def _compact(self) -> None:
        """Drop stale entries once a heap holds more than twice its live ones (amortized O(1))."""
        live = self.live
        for heaps in (self.lows, self.highs):
            for sym, heap in heaps.items():
                if len(heap) > 2 * live.get(sym, 0) + 1024:
                    kept = [e for e in heap if self.versions.get(e[2]) == e[1]]
                    heapq.heapify(kept)
                    heaps[sym] = kept


@implements("LIQ-IDX-01")
def account_bands(
    ex: Exchange, acct: Account, marks: Mapping[str, int], oi: Mapping[str, int]
) -> tuple[Band, ...] | None:
    """Rule: LIQ-IDX-01. The account's band in each market it holds (the narrowest over its
    units), or ``None`` if it must be watched (a unit without positive slack, a market that
    reads the open interest, or a position without a price)."""
    units = account_units(ex, acct, marks, oi)
    return None if units is None else bands_of(ex, units, marks)


@implements("LIQ-IDX-01")
def bands_of(ex: Exchange, units: list[UnitFigures], marks: Mapping[str, int]) -> tuple[Band, ...] | None:
    """Rule: LIQ-IDX-01. The bands of an account from its units' figures
    (:func:`perpspec.engine.figures.account_units`); ``None``: watch it."""
    rt = runtime_of(ex.profile).markets
    bands: dict[str, tuple[int, int | None]] = {}
    for u in units:
        k = len(u.notional)
        slack = u.collateral - u.requirement - ALLOWANCE * (k + 1)
        if slack <= 0:
            return None
        for sym, n in u.notional.items():
            mrt = rt[sym]
            if mrt.reads_oi:
                return None
            k_lo, k_hi = _FACTORS[(mrt.inverse, u.sides[sym])]
            lo, hi = _band(marks[sym], n, slack, k, mrt.inverse, k_lo, k_hi)
            steps = mrt.spec.margin.risk_limit_steps()
            if steps is not None:  # the rate jumps at each risk-limit step: stay inside the step
                for q in u.sizes[sym]:
                    s_lo, s_hi = _step_band(mrt, q, marks[sym], *steps)
                    lo = max(lo, s_lo)
                    hi = s_hi if hi is None else (hi if s_hi is None else min(hi, s_hi))
            old = bands.get(sym)
            if old is not None:
                lo = max(lo, old[0])
                hi = old[1] if hi is None else (hi if old[1] is None else min(hi, old[1]))
            bands[sym] = (lo, hi)
    return tuple((sym, lo, hi) for sym, (lo, hi) in sorted(bands.items()))


#: ``(inverse, sides) -> (K below, K above)``: the Lipschitz factor of ``C - R`` in the notional for
#: a move down and a move up (``None``: that move cannot lower ``C - R``). ``sides`` 1: long only,
#: 2: short only, 3: both. The adverse move changes the uPnL one for one with the notional; the
#: margin, fee and buffer follow the notional, which grows (factor 3) or shrinks (factor 1) with
#: it. The favourable move gains uPnL while a growing notional may add margin, fee and buffer
#: (factor 2, the uPnL gain not counted); a shrinking one cannot lower ``C - R`` (no bound).
_FACTORS: dict[tuple[bool, int], tuple[int | None, int | None]] = {
    (False, 1): (1, 2),  # linear long: down is adverse, N shrinks; up grows N
    (False, 2): (None, K),  # linear short: up is adverse and grows N; down is safe
    (False, 3): (K, K),
    (True, 1): (K, None),  # inverse long: down is adverse and grows N (N ~ 1/p); up is safe
    (True, 2): (2, 1),  # inverse short: up is adverse, N shrinks; down grows N
    (True, 3): (K, K),
}


def _step_band(mrt: Any, size: int, price: int, base: int, step: int) -> tuple[int, int | None]:
    """``(lo, hi)``: the valuation prices around ``price`` at which a position of ``size`` leaves
    its risk-limit step (its margin notional crosses ``base + s*step``; MRG-BMX-01), found by
    bisection on the market's margin-notional formula (monotone in the price)."""

    def notional(p: int) -> int:
        return int(mrt.margin_notional(size, p))

    n = notional(price)
    s = 0 if n <= base else -(-(n - base) // step)
    upper = base + s * step  # the step holds notionals in (upper - step, upper] (s = 0: [0, base])
    lower = None if s == 0 else upper - step
    if not mrt.inverse:  # the notional grows with the price
        hi = _first_above(lambda p: notional(p) > upper, price)
        lo = 0 if lower is None else _last_below(lambda p: notional(p) <= lower, price)
        return lo, hi
    # inverse: the notional grows as the price falls
    lo = _last_below(lambda p: notional(p) > upper, price)
    hi = None if lower is None else _first_above(lambda p: notional(p) <= lower, price)
    return lo, hi


def _first_above(crossed: Callable[[int], bool], price: int) -> int | None:
    """The smallest ``p > price`` with ``crossed(p)`` (monotone: false then true), or ``None``."""
    hi = price * 2 + 1
    while not crossed(hi):
        if hi > price * 2**40:
            return None
        hi *= 2
    return first_true(crossed, price, hi)  # crossed(price) is false


def _last_below(crossed: Callable[[int], bool], price: int) -> int:
    """The largest ``0 < p < price`` with ``crossed(p)`` (monotone: true then false), or 0."""
    if not crossed(1):
        return 0
    return first_true(lambda p: not crossed(p), 1, price) - 1  # crossed(1), not crossed(price)


def _band(
    price: int, notional: int, slack: int, k: int, inverse: bool, k_lo: int | None, k_hi: int | None
) -> tuple[int, int | None]:
    """``(lo, hi)``: the open band of valuation prices around ``price`` (see the module docstring);
    ``lo = 0`` and ``hi = None`` where the move that way needs no bound."""
    if notional <= 0:
        return 0, None  # nothing at risk in this market: never crossed
    if not inverse:
        lo = 0 if k_lo is None else price + (-slack * price) // (k * k_lo * notional)  # P - ceil(S P/(k K N))
        hi = None if k_hi is None else price - (-slack * price) // (k * k_hi * notional)
        return lo, hi
    lo = 0 if k_lo is None else price * (k * k_lo * notional) // (k * k_lo * notional + slack)
    if k_hi is None:
        return lo, None
    kkn = k * k_hi * notional
    if kkn <= slack:
        return lo, None
    return lo, -(-price * kkn // (kkn - slack))  # crossed at p >= ceil(P kKN / (kKN - S))


__all__ = ["ALLOWANCE", "K", "LiquidationIndex", "account_bands", "bands_of"]
