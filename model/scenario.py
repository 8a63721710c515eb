"""Scenarios: a simulated trading day run through the exchange model (``perpspec run``).

A scenario file is either

- a **generator spec** (TOML, ``*.toml``): ``[scenario]`` names the profile and market,
  ``[generator]`` gives a seed and a handful of knobs (accounts, hours, volatility, a crash
  and a rebound); the event log is generated on the fly, deterministically from the seed; or
- an **event log** (JSON Lines, ``*.jsonl``) whose first line is a header record
  ``{"kind": "scenario", "name": ..., "profile": ..., "market": ...}`` followed by events in
  the format of spec/events.md.

Both are documented in spec/events.md ("Scenario files"). Everything is integer: prices
follow a seeded random walk (``random.Random(seed)`` integers, returns in 10^-8), and the
same spec always yields the same events, the same summary and byte-identical figures.

Rules: SCN-FILE-01, SCN-GEN-01, SCN-SUM-01 (file formats, the deterministic generator,
the summary and funding conservation).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
from perpspec.decoding import FieldError, check_int, describe, load_json_line, load_toml
from perpspec.errors import InputError, Place
from perpspec.numeric import Rounding, div_floor, round_to_step
from perpspec.tomlplaces import line_of
from perpspec.traceability import implements
from perpspec.units import RATE_DECIMALS, RATE_ONE, format_units, parse_units

#: The bundled scenario ``perpspec run`` uses without an argument.
DEFAULT_SCENARIO = "btc-volatile-day"

HOUR_MS = 3_600_000


@attrs.frozen
class GeneratorSpec:
    """``[generator]``: knobs of the simulated day (all integers or exact decimal strings).

    Times are in milliseconds of the event clock, rates in 10^-8 (``"0.05%"`` = 50000).
    """

    seed: int
    accounts: int
    hours: int
    start_time: int = 1_722_816_000_000  # 2024-08-05 00:00 UTC, a volatile day
    start_price: str = "60000"
    tick_seconds: int = 10
    volatility: str = "0.05%"
    trades_per_hour: int = 600
    max_trade: str = "0.5"
    deposit: str = "20000"
    leverage: int = 10
    crash_hour: int = 9
    crash_minutes: int = 60
    crash_depth: str = "15%"
    rebound_minutes: int = 180
    rebound: str = "12%"
    sample_seconds: int = 60
    funding_hours: int = 8
    maker_fee: str | None = None  # None: the profile's [fees] schedule
    taker_fee: str | None = None

    def check(self) -> list[tuple[str, str]]:
        """Rule: SCN-FILE-01. Semantic checks of the integer knobs: (field, message) for each
        problem (the decimal knobs are checked by :func:`knobs`, with the profile's scales)."""
        out: list[tuple[str, str]] = []
        for name in ("seed",):
            if getattr(self, name) < 0:
                out.append((name, "must be >= 0"))
        for name in ("accounts",):
            if getattr(self, name) < 2:
                out.append((name, "must be at least 2 (trades need two sides)"))
        for name in ("hours", "tick_seconds", "sample_seconds", "funding_hours", "leverage"):
            if getattr(self, name) < 1:
                out.append((name, "must be >= 1"))
        for name in ("trades_per_hour", "crash_minutes", "rebound_minutes", "crash_hour", "start_time"):
            if getattr(self, name) < 0:
                out.append((name, "must be >= 0"))
        length = self.hours * 3600
        if self.hours >= 1 and self.tick_seconds > length:
            out.append(("tick_seconds", f"must not exceed the scenario's length (hours * 3600 = {length} s)"))
        return out


@attrs.frozen
class Scenario:
    """A loaded scenario: where its events come from, and under which profile."""

    name: str
    profile: str
    market: str
    source: str
    generator: GeneratorSpec | None = None
    log: Path | None = None
    description: str = ""
    lines: Mapping[str, int | None] = attrs.field(factory=dict)

    def place(self, field: str) -> Place:
        """Where ``field`` (e.g. ``scenario.market``) is in the scenario file."""
        return Place(self.source, self.lines.get(field), field)


@attrs.frozen
class Knobs:
    """A :class:`GeneratorSpec` converted to integer units of the profile's scales."""

    start_price: int
    tick: int
    lot: int
    volatility: int
    max_trade: int
    deposit: int
    crash_depth: int
    rebound: int
    maker_fee: int | None
    taker_fee: int | None


def bundled_scenarios() -> list[str]:
    """Names of the bundled scenario specs (``model/examples/scenarios/*.toml``)."""
    return sorted(p.stem for p in _bundled_dir().glob("*.toml"))


def _bundled_dir() -> Path:
    return Path(__file__).resolve().parent / "examples" / "scenarios"


@implements("SCN-FILE-01")
def load_scenario(ref: str | Path | None) -> Scenario:
    """Rule: SCN-FILE-01. A bundled scenario by name, or a user file (``.toml`` or ``.jsonl``)."""
    if ref is None:
        ref = DEFAULT_SCENARIO
    if isinstance(ref, str) and ref in bundled_scenarios():
        path = _bundled_dir() / f"{ref}.toml"
        return _load_toml(path, f"examples/scenarios/{ref}.toml")
    path = Path(ref)
    if not path.is_file():
        names = ", ".join(bundled_scenarios())
        raise InputError(Place(str(ref)), f"no such scenario: neither a bundled one ({names}) nor a file")
    if path.suffix == ".toml":
        return _load_toml(path, str(path))
    return _load_log_header(path)


_SCENARIO_KEYS = {"name", "profile", "market", "description"}


def _load_toml(path: Path, shown: str) -> Scenario:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Place(shown), f"cannot read the scenario file: {exc}") from None
    doc = load_toml(text, shown)
    data, lines = doc.data, doc.lines

    def place(field: str) -> Place:
        return Place(shown, line_of(lines, field), field)

    for key in data:
        if key not in ("scenario", "generator"):
            raise InputError(place(key), f"unknown section [{key}]; expected [scenario] and [generator]")
    head = data.get("scenario")
    if not isinstance(head, dict):
        raise InputError(Place(shown), "missing section [scenario] (name, profile, market)")
    for key, value in head.items():
        if key not in _SCENARIO_KEYS:
            raise InputError(
                place(f"scenario.{key}"), f"unknown key; expected one of: {', '.join(sorted(_SCENARIO_KEYS))}"
            )
        if not isinstance(value, str):
            raise InputError(place(f"scenario.{key}"), f"expected a string, got {describe(value, 'TOML')}")
    for key in ("name", "profile", "market"):
        if key not in head:
            raise InputError(place("scenario"), f"missing required key '{key}'")
    gen = data.get("generator")
    if not isinstance(gen, dict):
        raise InputError(Place(shown), "missing section [generator] (seed, accounts, hours, ...)")
    spec = _structure_generator(gen, place)
    return Scenario(
        name=head["name"],
        profile=head["profile"],
        market=head["market"],
        source=shown,
        generator=spec,
        description=head.get("description", ""),
        lines={
            f"{part}.{k}": line_of(lines, f"{part}.{k}")
            for part in ("scenario", "generator")
            for k in data[part]
        },
    )


