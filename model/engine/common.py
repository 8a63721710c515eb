"""What every event family of the engine shares: the rejection, the handler registry and the
small state helpers (look-ups that reject, bad-debt bookkeeping, open-interest notionals).

A handler is ``(exchange, event) -> (exchange', outputs)``; it validates first and raises
:class:`Rejected` (turned into a :class:`~perpspec.events.Reject` by
:func:`perpspec.engine.step`) before it builds any new state. Each handler module registers its
handlers with :func:`handles`, keyed by event class; :mod:`perpspec.engine` imports them all
and dispatches on ``type(event)``.

Rules: ENG-UNK-01, ENG-PRC-01, INV-03.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from perpspec.account import Account
from perpspec.events import BadDebtOut
from perpspec.market_runtime import runtime_of
from perpspec.profile import MarketSpec
from perpspec.state import Exchange, Market, exchange_with, position_debt_key
from perpspec.traceability import implements

#: An output record (:mod:`perpspec.events` output classes).
Output = Any
#: A handler: validates, then returns the new exchange and the event's outputs.
Handler = Callable[[Exchange, Any], tuple[Exchange, list[Output]]]

#: event class -> its handler (filled by :func:`handles` as the handler modules are imported)
HANDLERS: dict[type, Handler] = {}

H = TypeVar("H", bound=Handler)


class Rejected(Exception):
    """Raised inside a handler while validating; :func:`perpspec.engine.step` turns it into a
    :class:`~perpspec.events.Reject` naming ``rule_id``."""

    def __init__(self, rule_id: str, reason: str) -> None:
        super().__init__(f"{rule_id}: {reason}")
        self.rule_id, self.reason = rule_id, reason


def handles(*event_classes: type) -> Callable[[H], H]:
    """Register the decorated function as the handler of ``event_classes`` (each at most once)."""

    def register(fn: H) -> H:
        for cls in event_classes:
            if cls in HANDLERS:
                raise ValueError(f"two handlers for {cls.__name__}")
            HANDLERS[cls] = fn
        return fn

    return register


@implements("ENG-UNK-01")
def market_spec(ex: Exchange, symbol: str) -> MarketSpec:
    """Rule: ENG-UNK-01. The static parameters of market ``symbol``; an unknown market is rejected."""
    spec = ex.profile.markets.get(symbol)
    if spec is None:
        raise Rejected(
            "ENG-UNK-01",
            f"unknown market {symbol!r}; this profile has: {', '.join(sorted(ex.profile.markets))}",
        )
    return spec


@implements("ENG-UNK-01")
def account(ex: Exchange, account_id: str) -> Account:
    """Rule: ENG-UNK-01. Account ``account_id``; an unknown account is rejected."""
    acct = ex.accounts.get(account_id)
    if acct is None:
        raise Rejected("ENG-UNK-01", f"unknown account {account_id!r} (a deposit creates an account)")
    return acct


def oi_notional(ex: Exchange, marks: Mapping[str, int]) -> dict[str, int]:
    """Open interest (long side) at the oracle (else valuation) price, money units, of each
    market whose margin model reads it (``MarketRuntime.reads_oi``): the value is only ever
    fed to the margin models, and the others do not depend on it."""
    out = {}
    runtimes = runtime_of(ex.profile).markets
    for sym, m in ex.markets.items():
        if not m.oi_long:
            continue
        rt = runtimes[sym]
        if not rt.reads_oi:
            continue
        p = m.oracle if m.oracle is not None else marks.get(sym)
        if p is not None:
            out[sym] = rt.notional(m.oi_long, p)
    return out


@implements("INV-03")
def with_bad_debt(
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


@implements("ACC-ISO-01", "INV-03")
def with_position_debt(
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


def with_markets(ex: Exchange, t: int, markets: Mapping[str, Market]) -> Exchange:
    """``ex`` at time ``t`` with ``markets`` (everything else shared)."""
    return exchange_with(ex, t=t, markets=markets)


@implements("ENG-PRC-01")
def priced(acct: Account, marks: Mapping[str, int]) -> None:
    """Rule: ENG-PRC-01. Every non-flat position of ``acct`` needs a valuation price (a flat
    position that only carries settings needs none)."""
    for (sym, _slot), p in acct.positions.items():
        if p.size != 0 and sym not in marks:
            raise Rejected("ENG-PRC-01", f"no price for {sym} yet: account {acct.id!r} cannot be valued")


def slots_for_setting(acct: Account) -> tuple[str, ...]:
    """The slots a per-symbol setting applies to: ``LONG`` and ``SHORT`` in hedge mode, else ``BOTH``."""
    return ("LONG", "SHORT") if acct.hedge_mode else ("BOTH",)
