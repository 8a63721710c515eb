"""Bit-exact comparison of perpspec's drift-v2 account figures with Drift's own program.

Runs in the PROJECT environment; starts the peer driver (``peer.py``) with the PEER
environment's Python (``driftpyrs==0.1.0``, see README "Drift peer") and exchanges JSON lines.

    python tests/peers/drift/compare.py --peer /path/to/peer-venv [--accounts 10000] [--seed 1]

Draws random accounts (1 to 4 positions in distinct markets, |base| log-uniform from 1e-9 to
2e6, oracle prices from $0.01 to $100,000, quote amounts giving uPnL of both signs, small and
above $100, deposits from 0 to $10M), states each position as Drift stores it (a snapshot
with ``size`` and ``quote_amount``, ACC-SNAP-01), and compares, per account, the initial and
maintenance total collateral (ACC-COL-01) and margin requirement (ACC-CRS-01) with the
program's ``MarginContext::standard(Initial | Maintenance)``. It also compares
``PerpMarket::get_margin_ratio`` for random sizes, all three types, normal and high-leverage
mode (MRG-DRF-01/02), on the four markets and on random margin parameters. Exit 0 when
everything agrees, 1 on a mismatch, 2 when the peer is absent.

Markets: index 0 is the drift-v2 profile's SOL-PERP exactly; 1 to 3 are copies of it with
other margin parameters (other ratios and IMF factors, uPnL asset weights below 1 with a uPnL
IMF factor), so that 4 positions are possible and the uPnL weights are exercised.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attrs
from perpspec.account import Account, collateral, requirement
from perpspec.calc import load_snapshot
from perpspec.margin.drift import DriftSizePremium, Requirement
from perpspec.profile import Profile
from perpspec.profiles import load_profile
from perpspec.units import format_units

HERE = Path(__file__).resolve().parent
PEER_SCRIPT = HERE / "peer.py"
ENV = "PERPSPEC_DRIFT_PEER"
SYMBOLS = ("SOL-PERP", "M1-PERP", "M2-PERP", "M3-PERP")
_MARGIN_FIELDS = (
    "margin_ratio_initial",
    "margin_ratio_maintenance",
    "imf_factor",
    "high_leverage_margin_ratio_initial",
    "high_leverage_margin_ratio_maintenance",
    "unrealized_pnl_initial_asset_weight",
    "unrealized_pnl_maintenance_asset_weight",
    "unrealized_pnl_imf_factor",
)
#: margin parameters of markets 1..3 (market 0 is the profile's SOL-PERP)
EXTRA = (
    {"margin_ratio_initial": 500, "margin_ratio_maintenance": 300, "imf_factor": 100},
    {
        "margin_ratio_initial": 2000,
        "margin_ratio_maintenance": 1000,
        "imf_factor": 1000,
        "high_leverage_margin_ratio_initial": 400,
        "high_leverage_margin_ratio_maintenance": 200,
        "unrealized_pnl_initial_asset_weight": 8000,
        "unrealized_pnl_maintenance_asset_weight": 9500,
        "unrealized_pnl_imf_factor": 2000,
    },
    {"margin_ratio_initial": 1000, "margin_ratio_maintenance": 500},
)


class PeerAbsent(Exception):
    """The peer environment is not there (the comparison is skipped, not failed)."""


def peer_python(venv: str | None = None) -> Path:
    """The peer venv's interpreter, from ``venv`` or ``$PERPSPEC_DRIFT_PEER``; PeerAbsent when
    unset, missing, or without driftpyrs."""
    venv = venv or os.environ.get(ENV)
    if not venv:
        raise PeerAbsent(
            f"the Drift peer comparison is opt-in: create the peer environment (README, 'Drift peer') "
            f"and set {ENV}=<its directory>"
        )
    py = Path(venv) / "bin" / "python"
    if not py.exists():
        raise PeerAbsent(
            f"{ENV}={venv}: no {py} (create it: python3 -m venv {venv} && "
            f"{venv}/bin/pip install -r {HERE / 'requirements.txt'})"
        )
    probe = subprocess.run(
        [str(py), "-c", "import importlib.util as u, sys; sys.exit(u.find_spec('driftpyrs') is None)"],
        capture_output=True,
        timeout=120,
    )
    if probe.returncode != 0:
        raise PeerAbsent(
            f"{ENV}={venv}: driftpyrs is not installed there "
            f"({venv}/bin/pip install -r {HERE / 'requirements.txt'})"
        )
    return py


def comparison_profile(base: Profile | None = None) -> Profile:
    """The drift-v2 profile with markets M1..M3 (copies of SOL-PERP with EXTRA's margins)."""
    prof = base or load_profile("drift-v2")
    sol = prof.market("SOL-PERP")
    markets = dict(prof.markets)
    for sym, params in zip(SYMBOLS[1:], EXTRA, strict=True):
        markets[sym] = attrs.evolve(sol, margin=DriftSizePremium(**params))
    return attrs.evolve(prof, markets=markets)


def market_params(prof: Profile) -> list[dict[str, int]]:
    out = []
    for i, sym in enumerate(SYMBOLS):
        m = prof.market(sym).margin
        out.append({"index": i, **{f: int(getattr(m, f)) for f in _MARGIN_FIELDS}})
    return out


@dataclass
class Drawn:
    deposit: int  # 1e-6 USDC
    positions: list[tuple[int, int, int]]  # (market index, base 1e-9, quote 1e-6)
    prices: dict[int, int]  # market index -> price 1e-6


def draw(rng: random.Random) -> Drawn:
    """One random account (Drift units)."""
    n = rng.randint(1, 4)
    idx = sorted(rng.sample(range(4), n))
    prices = {i: max(1, int(10 ** rng.uniform(4, 11))) for i in range(4)}
    positions = []
    for i in idx:
        base = int(10 ** rng.uniform(0, math.log10(2e15)))
        base = max(1, min(base, 2 * 10**15)) * rng.choice((1, -1))
        value = abs(base) * prices[i] // 10**9  # |value| in micro-USDC
        kind = rng.random()
        if kind < 0.3:  # small uPnL, either sign
            upnl = rng.randint(-100 * 10**6, 100 * 10**6)
        elif kind < 0.6:  # above $100
            upnl = rng.randint(100 * 10**6 + 1, 10**6 * 10**6)
        elif kind < 0.8:  # a loss beyond $100
            upnl = -rng.randint(100 * 10**6 + 1, 10**6 * 10**6)
        else:  # relative: the price moved -50% .. +50% since entry
            upnl = int(value * rng.uniform(-0.5, 0.5)) * (1 if base > 0 else -1)
        signed_value = value if base > 0 else -value
        quote = upnl - signed_value + rng.randint(-3, 3)
        quote = max(-(2**62), min(2**62, quote))
        positions.append((i, base, quote))
    deposit = 0 if rng.random() < 0.2 else int(10 ** rng.uniform(0, 13))
    return Drawn(deposit, positions, prices)


def snapshot_text(d: Drawn) -> str:
    """The account as an ACC-SNAP-01 snapshot with Drift's base and quote amounts."""
    doc = {
        "collateral": format_units(d.deposit, 6),
        "marks": {SYMBOLS[i]: format_units(p, 6) for i, p in d.prices.items()},
        "positions": [
            {"symbol": SYMBOLS[i], "size": format_units(b, 9), "quote_amount": format_units(q, 6)}
            for i, b, q in d.positions
        ],
    }
    return json.dumps(doc)


def perpspec_figures(d: Drawn, prof: Profile) -> tuple[list[int], list[int], Account]:
    """([TC_I, MR_I], [TC_M, MR_M]) from perpspec, through the snapshot reader."""
    snap = load_snapshot("<drawn>", prof, text=snapshot_text(d))
    acct, marks = snap.account, snap.marks
    req = requirement(acct, marks, prof)
    return (
        [collateral(acct, marks, prof, initial=True), req.initial],
        [collateral(acct, marks, prof, initial=False), req.maintenance],
        acct,
    )


@dataclass
class Report:
    accounts: int = 0
    ratios: int = 0
    mismatched_accounts: int = 0
    figures: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    ratio_mismatches: int = 0
    errors: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def ok(self) -> bool:
        return not (self.mismatched_accounts or self.ratio_mismatches or self.errors)

    def lines(self) -> list[str]:
        out = [
            f"accounts: {self.accounts}, mismatched: {self.mismatched_accounts}; "
            f"margin ratios: {self.ratios}, mismatched: {self.ratio_mismatches}; {self.seconds:.1f} s",
        ]
        if self.figures:
            out.append(
                "mismatched figures: " + ", ".join(f"{k} {v}" for k, v in sorted(self.figures.items()))
            )
        if self.classes:
            out.append("by class: " + ", ".join(f"{k} {v}" for k, v in sorted(self.classes.items())))
        out += [f"peer error: {e}" for e in self.errors[:5]]
        out += [f"example: {json.dumps(e)}" for e in self.examples[:5]]
        return out


def classify(p_i: list[int], p_m: list[int], d_i: list[int], d_m: list[int]) -> list[str]:
    """Mismatch classes of one account (issue 8 item 1): (a) uPnL rounding shows in the
    maintenance collateral; (b) the requirement; (c) the gap between initial and maintenance
    collateral (weights, the $100 cap); plus whether the initial-margin verdict flips."""
    out = []
    if p_m[0] != d_m[0]:
        out.append("a:maintenance-collateral")
    if p_i[1] != d_i[1] or p_m[1] != d_m[1]:
        out.append("b:requirement")
    if p_i[0] - p_m[0] != d_i[0] - d_m[0]:
        out.append("c:initial-vs-maintenance-collateral")
    if (p_i[0] >= p_i[1]) != (d_i[0] >= d_i[1]):
        out.append("initial-check-verdict")
    if (p_m[0] < p_m[1]) != (d_m[0] < d_m[1]):
        out.append("liquidation-verdict")
    return out


def _requests(rng: random.Random, prof: Profile, accounts: int, ratios: int) -> Iterator[dict[str, Any]]:
    params = market_params(prof)
    for k in range(accounts):
        d = draw(rng)
        yield {
            "kind": "margin",
            "id": k,
            "deposit": d.deposit,
            "positions": [list(p) for p in d.positions],
            "markets": params,
            "prices": {str(i): p for i, p in d.prices.items()},
            "_drawn": d,
        }
    for k in range(ratios):
        i = rng.randrange(4)
        market = params[i] if k % 2 else random_margin(rng)
        yield {
            "kind": "ratio",
            "id": accounts + k,
            "market": market,
            "size": int(10 ** rng.uniform(0, math.log10(2e15))),
            "type": rng.choice(("initial", "fill", "maintenance")),
            "high_leverage": rng.random() < 0.5,
            "_margin": DriftSizePremium(**{f: market[f] for f in _MARGIN_FIELDS}),
        }


def random_margin(rng: random.Random) -> dict[str, int]:
    """Random margin parameters (ratio checks only): IM >= MM > 0, IMF 0..10,000, HLM ratios
    (u16) with HLM IM >= HLM MM, or none."""
    mm = rng.randint(1, 5000)
    hlm_mm = rng.randint(1, max(1, mm))
    hlm = rng.random() < 0.7
    return {
        "index": 0,
        "margin_ratio_initial": rng.randint(mm, 10_000),
        "margin_ratio_maintenance": mm,
        "imf_factor": rng.choice((0, rng.randint(0, 10_000))),
        "high_leverage_margin_ratio_initial": rng.randint(hlm_mm, 5000) if hlm else 0,
        "high_leverage_margin_ratio_maintenance": hlm_mm if hlm else 0,
        "unrealized_pnl_initial_asset_weight": 10_000,
        "unrealized_pnl_maintenance_asset_weight": 10_000,
        "unrealized_pnl_imf_factor": 0,
    }


def run(accounts: int = 10_000, seed: int = 1, ratios: int = 2_000, venv: str | None = None) -> Report:
    """Draw, ask the peer, compare. Raises PeerAbsent when there is no peer."""
    py = peer_python(venv)
    prof = comparison_profile()
    rng = random.Random(seed)
    report = Report()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(py), str(PEER_SCRIPT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        batch: list[dict[str, Any]] = []
        for req in _requests(rng, prof, accounts, ratios):
            batch.append(req)
            if len(batch) == 500:
                _exchange(proc, batch, prof, report)
                batch = []
        if batch:
            _exchange(proc, batch, prof, report)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    report.seconds = time.perf_counter() - start
    return report


def _exchange(
    proc: subprocess.Popen[str], batch: list[dict[str, Any]], prof: Profile, report: Report
) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    for req in batch:
        proc.stdin.write(json.dumps({k: v for k, v in req.items() if not k.startswith("_")}) + "\n")
    proc.stdin.flush()
    for req in batch:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Drift peer stopped (exit code {proc.poll()})")
        res = json.loads(line)
        if res.get("id") != req["id"]:
            raise RuntimeError(f"the Drift peer answered request {res.get('id')} for {req['id']}")
        if "error" in res:
            report.errors.append(f"request {req['id']}: {res['error']}")
            continue
        if req["kind"] == "ratio":
            report.ratios += 1
            mine = req["_margin"].margin_ratio(req["size"], Requirement(req["type"]), req["high_leverage"])
            if mine != res["ratio"]:
                report.ratio_mismatches += 1
                if len(report.examples) < 20:
                    report.examples.append(
                        {
                            **{k: v for k, v in req.items() if k[0] != "_"},
                            "perpspec": mine,
                            "drift": res["ratio"],
                        }
                    )
            continue
        report.accounts += 1
        p_i, p_m, _ = perpspec_figures(req["_drawn"], prof)
        d_i, d_m = res["initial"], res["maintenance"]
        if [p_i, p_m] != [d_i, d_m]:
            report.mismatched_accounts += 1
            for name, a, b in (
                ("TC_initial", p_i[0], d_i[0]),
                ("MR_initial", p_i[1], d_i[1]),
                ("TC_maintenance", p_m[0], d_m[0]),
                ("MR_maintenance", p_m[1], d_m[1]),
            ):
                if a != b:
                    report.figures[name] += 1
            report.classes.update(classify(p_i, p_m, d_i, d_m))
            if len(report.examples) < 20:
                report.examples.append(
                    {
                        "id": req["id"],
                        "snapshot": snapshot_text(req["_drawn"]),
                        "perpspec": [p_i, p_m],
                        "drift": [d_i, d_m],
                    }
                )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer", help=f"the peer venv (default: ${ENV})")
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--ratios", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        report = run(args.accounts, args.seed, args.ratios, args.peer)
    except PeerAbsent as exc:
        print(f"Drift peer: skipped: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    print("Drift peer: agreement" if report.ok() else "Drift peer: MISMATCH")
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
