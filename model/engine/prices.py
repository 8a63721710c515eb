"""Prices: published mark, index and oracle prices, book snapshots, and the mark the profile's
``[mark]`` variant computes from them (the model's mark).

Rules: ENG-UNK-01, ENG-AMT-01, ENG-IDX-01, ENG-MRK-01, ENG-BOOK-01.
"""

from __future__ import annotations

from typing import Any, cast

from perpspec.engine.common import Handler, Output, Rejected, handles, market_spec, with_markets
from perpspec.events import BookSnapshot, IndexPrice, MarkPrice, OraclePrice, PriceOut
from perpspec.funding import DEFAULT_INTERVAL_MS
from perpspec.numeric import div_floor
from perpspec.quantities import Price, Rate
from perpspec.state import Exchange, Market, market_with
from perpspec.traceability import implements


@implements("ENG-UNK-01", "ENG-AMT-01", "ENG-IDX-01", "ENG-MRK-01")
def _price_handler(field: str) -> Handler:
    """Rules: ENG-UNK-01, ENG-AMT-01, ENG-IDX-01, ENG-MRK-01. The handler of the price events
    that set ``field`` (``index``, ``mark`` or ``oracle``): see ``record_price`` below."""
    if field not in ("index", "mark", "oracle"):
        raise ValueError(f"no price field {field!r}")

    def record_price(ex: Exchange, ev: Any) -> tuple[Exchange, list[Output]]:
        """Rules: ENG-UNK-01, ENG-AMT-01, ENG-IDX-01, ENG-MRK-01. Record a price of a market.

        A published mark takes precedence over the model's for good; an index or oracle price
        feeds the profile's ``[mark]`` variant, which recomputes the mark (ENG-MRK-01). An
        ``index_price`` with ``sources`` is computed by the ``[index]`` variant (ENG-IDX-01).
        """
        market_spec(ex, ev.symbol)
        price = ev.price
        if field == "index" and ev.sources is not None:
            price = _index_from_sources(ex, ev)
        if price is None or price <= 0:
            raise Rejected("ENG-AMT-01", f"a price must be positive, got {price}")
        old = ex.markets[ev.symbol]
        published = field == "mark"
        m = market_with(
            old,
            index=price if field == "index" else old.index,
            mark=price if published else old.mark,
            oracle=price if field == "oracle" else old.oracle,
            mark_source=PUBLISHED if published else old.mark_source,
        )
        if not published:
            m = model_mark(ex, m, ev.t, observe=True)
        markets = dict(ex.markets)
        markets[ev.symbol] = m
        return with_markets(ex, ev.t, markets), [
            PriceOut(ev.t, ev.symbol, m.index, m.mark, m.oracle, m.mark_source)
        ]

    return record_price


#: One handler per price event (a published mark, an index, an oracle price).
index_price = handles(IndexPrice)(_price_handler("index"))
oracle_price = handles(OraclePrice)(_price_handler("oracle"))
mark_price = handles(MarkPrice)(_price_handler("mark"))


@implements("ENG-IDX-01")
def _index_from_sources(ex: Exchange, ev: IndexPrice) -> int:
    """Rule: ENG-IDX-01. The index of an ``index_price`` event's constituents, computed by the
    profile's ``[index]`` variant at the event time: staleness is measured in milliseconds
    (a source is stale when ``t - updated_at > stale_after_s * 1000``); a source updated after
    the event, a profile without an ``[index]`` variant and *no index* (PRC-IDX-03) are rejected.
    """
    from perpspec.pricing.index import IndexSource, NoIndex

    model = ex.profile.index_model
    if model is None:
        raise Rejected("ENG-IDX-01", "this profile has no [index] variant: give the index price")
    sources = ev.sources or ()
    for i, (_p, _w, u) in enumerate(sources):
        if u > ev.t:
            raise Rejected(
                "ENG-IDX-01", f"constituent {i} was updated at {u} ms, after the event time {ev.t} ms"
            )
    result = model.index([IndexSource(Price(p), w, u) for p, w, u in sources], ev.t, ticks_per_second=1000)
    if isinstance(result, NoIndex):
        raise Rejected("ENG-IDX-01", f"no index for {ev.symbol}: {result.reason}")
    return int(result.price)


# --------------------------------------------------------------------------- the model's mark

#: ``Market.mark_source`` values (rule ENG-MRK-01).
PUBLISHED = "published"
MODEL = "model"


@implements("ENG-MRK-01")
def funding_interval_ms(ex: Exchange, m: Market) -> int:
    """Rule: ENG-MRK-01. The funding interval of ``m`` (ms) that a mark variant reads: the
    funding variant's ``funding_interval_ms`` of the market's carried funding state (a variant
    whose interval changes carries it, FND-INT-02), else 8 hours without a funding variant."""
    model = ex.profile.funding_model
    return DEFAULT_INTERVAL_MS if model is None else model.funding_interval_ms(m.funding.extra)


