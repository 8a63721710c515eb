"""Load profiles: bundled ones by name, user ones from a TOML file or a folder of them.

Errors name file, line and key (:class:`perpspec.errors.InputError`): TOML syntax, an
unknown section or key, a wrong type, a value that does not fit the profile's scales, an
unknown variant name, and every semantic check a parameter class states in ``check()``
(non-monotone brackets, negative rates, ...). Nothing is half-loaded.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import cattrs
from perpspec.decoding import FieldError, check_int, describe, load_toml
from perpspec.errors import InputError, Place
from perpspec.numeric import Rounding
from perpspec.profile import ContractKind, MarketSpec, Meta, Profile, Scales, symbol_problem
from perpspec.quantities import Exact, Money, Price, Rate, Size
from perpspec.ranges import range_problems
from perpspec.registry import variants_of
from perpspec.tomlplaces import line_of
from perpspec.units import RATE_DECIMALS, parse_fraction, parse_units

FIXED_SECTIONS = ("profile", "scales", "markets")


def bundled_names() -> list[str]:
    """Names of the profiles shipped with perpspec, sorted."""
    root = resources.files(__name__)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))


def load_profile(ref: str | Path) -> Profile:
    """A bundled profile by name, or a user profile from a ``.toml`` file or a folder."""
    if isinstance(ref, str) and ref in bundled_names():
        return _load_bundled(ref)
    path = Path(ref)
    if not path.exists():
        raise InputError(
            Place(str(ref)),
            f"no such profile: neither a bundled profile ({', '.join(bundled_names())}) nor a file",
        )
    return load_profile_files(_profile_files(path))


@cache
def _load_bundled(name: str) -> Profile:
    folder = resources.files(__name__) / name
    return load_profile_files(
        [
            (f"profiles/{name}/{p.name}", p.read_text("utf-8"))
            for p in sorted(folder.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".toml")
        ]
    )


def _profile_files(path: Path) -> list[tuple[str, str]]:
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    if not files:
        raise InputError(Place(str(path)), "the folder holds no .toml profile files")
    out = []
    for f in files:
        try:
            out.append((str(f), f.read_text("utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(Place(str(f)), f"cannot read the profile file: {exc}") from None
    return out


def load_profile_files(files: list[tuple[str, str]]) -> Profile:
    """Merge and load profile sources given as ``(display name, text)`` pairs."""
    merged: dict[str, Any] = {}
    owner: dict[str, tuple[str, dict[str, int]]] = {}
    for name, text in files:
        doc = load_toml(text, name)
        data, lines = doc.data, doc.lines
        for key, value in data.items():
            if key in merged and key != "markets":
                raise InputError(
                    Place(name, lines.get(key), key), f"section [{key}] is also defined in {owner[key][0]}"
                )
            if key == "markets":
                if not isinstance(value, dict):
                    raise InputError(Place(name, lines.get(key), key), "expected a table of markets")
                for sym, spec in value.items():
                    full = f"markets.{sym}"
                    if full in owner:
                        raise InputError(
                            Place(name, lines.get(full), full),
                            f"market {sym} is also defined in {owner[full][0]}",
                        )
                    merged.setdefault("markets", {})[sym] = spec
                    owner[full] = (name, lines)
            else:
                merged[key] = value
                owner[key] = (name, lines)

    def place(path: str) -> Place:
        head = path.split(".")[0].split("[")[0]
        key = head
        if head == "markets":
            parts = path.split(".")
            if len(parts) > 1:
                key = f"markets.{parts[1].split('[')[0]}"
        fname, lines = owner.get(key, owner.get(head, (files[0][0], {})))
        return Place(fname, line_of(lines, path), path)

    return _structure(merged, place, files[0][0])


def _structure(data: dict[str, Any], place: Callable[[str], Place], first: str) -> Profile:
    for section in FIXED_SECTIONS:
        if section not in data:
            raise InputError(Place(first), f"missing section [{section}]")
    base = _converter(None)
    scales = _run(base, data["scales"], Scales, "scales", place)
    conv = _converter(scales)
    meta = _run(conv, data["profile"], Meta, "profile", place)
    markets: dict[str, MarketSpec] = {}
    if not isinstance(data["markets"], dict) or not data["markets"]:
        raise InputError(place("markets"), "expected at least one [markets.SYMBOL] table")
    for sym, spec in data["markets"].items():
        if (problem := symbol_problem(sym)) is not None:
            raise InputError(place(f"markets.{sym}"), problem)
        markets[sym] = _run(conv, spec, MarketSpec, f"markets.{sym}", place)
    mechanisms: dict[str, Any] = {}
    for section, value in data.items():
        if section in FIXED_SECTIONS:
            continue
        if not variants_of(section):
            known = sorted(set(FIXED_SECTIONS) | set(_mechanisms()))
            raise InputError(
                place(section), f"unknown section [{section}]; expected one of: {', '.join(known)}"
            )
        mechanisms[section] = _run(conv, value, _Variant(section), section, place)
    return Profile(meta=meta, scales=scales, markets=markets, mechanisms=mechanisms, source=first)


def _mechanisms() -> list[str]:
    from perpspec.registry import VARIANTS

    variants_of("margin")
    return sorted(VARIANTS)


@attrs.frozen
class _Variant:
    """Marker type: structure a table into the variant its ``model`` key names."""

    mechanism: str


def _run(conv: cattrs.Converter, value: Any, cls: Any, path: str, place: Callable[[str], Place]) -> Any:
    try:
        obj = (
            _structure_variant(conv, value, cls.mechanism, "")
            if isinstance(cls, _Variant)
            else conv.structure(value, cls)
        )
    except _VariantError as exc:
        raise InputError(place(_join(path, exc.path)), exc.message) from None
    except Exception as exc:  # cattrs raises exception groups with notes
        rel, msg = _first_error(exc)
        raise InputError(place(_join(path, rel)), msg) from None
    for rel, msg in _checks(obj):
        raise InputError(place(_join(path, rel)), msg)
    return obj


def _join(path: str, rel: str) -> str:
    if not rel:
        return path
    if not path:
        return rel
    return f"{path}{rel}" if rel.startswith("[") else f"{path}.{rel}"


def parameter_problems(obj: Any) -> list[tuple[str, str]]:
    """Rule: UNT-RNG-01. Every ``(field path, message)`` the loader and ``param_change`` would
    refuse in the parameter object ``obj`` (declared ranges and ``check()``, nested objects
    included)."""
    return list(_checks(obj))


def _checks(obj: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Rule: UNT-RNG-01. The declared ranges (:func:`perpspec.ranges.range_problems`) and
    ``check()`` of the object and of the nested attrs objects it holds: the one validation the
    loader and ``param_change`` (ENG-PAR-01) share."""
    if attrs.has(type(obj)):
        for f in attrs.fields(type(obj)):
            child = getattr(obj, f.name)
            for rel, msg in _checks(child, _join(prefix, f.name)):
                yield rel, msg
        for rel, msg in range_problems(obj):
            yield _join(prefix, rel), msg
        check = getattr(obj, "check", None)
        if callable(check):
            for rel, msg in check():
                yield (f"{prefix}.{rel}" if prefix and rel else (rel or prefix)), msg
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _checks(item, f"{prefix}[{i}]")


