"""Strict input decoding shared by every reader: events, expect records, snapshots, profiles, scenarios.

One vocabulary for what can go wrong with user input and one error format
(:class:`perpspec.errors.InputError` at ``file:line: field 'x'``):

- :func:`describe` names a wrong value the same way everywhere (never a ``repr`` of a deep or
  huge value, never a float's rounded decimal as if it were the user's text);
- :class:`FieldError` is a problem at a field path, turned into an :class:`InputError` once the
  file and line are known;
- :func:`load_json_line` parses one JSON Lines record: exact integers (never floats above
  2^64), no key given twice in one object, nesting and number size bounded (rule EVT-LIM-01);
- :func:`read_json_document` parses a whole JSON file keeping the line of every key, in
  linear time, numbers kept as their text (:class:`JsonNumber`);
- :func:`load_toml` parses a TOML file (profiles, scenarios) with the same bounds, a leading
  UTF-8 byte-order mark ignored, and the line of every key.

Rules: EVT-LIM-01, UNT-DEC-01, EVT-FMT-01.
"""

from __future__ import annotations

import bisect
import json
import re
import tomllib
from collections.abc import Callable
from typing import Any

import attrs
import msgspec
from perpspec.errors import InputError, Place
from perpspec.tomlplaces import key_lines
from perpspec.traceability import implements
from perpspec.units import MAX_DIGITS, parse_units

#: The deepest nesting of lists and objects (tables) any input may have (rule EVT-LIM-01).
MAX_DEPTH = 64

_BOM = "\ufeff"


