"""Liquidation procedures: how a liquidatable unit is closed, slice by slice (rules LIQ-PRC-*).

The engine (:mod:`perpspec.engine.liquidation`) finds the liquidatable units (LIQ-TRG-*), shows
each one to the profile's procedure as a :class:`Unit`, and executes the :class:`Slice` s the
procedure plans. A slice closes ``qty`` of one position against a counterparty account:

- **execution** (LIQ-EXE-01): ``VALUATION`` at the valuation price (a takeover marked at the
  mark); ``PRICE`` at the slice's ``price`` (Drift's oracle, a Dutch auction's current price);
  ``BOOK`` walking the levels of the market's last book snapshot on the closing side, best first,
  skipping levels worse than ``price`` when one is given, consuming what it takes, the rest at
  the valuation price (taken over by the counterparty);
- **settlement** (LIQ-SET-01, LIQ-SET-02): ``FEES`` (a partial close: the account pays
  ``fee_rate`` of the slice's notional to the insurance fund and ``counterparty_fee_rate`` to
  the counterparty), or ``BANKRUPTCY`` (the slice is settled against the bankruptcy price: the
  account ends with exactly what closing the slice at the bankruptcy price would leave it, and
  the insurance fund takes the difference, :math:`\\Delta IF = b (p_{exec} - p_{bk}) \\Delta q`,
  its positive part capped at ``surplus_cap`` of the slice's notional when the venue caps it),
  or ``TAKEOVER`` (LIQ-SET-03: the counterparty takes the slice and the share ``g`` of the
  unit's collateral the slice releases, when positive: a backstop vault taking over positions
  and margin; no fund delta).

The bankruptcy price of a slice is the one at which closing it costs the unit its share of the
collateral in proportion to the maintenance margin it releases,
:math:`g = \\lceil C \\cdot (MM - MM') / MM \\rceil` (all of ``C`` when the slice closes the unit;
the ceiling favours the fund), which is dYdX's per-fill bankruptcy price and, for a full close,
the price at which the unit's equity is zero (CEX §1.6, §2.4; DeFi §1.4).

A procedure is a declared variant of mechanism ``liquidation_procedure`` (profile section
``[liquidation_procedure]``). Its ``source`` says who liquidates: ``model`` (the engine, after
every event) or ``log`` (only ``liquidation`` events of the log, checked by the same rules).
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping

import attrs
from perpspec.account import Key
from perpspec.position import Position
from perpspec.profile import Profile
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import Variant, interface, variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

#: The book of a market: ``(bids, asks)``, each a tuple of ``(price, size)`` levels.
Book = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]


class Source(enum.Enum):
    """Rule: LIQ-SRC-01. Who liquidates: the model, or the log's ``liquidation`` events only."""

    MODEL = "model"
    LOG = "log"


class Execution(enum.Enum):
    """Rule: LIQ-EXE-01. Where a slice is executed (see the module docstring)."""

    VALUATION = "valuation"
    PRICE = "price"
    BOOK = "book"


class Settle(enum.Enum):
    """Rules: LIQ-SET-01, LIQ-SET-02, LIQ-SET-03. How a slice is settled (see the module docstring)."""

    FEES = "fees"
    BANKRUPTCY = "bankruptcy"
    TAKEOVER = "takeover"


@attrs.frozen(slots=True, kw_only=True)
class LiquidationStatus:
    """A unit being liquidated: when it started and when its last slice ran (ms)."""

    started: int
    last_slice: int
    slices: int = 0


@attrs.frozen(slots=True, kw_only=True)
class Unit:
    """What a procedure sees of one liquidatable unit (rule LIQ-UNT-01).

    ``positions`` are the unit's non-zero positions, sorted by key (all cross positions of the
    account, or the one isolated position). ``collateral`` is ``C`` (maintenance collateral,
    ACC-COL-01, or the isolated equity), ``maintenance`` its MM, ``requirement`` the trigger's
    ``R`` and ``notional`` :math:`\\sum |N_i|`, all money units at ``prices`` (the valuation
    prices). ``oracles`` holds each market's oracle price where one was published, ``books``
    its last book snapshot. ``status`` is ``None`` unless the unit is already being liquidated
    (it is updated once per event, after the rounds); ``event_round`` counts the plan-and-execute
    rounds already run for this unit in the current event (0 on the first plan, LIQ-PAS-01), so a
    procedure can tell its first step from a re-check after a step that did not restore margin.
    """

    t: int
    account: str
    isolated: bool
    positions: tuple[tuple[Key, Position], ...]
    collateral: int
    maintenance: int
    requirement: int
    notional: int
    prices: Mapping[str, int]
    oracles: Mapping[str, int]
    books: Mapping[str, Book]
    status: LiquidationStatus | None
    profile: Profile
    event_round: int = 0