def _structure_generator(gen: dict[str, Any], place: Any) -> GeneratorSpec:
    fields = {f.name: f for f in attrs.fields(GeneratorSpec)}
    kwargs: dict[str, Any] = {}
    for key, value in gen.items():
        if key not in fields:
            raise InputError(place(f"generator.{key}"), f"unknown key; expected one of: {', '.join(fields)}")
        want = int if fields[key].type in (int, "int") else str
        if type(value) is not want:
            hint = ' (write decimals as strings, e.g. "0.5%"; perpspec is exact)' if want is str else ""
            raise InputError(
                place(f"generator.{key}"),
                f"expected {'an integer' if want is int else 'a decimal string'}, "
                f"got {describe(value, 'TOML')}{hint}",
            )
        if isinstance(value, int):
            try:
                check_int(value, f"generator.{key}")
            except FieldError as exc:
                raise InputError(place(exc.field), exc.message) from None
        kwargs[key] = value
    for key in ("seed", "accounts", "hours"):
        if key not in kwargs:
            raise InputError(place("generator"), f"missing required key '{key}'")
    spec = GeneratorSpec(**kwargs)
    for field, msg in spec.check():
        raise InputError(place(f"generator.{field}"), msg)
    return spec


def _load_log_header(path: Path) -> Scenario:
    try:
        with path.open("rb") as fh:
            first = fh.readline()
    except OSError as exc:
        raise InputError(Place(str(path)), f"cannot read the scenario file: {exc}") from None
    head = load_json_line(first, str(path), 1)
    if not isinstance(head, dict) or head.get("kind") != "scenario":
        raise InputError(
            Place(str(path), 1, "kind"),
            "the first line of a scenario log must be a header "
            '{"kind": "scenario", "name": ..., "profile": ..., "market": ...}',
        )
    for key in head:
        if key not in _SCENARIO_KEYS | {"kind", "version"}:
            raise InputError(Place(str(path), 1, key), "unknown header key")
    for key in ("name", "profile", "market"):
        if not isinstance(head.get(key), str):
            raise InputError(Place(str(path), 1, key), "missing or not a string")
    return Scenario(
        name=head["name"],
        profile=head["profile"],
        market=head["market"],
        source=str(path),
        log=path,
        description=str(head.get("description", "")),
        lines={f"scenario.{k}": 1 for k in head},
    )


