"""Liquidation triggers: the requirement a unit's collateral is compared with (rules LIQ-TRG-*).

A *unit* is what is liquidated as one: the cross part of an account, or one isolated position.
Its collateral ``C`` (the maintenance collateral, ACC-COL-01; an isolated position's own equity)
is compared with a requirement ``R`` by the accounting variant's predicate (ACC-LIQ-01:
``C < R``, ``C <= R`` with ``R > 0``, or dYdX's ``R > 0 and R > C``). The trigger variant says
what ``R`` is:

- ``maintenance`` (LIQ-TRG-01): :math:`R = MM`, at the valuation prices;
- ``maintenance-plus-close-fee`` (LIQ-TRG-02, OKX): :math:`R = MM + \\sum fee_{taker}(|N_i|)`,
  the margin ratio "including the fee to close";
- ``maintenance-plus-buffer`` (LIQ-TRG-03, Drift): once the unit is being liquidated,
  :math:`R = MM + \\lceil b \\cdot \\sum |N_i| \\rceil` with ``b`` the liquidation margin buffer
  ratio; :math:`R = MM` to enter liquidation.

Each is a declared variant of mechanism ``liquidation_trigger`` (profile section
``[liquidation_trigger]``); a profile without one uses ``maintenance``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from perpspec.numeric import div_ceil
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import Variant, interface, variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


@interface("liquidation_trigger")
class LiquidationTrigger(Variant):
    """The declared interface of mechanism ``liquidation_trigger``: the requirement ``R`` of a
    unit (see the module docstring). ``reads_close_fee`` says whether :meth:`requirement` reads
    ``close_fee`` (the engine computes it only then); default ``False``."""

    __slots__ = ()

    @abc.abstractmethod
    def requirement(self, maintenance: int, notional: int, close_fee: int, in_liquidation: bool) -> int:
        """``R`` from the unit's MM, its total notional ``Σ|N_i|`` and the taker fee to close it
        (money units), and whether the unit is already being liquidated."""
        raise NotImplementedError

    def reads_close_fee(self) -> bool:
        """Does :meth:`requirement` read ``close_fee``? Default ``False``."""
        return False

    def margin_buffer(self) -> Rate:
        """The rate of the notional added to ``R`` once the unit is being liquidated (LIQ-TRG-03;
        a procedure that sizes a slice to restore ``R`` reads it); default 0."""
        return Rate(0)


@variant("liquidation_trigger", "maintenance")
@attrs.frozen
class MaintenanceTrigger(LiquidationTrigger):
    """Rule: LIQ-TRG-01. :math:`R = MM` (Binance, Bybit, BitMEX, Hyperliquid, dYdX, Deribit)."""

    @implements("LIQ-TRG-01")
    def requirement(self, maintenance: int, notional: int, close_fee: int, in_liquidation: bool) -> int:
        """Rule: LIQ-TRG-01. :math:`R = MM`."""
        return maintenance


@variant("liquidation_trigger", "maintenance-plus-close-fee")
@attrs.frozen
class CloseFeeTrigger(LiquidationTrigger):
    """Rule: LIQ-TRG-02. OKX: :math:`R = MM + fee_{close}`, the taker fee of closing every position
    of the unit at the valuation price (OKX's margin ratio ``equity / (MM + fee)``, CEX §4.2)."""

    @implements("LIQ-TRG-02")
    def requirement(self, maintenance: int, notional: int, close_fee: int, in_liquidation: bool) -> int:
        """Rule: LIQ-TRG-02. :math:`R = MM + fee_{close}`."""
        return maintenance + close_fee

    def reads_close_fee(self) -> bool:
        return True


@variant("liquidation_trigger", "maintenance-plus-buffer")
@attrs.frozen
class BufferTrigger(LiquidationTrigger):
    """Rule: LIQ-TRG-03. Drift: an account enters liquidation at :math:`C < MM`; while it is being
    liquidated the requirement carries the liquidation margin buffer,
    :math:`R = MM + \\lceil buffer \\cdot \\sum |N_i| / 10^8 \\rceil`, and it leaves liquidation only
    once :math:`C \\ge R` (DeFi §2.3; ``liquidation_margin_buffer_ratio``, 2% on mainnet)."""

    buffer: Rate = ranged(0, RATE_ONE, why="a buffer of more than 100% of the notional is not a buffer")

    @implements("LIQ-TRG-03")
    def requirement(self, maintenance: int, notional: int, close_fee: int, in_liquidation: bool) -> int:
        """Rule: LIQ-TRG-03. :math:`R = MM + \\lceil b \\cdot \\sum|N_i| \\rceil` in liquidation, else MM."""
        if not in_liquidation:
            return maintenance
        return maintenance + int(div_ceil(notional * self.buffer, RATE_ONE))

    def margin_buffer(self) -> Rate:
        return self.buffer


DEFAULT_TRIGGER = MaintenanceTrigger()


@implements("LIQ-TRG-01", "LIQ-TRG-02", "LIQ-TRG-03")
def unit_requirement(
    positions: Iterable[tuple[tuple[str, str], Any]],
    marks: Mapping[str, int],
    profile: Any,
    maintenance: int,
    in_liquidation: bool,
) -> tuple[int, dict[str, int]]:
    """Rules: LIQ-TRG-01, LIQ-TRG-02, LIQ-TRG-03. The requirement ``R`` of the unit holding
    ``positions`` (``(key, Position)`` pairs) whose maintenance margin is ``maintenance``, and its
    notional by market (money units, at ``marks``): the one definition the account-level
    predicates, the liquidation engine and its index all use. The close fee is the taker fee of
    each position at the valuation price (FEE-MT-01), computed only for a trigger that reads it."""
    from perpspec.market_runtime import runtime_of

    rt = runtime_of(profile)
    trigger = profile.liquidation_trigger_model
    reads_fee = trigger.reads_close_fee()
    notional: dict[str, int] = {}
    close_fee = 0
    for (sym, _slot), p in positions:
        if p.size == 0:
            continue
        mrt = rt.markets[sym]
        size = abs(p.size)
        n = mrt.notional(size, marks[sym])
        notional[sym] = notional.get(sym, 0) + n
        if reads_fee:
            close_fee += mrt.fee(size, marks[sym], n, rt.taker_rate)
    return trigger.requirement(maintenance, sum(notional.values()), close_fee, in_liquidation), notional


__all__ = [
    "DEFAULT_TRIGGER",
    "BufferTrigger",
    "CloseFeeTrigger",
    "LiquidationTrigger",
    "MaintenanceTrigger",
    "unit_requirement",
]
