"""Find the line of a key path in a TOML file, so errors can name file and line.

``tomllib`` gives positions only for syntax errors. For a semantic error (unknown key,
wrong type, non-monotone table) we know the key path (``markets.BTCUSDT.margin.brackets[2]``)
and look its line up in the source text. The scanner understands table headers, arrays of
tables, dotted keys and multi-line arrays written one element per line, which is how every
bundled profile is laid out; for anything else it falls back to the nearest enclosing key.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-" ]+?)\s*=""")


def _split_key(key: str) -> list[str]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', key)
    return [a or b or c for a, b, c in parts]


def _path_key(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def key_lines(text: str) -> dict[str, int]:
    """Map every key path found in ``text`` to its 1-based line number."""
    lines: dict[str, int] = {}
    table: list[str | int] = []
    aot_counts: dict[str, int] = {}
    array_stack: list[tuple[list[str | int], int, int]] = []  # (path, index, depth)
    depth = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        if not line.strip():
            continue
        if depth == 0:
            m = _HEADER.match(line)
            if m and not _KEY.match(line):
                names: list[str | int] = list(_split_key(m.group(2)))
                if m.group(1) == "[[":
                    base = _path_key(names)
                    idx = aot_counts.get(base, -1) + 1
                    aot_counts[base] = idx
                    names = [*names, idx]
                table = names
                lines.setdefault(_path_key(table), lineno)
                continue
            km = _KEY.match(line)
            if km:
                path = [*table, *_split_key(km.group(1))]
                lines.setdefault(_path_key(path), lineno)
                rest = line[km.end() :]
                opened = rest.count("[") - rest.count("]")
                if opened > 0 and rest.strip().startswith("["):
                    array_stack = [(path, 0, opened)]
                    depth = opened
                    tail = rest.strip()[1:].strip()
                    if tail and not tail.startswith("]"):
                        lines.setdefault(_path_key([*path, 0]), lineno)
                        array_stack = [(path, 1, opened)]
            continue
        # inside a multi-line array: one element per line
        path, idx, _ = array_stack[-1]
        stripped = line.strip()
        if stripped and not stripped.startswith("]"):
            lines.setdefault(_path_key([*path, idx]), lineno)
            _add_inline_keys(lines, [*path, idx], stripped, lineno)
            array_stack[-1] = (path, idx + 1, depth)
        depth += line.count("[") + line.count("{") - line.count("]") - line.count("}")
        depth = max(depth, 0)
        if depth == 0:
            array_stack = []
    return lines


def _add_inline_keys(lines: dict[str, int], base: list[str | int], text: str, lineno: int) -> None:
    for m in re.finditer(r"([A-Za-z0-9_\-]+)\s*=", text):
        lines.setdefault(_path_key([*base, m.group(1)]), lineno)


def _strip_comment(line: str) -> str:
    out, quote = [], ""
    for ch in line:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        out.append(ch)
    return "".join(out)


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path``, else the first line of a key inside it (``[a.b]`` defines ``a``
    on its header line), else the same for its nearest enclosing key."""
    while path:
        if path in lines:
            return lines[path]
        inner = [line for key, line in lines.items() if key.startswith((f"{path}.", f"{path}["))]
        if inner:
            return min(inner)
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return lines.get(path)