#: Knob ranges (rule SCN-FILE-01), in the knob's units after conversion: (low, high, what);
#: ``None`` is unbounded. Prices, deposits and trade sizes must be positive (a zero start
#: price divided the premium by zero); per-tick returns, the crash and fee rates are rates.
_RATE_100 = RATE_ONE  # 100% in 10^-8
KNOB_RANGES: Mapping[str, tuple[int | None, int | None, str]] = {
    "start_price": (1, None, "must be > 0"),
    "deposit": (1, None, "must be > 0"),
    "max_trade": (1, None, "must be > 0 (at least one lot)"),
    "volatility": (0, _RATE_100, "must be between 0% and 100%"),
    "crash_depth": (0, _RATE_100, "must be between 0% and 100%"),
    "rebound": (0, 100 * _RATE_100, "must be between 0% and 10000%"),
    "maker_fee": (-_RATE_100 + 1, _RATE_100 - 1, "must be above -100% and below 100%"),
    "taker_fee": (-_RATE_100 + 1, _RATE_100 - 1, "must be above -100% and below 100%"),
}


@implements("SCN-FILE-01")
def knobs(
    spec: GeneratorSpec,
    profile: Any,
    market: str,
    source: str,
    place: Callable[[str], Place] | None = None,
) -> Knobs:
    """Rules: UNT-DEC-01, SCN-FILE-01. Convert the decimal strings of ``spec`` with the
    profile's scales and check each against :data:`KNOB_RANGES` (an :class:`InputError`
    naming the ``generator.*`` key, at its line when ``place`` knows it)."""
    sc = profile.scales
    m = profile.market(market)

    def where(name: str) -> Place:
        return place(f"generator.{name}") if place is not None else Place(source, None, f"generator.{name}")

    def conv(name: str, decimals: int) -> int:
        raw = getattr(spec, name)
        try:
            value = parse_units(raw, decimals)
        except ValueError as exc:
            raise InputError(where(name), str(exc)) from None
        low, high, what = KNOB_RANGES[name]
        if (low is not None and value < low) or (high is not None and value > high):
            raise InputError(where(name), f"{what}, got {raw!r}")
        return value

    max_trade = conv("max_trade", sc.size_decimals)
    if max_trade < int(m.lot):
        raise InputError(
            where("max_trade"), f"is below one lot of {market} ({format_units(int(m.lot), sc.size_decimals)})"
        )
    return Knobs(
        start_price=conv("start_price", sc.price_decimals),
        tick=int(m.tick),
        lot=int(m.lot),
        volatility=conv("volatility", RATE_DECIMALS),
        max_trade=max_trade,
        deposit=conv("deposit", sc.money_decimals),
        crash_depth=conv("crash_depth", RATE_DECIMALS),
        rebound=conv("rebound", RATE_DECIMALS),
        maker_fee=None if spec.maker_fee is None else conv("maker_fee", RATE_DECIMALS),
        taker_fee=None if spec.taker_fee is None else conv("taker_fee", RATE_DECIMALS),
    )


@attrs.frozen
class PricePoint:
    """One mark/index tick of the simulated day."""

    time: int
    index: int
    mark: int