class _VariantError(Exception):
    def __init__(self, path: str, message: str) -> None:
        self.path, self.message = path, message


def _structure_variant(conv: cattrs.Converter, value: Any, mechanism: str, path: str) -> Any:
    known = variants_of(mechanism)
    if not isinstance(value, dict):
        raise _VariantError(
            path, f"expected a table with a 'model' key naming one of: {', '.join(sorted(known))}"
        )
    name = value.get("model")
    if name not in known:
        raise _VariantError(
            _join(path, "model"),
            f"unknown {mechanism} model {_describe(name)}; expected one of: {', '.join(sorted(known))}",
        )
    body = {k: v for k, v in value.items() if k != "model"}
    try:
        return conv.structure(body, known[name])
    except Exception as exc:
        rel, msg = _first_error(exc)
        raise _VariantError(_join(path, rel), msg) from None


def _first_error(exc: BaseException) -> tuple[str, str]:
    """The relative key path and message of the first leaf error in a cattrs exception tree."""
    path = ""
    while isinstance(exc, BaseExceptionGroup):
        inner = exc.exceptions[0]
        for note in getattr(inner, "__notes__", []):
            name = getattr(note, "name", None)
            idx = getattr(note, "index", None)
            if name is not None:
                path += f".{name}" if path else name
                break
            if idx is not None:
                path += f"[{idx}]"
                break
        if isinstance(exc, cattrs.errors.ForbiddenExtraKeysError):
            break
        exc = inner
    if isinstance(exc, cattrs.errors.ForbiddenExtraKeysError):
        keys = ", ".join(sorted(exc.extra_fields))
        if len(exc.extra_fields) == 1:  # point at the key's own line, not its table's
            return _join(path, keys), f"unknown key(s): {keys}"
        return path, f"unknown key(s): {keys}"
    if isinstance(exc, KeyError):
        return path, f"missing required key {exc}"
    if isinstance(exc, _VariantError):
        return exc.path, exc.message
    msg = str(exc) or type(exc).__name__
    return path, msg


