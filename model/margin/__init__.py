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
from typing import Any, ClassVar

import attrs
from perpspec.numeric import Term
from perpspec.registry import Variant, interface
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


@interface("margin")
class MarginModel(Variant):
    """The declared interface of mechanism ``margin``: everything the engine, the account and
    liquidation functions and the proofs ask of a margin model. ``maintenance`` and ``initial``
    are required; every other capability has the documented default below and is overridden by
    the models that have it (no caller probes a model for an attribute)."""

    __slots__ = ()

    @abc.abstractmethod
    def maintenance(self, pos: PositionRisk) -> Term:
        """Maintenance margin of one position, money units."""
        raise NotImplementedError

    @abc.abstractmethod
    def initial(self, pos: PositionRisk) -> Term:
        """Initial margin of one position, money units."""
        raise NotImplementedError

    def maintenance_tiers(self) -> tuple[LinearTier, ...] | None:
        """The exact piecewise-linear maintenance schedule (tiered models: Binance brackets,
        Bybit progressive tiers, Hyperliquid tiers); default ``None``: the model has none."""
        return None

    def flat_maintenance_rate(self) -> int | None:
        """The one maintenance rate (10^-8) of a flat model; default ``None``: not flat."""
        return None

    def maintenance_ratio(self, size: int) -> int | None:
        """The maintenance-margin ratio (10^-8 of the notional) of a position of ``size`` (size
        units, absolute), for procedures that size a slice by the margin it frees (Drift's
        ``get_margin_ratio``, LIQ-DRF-13); default: the flat rate, ``None`` for other models."""
        return self.flat_maintenance_rate()

    def max_leverage(self, notional: Term) -> Term | None:
        """The highest leverage the model allows at position notional ``notional`` (money units;
        ENG-LEV-01); default ``None``: the model states no maximum."""
        return None

    def tier_max_leverage(self) -> tuple[int | None, ...]:
        """The ``max_leverage`` column of the model's tier table, in table order (``None`` where
        a row states none); default ``()``: the model has no such column."""
        return ()

    def size_tiers(self) -> tuple[tuple[int, int], ...] | None:
        """``(size floor, maintenance rate)`` rows (size units, 10^-8; floors inclusive) of a model
        whose one flat rate is chosen by the position size (OKX); default ``None``: the model's
        tiers, if any, are not chosen by size."""
        return None

    def risk_limit_steps(self) -> tuple[int, int] | None:
        """``(base limit, step)``, money units, of a risk-limit step model (BitMEX: one rate for
        the whole position value, raised one step at each limit ``base + k*step``); default
        ``None``: not a step model."""
        return None

    def im_rate(self, value: Term) -> Term | None:
        """The initial-margin rate (10^-8) at position value ``value`` of a step model (see
        :meth:`risk_limit_steps`); default ``None``: the model has no single rate per value."""
        return None

    #: the model weights a position's unrealized PnL in collateral (:meth:`collateral_upnl`,
    #: ACC-COL-01; Drift); default: uPnL counts at face value
    weights_upnl: ClassVar[bool] = False

    def collateral_upnl(self, upnl: int, initial: bool) -> int:
        """Rule: ACC-COL-01. The part of ``upnl`` (money units) that counts as initial
        (``initial=True``) or maintenance collateral; default: all of it (Drift weights it:
        asset weights and the $100 cap, MRG-DRF-04/05)."""
        return upnl


@implements("ACC-COL-01")
def collateral_upnl(model: MarginModel, upnl: int, initial: bool) -> int:
    """Rule: ACC-COL-01. The collateral a position's ``upnl`` contributes under its market's
    margin model: :meth:`MarginModel.collateral_upnl` (``upnl`` itself unless the model weights
    it, ``weights_upnl``)."""
    return model.collateral_upnl(upnl, initial)


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
