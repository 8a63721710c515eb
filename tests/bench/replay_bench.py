"""Replay benchmark (a script, not collected by pytest).

Generates a synthetic binance-usdm BTCUSDT day as JSON Lines (default: 100,000 accounts,
1,000,000 fills, 86,400 mark ticks, a funding sample every minute and a settlement every
8 h), then replays it through ``decode_line`` + ``step`` and prints events/s per event kind
(decode and step separately) and overall, and the peak resident memory. Optionally profiles
the replay with cProfile and times the bundled ``perpspec run`` scenario (target < 60 s).

    python tests/bench/replay_bench.py                 # full size (~1.2M events, about a minute)
    python tests/bench/replay_bench.py --scale 0.01    # 1,000 accounts, 10,000 fills, 864 ticks
    python tests/bench/replay_bench.py --scale 0.01 --cprofile 20000 --scenario

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


def replay(path: Path, limit: int | None = None, freeze_every: int = 0) -> dict[str, list[int]]:
    """Decode + step every line; per kind: [count, decode ns, step ns, rejected].

    ``freeze_every`` > 0: ``gc.freeze()`` every that many lines, so the cyclic GC stops
    re-scanning the (immutable, acyclic) state it has already seen; refcounting still frees
    replaced objects.
    """
    profile = load_profile("binance-usdm")
    ex = initial_exchange(profile)
    if freeze_every:
        gc.freeze()
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    clock = time.process_time_ns  # CPU time: the machine may be shared
    name = str(path)
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            t0 = clock()
            ev = decode_line(raw, profile, name, lineno)
            t1 = clock()
            ex, outs = step(ex, ev)
            t2 = clock()
            row = stats[ev.kind]
            row[0] += 1
            row[1] += t1 - t0
            row[2] += t2 - t1
            if outs and outs[0].kind == "reject":
                row[3] += 1
            if limit is not None and lineno >= limit:
                break
            if freeze_every and lineno % freeze_every == 0:
                gc.freeze()
    return dict(stats)


def report(stats: dict[str, list[int]], wall: float, cpu: float) -> None:
    print(f"{'kind':<20}{'events':>10}{'rejected':>10}{'decode ev/s':>14}{'step ev/s':>14}{'both ev/s':>14}")
    total = [0, 0, 0, 0]
    for kind, (n, dec, stp, rej) in sorted(stats.items()):
        total = [total[0] + n, total[1] + dec, total[2] + stp, total[3] + rej]
        print(f"{kind:<20}{n:>10,}{rej:>10,}{rate(n, dec):>14}{rate(n, stp):>14}{rate(n, dec + stp):>14}")
    n, dec, stp, rej = total
    print(f"{'all':<20}{n:>10,}{rej:>10,}{rate(n, dec):>14}{rate(n, stp):>14}{rate(n, dec + stp):>14}")
    print(
        f"{n:,} events: CPU {cpu:.1f} s = {n / cpu:,.0f} events/s, "
        f"wall {wall:.1f} s = {n / wall:,.0f} events/s"
        " (incl. file read and timers; per-kind rates use CPU time)"
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
    ap.add_argument("--log", type=Path, help="write/reuse the synthetic log here (default: a temp dir)")
    ap.add_argument("--limit", type=int, help="replay only the first N lines")
    ap.add_argument("--cprofile", type=int, metavar="N", help="profile the first N lines with cProfile")
    ap.add_argument("--scenario", action="store_true", help="also time the bundled `perpspec run` scenario")
    ap.add_argument(
        "--gc-freeze-every",
        type=int,
        default=10_000,
        metavar="N",
        help="gc.freeze() every N lines (0: leave the GC alone); default 10,000",
    )
    args = ap.parse_args()
    accounts = max(2, int(args.accounts * args.scale))
    fills = int(args.fills * args.scale)
    ticks = max(3, int(args.ticks * args.scale))
    tmp = tempfile.TemporaryDirectory()
    log = args.log or Path(tmp.name) / "bench.jsonl"
    if not log.exists():
        t = time.perf_counter()
        n = generate(log, accounts, fills, ticks)
        print(
            f"generated {n:,} events ({accounts:,} accounts, {fills:,} fills, {ticks:,} ticks) "
            f"in {time.perf_counter() - t:.1f} s: {log} ({log.stat().st_size / 1e6:.0f} MB)"
        )
    if args.cprofile:
        prof = cProfile.Profile()
        prof.enable()
        replay(log, args.cprofile)
        prof.disable()
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(18)
    t, c = time.perf_counter(), time.process_time()
    stats = replay(log, args.limit, args.gc_freeze_every)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    report(stats, wall, cpu)
    print(f"peak memory (max RSS of this process): {peak_rss_mb():,.0f} MiB")
    if args.scenario:
        from perpspec.scenario import load_scenario, run_scenario

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