@attrs.frozen(slots=True, kw_only=True)
class Slice:
    """One step of a liquidation: close ``qty`` (> 0, size units) of position ``key``.

    ``price`` is the execution price (``PRICE``) or the worst book level taken (``BOOK``, ``None``:
    any). ``surplus_cap`` is the cap on the fund's take of a ``BANKRUPTCY`` slice (a rate of the
    notional, ``None``: no cap). ``rule_id`` names the rule that sized the slice.
    """

    key: Key
    qty: int
    rule_id: str
    execution: Execution = Execution.VALUATION
    price: int | None = None
    settle: Settle = Settle.BANKRUPTCY
    fee_rate: Rate = Rate(0)
    counterparty_fee_rate: Rate = Rate(0)
    surplus_cap: Rate | None = None


@interface("liquidation_procedure")
class LiquidationProcedure(Variant):
    """The declared interface of mechanism ``liquidation_procedure`` (LIQ-PRC-*).

    ``source`` (LIQ-SRC-01) and ``counterparty`` (LIQ-CPY-01: the account that takes the other
    side of every slice the model plans, ``@liquidator`` by default: the venue's liquidation
    engine, backstop vault or keeper; accounts whose id starts with ``@`` are never liquidated)
    are shared by every variant.
    """

    __slots__ = ()

    source: Source
    counterparty: str

    @abc.abstractmethod
    def plan(self, unit: Unit) -> list[Slice]:
        """The slices to execute now for a liquidatable ``unit`` (may be empty: e.g. a cooldown)."""
        raise NotImplementedError

    @abc.abstractmethod
    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        """The slice a log ``liquidation`` event of ``qty`` at ``price`` is settled as (LIQ-LOG-01)."""
        raise NotImplementedError

    def configured_execution(self) -> Execution | None:
        """The execution the profile sets for the slices this procedure plans, if it sets one
        (``None`` by default: the procedure chooses per slice)."""
        return None

    def retains_status(self, status: LiquidationStatus, t: int) -> bool:
        """Does a unit whose margin is restored keep its status at time ``t`` (a venue whose
        cooldown outlives the liquidation, LIQ-HL-12)? Default ``False``: the status clears."""
        return False

    @implements("LIQ-CPY-01", "LIQ-EXE-01")
    def check(self) -> list[tuple[str, str]]:
        """Rules: LIQ-CPY-01, LIQ-EXE-01. The counterparty is a system account (its id starts
        with ``@``: it is never liquidated and never the liquidated account itself), and a
        profile-set execution is ``valuation`` or ``book`` (a ``price`` slice needs a price the
        procedure does not give)."""
        out = []
        if not is_system_account(self.counterparty):
            out.append(
                (
                    "counterparty",
                    f"the liquidation counterparty must be a system account (an id starting with '@'), "
                    f"got {self.counterparty!r}",
                )
            )
        if self.configured_execution() is Execution.PRICE:
            out.append(
                ("execution", "expected 'valuation' or 'book': this procedure gives its slices no price")
            )
        return out


@implements("LIQ-CPY-01")
def is_system_account(account_id: str) -> bool:
    """Rule: LIQ-CPY-01. Accounts whose id starts with ``@`` are the venue's own (liquidation
    engine, backstop vault, keeper): counterparties of liquidations, never liquidated."""
    return account_id.startswith("@")


@variant("liquidation_procedure", "full-close")
@attrs.frozen
class FullClose(LiquidationProcedure):
    """Rules: LIQ-PRC-01, LIQ-SET-02. Close every position of the unit in one step, settled at
    the bankruptcy price: the insurance fund takes over what is left of the unit's collateral
    (or pays its deficit), with ``fee_rate`` of the notional reported as the liquidation fee out
    of that surplus. Executed at the valuation price or, with ``execution = "book"``, into the
    last book snapshot (the rest taken over at the valuation price). Bybit's takeover at the
    bankruptcy price (CEX §3.2), Binance's final step (CEX §1.6), BitMEX's lowest tier (CEX §2.4).
    """

    source: Source = Source.MODEL
    counterparty: str = "@liquidator"
    execution: Execution = Execution.VALUATION
    fee_rate: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))
    surplus_cap: Rate | None = ranged(0, RATE_ONE, default=None)

    @implements("LIQ-PRC-01")
    def plan(self, unit: Unit) -> list[Slice]:
        """Rule: LIQ-PRC-01. One bankruptcy-settled slice per position, in key order."""
        return [self._slice(k, abs(p.size)) for k, p in unit.positions]

    def log_slice(self, unit: Unit, key: Key, qty: int, price: int) -> Slice:
        return attrs.evolve(self._slice(key, qty), execution=Execution.PRICE, price=price)

    def configured_execution(self) -> Execution | None:
        return self.execution

    def _slice(self, key: Key, qty: int) -> Slice:
        return Slice(
            key=key,
            qty=qty,
            rule_id="LIQ-PRC-01",
            execution=self.execution,
            settle=Settle.BANKRUPTCY,
            fee_rate=self.fee_rate,
            surplus_cap=self.surplus_cap,
        )


__all__ = [
    "Book",
    "Execution",
    "FullClose",
    "LiquidationProcedure",
    "LiquidationStatus",
    "Settle",
    "Slice",
    "Source",
    "Unit",
    "is_system_account",
]
