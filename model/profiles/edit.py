"""Profile editing: one parameter of a loaded profile changed, validated like a profile file.

Used by the engine's ``param_change`` events (:mod:`perpspec.engine.params`) and by tools that
derive a profile from another. Rule: ENG-PAR-01.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import attrs
from perpspec.profile import Profile
from perpspec.profiles import _checks, _converter, _first_error
from perpspec.traceability import implements

__all__ = ["FIXED_MARKET_FIELDS", "GRID_FIELDS", "ParamError", "change_param"]

#: Market parameters that a ``param_change`` cannot change at all (they fix what every entry
#: value and balance of the market means), and those it changes only without open interest.
FIXED_MARKET_FIELDS = ("contract", "contract_value")
GRID_FIELDS = ("tick", "lot")


class ParamError(ValueError):
    """A parameter change that names no parameter or gives a value the profile would refuse."""


@implements("ENG-PAR-01")
def change_param(profile: Profile, path: str, value: Any) -> Profile:
    """Rule: ENG-PAR-01. ``profile`` with parameter ``path`` set to ``value`` (TOML-style value).

    ``path`` is ``section.field`` (``fees.taker_rate``, ``funding.clamp``) or
    ``markets.SYMBOL.field`` (``markets.BTCUSDT.margin.mmr``, ``markets.BTCUSDT.tick``); a
    list element is ``field[i]``. The value is converted exactly as the profile loader does
    (scales, strict types) and the changed section's semantic checks run again; the variant
    (``model``), the fixed ``[profile]``/``[scales]`` sections and a market's ``contract`` and
    ``contract_value`` cannot be changed.
    """
    parts = path.split(".")
    if len(parts) < 2 or parts[0] in ("profile", "scales") or "model" in parts:
        raise ParamError(
            f"{path!r} is not a changeable parameter (use section.field or markets.SYMBOL.field)"
        )
    conv = _converter(profile.scales)
    if parts[0] == "markets":
        if len(parts) < 3 or parts[1] not in profile.markets:
            raise ParamError(
                f"{path!r}: unknown market (this profile has: {', '.join(sorted(profile.markets))})"
            )
        if parts[2] in FIXED_MARKET_FIELDS:
            raise ParamError(
                f"{path!r} cannot be changed: the contract kind and contract value fix what every "
                "entry value and balance of the market means (list a new market instead)"
            )
        root, rest = profile.markets[parts[1]], parts[2:]
    else:
        if parts[0] not in profile.mechanisms:
            raise ParamError(f"{path!r}: this profile has no [{parts[0]}] section")
        root, rest = profile.mechanisms[parts[0]], parts[1:]
    new_root = _set_field(root, rest, value, conv, path)
    for rel, msg in _checks(new_root):
        raise ParamError(f"{path}: {rel}: {msg}" if rel else f"{path}: {msg}")
    if parts[0] == "markets":
        markets = dict(profile.markets)
        markets[parts[1]] = new_root
        return attrs.evolve(profile, markets=markets)
    mechanisms = dict(profile.mechanisms)
    mechanisms[parts[0]] = new_root
    return attrs.evolve(profile, mechanisms=mechanisms)


def _set_field(obj: Any, rest: list[str], value: Any, conv: Any, path: str) -> Any:

    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?", rest[0])
    if m is None or not attrs.has(type(obj)):
        raise ParamError(f"{path!r}: {rest[0]!r} is not a parameter")
    name, idx = m.group(1), m.group(2)
    attrs.resolve_types(type(obj))
    fields = attrs.fields_dict(type(obj))
    if name not in fields:
        raise ParamError(
            f"{path!r}: unknown parameter {name!r}; expected one of: {', '.join(sorted(fields))}"
        )
    ftype = fields[name].type
    current = getattr(obj, name)
    try:
        if idx is not None:
            if not isinstance(current, tuple) or int(idx) >= len(current):
                raise ParamError(f"{path!r}: {name} has no element {idx}")
            i = int(idx)
            elem_t = (typing.get_args(ftype) or (Any,))[0]
            item = (
                _set_field(current[i], rest[1:], value, conv, path)
                if len(rest) > 1
                else conv.structure(value, elem_t)
            )
            new_val: Any = (*current[:i], item, *current[i + 1 :])
        elif len(rest) > 1:
            new_val = _set_field(current, rest[1:], value, conv, path)
        else:
            if ftype is Any or attrs.has(type(current)):
                raise ParamError(f"{path!r} is a section, not a single parameter")
            new_val = conv.structure(value, ftype)
    except ParamError:
        raise
    except Exception as exc:
        raise ParamError(f"{path}: {_first_error(exc)[1]}") from None
    return attrs.evolve(obj, **{name: new_val})
