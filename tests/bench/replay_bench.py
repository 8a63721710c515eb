"""Replay benchmark (a script, not collected by pytest).

Generates a synthetic binance-usdm BTCUSDT day as JSON Lines (default: 100,000 accounts,
1,000,000 fills, 86,400 mark ticks, a funding sample every minute and a settlement every
8 h), then replays it through ``decode_line`` + ``step`` and prints events/s per event kind
(decode and step separately) and overall, the CPU time of each funding settlement with the
number of holders it paid, and the peak resident memory. Optionally profiles the replay with
cProfile and times the bundled ``perpspec run`` scenario (target < 60 s).

Timing is CPU time (``process_time_ns``; the machine may be shared) of *batches*, not of
single events (one timer call costs about 0.7 us): the lines are read in chunks of
:data:`CHUNK`; each chunk's lines of one kind are decoded as one timed batch, and each run of
consecutive same-kind events is stepped as one timed batch (a settlement is timed alone).
``--repeat N`` replays N times and reports the best run.

    python tests/bench/replay_bench.py                 # full size (~1.2M events, a minute or two)
    python tests/bench/replay_bench.py --scale 0.01    # 1,000 accounts, 10,000 fills, 864 ticks
    python tests/bench/replay_bench.py --scale 0.01 --cprofile 20000 --scenario

    python tests/bench/replay_bench.py --crash         # 100,000 levered longs, a 30% fall in 10 min

The target is >= 200,000 events/s on one core.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from itertools import islice
from pathlib import Path

from perpspec.engine import step
from perpspec.events import decode_line
from perpspec.profiles import load_profile
from perpspec.state import initial_exchange
from perpspec.units import format_units

DAY_MS = 86_400_000
EIGHT_HOURS_MS = 8 * 3_600_000


def generate(path: Path, accounts: int, fills: int, ticks: int, seed: int = 1) -> int:
    """Write the synthetic log; return the number of events."""
    profile = load_profile("binance-usdm")
    pd, sd = profile.scales.price_decimals, profile.scales.size_decimals
    rng = random.Random(seed)
    tick = 10  # 0.1 USDT in price units
    price = 6_000_000
    step_ms = DAY_MS // ticks
    n = 0
    done = 0
    ids = [f"a{i}" for i in range(accounts)]
    with path.open("w") as fh:
        w = fh.write
        for aid in ids:
            w(f'{{"v":1,"kind":"deposit","t":0,"account":"{aid}","amount":"1000000"}}\n')
            n += 1
        for i in range(ticks + 1):
            t = i * step_ms
            if i and t % EIGHT_HOURS_MS == 0:
                w(f'{{"v":1,"kind":"funding_settlement","t":{t},"symbol":"BTCUSDT"}}\n')
                n += 1
            price = max(tick, price + tick * rng.randint(-20, 20))
            w(
                f'{{"v":1,"kind":"mark_price","t":{t},"symbol":"BTCUSDT",'
                f'"price":"{format_units(price, pd)}"}}\n'
            )
            n += 1
            if t % 60_000 == 0:
                premium = rng.randint(-20_000, 40_000)  # 10^-8: -0.02% .. 0.04%
                w(
                    f'{{"v":1,"kind":"funding_sample","t":{t},"symbol":"BTCUSDT",'
                    f'"premium":"{format_units(premium, 8)}"}}\n'
                )
                n += 1
            due = fills * (i + 1) // (ticks + 1) - done
            for j in range(due):
                b, s = rng.sample(ids, 2)
                qty = format_units(rng.randint(1, 100), sd)
                px = format_units(price + tick * rng.randint(-5, 5), pd)
                maker = "buyer" if rng.getrandbits(1) else "seller"
                w(
                    f'{{"v":1,"kind":"fill","t":{t + 1 + j % (step_ms - 1)},"symbol":"BTCUSDT","qty":"{qty}",'
                    f'"price":"{px}","buyer":"{b}","seller":"{s}","maker":"{maker}"}}\n'
                )
            done += due
            n += due
    return n


def generate_crash(path: Path, accounts: int, minutes: int = 10, fall_pct: int = 30, seed: int = 1) -> int:
    """Write a crash log; return the number of events. ``accounts`` highly levered longs (1,000
    USDT each at 50x leverage, notional 10,000 to 45,000 USDT: effective leverage 10x to 45x) buy
    from one well-funded market maker at 60,000; then the mark falls ``fall_pct``% over
    ``minutes`` minutes, one tick a second with noise, and a fill between two random longs every
    tick. Every long is liquidated on the way down (the last ones near a 10% fall)."""
    profile = load_profile("binance-usdm")
    pd, sd = profile.scales.price_decimals, profile.scales.size_decimals
    rng = random.Random(seed)
    tick = 10
    p0 = 6_000_000
    n = 0
    with path.open("w") as fh:
        w = fh.write
        w('{"v":1,"kind":"deposit","t":0,"account":"mm","amount":"100000000000"}\n')
        w(f'{{"v":1,"kind":"mark_price","t":0,"symbol":"BTCUSDT","price":"{format_units(p0, pd)}"}}\n')
        n += 2
        qtys = [rng.randint(10_000, 45_000) * 10**sd // 60_000 for _ in range(accounts)]  # 0.001 BTC
        for i in range(accounts):
            w(f'{{"v":1,"kind":"deposit","t":1,"account":"a{i}","amount":"1000"}}\n')
            w(f'{{"v":1,"kind":"set_leverage","t":1,"account":"a{i}","symbol":"BTCUSDT","leverage":50}}\n')
        for i, qty in enumerate(qtys):
            w(
                f'{{"v":1,"kind":"fill","t":2,"symbol":"BTCUSDT","qty":"{format_units(qty, sd)}",'
                f'"price":"{format_units(p0, pd)}","buyer":"a{i}","seller":"mm","maker":"seller"}}\n'
            )
        n += 3 * accounts
        seconds = minutes * 60
        for k in range(1, seconds + 1):
            t = 1_000 + k * 1_000
            drift = p0 * fall_pct * k // (100 * seconds)
            price = max(tick, (p0 - drift + tick * rng.randint(-30, 30)) // tick * tick)
            mark = format_units(price, pd)
            w(f'{{"v":1,"kind":"mark_price","t":{t},"symbol":"BTCUSDT","price":"{mark}"}}\n')
            b, s = rng.sample(range(accounts), 2)
            w(
                f'{{"v":1,"kind":"fill","t":{t + 1},"symbol":"BTCUSDT","qty":"0.001",'
                f'"price":"{format_units(price, pd)}","buyer":"a{b}","seller":"a{s}","maker":"seller"}}\n'
            )
            n += 2
    return n


#: Lines read, decoded and stepped per chunk: decoding is timed per kind over the chunk's lines
#: of that kind, stepping per run of consecutive same-kind events, so a timer call (about
#: 0.7 us) is paid per batch, not per event.
CHUNK = 8192

#: Output kind of one holder's funding payment (counts the holders a settlement visits).
_PAYMENT = "funding_payment"


def _kind_of(raw: bytes) -> bytes:
    """The ``kind`` of a raw event line, by a substring search (only groups lines for timing;
    the decoder still checks every line)."""
    i = raw.find(b'"kind":"')
    if i < 0:
        return b"?"
    j = raw.find(b'"', i + 8)
    return raw[i + 8 : j] if j > 0 else b"?"


class Stats:
    """Per kind: events, decode ns, step ns, rejected; per settlement: (CPU ns, holders)."""

    def __init__(self) -> None:
        self.kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.settlements: list[tuple[int, int]] = []
        self.cpu_ns = 0  # the whole replay loop, timers and file reading included
        self.timer_ns = 0  # the cost of one timer reading, subtracted from every batch
        self.liquidations = 0  # liquidation output records (executed parts)
        self.liquidated: set[str] = set()  # accounts with at least one liquidation part


def replay(path: Path, limit: int | None = None, freeze_every: int = 0) -> Stats:
    """Decode + step every line in batches; see :data:`CHUNK`.

    ``freeze_every`` > 0: ``gc.freeze()`` every that many lines (rounded to chunks), so the
    cyclic GC stops re-scanning the (acyclic) state it has already seen; refcounting still
    frees replaced objects.
    """
    profile = load_profile("binance-usdm")
    ex = initial_exchange(profile)
    if freeze_every:
        gc.freeze()
    st = Stats()
    kinds = st.kinds
    clock = time.process_time_ns  # CPU time: the machine may be shared
    cost = st.timer_ns = timer_cost(clock)
    name = str(path)
    start = clock()
    lineno = 0
    frozen_at = 0
    with path.open("rb") as fh:
        while True:
            want = CHUNK if limit is None else min(CHUNK, limit - lineno)
            chunk = list(islice(fh, want)) if want > 0 else []
            if not chunk:
                break
            base = lineno + 1
            lineno += len(chunk)
            # decode: one timed batch per kind of the chunk's lines
            groups: dict[bytes, list[int]] = defaultdict(list)
            for i, raw in enumerate(chunk):
                groups[_kind_of(raw)].append(i)
            events: list = [None] * len(chunk)
            for kind, idx in groups.items():
                t0 = clock()
                for i in idx:
                    events[i] = decode_line(chunk[i], profile, name, base + i)
                t1 = clock()
                kinds[kind.decode()][1] += t1 - t0 - cost
            # step: one timed batch per run of consecutive same-kind events
            n = len(events)
            i = 0
            while i < n:
                kind = events[i].kind
                j = i + 1
                while j < n and events[j].kind == kind:
                    j += 1
                rejected = 0
                if kind == "funding_settlement":
                    for ev in events[i:j]:
                        t0 = clock()
                        ex, outs = step(ex, ev)
                        t1 = clock()
                        st.settlements.append((t1 - t0 - cost, sum(1 for o in outs if o.kind == _PAYMENT)))
                        kinds[kind][2] += t1 - t0 - cost
                        rejected += bool(outs) and outs[0].kind == "reject"
                else:
                    t0 = clock()
                    for ev in events[i:j]:
                        ex, outs = step(ex, ev)
                        if outs and outs[0].kind == "reject":
                            rejected += 1
                        elif len(outs) > 4 or (outs and outs[-1].kind != "fee"):
                            liq = [o for o in outs if o.kind == "liquidation"]
                            st.liquidations += len(liq)
                            st.liquidated.update(o.account for o in liq)
                    t1 = clock()
                    kinds[kind][2] += t1 - t0 - cost
                row = kinds[kind]
                row[0] += j - i
                row[3] += rejected
                i = j
            if freeze_every and lineno - frozen_at >= freeze_every:
                gc.freeze()
                frozen_at = lineno
    st.cpu_ns = clock() - start
    return st


def plain_replay(path: Path, limit: int, prof: cProfile.Profile) -> None:
    """Decode + step the first ``limit`` lines without timers (for the profiler)."""
    profile = load_profile("binance-usdm")
    ex = initial_exchange(profile)
    gc.freeze()
    name = str(path)
    with path.open("rb") as fh:
        lines = list(islice(fh, limit))
    prof.enable()
    for lineno, raw in enumerate(lines, start=1):
        ex, _outs = step(ex, decode_line(raw, profile, name, lineno))
        if lineno % 10_000 == 0:
            gc.freeze()
    prof.disable()


def timer_cost(clock: Callable[[], int]) -> int:
    """The smallest difference of two consecutive ``clock()`` readings (ns): what one timed
    interval includes besides the timed work; it is subtracted from every batch."""
    best = None
    for _ in range(2000):
        t0 = clock()
        t1 = clock()
        if best is None or t1 - t0 < best:
            best = t1 - t0
    return best or 0


def report(st: Stats, wall: float) -> None:
    print(f"{'kind':<20}{'events':>10}{'rejected':>10}{'decode ev/s':>14}{'step ev/s':>14}{'both ev/s':>14}")
    total = [0, 0, 0, 0]
    for kind, (n, dec, stp, rej) in sorted(st.kinds.items()):
        total = [total[0] + n, total[1] + dec, total[2] + stp, total[3] + rej]
        print(f"{kind:<20}{n:>10,}{rej:>10,}{rate(n, dec):>14}{rate(n, stp):>14}{rate(n, dec + stp):>14}")
    n, dec, stp, rej = total
    print(f"{'all':<20}{n:>10,}{rej:>10,}{rate(n, dec):>14}{rate(n, stp):>14}{rate(n, dec + stp):>14}")
    if st.settlements:
        ms = [ns / 1e6 for ns, _ in st.settlements]  # display only
        holders = [h for _, h in st.settlements]
        print(
            f"funding settlement: {len(ms)} x, {min(ms):,.0f} / {max(ms):,.0f} ms (best / worst) over "
            f"{min(holders):,} .. {max(holders):,} holders (step CPU time, outputs included)"
        )
    if st.liquidations:
        print(
            f"liquidations: {st.liquidations:,} parts, {len(st.liquidated):,} accounts liquidated, "
            f"{st.liquidations * 1_000_000_000 / st.cpu_ns:,.0f} parts per CPU second of the whole loop"
        )
    print(f"timer: process_time_ns costs {st.timer_ns:,} ns a reading here (subtracted per batch)")
    cpu = st.cpu_ns / 1e9  # display only
    print(
        f"{n:,} events: CPU {cpu:.1f} s = {n / cpu:,.0f} events/s, "
        f"wall {wall:.1f} s = {n / wall:,.0f} events/s"
        " (the whole loop, incl. file read and grouping; per-kind rates: CPU time of the batches)"
    )


def rate(n: int, ns: int) -> str:
    if not ns:
        return "-"
    per_s = n * 1_000_000_000 / ns  # display only
    return f"{per_s:,.0f}" if per_s >= 100 else f"{per_s:.2f}"


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--scale", type=float, default=1.0, help="shrink accounts, fills and ticks by this factor"
    )
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--fills", type=int, default=1_000_000)
    ap.add_argument("--ticks", type=int, default=86_400)
    ap.add_argument(
        "--crash",
        action="store_true",
        help="replay the crash profile instead: --accounts levered longs, a 30%% fall over 10 minutes",
    )
    ap.add_argument("--log", type=Path, help="write/reuse the synthetic log here (default: a temp dir)")
    ap.add_argument("--limit", type=int, help="replay only the first N lines")
    ap.add_argument("--cprofile", type=int, metavar="N", help="profile the first N lines with cProfile")
    ap.add_argument("--repeat", type=int, default=1, help="replay N times, report the best (CPU)")
    ap.add_argument("--scenario", action="store_true", help="also time the bundled `perpspec run` scenario")
    ap.add_argument(
        "--gc-freeze-every",
        type=int,
        default=10_000,
        metavar="N",
        help="gc.freeze() every N lines (0: leave the GC alone); default 10,000",
    )
    ap.add_argument(
        "--gc-threshold",
        type=int,
        default=100_000,
        metavar="N",
        help="gc.set_threshold(N, 50, 1000) for the replay (0: CPython's default 700, 10, 10); "
        "the state is acyclic, so the cyclic GC only costs time; default 100,000",
    )
    args = ap.parse_args()
    if args.gc_threshold:
        gc.set_threshold(args.gc_threshold, 50, 1000)
    print(f"gc thresholds {gc.get_threshold()}, gc.freeze() every {args.gc_freeze_every:,} lines")
    accounts = max(2, int(args.accounts * args.scale))
    fills = int(args.fills * args.scale)
    ticks = max(3, int(args.ticks * args.scale))
    tmp = tempfile.TemporaryDirectory()
    log = args.log or Path(tmp.name) / "bench.jsonl"
    if args.crash and not log.exists():
        t = time.perf_counter()
        n = generate_crash(log, accounts)
        took = time.perf_counter() - t
        print(f"generated the crash: {n:,} events ({accounts:,} levered longs) in {took:.1f} s")
    elif not log.exists():
        t = time.perf_counter()
        n = generate(log, accounts, fills, ticks)
        print(
            f"generated {n:,} events ({accounts:,} accounts, {fills:,} fills, {ticks:,} ticks) "
            f"in {time.perf_counter() - t:.1f} s: {log} ({log.stat().st_size / 1e6:.0f} MB)"
        )
    if args.cprofile:
        prof = cProfile.Profile()
        plain_replay(log, args.cprofile, prof)
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(18)
    best: tuple[Stats, float] | None = None
    for _ in range(max(1, args.repeat)):
        t = time.perf_counter()
        st = replay(log, args.limit, args.gc_freeze_every)
        wall = time.perf_counter() - t
        if best is None or st.cpu_ns < best[0].cpu_ns:
            best = (st, wall)
        del st
        gc.collect()
    assert best is not None
    if args.repeat > 1:
        print(f"best of {args.repeat} replays (by CPU time of the whole loop):")
    report(*best)
    print(f"peak memory (max RSS of this process): {peak_rss_mb():,.0f} MiB")
    if args.scenario:
        from perpspec.scenario import load_scenario
        from perpspec.simulation import run_scenario

        t = time.perf_counter()
        sc = load_scenario(None)
        summary, _ = run_scenario(sc, load_profile(sc.profile))
        took = time.perf_counter() - t
        verdict = "OK" if took < 60 else "TOO SLOW"
        print(
            f"bundled scenario {sc.name}: {summary.events:,} events in {took:.1f} s wall "
            f"({verdict}, target < 60 s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
