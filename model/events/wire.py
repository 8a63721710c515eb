"""Decoding event lines: strict, line-precise errors, derived from the event classes.

Two paths, one meaning (rules EVT-FMT-01, EVT-AMT-01, EVT-LIM-01):

- the **strict decoder** (:func:`decode_obj`) is the definition: it converts a parsed JSON
  object field by field with the converters of :mod:`perpspec.events.fields` and names the
  field of the first problem;
- a **fast path** decodes a line with msgspec into a typed struct derived from the same
  classes (JSON types, string lengths, choices and integer ranges checked in C), then converts
  amounts with :func:`perpspec.units.plain_units` in code generated once per kind and scale
  (no per-field dispatch). It accepts only what the strict decoder accepts with the same
  result; at the first doubt (any msgspec error, a signed or unusual amount, a key count that
  differs from the ``:`` count, which is how a key given twice shows) it hands the line to
  the strict decoder, which decides and words the error.

Every problem is an :class:`~perpspec.errors.InputError` naming file, line and field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import attrs
import msgspec
from perpspec.decoding import FieldError, describe, load_json_line
from perpspec.errors import InputError, Place
from perpspec.events.fields import VERSION, Wire, converter, unit_decimals, wire_fields
from perpspec.events.kinds import EVENT_KINDS, EVENT_TYPES, ONE_OF, Event
from perpspec.profile import Profile, Scales
from perpspec.traceability import implements
from perpspec.units import MAX_DIGITS, RATE_DECIMALS, plain_units

# --------------------------------------------------------------------------- the strict decoder


@implements("EVT-FMT-01", "EVT-VER-01")
def decode_obj(obj: Any, profile: Profile) -> Event:
    """Rules: EVT-FMT-01, EVT-VER-01. A parsed JSON object as an event (raises FieldError)."""
    if not isinstance(obj, dict):
        raise FieldError("", f"expected a JSON object per line, got {describe(obj)}")
    if "v" not in obj:
        raise FieldError("v", f"missing field 'v' (the format version, {VERSION})")
    if type(obj["v"]) is not int or obj["v"] != VERSION:
        raise FieldError(
            "v", f"unsupported event format version {describe(obj['v'])}; this model reads version {VERSION}"
        )
    kind = obj.get("kind")
    if type(kind) is not str or kind not in EVENT_KINDS:
        raise FieldError(
            "kind", f"unknown event kind {describe(kind)}; expected one of: {', '.join(sorted(EVENT_KINDS))}"
        )
    cls = EVENT_KINDS[kind]
    fields = wire_fields(cls)
    allowed = {"v", "kind", *(f.name for f in fields)}
    for key in obj:
        if key not in allowed:
            expected = ", ".join(sorted(f.name for f in fields))
            raise FieldError(str(key), f"unknown field {key!r} for a {kind} event; expected: {expected}")
    kwargs: dict[str, Any] = {}
    for f in fields:
        if f.name not in obj:
            if f.required:
                raise FieldError(f.name, f"missing field {f.name!r} of a {kind} event")
            continue
        assert f.wire is not None, f"{cls.__name__}.{f.name} has no wire type"
        kwargs[f.name] = converter(f.wire)(obj[f.name], f.name, profile.scales)
    group = ONE_OF.get(kind)
    if group is not None and sum(1 for name in group if name in kwargs) != 1:
        raise FieldError(group[0], f"a {kind} event gives exactly one of: {', '.join(group)}")
    return cls(**kwargs)


def _decode_strict(line: str | bytes, profile: Profile, file: str, lineno: int | None) -> Event:
    obj = load_json_line(line, file, lineno)
    try:
        return decode_obj(obj, profile)
    except FieldError as exc:
        raise exc.at(file, lineno) from None


# --------------------------------------------------------------------------- the fast path

_INT64 = 2**63 - 1


class _Source(msgspec.Struct, forbid_unknown_fields=True):
    price: str
    weight: str
    updated_at: Annotated[int, msgspec.Meta(ge=0, le=_INT64)]


def _struct_type(wire: Wire, scales: Scales) -> Any:
    """The msgspec type that checks what it can of ``wire`` in C (never more than the strict
    converter accepts)."""
    if wire.type == "time":
        return Annotated[int, msgspec.Meta(ge=0, le=_INT64)]
    if wire.type == "int":
        return Annotated[int, msgspec.Meta(ge=1 if wire.positive else -_INT64, le=_INT64)]
    if wire.type == "text":
        return Annotated[str, msgspec.Meta(min_length=1)]
    if wire.type == "bool":
        return bool
    if wire.type == "choice":
        return Literal[wire.choices]
    if wire.type == "amount":
        return str
    if wire.type == "levels":
        return list[tuple[str, str]]
    if wire.type == "sources":
        return Annotated[list[_Source], msgspec.Meta(min_length=1)]
    return Union[str, Annotated[int, msgspec.Meta(ge=-_INT64, le=_INT64)], bool]  # param  # noqa: UP007


def _struct(cls: type, scales: Scales) -> type[msgspec.Struct]:
    fields: list[Any] = [("v", Literal[VERSION])]
    for f in wire_fields(cls):
        assert f.wire is not None, f"{cls.__name__}.{f.name} has no wire type"
        typ = _struct_type(f.wire, scales)
        fields.append((f.name, typ) if f.required else (f.name, typ, msgspec.UNSET))
    return msgspec.defstruct(
        f"Wire{cls.__name__}",
        fields,
        tag_field="kind",
        tag=cls.kind,  # type: ignore[attr-defined]
        forbid_unknown_fields=True,
        kw_only=True,
    )


def _levels(v: list[tuple[str, str]], pd: int, sd: int) -> tuple[tuple[int, int], ...] | None:
    out = []
    for p, q in v:
        pu, qu = plain_units(p, pd), plain_units(q, sd)
        if pu is None or qu is None or pu <= 0 or qu <= 0:
            return None
        out.append((pu, qu))
    return tuple(out)


def _sources(v: list[_Source], pd: int) -> tuple[tuple[int, int, int], ...] | None:
    out = []
    for s in v:
        p, w = plain_units(s.price, pd), plain_units(s.weight, RATE_DECIMALS)
        if p is None or w is None or p <= 0:
            return None
        out.append((p, w, s.updated_at))
    return tuple(out)


_Fast = Callable[[Any, int], Any]

#: Decimal strings remembered per unit and scale by the fast path (then it stops adding).
_MEMO_SIZE = 1 << 14  # at most ~2 MB per unit: memory stays flat on any log


def _amount_code(i: int, wire: Wire, decimals: int, env: dict[str, Any]) -> list[str]:
    """Generated code converting field ``i``'s decimal string ``x`` as :func:`plain_units`
    would (``-`` allowed for signed amounts; more than EVT-LIM-01's digits, a ``+``, ``%``,
    ``_``, a missing digit or too many decimals: ``return None``, the strict decoder decides).

    ``pw{i}[len(x) - p]`` is ``10^(decimals - f)`` for ``f`` = 1..decimals digits after the point
    at ``p``, and 0 (refused) for any other ``f``.
    """
    env[f"pw{i}"] = tuple(10 ** (decimals - k + 1) if 2 <= k <= decimals + 1 else 0 for k in range(70))
    code = ["p = x.find('.')", "y = x if p < 0 else x[:p] + x[p + 1 :]"]
    lead = "0"
    if not wire.positive:
        code += ["neg = y[:1] == '-'", "if neg:", "    y = y[1:]"]
        lead = "neg"
    code += [
        f"if len(y) > {MAX_DIGITS} or not y.isdigit() or not y.isascii() or p == {lead}:",
        "    return None",
        f"m = {10**decimals} if p < 0 else pw{i}[len(x) - p]",
        "if m == 0:",
        "    return None",
        "x = int(y) * m",
    ]
    code += ["if x <= 0:", "    return None"] if wire.positive else ["if neg:", "    x = -x"]
    # a memo of the strings already converted (prices and sizes repeat): one dict look-up
    cache = f"memo_{decimals}_{int(wire.positive)}"
    env.setdefault(cache, {})
    return [
        "s = x",
        f"x = {cache}.get(s)",
        "if x is None:",
        "    x = s",
        *(f"    {line}" for line in code),
        f"    if len({cache}) < {_MEMO_SIZE}:",
        f"        {cache}[s] = x",
    ]


def _fast_converter(cls: type, scales: Scales) -> _Fast:
    """Generate ``convert(struct, colons) -> event | None`` for one kind under ``scales``.

    The event is built as its attrs ``__init__`` would (the class has no validators or
    converters) by setting its slots directly. ``colons`` is the line's ``:`` count: it is at
    least the number of keys, and equal to it only when no key is given twice (a ``:`` inside
    a string also makes it larger: such a line goes to the strict decoder). When it equals the
    number of required keys, no optional field can be present (the common case: one test).
    """
    fields = wire_fields(cls)
    env: dict[str, Any] = {"new": object.__new__, "cls": cls, "UNSET": msgspec.UNSET}
    env.update(levels=_levels, sources=_sources)
    required = [(i, f) for i, f in enumerate(fields) if f.required]
    optional = [(i, f) for i, f in enumerate(fields) if not f.required]
    for i, f in enumerate(fields):
        env[f"set{i}"] = cls.__dict__[f.name].__set__  # the slot's own setter (frozen: no __setattr__)
        env[f"d{i}"] = f.default

    def conv(i: int, f: Any) -> list[str]:
        wire = f.wire
        assert wire is not None, f"{cls.__name__}.{f.name} has no wire type"
        if wire.type == "amount":
            return _amount_code(i, wire, unit_decimals(wire.unit, scales), env)
        if wire.type == "levels":
            code = [f"x = levels(x, {scales.price_decimals}, {scales.size_decimals})"]
            return [*code, "if x is None:", "    return None"]
        if wire.type == "sources":
            code = [f"x = sources(x, {scales.price_decimals})", "if x is None:", "    return None"]
            return [*code, "n += 3 * len(x)"]
        return []

    def build(indent: str, names: list[str]) -> list[str]:
        sets = [f"set{i}(o, {name})" for i, name in enumerate(names)]
        return [f"{indent}{line}" for line in ["o = new(cls)", *sets, "return o"]]

    body: list[str] = []
    for i, f in required:
        body.append(f"    x = w.{f.name}")
        body += [f"    {c}" for c in conv(i, f)]
        body.append(f"    v{i} = x")
    key_count = 2 + len(required)
    group = ONE_OF.get(cls.kind)  # type: ignore[attr-defined]
    if optional and group is None:  # no optional key present: defaults, no test per field
        body.append(f"    if colons == {key_count}:")
        body += build("        ", [f"v{i}" if f.required else f"d{i}" for i, f in enumerate(fields)])
    body.append(f"    n = {key_count}")
    for i, f in optional:
        body += [
            f"    x = w.{f.name}",
            "    if x is UNSET:",
            f"        x = d{i}",
            "    else:",
            "        n += 1",
        ]
        body += [f"        {c}" for c in conv(i, f)]
        body.append(f"    v{i} = x")
    if group is not None:
        given = " + ".join(f"(w.{name} is not UNSET)" for name in group)
        body += [f"    if {given} != 1:", "        return None"]
    body += ["    if n != colons:", "        return None"]
    body += build("    ", [f"v{i}" for i in range(len(fields))])
    params = ", ".join(f"{k}={k}" for k in env)  # locals, not globals, inside convert
    body.insert(0, f"def convert(w, colons, {params}):")
    exec(compile("\n".join(body), f"<perpspec.events fast decoder of {cls.__name__}>", "exec"), env)
    fn: _Fast = env["convert"]
    return fn


@attrs.frozen
class _FastPath:
    """The fast decoder of one scale: a msgspec decoder of the kinds' structs and a converter
    per struct type."""

    decoder: msgspec.json.Decoder[Any]
    convert: dict[type, _Fast]


_fast_paths: dict[Scales, _FastPath] = {}
_last: list[Any] = [None, None]  # (scales, fast path) of the last call: skips hashing Scales per line


def _fast_path(scales: Scales) -> _FastPath:
    fast = _fast_paths.get(scales)
    if fast is None:
        structs = {cls: _struct(cls, scales) for cls in EVENT_TYPES}
        fast = _FastPath(
            msgspec.json.Decoder(Union[tuple(structs.values())]),  # noqa: UP007
            {structs[cls]: _fast_converter(cls, scales) for cls in EVENT_TYPES},
        )
        _fast_paths[scales] = fast
    _last[0], _last[1] = scales, fast
    return fast


@implements("EVT-FMT-01", "EVT-AMT-01")
def decode_line(
    line: str | bytes, profile: Profile, file: str = "<events>", lineno: int | None = None
) -> Event:
    """Rules: EVT-FMT-01, EVT-AMT-01, EVT-LIM-01. One JSON Lines line as an event; InputError
    (file, line, field) on bad input."""
    scales = profile.scales
    fast: _FastPath = _last[1] if _last[0] is scales else _fast_path(scales)
    try:
        w = fast.decoder.decode(line)
    except (msgspec.DecodeError, RecursionError):
        pass
    else:
        colons = line.count(b":") if isinstance(line, bytes) else line.count(":")
        event = fast.convert[type(w)](w, colons)
        if event is not None:
            return event
    return _decode_strict(line, profile, file, lineno)


def decode_line_strict(
    line: str | bytes, profile: Profile, file: str = "<events>", lineno: int | None = None
) -> Event:
    """The strict decoder alone (the definition the fast path of :func:`decode_line` must equal)."""
    return _decode_strict(line, profile, file, lineno)


def read_events(path: str | Path, profile: Profile) -> Iterator[Event]:
    """The events of a JSON Lines file, in order; blank lines are skipped.

    Raises :class:`InputError` naming the file, the 1-based line and the field.
    """
    name = str(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputError(Place(name), f"cannot read the event log: {exc.strerror}") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            yield decode_line(raw, profile, name, lineno)


def read_events_text(text: str, profile: Profile, file: str = "<events>") -> list[Event]:
    """The events of JSON Lines text (a whole log in memory)."""
    return [
        decode_line(raw, profile, file, lineno)
        for lineno, raw in enumerate(text.splitlines(), start=1)
        if raw.strip()
    ]