def _strict(kind: type) -> Callable[[Any, Any], Any]:
    def hook(v: Any, _t: Any) -> Any:
        if type(v) is not kind:
            raise ValueError(f"expected {_kind_name(kind)}, got {_describe(v)}")
        if isinstance(v, int):
            try:
                check_int(v, "")
            except FieldError as exc:
                raise ValueError(exc.message) from None
        return v

    return hook


def _kind_name(kind: type) -> str:
    return {int: "an integer", str: "a string", bool: "true or false"}.get(kind, kind.__name__)


def _describe(v: Any) -> str:
    return describe(v, "TOML")


def _converter(scales: Scales | None) -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    for kind in (int, str, bool):
        conv.register_structure_hook(kind, _strict(kind))

    def scaled(decimals: Callable[[], int], what: str) -> Callable[[Any, Any], int]:
        def hook(v: Any, _t: Any) -> int:
            if isinstance(v, (bool, float)) or not isinstance(v, (str, int)):
                raise ValueError(f"expected {what} as a decimal string, got {_describe(v)}")
            try:
                return parse_units(v, decimals(), separators=True)
            except ValueError as exc:
                raise ValueError(f"{what}: {exc}") from None

        return hook

    def need(attr: str) -> Callable[[], int]:
        def get() -> int:
            if scales is None:
                raise ValueError("[scales] must be loaded first")
            return int(getattr(scales, attr))

        return get

    conv.register_structure_hook(Price, scaled(need("price_decimals"), "a price"))
    conv.register_structure_hook(Size, scaled(need("size_decimals"), "a size"))
    conv.register_structure_hook(Money, scaled(need("money_decimals"), "an amount of money"))
    conv.register_structure_hook(Rate, scaled(lambda: RATE_DECIMALS, 'a rate (e.g. "0.5%" or "0.005")'))

    def exact(v: Any, _t: Any) -> Fraction:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise ValueError(f"expected an exact decimal string, got {_describe(v)}")
        if isinstance(v, int):
            try:
                return Fraction(check_int(v, ""))
            except FieldError as exc:
                raise ValueError(exc.message) from None
        return parse_fraction(v, separators=True)

    conv.register_structure_hook(Exact, exact)

    def enum_hook(v: Any, t: type[enum.Enum]) -> enum.Enum:
        values = [m.value for m in t]
        for m in t:
            if m.value == v:
                return m
        raise ValueError(f"expected one of {', '.join(map(repr, values))}, got {_describe(v)}")

    conv.register_structure_hook_func(lambda t: isinstance(t, type) and issubclass(t, enum.Enum), enum_hook)
    conv.register_structure_hook(Rounding, enum_hook)

    # MarketSpec.margin is a variant of the "margin" mechanism.
    def market_hook(v: Any, _t: Any) -> MarketSpec:
        if not isinstance(v, dict):
            raise ValueError(f"expected a table, got {_describe(v)}")
        if "margin" not in v:
            raise _VariantError("margin", "missing [margin] table: every market names its margin model")
        margin = _structure_variant(conv, v["margin"], "margin", "margin")
        rest = {k: val for k, val in v.items() if k != "margin"}
        return conv.structure({**rest, "margin": None}, _MarketBody).with_margin(margin)

    conv.register_structure_hook(MarketSpec, market_hook)
    return conv


@attrs.frozen
class _MarketBody:
    contract: ContractKind
    tick: Price
    lot: Size
    margin: Any  # structured separately (a margin variant); None while the body is structured
    contract_value: int = 0
    min_size: Size | None = None

    def with_margin(self, margin: Any) -> MarketSpec:
        return MarketSpec(
            contract=self.contract,
            tick=self.tick,
            lot=self.lot,
            margin=margin,
            contract_value=self.contract_value,
            min_size=self.min_size,
        )


__all__ = ["bundled_names", "load_profile", "load_profile_files"]
