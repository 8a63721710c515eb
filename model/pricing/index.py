"""Index price: weighted constituents with an outlier guard and a stale-feed rule.

Rules: PRC-IDX-01, PRC-IDX-02, PRC-IDX-03.

The index is computed from a snapshot of constituent quotes (one price per source, its
configured weight and the time of its last update) at an explicit time ``now``:

1. PRC-IDX-03: a source whose last update is more than ``stale_after_s`` seconds old gets
   weight 0; a source with configured weight 0 takes no part either. If no source is left,
   the result is :class:`NoIndex` (never a silent 0).
2. PRC-IDX-02: the plain median ``M`` of the fresh prices is formed (the exact mean of the
   two middle prices for an even count). A source deviates when
   ``|p - M| > outlier * M``, compared exactly by cross-multiplication. One deviating source
   is dropped; if more than one deviates, the index is the median itself.
3. PRC-IDX-01: otherwise the index is the weighted mean
   ``sum(w_i * p_i) / sum(w_i)`` over the kept sources, weights renormalised by that
   division, rounded with the profile's ``rounding`` (default half-even).
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from typing import Any

import attrs
from perpspec.numeric import Cond, Rounding, Term, abs_, div_round
from perpspec.quantities import Price, Rate
from perpspec.ranges import ranged
from perpspec.registry import Variant, interface, variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


def _non_negative(_inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
    if value < 0:
        raise ValueError(f"{attr.name} must not be negative, got {value}")


def _positive(_inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
    if value <= 0:
        raise ValueError(f"{attr.name} must be positive, got {value}")


@attrs.frozen
class IndexSource:
    """One constituent quote: its price (price units), its configured weight (any integer
    unit, e.g. a Rate; only ratios matter) and the time of its last update (seconds)."""

    price: Price = attrs.field(validator=_positive)
    weight: int = attrs.field(validator=_non_negative)
    updated_at: int = 0


class IndexMethod(enum.Enum):
    """How an :class:`IndexPrice` was formed."""

    WEIGHTED = "weighted"  #: PRC-IDX-01 weighted mean (at most one outlier dropped)
    MEDIAN = "median"  #: PRC-IDX-02 fallback: more than one source deviates


@attrs.frozen
class IndexPrice:
    """An index value, with the sources it used (indices into the input sequence)."""

    price: Price
    method: IndexMethod
    used: tuple[int, ...]
    outliers: tuple[int, ...] = ()
    stale: tuple[int, ...] = ()


@attrs.frozen
class NoIndex:
    """Rule: PRC-IDX-03. No fresh constituent with a positive weight: there is no index."""

    reason: str
    stale: tuple[int, ...] = ()


@implements("PRC-IDX-03")
def is_stale(updated_at: Term, now: Term, stale_after_s: Term) -> Cond:
    """Rule: PRC-IDX-03. A feed is stale when ``now - updated_at > stale_after_s``."""
    return now - updated_at > stale_after_s


@implements("PRC-IDX-02")
def deviates(price: Term, median_twice: Term, outlier: Term) -> Cond:
    """Rule: PRC-IDX-02. ``|p - M| > outlier * M`` with ``M = median_twice / 2`` and
    ``outlier`` a Rate, compared exactly: ``|2p - 2M| * RATE_ONE > outlier * 2M``."""
    return abs_(2 * price - median_twice) * RATE_ONE > outlier * median_twice


@implements("PRC-IDX-01")
def weighted_mean(prices: Sequence[Term], weights: Sequence[Term], rounding: Rounding) -> Term:
    """Rule: PRC-IDX-01. :math:`\\sum w_i p_i / \\sum w_i`, rounded with ``rounding``.

    Dividing by the sum of the kept weights renormalises them; the caller guarantees that
    sum is positive.
    """
    num: Term = 0
    den: Term = 0
    for p, w in zip(prices, weights, strict=True):
        num = num + w * p
        den = den + w
    return div_round(num, den, rounding)


def median_twice(prices: Sequence[int]) -> int:
    """Twice the plain median of a non-empty list (an integer even for an even count)."""
    s = sorted(prices)
    n = len(s)
    mid = n // 2
    return 2 * s[mid] if n % 2 == 1 else s[mid - 1] + s[mid]


#: Binance: a source more than 5% from the median is an outlier.
DEFAULT_OUTLIER = Rate(5_000_000)


@interface("index")
class IndexModel(Variant):
    """The declared interface of mechanism ``index``: the index of a set of constituent prices
    (ENG-IDX-01)."""

    __slots__ = ()

    @abc.abstractmethod
    def index(
        self, sources: Sequence[IndexSource], now: int, ticks_per_second: int = 1
    ) -> IndexPrice | NoIndex:
        """The index at time ``now`` from ``sources``; :class:`NoIndex` (with its reason) when
        the variant finds none. ``now`` and the sources' ``updated_at`` count
        ``ticks_per_second`` per second."""
        raise NotImplementedError


@variant("index", "weighted-median-guard")
@attrs.frozen
class WeightedMedianGuard(IndexModel):
    """Rules: PRC-IDX-01, PRC-IDX-02, PRC-IDX-03.

    ``outlier``: deviation from the median beyond which a source is an outlier (Rate,
    Binance 5%). ``stale_after_s``: seconds without an update after which a feed gets
    weight 0 (Binance 10 s). ``rounding``: the rounding of the weighted mean.
    """

    outlier: Rate = ranged(1, RATE_ONE, default=DEFAULT_OUTLIER)
    stale_after_s: int = ranged(0, default=10)
    rounding: Rounding = Rounding.HALF_EVEN

    def index(
        self, sources: Sequence[IndexSource], now: int, ticks_per_second: int = 1
    ) -> IndexPrice | NoIndex:
        """The index at time ``now`` (PRC-IDX-01..03); :class:`NoIndex` when nothing is fresh.
        ``now`` and the sources' ``updated_at`` count ``ticks_per_second`` per second (1:
        seconds; the engine passes milliseconds with 1000, so staleness stays exact)."""
        return compute_index(sources, now, self, ticks_per_second)


@implements("PRC-IDX-01", "PRC-IDX-02", "PRC-IDX-03")
def compute_index(
    sources: Sequence[IndexSource], now: int, params: WeightedMedianGuard, ticks_per_second: int = 1
) -> IndexPrice | NoIndex:
    """Rules: PRC-IDX-01, PRC-IDX-02, PRC-IDX-03. See the module docstring."""
    for i, s in enumerate(sources):
        if s.updated_at > now:
            raise ValueError(f"source {i} was updated at {s.updated_at}, after now={now}")
    limit = params.stale_after_s * ticks_per_second
    stale = tuple(i for i, s in enumerate(sources) if is_stale(s.updated_at, now, limit))
    fresh = [i for i, s in enumerate(sources) if i not in stale and s.weight > 0]
    if not fresh:
        why = "every constituent is stale or has weight 0" if sources else "no constituents"
        return NoIndex(reason=why, stale=stale)
    m2 = median_twice([sources[i].price for i in fresh])
    outliers = tuple(i for i in fresh if deviates(sources[i].price, m2, params.outlier))
    if len(outliers) > 1:
        ordered = sorted(fresh, key=lambda i: sources[i].price)
        n = len(ordered)
        middle = (ordered[n // 2],) if n % 2 == 1 else (ordered[n // 2 - 1], ordered[n // 2])
        return IndexPrice(
            price=Price(div_round(m2, 2, params.rounding)),
            method=IndexMethod.MEDIAN,
            used=tuple(sorted(middle)),
            outliers=outliers,
            stale=stale,
        )
    kept = [i for i in fresh if i not in outliers]
    price = weighted_mean(
        [sources[i].price for i in kept], [sources[i].weight for i in kept], params.rounding
    )
    return IndexPrice(
        price=Price(price), method=IndexMethod.WEIGHTED, used=tuple(kept), outliers=outliers, stale=stale
    )
