"""Profiles with extra sections, for the liquidation tests (a bundled profile's files plus TOML)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import attrs
from perpspec.engine import step
from perpspec.events import Reject
from perpspec.profile import Profile
from perpspec.profiles import load_profile_files
from perpspec.state import Exchange, InsuranceFund, invariant_violations

PROFILES = Path(__file__).resolve().parents[2] / "model" / "profiles"


def profile_with(name: str, extra: str, drop: tuple[str, ...] = ()) -> Profile:
    """Bundled profile ``name`` with the sections of ``extra`` (TOML) replacing the profile's own
    (a bundled file defining a section ``extra`` also defines is left out), and the files named
    in ``drop`` (e.g. ``liquidation_procedure.toml``) left out too."""
    replaced = set(tomllib.loads(extra)) - {"markets"}
    files = []
    for p in sorted((PROFILES / name).glob("*.toml")):
        text = p.read_text()
        if p.name in drop or set(tomllib.loads(text)) & replaced:
            continue
        files.append((f"profiles/{name}/{p.name}", text))
    return load_profile_files([*files, ("extra.toml", extra)])


def funded(ex: Exchange, fund: str, amount: int) -> Exchange:
    """``ex`` with ``amount`` more in insurance fund ``fund`` (counted as a deposit: INV-01)."""
    bal = dict(ex.insurance.balances)
    bal[fund] = bal.get(fund, 0) + amount
    return attrs.evolve(ex, insurance=InsuranceFund(balances=bal), net_deposits=ex.net_deposits + amount)


def model_does_not_liquidate(profile: Profile) -> Profile:
    """``profile`` with its procedure's ``source = "log"`` (LIQ-SRC-01): the model liquidates
    nothing by itself. For tests of the rules that run before any liquidation (margin checks of a
    fill, bad-debt records of a risk-reducing fill) on accounts a liquidation would close first."""
    from perpspec.profiles.edit import change_param

    if profile.liquidation_procedure_model is None:
        return profile
    return change_param(profile, "liquidation_procedure.source", "log")


def run(ex: Exchange, *events: object, rejects_ok: bool = False) -> tuple[Exchange, list[object]]:
    """Step ``events`` from ``ex``; the last exchange and every output. After every step the state
    invariants hold (``invariant_violations == []``), and unless ``rejects_ok`` no event is
    rejected."""
    outs: list[object] = []
    for ev in events:
        ex, o = step(ex, ev)
        assert rejects_ok or not any(isinstance(r, Reject) for r in o), o
        outs += o
        assert invariant_violations(ex) == [], invariant_violations(ex)
    return ex, outs