@implements("SCN-GEN-01")
def price_path(spec: GeneratorSpec, k: Knobs) -> Iterator[PricePoint]:
    """Rule: SCN-GEN-01. The seeded integer random walk of index and mark.

    Each tick the index moves by a return ``r`` (10^-8) drawn uniformly from
    ``[-volatility, +volatility]`` plus a drift: ``-crash_depth / n`` per tick for the ``n``
    ticks of the crash, ``+rebound / m`` per tick for the ``m`` ticks after it.
    ``index' = index + floor(index * r / 10^8)``, rounded to the tick (half-even).
    The mark is the index plus a mean-reverting premium ``p' = p - floor(p/8) + noise + bias/8``
    (noise uniform within ``volatility/2``, ``2 volatility`` during the crash; bias
    ``-8 volatility`` during the crash and ``-2 volatility`` during the rebound, so the mark
    trades at a discount while the market falls), rounded to the tick. Integer arithmetic only.
    """
    rng = random.Random(spec.seed)
    step_ms = spec.tick_seconds * 1000
    n = div_floor(spec.hours * 3600, spec.tick_seconds)
    crash_start = div_floor(spec.crash_hour * 3600, spec.tick_seconds)
    crash_n = max(1, div_floor(spec.crash_minutes * 60, spec.tick_seconds))
    reb_n = max(1, div_floor(spec.rebound_minutes * 60, spec.tick_seconds))
    index = k.start_price
    premium = 0  # 10^-8 of the index
    for i in range(n + 1):
        if i > 0:
            r = rng.randint(-k.volatility, k.volatility)
            crashing = crash_start <= i < crash_start + crash_n
            if crashing:
                r -= div_floor(k.crash_depth, crash_n)
            elif crash_start + crash_n <= i < crash_start + crash_n + reb_n:
                r += div_floor(k.rebound, reb_n)
            index = max(
                k.tick, round_to_step(index + div_floor(index * r, RATE_ONE), k.tick, Rounding.HALF_EVEN)
            )
            rebounding = crash_start + crash_n <= i < crash_start + crash_n + reb_n
            width = k.volatility * 2 if crashing else div_floor(k.volatility, 2)
            bias = -8 * k.volatility if crashing else (-2 * k.volatility if rebounding else 0)
            premium = premium - div_floor(premium, 8) + rng.randint(-width, width) + div_floor(bias, 8)
        mark = max(
            k.tick, round_to_step(index + div_floor(index * premium, RATE_ONE), k.tick, Rounding.HALF_EVEN)
        )
        yield PricePoint(spec.start_time + i * step_ms, index, mark)


# --------------------------------------------------------------------------- generating


def account_id(i: int) -> str:
    """The id of the ``i``-th generated account (``acct-00001``)."""
    return f"acct-{i:05d}"