@implements("ENG-MRK-01")
def mark_inputs(ex: Exchange, m: Market, t: int, reads_oracle: bool) -> Any:
    """Rule: ENG-MRK-01. The :class:`~perpspec.pricing.mark.MarkInputs` of ``m`` at ``t``:
    ``index`` is the index (the oracle, else the index, for oracle-based variants); last trade
    price; top of the last book; ``funding_rate`` the last settled rate (0 before the first);
    ``funding_interval_s`` = :func:`funding_interval_ms` / 1000 and ``seconds_to_funding`` =
    ``floor((T - t mod T) / 1000)`` with ``T`` in ms (settlements on multiples of the interval
    since the epoch, as the venues' 00:00/08:00/16:00 UTC schedule)."""
    from perpspec.pricing.mark import MarkInputs

    book = m.book
    bid = ask = None
    if book is not None:
        bid = book[0][0][0] if book[0] else None
        ask = book[1][0][0] if book[1] else None
    index = (m.oracle if m.oracle is not None else m.index) if reads_oracle else m.index
    interval = funding_interval_ms(ex, m)
    rate = m.funding.last_rate
    # state holds plain ints; MarkInputs names their units (Price, Rate) for the reader
    return MarkInputs(
        index=cast(Price | None, index),
        last_price=cast(Price | None, m.last_price),
        best_bid=cast(Price | None, bid),
        best_ask=cast(Price | None, ask),
        funding_rate=Rate(0 if rate is None else rate),
        seconds_to_funding=div_floor(interval - t % interval, 1000),
        funding_interval_s=div_floor(interval, 1000),
    )


@implements("ENG-MRK-01")
def model_mark(ex: Exchange, m: Market, t: int, observe: bool) -> Market:
    """Rule: ENG-MRK-01. ``m`` with its ``[mark]`` variant fed and its mark recomputed.

    With ``observe`` (index, oracle and book events) the variant takes a sample, at most one
    per ``sample_interval_s`` seconds for variants that name one (the first event at least that
    long after the previous sample), at ``floor(t / 1000)`` seconds; a fill only recomputes the
    mark (its last price), and only for variants that read it. The mark is replaced when the
    variant gives one (``None``: the old mark stays); a published mark is never replaced.
    """
    model = ex.profile.mark_model
    if model is None or m.mark_source == PUBLISHED:
        return m
    inputs = mark_inputs(ex, m, t, model.reads_oracle)
    state = m.mark_state if m.mark_state is not None else model.initial_state()
    sampled_at = m.mark_sampled_at
    if observe:
        interval = model.sample_interval_s
        if sampled_at is None or interval <= 0 or t - sampled_at >= interval * 1000:
            new_state = model.observe(state, div_floor(t, 1000), inputs)
            if new_state is not state:
                state, sampled_at = new_state, t
    mark: int | None = model.mark(state, inputs)
    source = m.mark_source
    if mark is not None:
        source = MODEL
    else:
        mark = m.mark
    if state is m.mark_state and mark == m.mark and source == m.mark_source:
        if sampled_at == m.mark_sampled_at:
            return m
    return market_with(m, mark=mark, mark_state=state, mark_source=source, mark_sampled_at=sampled_at)


@handles(BookSnapshot)
@implements("ENG-BOOK-01", "ENG-MRK-01")
def book(ex: Exchange, ev: BookSnapshot) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-BOOK-01, ENG-MRK-01. Store a book snapshot: bids strictly descending, asks
    strictly ascending, positive sizes, not crossed (best bid < best ask); it feeds the
    ``[mark]`` variant."""
    market_spec(ex, ev.symbol)
    for name, levels, desc in (("bids", ev.bids, True), ("asks", ev.asks, False)):
        for i, (p, q) in enumerate(levels):
            if p <= 0 or q <= 0:
                raise Rejected("ENG-BOOK-01", f"{name}[{i}] has a non-positive price or size")
            if i and ((p >= levels[i - 1][0]) if desc else (p <= levels[i - 1][0])):
                raise Rejected(
                    "ENG-BOOK-01",
                    f"{name} must be strictly {'descending' if desc else 'ascending'} in price (level {i})",
                )
    if ev.bids and ev.asks and ev.bids[0][0] >= ev.asks[0][0]:
        raise Rejected("ENG-BOOK-01", f"crossed book: best bid {ev.bids[0][0]} >= best ask {ev.asks[0][0]}")
    m = market_with(ex.markets[ev.symbol], book=(tuple(ev.bids), tuple(ev.asks)))
    markets = dict(ex.markets)
    markets[ev.symbol] = model_mark(ex, m, ev.t, observe=True)
    return with_markets(ex, ev.t, markets), []
