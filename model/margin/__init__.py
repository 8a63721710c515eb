"""Margin models: one module per venue family, each a variant of mechanism ``margin``.

Every model is a frozen attrs parameter class registered with
``@variant("margin", name)`` whose methods are pure functions over the arithmetic
interface of :mod:`perpspec.numeric` (they run on ints and on Z3 terms):

- ``maintenance(pos) -> Term``: maintenance margin of one position, money units.
- ``initial(pos) -> Term``: initial margin of one position, money units.

``pos`` is a :class:`PositionRisk`: the position's absolute size and notional at the
valuation price (mark or oracle, as the venue does), the leverage the user set, and the
market's open-interest notional for the models that scale with it.
"""

from __future__ import annotations

import abc
from fractions import Fraction
from typing import Any, Protocol

import attrs
from perpspec.numeric import Term
from perpspec.traceability import implements


@attrs.frozen
class PositionRisk:
    """What a margin model needs to know about one position (all absolute values).

    - ``size``: |size|, size units.
    - ``notional``: |notional| at the valuation price, money units.
    - ``leverage``: the leverage the user set (``None`` where the venue has none).
    - ``oi_notional``: the market's open interest at the oracle price, money units.
    """

    size: Term
    notional: Term
    leverage: Any = None
    oi_notional: Term = 0


class MarginModel(Protocol):
    """What every margin variant provides."""

    def maintenance(self, pos: PositionRisk) -> Term: ...

    def initial(self, pos: PositionRisk) -> Term: ...


class WeightedUnrealizedPnl(abc.ABC):
    """The declared interface of a margin model that weights a position's unrealized PnL in
    collateral (rule ACC-COL-01), with one figure for initial-margin checks and one for
    maintenance (Drift: asset weights and the $100 cap, MRG-DRF-04/05). A model that does not
    subclass it counts uPnL at face value in both."""

    __slots__ = ()

    @abc.abstractmethod
    def collateral_upnl(self, upnl: int, initial: bool) -> int:
        """The part of ``upnl`` (money units) that counts as initial (``initial=True``) or
        maintenance collateral."""


@implements("ACC-COL-01")
def collateral_upnl(model: object, upnl: int, initial: bool) -> int:
    """Rule: ACC-COL-01. The collateral a position's ``upnl`` contributes under its market's
    margin model: the model's own weighting when it declares :class:`WeightedUnrealizedPnl`,
    else ``upnl``."""
    if isinstance(model, WeightedUnrealizedPnl):
        return model.collateral_upnl(upnl, initial)
    return upnl


@attrs.frozen
class LinearTier:
    """One piece of a piecewise-linear maintenance-margin schedule, exact before rounding.

    Inside ``[lower, upper)`` (money units of notional; ``upper=None`` is unbounded),
    :math:`MM(N) = N \\cdot rate - deduction` exactly, before the model's final rounding.
    Tiered models (Binance brackets, Bybit progressive tiers, Hyperliquid tiers) expose
    their schedule as ``maintenance_tiers()`` so that closed-form liquidation prices can
    solve the tier fixed point (LIQ rules) and the proofs can reason tier by tier.
    """

    lower: int
    upper: int | None
    rate: Fraction
    deduction: Fraction
