"""The exchange state: frozen attrs records, replaced by the step function, never mutated.

Performance (design §7): a step builds a new :class:`Exchange` that *shares* every part it
did not touch with the old one. The accounts live in a persistent map (``immutables.Map``,
a hash array mapped trie): replacing one account costs O(log N) and shares the rest of the
map with the previous state, so a step never copies all accounts. The few markets are a
plain dict copied shallowly. The accounts themselves, their positions and every untouched
market are the same objects. Nothing in here may be mutated after construction.

``holders`` is a derived index, symbol -> the ids of the accounts with a non-zero position
in that market (any slot), so that a funding settlement visits only those accounts. The
step function keeps it up to date; an :class:`Exchange` built without it (``holders=None``)
computes it from the accounts. It is not part of equality or of the state digest.

Construction is by keyword only (``kw_only``): two int fields swapped at a construction site
would still type-check if they were positional. The engine copies a market or the exchange with
some fields changed through :data:`market_with` / :data:`exchange_with`, generated from the
class's field list: keywords go straight to ``__init__`` (``Market(...)`` goes through
``type.__call__``, which first packs keyword arguments into a dict, about 0.6 µs for 13 fields on
CPython 3.11), and a field added to the class is carried by every copy.

Rules: INV-01, INV-02, INV-03 (the state carries what the invariants need: net deposits,
realized PnL per market, the fee pool, named dust sinks and explicit bad-debt records).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import immutables
from perpspec.account import Account
from perpspec.profile import Profile
from perpspec.traceability import implements

#: Insurance-fund key of a fund shared by all markets.
SHARED = "*"


@attrs.frozen(slots=True, kw_only=True)
class FundingState:
    """A market's funding accumulator.

    - ``samples``: ``(t, premium)`` pairs (premium in 10^-8) since the last settlement.
    - ``last_settlement``: time of the last settlement (ms), ``None`` before the first.
    - ``last_rate``: the last settled rate (10^-8), ``None`` before the first.
    - ``index``: a cumulative funding index for variants that use one (0 otherwise).
    - ``extra``: variant-specific state (immutable), ``None`` if the variant keeps none.
    """

    samples: tuple[tuple[int, int], ...] = ()
    last_settlement: int | None = None
    last_rate: int | None = None
    index: int = 0
    extra: Any = None


@attrs.frozen(slots=True, kw_only=True)
class Market:
    """One market's dynamic state (its static parameters live in ``profile.markets``).

    Prices are price units, ``None`` until first seen. ``last_price`` is the last trade
    price (the valuation price while no mark has been published). ``oi_long`` and
    ``oi_short`` are the sums of long and of short position sizes (size units, both >= 0;
    INV-02 says they are equal). ``realized_pnl`` is the sum of realized PnL credited to
    accounts in this market (money units; INV-01, INV-04). ``book`` is the last book
    snapshot ``(bids, asks)``. ``mark_state`` holds the profile's ``[mark]`` variant state
    (a :class:`perpspec.pricing.mark.MarkState`, ``None`` until the first observation).
    ``mark_source`` says where ``mark`` comes from: ``"published"`` once a ``mark_price`` event
    arrived (the venue's mark then takes precedence for good), ``"model"`` while the variant
    computes it, ``None`` without a mark (rule ENG-MRK-01). ``mark_sampled_at`` is the time
    (ms) of the variant's last sample, for variants that sample at an interval.
    """

    symbol: str
    index: int | None = None
    mark: int | None = None
    oracle: int | None = None
    last_price: int | None = None
    book: tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] | None = None
    funding: FundingState = FundingState()
    oi_long: int = 0
    oi_short: int = 0
    realized_pnl: int = 0
    mark_state: Any = None
    mark_source: str | None = None
    mark_sampled_at: int | None = None

    def valuation_price(self) -> int | None:
        """The price positions are valued at: the mark, else the last trade price."""
        return self.mark if self.mark is not None else self.last_price


_KEEP: Any = object()


def _replacer(cls: type) -> Callable[..., Any]:
    """A fast ``attrs.evolve`` for one state class, generated once from ``attrs.fields(cls)``.

    ``replace(obj, name=value, ...)`` builds a new record with the named fields changed and
    every other field taken from ``obj``, passing keywords straight to ``__init__`` (see the
    module docstring). Because the field list is read from the class, a field added to the
    class is carried by every replacement; a hand-written copy of the field list would reset
    it to its default wherever it was forgotten. An unknown name is a ``TypeError``.
    """
    names = [f.name for f in attrs.fields(cls)]
    params = ", ".join(f"{n}=_KEEP" for n in names)
    args = ", ".join(f"{n}=obj.{n} if {n} is _KEEP else {n}" for n in names)
    src = f"def replace(obj, *, {params}):\n    new = _new(_cls)\n    _init(new, {args})\n    return new\n"
    namespace: dict[str, Any] = {
        "_KEEP": _KEEP,
        "_new": object.__new__,
        "_cls": cls,
        "_init": cls.__dict__["__init__"],
    }
    exec(src, namespace)  # the same technique attrs uses for the __init__ it generates
    replace: Callable[..., Any] = namespace["replace"]
    replace.__name__ = replace.__qualname__ = f"replace_{cls.__name__.lower()}"
    return replace


#: ``market_with(m, oi_long=..., ...)``: ``m`` with the named fields replaced (see :func:`_replacer`).
market_with: Callable[..., Market] = _replacer(Market)


@attrs.frozen(slots=True, kw_only=True)
class InsuranceFund:
    """Insurance-fund balances (money units) by market symbol, or :data:`SHARED`."""

    balances: Mapping[str, int] = attrs.field(factory=dict)

    def total(self) -> int:
        return sum(self.balances.values())


def account_map(accounts: Mapping[str, Account]) -> immutables.Map[str, Account]:
    """``accounts`` as a persistent map (the same object if it already is one)."""
    return accounts if type(accounts) is immutables.Map else immutables.Map(accounts)


#: The holder index of one market: the account ids, as keys of a persistent map (values ``True``).
Holders = immutables.Map[str, bool]


def holder_index(symbols: Any, accounts: Mapping[str, Account]) -> dict[str, immutables.Map[str, bool]]:
    """Symbol -> the ids of the accounts holding a non-zero position in it (any slot)."""
    out: dict[str, dict[str, bool]] = {sym: {} for sym in symbols}
    for aid, acct in accounts.items():
        for (sym, _slot), pos in acct.positions.items():
            if pos.size != 0:
                out.setdefault(sym, {})[aid] = True
    return {sym: immutables.Map(ids) for sym, ids in out.items()}


@attrs.frozen(slots=True, kw_only=True)
class Exchange:
    """The whole exchange at time ``t`` (ms of the event clock; the model reads no clock).

    - ``profile``: the venue profile (replaced by ``param_change`` events).
    - ``markets``: per-symbol dynamic state; ``accounts``: by account id.
    - ``insurance``: the insurance fund(s).
    - ``fee_pool``: trading fees collected minus rebates paid (money units).
    - ``dust``: named sinks of rounding dust (money units), e.g. ``funding:BTCUSDT``.
    - ``net_deposits``: deposits minus withdrawals so far (money units; INV-01).
    - ``bad_debt``: explicit bad-debt records (INV-03): account id -> deficit (> 0) of an
      account whose collateral is negative, and ``ACCOUNT/SYMBOL/SLOT`` -> the accumulated
      deficit (> 0) of an isolated position whose loss exceeded its margin (ACC-ISO-01).
    - ``liquidations``: the units being liquidated (LIQ-UNT-01): account id (cross part) or
      ``ACCOUNT/SYMBOL/SLOT`` (isolated position) -> its
      :class:`~perpspec.liquidation.procedure.LiquidationStatus`.
    - ``liq_index``: the liquidation index (:mod:`perpspec.engine.watch`), derived data owned by
      the latest exchange it was updated for; ``None`` (or an index valid for another exchange)
      makes the next liquidation pass build one. Not part of equality or of the state digest.
    - ``holders``: the derived holder index (see the module docstring); ``None`` builds it.
      Code that replaces ``accounts`` outside the step function passes ``holders=None``.
    """

    profile: Profile
    t: int = 0
    markets: Mapping[str, Market] = attrs.field(factory=dict)
    accounts: immutables.Map[str, Account] = attrs.field(factory=immutables.Map, converter=account_map)
    insurance: InsuranceFund = InsuranceFund()
    fee_pool: int = 0
    dust: Mapping[str, int] = attrs.field(factory=dict)
    net_deposits: int = 0
    bad_debt: Mapping[str, int] = attrs.field(factory=dict)
    liquidations: Mapping[str, Any] = attrs.field(factory=dict)
    liq_index: Any = attrs.field(default=None, eq=False, repr=False)
    holders: Mapping[str, Holders] | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.holders is None:
            object.__setattr__(self, "holders", holder_index(self.markets, self.accounts))

    def marks(self) -> dict[str, int]:
        """The valuation price of every market that has one (see :meth:`Market.valuation_price`)."""
        out = {}
        for sym, m in self.markets.items():
            p = m.valuation_price()
            if p is not None:
                out[sym] = p
        return out


#: ``exchange_with(ex, t=..., ...)``: ``ex`` with the named fields replaced (see :func:`_replacer`).
#: ``holders`` is carried unless given: a call that replaces ``accounts`` passes ``holders`` too
#: (the updated index, or ``None`` to rebuild it).
exchange_with: Callable[..., Exchange] = _replacer(Exchange)


@implements("INV-03")
def position_debt_key(account: str, symbol: str, slot: str) -> str:
    """Rule: INV-03. The ``bad_debt`` key of an isolated position's deficit:
    ``"ACCOUNT/SYMBOL/SLOT"`` (an account id never has that form, ENG-AMT-01)."""
    return f"{account}/{symbol}/{slot}"


def initial_exchange(profile: Profile, t: int = 0) -> Exchange:
    """The empty exchange of ``profile``: every market without prices, no accounts, empty funds."""
    return Exchange(
        profile=profile,
        t=t,
        markets={sym: Market(symbol=sym) for sym in sorted(profile.markets)},
        accounts=immutables.Map(),
        insurance=InsuranceFund(balances={}),
    )


def replace_in(mapping: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of ``mapping`` with ``changes`` applied (structural sharing)."""
    out = dict(mapping)
    out.update(changes)
    return out


__all__ = [
    "SHARED",
    "Exchange",
    "FundingState",
    "Holders",
    "InsuranceFund",
    "Market",
    "account_map",
    "holder_index",
    "initial_exchange",
    "invariant_violations",
    "position_debt_key",
    "replace_in",
]


@implements("INV-01", "INV-02", "INV-03", "INV-04", "INV-07", "INV-09")
def invariant_violations(ex: Exchange, rounding_allowance: int | None = None) -> list[str]:
    """Rules: INV-01, INV-02, INV-03, INV-04, INV-07, INV-09. The invariants that one state must satisfy.

    INV-01 counts each isolated position's bad-debt record (key ``ACCOUNT/SYMBOL/SLOT``) as a
    negative holding; INV-03 ties the account records to negative collateral and requires a
    position record to be a positive deficit of an existing account's slot.

    Returns one message per violation (empty when all hold). ``rounding_allowance`` is the
    ``k`` of INV-04 (number of realizing fill sides so far); ``None`` checks only the upper
    bound (traders never gain from rounding).
    """
    from perpspec.position import accounting_of, unrealized_pnl

    out: list[str] = []
    profile = ex.profile
    # INV-01
    held = sum(a.collateral for a in ex.accounts.values())
    held += sum(p.isolated_margin for a in ex.accounts.values() for p in a.positions.values())
    held += ex.insurance.total() + ex.fee_pool + sum(ex.dust.values())
    # an isolated position's bad debt is a negative holding (its deficit is nobody's money)
    held -= sum(v for k, v in ex.bad_debt.items() if k not in ex.accounts)
    realized = sum(m.realized_pnl for m in ex.markets.values())
    if held != ex.net_deposits + realized:
        out.append(
            f"INV-01: funds held {held} (less position bad debt) != net deposits {ex.net_deposits} "
            f"+ realized PnL {realized}"
        )
    # INV-09
    for fund, bal in sorted(ex.insurance.balances.items()):
        if bal < 0:
            out.append(f"INV-09: insurance fund {fund} is negative: {bal}")
    # INV-02
    longs: dict[str, int] = {s: 0 for s in ex.markets}
    shorts: dict[str, int] = {s: 0 for s in ex.markets}
    for a in ex.accounts.values():
        for (sym, _slot), p in a.positions.items():
            longs[sym] += max(p.size, 0)
            shorts[sym] += max(-p.size, 0)
    for sym, m in ex.markets.items():
        if not (m.oi_long == m.oi_short == longs[sym] == shorts[sym]):
            out.append(
                f"INV-02: {sym} oi_long {m.oi_long}, oi_short {m.oi_short}, "
                f"sum of longs {longs[sym]}, sum of shorts {shorts[sym]}"
            )
    # the holder index (derived data the funding settlement relies on) must match the positions
    want = holder_index(ex.markets, ex.accounts)
    have = ex.holders or {}
    for sym in sorted(set(want) | set(have)):
        got_ids, want_ids = set(have.get(sym, ())), set(want.get(sym, ()))
        if got_ids != want_ids:
            out.append(
                f"INV-02: {sym} holder index lists {sorted(got_ids ^ want_ids)} wrongly "
                "(it must hold exactly the accounts with a non-zero position)"
            )
    # INV-03
    for aid, a in ex.accounts.items():
        rec = ex.bad_debt.get(aid)
        if a.collateral < 0 and rec != -a.collateral:
            out.append(f"INV-03: {aid} has collateral {a.collateral} but bad-debt record {rec}")
        if a.collateral >= 0 and rec is not None:
            out.append(f"INV-03: {aid} has collateral {a.collateral} and a stale bad-debt record {rec}")
    for aid, v in ex.bad_debt.items():
        if aid in ex.accounts:
            continue
        parts = aid.rsplit("/", 2)
        if len(parts) != 3 or parts[0] not in ex.accounts or parts[1] not in ex.markets:
            out.append(f"INV-03: bad-debt record of unknown account or position {aid}")
        elif parts[2] not in ("BOTH", "LONG", "SHORT") or v <= 0:
            out.append(f"INV-03: position bad-debt record {aid} = {v} (a positive deficit of a slot)")
    # INV-04
    acc = accounting_of(profile)
    for sym, m in ex.markets.items():
        price = m.valuation_price()
        if price is None:
            continue
        spec = profile.markets[sym]
        n = 0
        total = m.realized_pnl
        for a in ex.accounts.values():
            for (s, _slot), p in a.positions.items():
                if s == sym and p.size != 0:
                    n += 1
                    total += unrealized_pnl(p, price, spec, profile.scales, acc)
        if total > 0:
            out.append(f"INV-04: {sym} traders gained {total} from rounding (realized + uPnL at {price})")
        if rounding_allowance is not None and total < -(rounding_allowance + n):
            out.append(f"INV-04: {sym} rounding loss {-total} exceeds the bound {rounding_allowance + n}")
    # INV-07
    for aid, a in ex.accounts.items():
        for (sym, slot), p in a.positions.items():
            if (slot == "BOTH") == a.hedge_mode:
                mode = "hedge" if a.hedge_mode else "one-way"
                out.append(f"INV-07: {aid} holds slot {slot} in {mode} mode")
            if (slot == "LONG" and p.size < 0) or (slot == "SHORT" and p.size > 0):
                out.append(f"INV-07: {aid} {sym} {slot} slot holds size {p.size}")
            if p.size == 0 and p.entry_value != 0:
                out.append(f"INV-07: {aid} {sym}/{slot} is flat with entry value {p.entry_value}")
            if p.isolated_margin < 0 or (not p.isolated and p.isolated_margin != 0):
                out.append(f"INV-07: {aid} {sym}/{slot} isolated margin {p.isolated_margin}")
    return out