class FieldError(Exception):
    """A problem with the value at ``field`` (a path such as ``positions[2].size``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message

    def at(self, file: str, line: int | None) -> InputError:
        """The user-facing error at ``file:line``."""
        return InputError(Place(file, line, self.field or None), self.message)


@attrs.frozen
class JsonNumber:
    """A JSON number kept as its text (a snapshot's numbers are never converted to floats)."""

    text: str


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def describe(v: Any, fmt: str = "JSON") -> str:
    """How an error message names the wrong value ``v`` read from a ``fmt`` (JSON or TOML) file.

    Containers are named by kind only (a deep or huge value is never printed), long strings
    are cut, and a number is shown as written (a float never as if it were exact).
    """
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        shown = repr(v)
        return (
            f"the {fmt} number {shown}, a float "
            f'(write amounts as decimal strings, e.g. "{shown}"; perpspec is exact)'
        )
    if isinstance(v, JsonNumber):
        return (
            f"the {fmt} number {_clip(v.text)} "
            f'(write amounts as decimal strings, e.g. "{_clip(v.text)}"; perpspec is exact)'
        )
    if isinstance(v, int):
        return f"the integer {_clip(str(v)) if abs(v) < 10**MAX_DIGITS else 'of more than 64 digits'}"
    if isinstance(v, str):
        return f"the string {_clip(v)!r}"
    if isinstance(v, dict):
        return "an object" if fmt == "JSON" else "a table"
    if isinstance(v, (list, tuple)):
        return "a list"
    return f"a {type(v).__name__}"


@implements("EVT-LIM-01")
def check_int(v: int, field: str) -> int:
    """Rule EVT-LIM-01: an integer read from input has at most :data:`MAX_DIGITS` digits."""
    if -(10**MAX_DIGITS) < v < 10**MAX_DIGITS:
        return v
    raise FieldError(field, f"a number of more than {MAX_DIGITS} digits (rule EVT-LIM-01)")


@implements("EVT-AMT-01", "UNT-DEC-01")
def decimal_amount(v: Any, unit: str, decimals: int, field: str) -> int:
    """Rules EVT-AMT-01, UNT-DEC-01. A plain decimal string as an integer of ``10^-decimals``
    (``unit``: price, size, money or rate; only a rate may end in ``%``)."""
    if not isinstance(v, str):
        raise FieldError(field, f"expected {unit} as a decimal string, got {describe(v)}")
    if unit != "rate" and "%" in v:
        raise FieldError(field, f"a percentage is only allowed for rates, got {describe(v)} for a {unit}")
    try:
        return parse_units(v, decimals)
    except ValueError as exc:
        raise FieldError(field, f"bad {unit}: {exc}") from None


# --------------------------------------------------------------------------- JSON Lines


def _walk_bounds(obj: Any) -> FieldError | None:
    """Rule EVT-LIM-01: the first container nested deeper than MAX_DEPTH or integer of more
    than MAX_DIGITS digits in a decoded JSON value (iterative: no recursion)."""
    stack: list[tuple[Any, str, int]] = [(obj, "", 1)]
    while stack:
        v, path, depth = stack.pop()
        if isinstance(v, dict):
            if depth > MAX_DEPTH:
                return FieldError(path, f"nested more than {MAX_DEPTH} levels deep (rule EVT-LIM-01)")
            stack.extend((x, f"{path}.{k}" if path else str(k), depth + 1) for k, x in v.items())
        elif isinstance(v, list):
            if depth > MAX_DEPTH:
                return FieldError(path, f"nested more than {MAX_DEPTH} levels deep (rule EVT-LIM-01)")
            stack.extend((x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v))
        elif type(v) is int:
            try:
                check_int(v, path)
            except FieldError as exc:
                return exc
    return None


def _first_duplicate(raw: str | bytes) -> str | None:
    """Rule EVT-FMT-01: the first key given twice in one object of the JSON text (any depth)."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> None:
        seen: set[str] = set()
        for k, _v in items:
            if k in seen and not found:
                found.append(k)
            seen.add(k)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):  # already parsed by msgspec; bounds checked first
        return None
    return found[0] if found else None


@implements("EVT-FMT-01", "EVT-LIM-01")
def load_json_line(raw: str | bytes, file: str, lineno: int | None) -> Any:
    """Rules EVT-FMT-01, EVT-LIM-01. One JSON value, strictly: valid JSON, integers exact (an
    integer above 2^64 stays an integer), nested at most :data:`MAX_DEPTH` deep, no integer
    of more than :data:`MAX_DIGITS` digits, no key given twice in one object."""
    try:
        obj = msgspec.json.decode(raw)
    except RecursionError:
        raise InputError(
            Place(file, lineno), f"nested more than {MAX_DEPTH} levels deep (rule EVT-LIM-01)"
        ) from None
    except msgspec.ValidationError as exc:  # an integer too long for Python's int parser
        raise InputError(
            Place(file, lineno), f"a number of more than {MAX_DIGITS} digits (rule EVT-LIM-01): {exc}"
        ) from None
    except msgspec.DecodeError as exc:
        raise InputError(Place(file, lineno), f"not valid JSON: {exc}") from None
    if isinstance(obj, (dict, list)):
        problem = _walk_bounds(obj)
        if problem is not None:
            raise problem.at(file, lineno)
        dup = _first_duplicate(raw)
        if dup is not None:
            raise InputError(Place(file, lineno, dup), f"field {dup!r} is given twice in one JSON object")
    return obj


# --------------------------------------------------------------------------- JSON documents


class _JsonError(Exception):
    def __init__(self, pos: int, message: str) -> None:
        self.pos, self.message = pos, message


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?", re.ASCII)
_WS = re.compile(r"[ \t\n\r]*")
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class _Reader:
    """A JSON reader recording the line of every key path; linear in the text's length.

    Numbers stay text (:class:`JsonNumber`); a key given twice and nesting deeper than
    :data:`MAX_DEPTH` are errors.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: dict[str, int] = {}
        self._starts = [m.end() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self._starts, pos) + 1

    def ws(self, i: int) -> int:
        m = _WS.match(self.text, i)
        return m.end() if m else i

    def document(self) -> Any:
        i = self.ws(0)
        self.lines[""] = self.line(i)
        value, i = self.value(i, "", 1)
        i = self.ws(i)
        if i != len(self.text):
            raise _JsonError(i, "unexpected text after the JSON value")
        return value

    def value(self, i: int, path: str, depth: int) -> tuple[Any, int]:
        t = self.text
        if i >= len(t):
            raise _JsonError(i, "unexpected end of file")
        c = t[i]
        if c in "{[":
            if depth > MAX_DEPTH:
                raise _JsonError(i, f"nested more than {MAX_DEPTH} levels deep (rule EVT-LIM-01)")
            return self.obj(i, path, depth) if c == "{" else self.arr(i, path, depth)
        if c == '"':
            return self.string(i)
        for lit, val in (("true", True), ("false", False), ("null", None)):
            if t.startswith(lit, i):
                return val, i + len(lit)
        m = _NUMBER.match(t, i)
        if m:
            return JsonNumber(m.group()), m.end()
        raise _JsonError(i, f"unexpected character {c!r}")

    def string(self, i: int) -> tuple[str, int]:
        try:
            s, end = _scanstring(self.text, i + 1)
        except json.JSONDecodeError as exc:
            raise _JsonError(exc.pos, exc.msg) from None
        return s, end

    def obj(self, i: int, path: str, depth: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        i = self.ws(i + 1)
        if self.text.startswith("}", i):
            return out, i + 1
        while True:
            if not self.text.startswith('"', i):
                raise _JsonError(i, "expected a quoted key")
            key_pos = i
            key, i = self.string(i)
            sub = f"{path}.{key}" if path else key
            if key in out:
                raise _JsonError(key_pos, f"duplicate key {_clip(key)!r}")
            self.lines[sub] = self.line(key_pos)
            i = self.ws(i)
            if not self.text.startswith(":", i):
                raise _JsonError(i, "expected ':' after a key")
            i = self.ws(i + 1)
            out[key], i = self.value(i, sub, depth + 1)
            i = self.ws(i)
            if self.text.startswith(",", i):
                i = self.ws(i + 1)
                continue
            if self.text.startswith("}", i):
                return out, i + 1
            raise _JsonError(i, "expected ',' or '}'")

    def arr(self, i: int, path: str, depth: int) -> tuple[list[Any], int]:
        out: list[Any] = []
        i = self.ws(i + 1)
        if self.text.startswith("]", i):
            return out, i + 1
        while True:
            sub = f"{path}[{len(out)}]"
            self.lines[sub] = self.line(i)
            v, i = self.value(i, sub, depth + 1)
            out.append(v)
            i = self.ws(i)
            if self.text.startswith(",", i):
                i = self.ws(i + 1)
                continue
            if self.text.startswith("]", i):
                return out, i + 1
            raise _JsonError(i, "expected ',' or ']'")


_PARENT = re.compile(r"(\.[^.\[]*|\[\d+\])$")


@attrs.frozen
class Document:
    """A parsed JSON or TOML file: its data and the line of every key path it holds."""

    file: str
    data: Any
    lines: dict[str, int]

    def line_of(self, field: str) -> int | None:
        """The line of ``field`` or of its nearest enclosing key that has one."""
        probe = field
        while probe and probe not in self.lines:
            parent = _PARENT.sub("", probe)
            probe = "" if parent == probe else parent
        return self.lines.get(probe)

    def place(self, field: str) -> Place:
        """Where ``field`` is (file, its line, the field)."""
        return Place(self.file, self.line_of(field), field or None)

    def error(self, exc: FieldError) -> InputError:
        """A :class:`FieldError` at its line in this document."""
        return InputError(self.place(exc.field), exc.message)


@implements("EVT-LIM-01")
def read_json_document(text: str, file: str) -> Document:
    """Rules ACC-SNAP-01, EVT-LIM-01. A whole JSON file with the line of every key (linear time)."""
    if text.startswith(_BOM):
        text = text[1:]
    reader = _Reader(text)
    try:
        data = reader.document()
    except _JsonError as exc:
        raise InputError(Place(file, reader.line(exc.pos)), f"JSON syntax error: {exc.message}") from None
    return Document(file, data, reader.lines)


# --------------------------------------------------------------------------- TOML


def _toml_depth_error(text: str) -> tuple[int, str] | None:
    """Rule EVT-LIM-01: the line where a TOML value nests deeper than MAX_DEPTH (a linear
    scan of the brackets outside strings and comments), else None."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c in "\"'":
            quote3 = text.startswith(c * 3, i)
            end_mark = c * 3 if quote3 else c
            j = i + len(end_mark)
            while j < n:
                if text.startswith(end_mark, j):
                    break
                if c == '"' and text[j] == "\\":
                    j += 1
                elif text[j] == "\n" and not quote3:
                    break
                j += 1
            line += text.count("\n", i, j)
            i = j + len(end_mark)
            continue
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, f"nested more than {MAX_DEPTH} levels deep (rule EVT-LIM-01)"
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


_LONG_DIGITS = re.compile(rf"[0-9][0-9_]{{{MAX_DIGITS},}}")


@implements("EVT-LIM-01")
def load_toml(text: str, file: str) -> Document:
    """Rules EVT-LIM-01, UNT-DEC-01. A TOML file strictly, with the line of every key.

    A leading UTF-8 byte-order mark is ignored; nesting deeper than :data:`MAX_DEPTH` and an
    integer too long for Python are input errors at their line (never a crash).
    """
    if text.startswith(_BOM):
        text = text[1:]
    deep = _toml_depth_error(text)
    if deep is not None:
        raise InputError(Place(file, deep[0]), deep[1])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Place(file, _toml_error_line(exc, text)), f"TOML syntax error: {exc}") from None
    except (ValueError, RecursionError):  # Python's int-size limit, raised inside tomllib
        m = _LONG_DIGITS.search(text)
        line = text.count("\n", 0, m.start()) + 1 if m else None
        raise InputError(
            Place(file, line), f"a number of more than {MAX_DIGITS} digits (rule EVT-LIM-01)"
        ) from None
    return Document(file, data, key_lines(text))


def _toml_error_line(exc: tomllib.TOMLDecodeError, text: str) -> int:
    """The line of a TOML syntax error (tomllib says "line N", or "at end of document")."""
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else text.count("\n") + (0 if text.endswith("\n") else 1)


__all__ = [
    "MAX_DEPTH",
    "Document",
    "FieldError",
    "JsonNumber",
    "check_int",
    "decimal_amount",
    "describe",
    "load_json_line",
    "load_toml",
    "read_json_document",
]
