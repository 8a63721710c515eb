"""Declared parameter ranges (UNT-RNG-01, issue 8): one range per numeric field, checked by
the loader and by ``param_change`` alike (capped_interval_hours = -8 flipped the funding sign;
calm_interval_hours = 0 zeroed funding; a drift funding_period above 86,400 divided by zero)."""

from __future__ import annotations

import shutil
import typing
from collections import abc
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import pytest
from perpspec.errors import InputError
from perpspec.profile import MarketSpec
from perpspec.profiles import load_profile
from perpspec.profiles.edit import ParamError, change_param
from perpspec.ranges import range_of
from perpspec.registry import VARIANTS, variants_of

NUMERIC = (int, Fraction)


def _is_numeric(tp: Any) -> bool:
    """An int-like or Fraction-like field type (NewTypes such as Rate and Money included),
    also inside ``X | None``, ``tuple[X, ...]`` and ``Mapping[str, X]``."""
    sup = getattr(tp, "__supertype__", None)
    if sup is not None:
        return _is_numeric(sup)
    if isinstance(tp, type):
        return issubclass(tp, NUMERIC) and not issubclass(tp, bool)
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (abc.Mapping, dict):
        return _is_numeric(args[1])
    return any(_is_numeric(a) for a in args if a is not type(None) and a is not Ellipsis)


def _classes() -> list[type]:
    """Every registered variant class, MarketSpec, and the attrs classes their fields hold."""
    for section in ("margin", "funding", "fees", "mark", "index", "liquidation", "accounting"):
        variants_of(section)  # registers the section's built-in variants
    seen: list[type] = []
    todo: list[Any] = [MarketSpec, *(c for d in VARIANTS.values() for c in d.values())]
    while todo:
        cls = todo.pop()
        if not (isinstance(cls, type) and attrs.has(cls)) or cls in seen:
            continue
        seen.append(cls)
        hints = typing.get_type_hints(cls)
        for f in attrs.fields(cls):
            tp = hints.get(f.name)
            todo += [tp, *typing.get_args(tp)]
            for a in typing.get_args(tp):
                todo += list(typing.get_args(a))
    return seen


def test_every_numeric_parameter_declares_its_range() -> None:
    missing = []
    for cls in _classes():
        hints = typing.get_type_hints(cls)
        for f in attrs.fields(cls):
            if _is_numeric(hints.get(f.name)) and range_of(f) is None:
                missing.append(f"{cls.__module__}.{cls.__qualname__}.{f.name}: {hints.get(f.name)}")
    assert not missing, "parameters without a declared range (perpspec.ranges.ranged):\n" + "\n".join(missing)


def _copy(tmp_path: Path, name: str, file: str, old: str, new: str) -> Path:
    """The bundled profile ``name`` as a folder with one line of ``file`` replaced."""
    src = Path(__file__).resolve().parents[2] / "model" / "profiles" / name
    dst = tmp_path / name
    shutil.copytree(src, dst)
    text = (dst / file).read_text()
    assert old in text
    (dst / file).write_text(text.replace(old, new))
    return dst


@pytest.mark.rule("UNT-RNG-01", "ENG-PAR-01")
@pytest.mark.parametrize(
    ("profile", "path", "value", "message"),
    [
        ("binance-usdm", "funding.capped_interval_hours", -8, "must not be negative (0 to 24), got -8"),
        ("binance-usdm", "funding.capped_interval_hours", 25, "must be at most 24"),
        (
            "binance-usdm",
            "funding.calm_interval_hours",
            0,
            "must be 1 to 24 when capped_interval_hours is set",
        ),
        ("binance-usdm", "funding.interval_hours", 5, "must divide 24"),
        ("binance-usdm", "funding.clamp", "-0.05%", "must not be negative (0% to 100%), got -0.05%"),
        ("drift-v2", "funding.funding_period", 86_401, "must be at most 86400"),
        ("drift-v2", "funding.funding_period", 0, "must be positive (1 to 86400), got 0"),
        ("binance-usdm", "markets.BTCUSDT.margin.brackets[0].mmr", "101%", "must be at most 100%"),
        ("binance-usdm", "fees.taker_rate", "100%", "must be at most 99.999999%"),
    ],
)
def test_param_change_refuses_out_of_range_values(profile: str, path: str, value: Any, message: str) -> None:
    with pytest.raises(ParamError) as err:
        change_param(load_profile(profile), path, value)
    assert message in str(err.value)


@pytest.mark.rule("UNT-RNG-01", "ENG-PAR-01")
def test_in_range_values_are_accepted() -> None:
    drift = change_param(load_profile("drift-v2"), "funding.funding_period", 86_400)
    assert drift.mechanism("funding").funding_period == 86_400
    usdm = change_param(load_profile("binance-usdm"), "funding.capped_interval_hours", 0)
    assert usdm.mechanism("funding").capped_interval_hours == 0


@pytest.mark.rule("UNT-RNG-01")
@pytest.mark.parametrize(
    ("profile", "file", "old", "new", "field", "message"),
    [
        (
            "binance-usdm",
            "funding.toml",
            "capped_interval_hours = 1 ",
            "capped_interval_hours = -8 ",
            "funding.capped_interval_hours",
            "must not be negative",
        ),
        (
            "binance-usdm",
            "funding.toml",
            "calm_interval_hours = 4 ",
            "calm_interval_hours = 0 ",
            "funding.calm_interval_hours",
            "0 stops funding",
        ),
        (
            "drift-v2",
            "funding.toml",
            "funding_period = 3600",
            "funding_period = 90000",
            "funding.funding_period",
            "must be at most 86400",
        ),
    ],
)
def test_the_loader_refuses_the_same_values_at_their_line(
    tmp_path: Path, profile: str, file: str, old: str, new: str, field: str, message: str
) -> None:
    folder = _copy(tmp_path, profile, file, old, new)
    line = next(i for i, t in enumerate((folder / file).read_text().splitlines(), 1) if new.strip() in t)
    with pytest.raises(InputError) as err:
        load_profile(folder)
    assert str(err.value).startswith(f"{folder / file}:{line}: field '{field}'")
    assert message in err.value.message
