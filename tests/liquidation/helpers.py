"""Profiles with extra sections, for the liquidation tests (a bundled profile's files plus TOML)."""

from __future__ import annotations

from pathlib import Path

import attrs
from perpspec.profile import Profile
from perpspec.profiles import load_profile_files
from perpspec.state import Exchange, InsuranceFund

PROFILES = Path(__file__).resolve().parents[2] / "model" / "profiles"


def profile_with(name: str, extra: str, drop: tuple[str, ...] = ()) -> Profile:
    """Bundled profile ``name`` with the sections of ``extra`` (TOML) added, and the files named in
    ``drop`` (e.g. ``liquidation_procedure.toml``) left out."""
    files = [
        (f"profiles/{name}/{p.name}", p.read_text())
        for p in sorted((PROFILES / name).glob("*.toml"))
        if p.name not in drop
    ]
    return load_profile_files([*files, ("extra.toml", extra)])


def funded(ex: Exchange, fund: str, amount: int) -> Exchange:
    """``ex`` with ``amount`` more in insurance fund ``fund`` (counted as a deposit: INV-01)."""
    bal = dict(ex.insurance.balances)
    bal[fund] = bal.get(fund, 0) + amount
    return attrs.evolve(ex, insurance=InsuranceFund(balances=bal), net_deposits=ex.net_deposits + amount)