@implements("SCN-GEN-01")
def generate_events(sc: Scenario, profile: Any) -> Iterator[Any]:
    """Rule: SCN-GEN-01. The event log of a generator spec, deterministic in the seed.

    Order at each tick ``t`` (every ``tick_seconds``): at the start, a deposit of ``deposit``
    and ``set_leverage(leverage)`` per account; a ``funding_settlement`` (rate computed by
    the profile's funding model) every ``funding_hours``; ``index_price`` and ``mark_price``
    from :func:`price_path`; a ``funding_sample`` every ``sample_seconds`` with premium
    ``floor((mark - index) * 10^8 / index)``; then the tick's share of ``trades_per_hour``
    fills at ``t + 1, t + 2, ...`` ms. A fill picks two distinct accounts, a size of
    1..``max_trade`` lots and a price within 3 ticks of the mark; the generator keeps its own
    book of positions and only emits a fill that keeps both sides' notional within 70% of
    ``deposit * leverage`` (else it swaps the sides or skips), except one fill in 50 that
    ignores the limit, so the run also exercises the initial-margin rejection (ENG-IMR-01).
    """
    from perpspec.events import (
        Deposit,
        Fill,
        FundingSample,
        FundingSettlement,
        IndexPrice,
        MarkPrice,
        SetLeverage,
    )

    spec = sc.generator
    if spec is None:
        raise ValueError("not a generator scenario")
    k = knobs(spec, profile, sc.market, sc.source, sc.place)
    sym = sc.market
    scales = profile.scales
    rng = random.Random(spec.seed + 1)
    n = spec.accounts
    ids = [account_id(i) for i in range(n)]
    pos = [0] * n
    cap = div_floor(k.deposit * spec.leverage * 7, 10)
    shift = scales.size_decimals + scales.price_decimals - scales.money_decimals
    max_lots = max(1, div_floor(k.max_trade, k.lot))
    funding_ms = spec.funding_hours * HOUR_MS
    sample_ms = spec.sample_seconds * 1000
    tick_ms = spec.tick_seconds * 1000
    emitted = 0
    # maker_fee / taker_fee given: every fill carries them (EVT-TRD-01 fee-rate fields); a
    # knob left out takes the profile's rate for that side (FEE-MT-01)
    own_fees = k.maker_fee is not None or k.taker_fee is not None
    maker_rate, taker_rate = k.maker_fee, k.taker_fee

    def money(size: int, price: int) -> int:
        n_ = abs(size) * price
        return n_ * 10 ** (-shift) if shift < 0 else div_floor(n_, 10**shift)

    def fits(i: int, delta: int, price: int) -> bool:
        after = pos[i] + delta
        return abs(after) <= abs(pos[i]) or money(after, price) <= cap

    for i, pt in enumerate(price_path(spec, k)):
        t = pt.time
        if i == 0:
            for aid in ids:
                yield Deposit(t, aid, k.deposit)
            for aid in ids:
                yield SetLeverage(t, aid, sym, spec.leverage)
        elapsed = t - spec.start_time
        if i > 0 and elapsed % funding_ms == 0:
            yield FundingSettlement(t, sym)
        yield IndexPrice(t, sym, pt.index)
        yield MarkPrice(t, sym, pt.mark)
        if elapsed % sample_ms == 0:
            yield FundingSample(t, sym, div_floor((pt.mark - pt.index) * RATE_ONE, pt.index))
        due = div_floor(spec.trades_per_hour * (i + 1) * spec.tick_seconds, 3600) - emitted
        for j in range(min(due, tick_ms - 1)):
            emitted += 1
            b, s = rng.sample(range(n), 2)
            qty = k.lot * rng.randint(1, max_lots)
            price = pt.mark + k.tick * rng.randint(-3, 3)
            if price <= 0:
                price = pt.mark
            maker = "buyer" if rng.randint(0, 1) else "seller"
            if rng.randint(0, 49) != 0:
                if not (fits(b, qty, price) and fits(s, -qty, price)):
                    b, s = s, b
                    if not (fits(b, qty, price) and fits(s, -qty, price)):
                        continue
                pos[b] += qty
                pos[s] -= qty
            if own_fees:
                buyer_rate, seller_rate = (
                    (maker_rate, taker_rate) if maker == "buyer" else (taker_rate, maker_rate)
                )
                yield Fill(
                    t + 1 + j, sym, qty, price, ids[b], ids[s], maker, "BOTH", "BOTH", buyer_rate, seller_rate
                )
            else:
                yield Fill(t + 1 + j, sym, qty, price, ids[b], ids[s], maker)


def write_log(sc: Scenario, profile: Any, path: Path) -> int:
    """Write a generator scenario as a JSON Lines scenario log (header + events); the count."""
    import orjson
    from perpspec.events import encode_event

    count = 0
    with path.open("wb") as fh:
        head = {"kind": "scenario", "version": 1, "name": sc.name, "profile": sc.profile, "market": sc.market}
        fh.write(orjson.dumps(head) + b"\n")
        for ev in generate_events(sc, profile):
            fh.write(encode_event(ev, profile) + b"\n")
            count += 1
    return count


# --------------------------------------------------------------------------- running


def scenario_events(
    sc: Scenario, profile: Any, progress: Callable[[int], None] | None = None
) -> Iterator[Any]:
    """The events of a scenario: generated from its spec, or read from its log
    (``progress(bytes read)`` every few thousand lines of a log)."""
    if sc.generator is not None:
        yield from generate_events(sc, profile)
        return
    from perpspec.oracle.replay import Expect, iter_log

    assert sc.log is not None
    for _line, item in iter_log(sc.log, profile, progress):
        if not isinstance(item, Expect):
            yield item
