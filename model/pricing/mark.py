"""Mark price variants (mechanism ``mark``).

Rules: PRC-MRK-01, PRC-MRK-02, PRC-MRK-03, PRC-MRK-04, PRC-MRK-05, PRC-EMA-01.

Every variant is a frozen attrs parameter class registered with ``@variant("mark", name)``
that implements :class:`MarkModel`:

- ``initial_state() -> MarkState``: the empty averaging state;
- ``observe(state, now, inputs) -> MarkState``: feed one sample (the engine calls it at the
  variant's sampling interval; stateless variants return the state unchanged);
- ``mark(state, inputs) -> Price | None``: the mark price, or ``None`` when an input the
  variant needs is missing (never a silent 0).

The formulas themselves (``median3``, ``funding_basis_price``, ``weighted_median``) are pure
functions over :mod:`perpspec.numeric`.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

import attrs
from perpspec.numeric import Rounding, Term, div_round, max_, min_
from perpspec.pricing.averages import Ema, MovingAverage, ema_update, ema_value, ma_update, ma_value
from perpspec.quantities import Price, Rate
from perpspec.ranges import ranged
from perpspec.registry import Variant, interface, variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

#: 8 hours, the default funding interval.
EIGHT_HOURS_S = 8 * 3600


@attrs.frozen
class MarkInputs:
    """What a mark variant may read at one instant (all prices in price units).

    - ``index``: the index price (CEX) or the oracle price (DeFi);
    - ``last_price``: the last trade price of the contract;
    - ``best_bid`` / ``best_ask``: top of the book;
    - ``funding_rate``: the last (Binance) or current (BitMEX) funding rate, Rate units;
    - ``seconds_to_funding`` / ``funding_interval_s``: time until the next funding and the
      funding interval, seconds;
    - ``cex_marks``: ``(price, weight)`` of external perp marks (Hyperliquid).
    """

    index: Price | None = None
    last_price: Price | None = None
    best_bid: Price | None = None
    best_ask: Price | None = None
    funding_rate: Rate = attrs.field(default=Rate(0))
    seconds_to_funding: int = 0
    funding_interval_s: int = EIGHT_HOURS_S
    cex_marks: tuple[tuple[Price, int], ...] = ()


@attrs.frozen
class MarkState:
    """Averaging state a mark variant keeps between samples (unused fields stay ``None``)."""

    basis: MovingAverage | None = None  #: Binance: MA of 2 x basis (bid1 + ask1 - 2 index)
    premium_ema: Ema | None = None  #: Hyperliquid: EMA of (mid - oracle)
    mid_ema: Ema | None = None  #: Hyperliquid: EMA of mid


@interface("mark")
class MarkModel(Variant):
    """The declared interface of mechanism ``mark``: what the engine asks of every mark variant
    (ENG-MRK-01). ``initial_state``, ``observe`` and ``mark`` are required; the traits below
    have the documented defaults and a variant overrides them (as class constants or fields)."""

    __slots__ = ()

    #: the variant reads the oracle price as its index (DeFi); default: the index
    reads_oracle: ClassVar[bool] = False
    #: the variant reads the last trade price, so a fill recomputes the mark; default: it does
    reads_last_price: ClassVar[bool] = True
    #: seconds between two samples the engine feeds to ``observe``; default 0: every
    #: index, oracle or book event is a sample
    sample_interval_s: int = 0

    @abc.abstractmethod
    def initial_state(self) -> MarkState:
        """The empty averaging state."""
        raise NotImplementedError

    @abc.abstractmethod
    def observe(self, state: MarkState, now: int, inputs: MarkInputs) -> MarkState:
        """Feed one sample at ``now`` (seconds); a stateless variant returns ``state`` itself."""
        raise NotImplementedError

    @abc.abstractmethod
    def mark(self, state: MarkState, inputs: MarkInputs) -> Price | None:
        """The mark price, or ``None`` when an input the variant needs is missing."""
        raise NotImplementedError


# ----------------------------------------------------------------------------- formulas


@implements("PRC-MRK-01", "PRC-MRK-03")
def median3(a: Term, b: Term, c: Term) -> Term:
    """Rules: PRC-MRK-01, PRC-MRK-03. The median of three values:
    :math:`\\max(\\min(a,b), \\min(\\max(a,b), c))`."""
    return max_(min_(a, b), min_(max_(a, b), c))


@implements("PRC-MRK-01", "PRC-MRK-02")
def funding_basis_price(
    index: Term, funding_rate: Term, seconds_to_funding: Term, interval_s: Term, rounding: Rounding
) -> Term:
    """Rules: PRC-MRK-01, PRC-MRK-02. Index plus the decaying funding basis:

    .. math:: I \\left(1 + F \\frac{t}{T}\\right) = I + \\frac{I \\cdot F \\cdot t}{10^8 \\cdot T}

    ``F`` a Rate, ``t`` the seconds until funding, ``T`` the interval (seconds). The
    fraction is rounded to price units with ``rounding``.
    """
    return index + div_round(index * funding_rate * seconds_to_funding, RATE_ONE * interval_s, rounding)


@implements("PRC-MRK-01")
def basis_sample(best_bid: Term, best_ask: Term, index: Term) -> Term:
    """Rule: PRC-MRK-01. Twice the basis, exact: ``2 * ((bid1 + ask1)/2 - index)``."""
    return best_bid + best_ask - 2 * index


@implements("PRC-MRK-03")
def weighted_median(points: Sequence[tuple[int, int]]) -> int | None:
    """Rule: PRC-MRK-03. Lower weighted median of ``(price, weight)`` points: the smallest
    price ``p`` with ``2 * (weight of prices <= p) >= total weight``. Points with weight 0
    are ignored; ``None`` when no weight is left."""
    if any(w < 0 for _, w in points):
        raise ValueError("weights must not be negative")
    pts = sorted((p, w) for p, w in points if w > 0)
    total = sum(w for _, w in pts)
    if total == 0:
        return None
    acc = 0
    for p, w in pts:
        acc += w
        if 2 * acc >= total:
            return p
    raise AssertionError("unreachable: cumulative weight reaches the total")


class _Stateless(MarkModel):
    """Base for the variants that keep no averaging state: the empty state, and every
    sample leaves it unchanged."""

    __slots__ = ()

    def initial_state(self) -> MarkState:
        return MarkState()

    def observe(self, state: MarkState, now: int, inputs: MarkInputs) -> MarkState:
        return state


# ----------------------------------------------------------------------------- variants


@variant("mark", "binance-median3")
@attrs.frozen
class BinanceMedian3(MarkModel):
    """Rules: PRC-MRK-01, PRC-EMA-01. ``Mark = median(Price1, Price2, last price)``:

    - ``Price1 = Index * (1 + F_last * t / T)`` (:func:`funding_basis_price`);
    - ``Price2 = Index + MA(basis)``, ``basis = (bid1 + ask1)/2 - Index``, over the last
      ``basis_points`` samples taken every ``sample_interval_s`` seconds (USD-M since
      2025-09-18: 30 points, 1 s).

    All three inputs are required (``None`` otherwise). ``rounding`` applies to Price1's
    funding term and to the basis average.
    """

    #: what the engine must feed it (ENG-MRK-01): the oracle rather than the index; the last trade price
    reads_oracle: ClassVar[bool] = False
    reads_last_price: ClassVar[bool] = True

    basis_points: int = ranged(1, 3600, default=30)
    sample_interval_s: int = ranged(1, 3600, default=1)
    rounding: Rounding = Rounding.HALF_UP
    reading: str = ""

    def initial_state(self) -> MarkState:
        return MarkState(basis=MovingAverage(window=self.basis_points, scale=2))

    def observe(self, state: MarkState, now: int, inputs: MarkInputs) -> MarkState:
        i, b, a = inputs.index, inputs.best_bid, inputs.best_ask
        if i is None or b is None or a is None:
            return state
        ma = state.basis or MovingAverage(window=self.basis_points, scale=2)
        return attrs.evolve(state, basis=ma_update(ma, basis_sample(b, a, i)))

    @implements("PRC-MRK-01")
    def price1(self, inputs: MarkInputs) -> Price | None:
        """Rule: PRC-MRK-01. Price1 (the BIN-MP-01 term); ``None`` without an index."""
        if inputs.index is None:
            return None
        return Price(
            funding_basis_price(
                inputs.index,
                inputs.funding_rate,
                inputs.seconds_to_funding,
                inputs.funding_interval_s,
                self.rounding,
            )
        )

    @implements("PRC-MRK-01")
    def price2(self, state: MarkState) -> int | None:
        """Rule: PRC-MRK-01. The basis moving average (add the index for Price2)."""
        if state.basis is None:
            return None
        return ma_value(state.basis, self.rounding)

    def mark(self, state: MarkState, inputs: MarkInputs) -> Price | None:
        p1 = self.price1(inputs)
        basis = self.price2(state)
        if p1 is None or basis is None or inputs.last_price is None or inputs.index is None:
            return None
        return Price(median3(p1, inputs.index + basis, inputs.last_price))


@variant("mark", "bitmex-fair-price")
@attrs.frozen
class BitmexFairPrice(_Stateless):
    """Rule: PRC-MRK-02. ``Fair = Index * (1 + F * t / T)`` with ``F`` the current funding
    rate, ``t`` the time until funding, ``T`` the funding interval; rounded with ``rounding``.
    """

    #: what the engine must feed it (ENG-MRK-01): the oracle rather than the index; the last trade price
    reads_oracle: ClassVar[bool] = False
    reads_last_price: ClassVar[bool] = False

    rounding: Rounding = Rounding.HALF_UP
    reading: str = ""

    def mark(self, state: MarkState, inputs: MarkInputs) -> Price | None:
        if inputs.index is None:
            return None
        return Price(
            funding_basis_price(
                inputs.index, inputs.funding_rate, inputs.seconds_to_funding, inputs.funding_interval_s,
                self.rounding,
            )
        )


@variant("mark", "hyperliquid-median3")
@attrs.frozen
class HyperliquidMedian3(MarkModel):
    """Rules: PRC-MRK-03, PRC-EMA-01. The median of

    1. ``oracle + EMA_150s(mid - oracle)``;
    2. ``median(best bid, best ask, last trade)``;
    3. the weighted median of CEX perp marks;

    with only two of them available, ``EMA_30s(mid)`` is added as the third. Readings (the
    venue publishes none of these): a component whose inputs are missing is absent; with
    two values in the end the mark is their mean (half-even), with one it is that value,
    with none ``None``; EMAs follow PRC-EMA-01.
    """

    #: what the engine must feed it (ENG-MRK-01): the oracle rather than the index; the last trade price
    reads_oracle: ClassVar[bool] = True
    reads_last_price: ClassVar[bool] = True

    premium_ema_s: int = ranged(1, 86_400, default=150)
    mid_ema_s: int = ranged(1, 86_400, default=30)
    rounding: Rounding = Rounding.HALF_EVEN
    reading: str = ""

    def initial_state(self) -> MarkState:
        return MarkState(premium_ema=Ema(tau_s=self.premium_ema_s), mid_ema=Ema(tau_s=self.mid_ema_s))

    def observe(self, state: MarkState, now: int, inputs: MarkInputs) -> MarkState:
        o, b, a = inputs.index, inputs.best_bid, inputs.best_ask
        if b is None or a is None:
            return state
        mid_ema = ema_update(state.mid_ema or Ema(tau_s=self.mid_ema_s), now, b + a, 2)
        prem = state.premium_ema or Ema(tau_s=self.premium_ema_s)
        if o is not None:
            prem = ema_update(prem, now, b + a - 2 * o, 2)
        return attrs.evolve(state, premium_ema=prem, mid_ema=mid_ema)

    @implements("PRC-MRK-03")
    def components(self, state: MarkState, inputs: MarkInputs) -> list[int]:
        """Rule: PRC-MRK-03. The available mark components, in the order 1, 2, 3 (then the
        30 s mid EMA when exactly two were available)."""
        out: list[int] = []
        o = inputs.index
        prem = ema_value(state.premium_ema, self.rounding) if state.premium_ema is not None else None
        if o is not None and prem is not None:
            out.append(o + prem)
        b, a, last = inputs.best_bid, inputs.best_ask, inputs.last_price
        if b is not None and a is not None and last is not None:
            out.append(median3(b, a, last))
        cex = weighted_median(inputs.cex_marks)
        if cex is not None:
            out.append(cex)
        if len(out) == 2 and state.mid_ema is not None:
            mid = ema_value(state.mid_ema, self.rounding)
            if mid is not None:
                out.append(mid)
        return out

    def mark(self, state: MarkState, inputs: MarkInputs) -> Price | None:
        c = self.components(state, inputs)
        if len(c) == 3:
            return Price(median3(c[0], c[1], c[2]))
        if len(c) == 2:
            return Price(div_round(c[0] + c[1], 2, self.rounding))
        if len(c) == 1:
            return Price(c[0])
        return None


@variant("mark", "oracle")
@attrs.frozen
class OracleMark(_Stateless):
    """Rule: PRC-MRK-04. ``Mark = oracle price`` (dYdX v4, Drift v2): the ``index`` input."""

    #: what the engine must feed it (ENG-MRK-01): the oracle rather than the index; the last trade price
    reads_oracle: ClassVar[bool] = True
    reads_last_price: ClassVar[bool] = False

    reading: str = ""

    @implements("PRC-MRK-04")
    def mark(self, state: MarkState, inputs: MarkInputs) -> Price | None:
        return inputs.index


@variant("mark", "last-price")
@attrs.frozen
class LastPriceMark(_Stateless):
    """Rule: PRC-MRK-04. ``Mark = last trade price`` (user profiles and tests)."""

    #: what the engine must feed it (ENG-MRK-01): the oracle rather than the index; the last trade price
    reads_oracle: ClassVar[bool] = False
    reads_last_price: ClassVar[bool] = True

    reading: str = ""

    @implements("PRC-MRK-04")
    def mark(self, state: MarkState, inputs: MarkInputs) -> Price | None:
        return inputs.last_price


@variant("mark", "index-basis-ma")
@attrs.frozen
class IndexBasisMa(MarkModel):
    """Rules: PRC-MRK-05, PRC-EMA-01. ``Mark = Index + MA(basis)``, ``basis = (bid1 +
    ask1)/2 - Index`` over the last ``basis_points`` samples (Binance's Price2 alone).
    ``None`` without an index or a basis sample."""

    #: what the engine must feed it (ENG-MRK-01): the oracle rather than the index; the last trade price
    reads_oracle: ClassVar[bool] = False
    reads_last_price: ClassVar[bool] = False

    basis_points: int = ranged(1, 3600, default=30)
    sample_interval_s: int = ranged(1, 3600, default=1)
    rounding: Rounding = Rounding.HALF_EVEN
    reading: str = ""

    def initial_state(self) -> MarkState:
        return MarkState(basis=MovingAverage(window=self.basis_points, scale=2))

    def observe(self, state: MarkState, now: int, inputs: MarkInputs) -> MarkState:
        return BinanceMedian3(self.basis_points, self.sample_interval_s).observe(state, now, inputs)

    @implements("PRC-MRK-05")
    def mark(self, state: MarkState, inputs: MarkInputs) -> Price | None:
        if inputs.index is None or state.basis is None:
            return None
        basis = ma_value(state.basis, self.rounding)
        if basis is None:
            return None
        return Price(inputs.index + basis)
