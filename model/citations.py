"""Where rules and sources are written down as text: the rule headings, MyST labels and source
IDs of ``spec/``, the ``@pytest.mark.rule`` markers of ``tests/`` (read by AST) and the
``Rule: ID`` mentions docstrings keep for readers.

Spec format (MyST Markdown, one file per mechanism in ``spec/``)::

    (MRG-BRK-01)=
    ### MRG-BRK-01: Bracket maintenance margin

A rule heading is a level-3 heading whose text starts with the ID and a colon. IDs are
``AAA-BBBB-NN`` (mechanism, topic, number) or ``INV-NN`` for invariants. Sources are defined
in ``spec/sources.md`` (label ``(SRC-...)=``) and cited by ID from the other pages.
:mod:`perpspec.traceability` joins these with the code's ``@implements`` and the proofs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path

import attrs

ID = r"(?:[A-Z]{3}-[A-Z0-9]{2,5}-\d{2}|INV-\d{2})"
_HEADING = re.compile(rf"^###\s+({ID}):\s+(.+?)\s*$")
_LABEL = re.compile(rf"^\(({ID})\)=\s*$")
_CODE_CITE = re.compile(rf"\bRules?:\s*((?:{ID}(?:\s*,\s*|\s+and\s+|\s*)?)+)")
_ANY_ID = re.compile(ID)

# --------------------------------------------------------------------------------------
# spec/
# --------------------------------------------------------------------------------------


@attrs.frozen
class Rule:
    """One normative rule of spec/."""

    id: str
    title: str
    file: str
    line: int
    body: str


def parse_spec(spec_dir: Path) -> list[Rule]:
    """Every rule defined in ``spec_dir/*.md``, in file then line order."""
    rules: list[Rule] = []
    for path in sorted(spec_dir.glob("*.md")):
        lines = path.read_text("utf-8").splitlines()
        for i, line in enumerate(lines):
            m = _HEADING.match(line)
            if not m:
                continue
            body = []
            for nxt in lines[i + 1 :]:
                if nxt.startswith("#") or _LABEL.match(nxt):
                    break
                body.append(nxt)
            rules.append(Rule(m.group(1), m.group(2), path.name, i + 1, "\n".join(body).strip()))
    return rules


def labels(spec_dir: Path) -> dict[str, tuple[str, int]]:
    """The MyST labels ``(ID)=`` in spec/, by ID (each rule heading must carry one)."""
    out: dict[str, tuple[str, int]] = {}
    for path in sorted(spec_dir.glob("*.md")):
        for i, line in enumerate(path.read_text("utf-8").splitlines()):
            m = _LABEL.match(line)
            if m:
                out[m.group(1)] = (path.name, i + 1)
    return out


def cited_ids(text: str) -> tuple[str, ...]:
    """The rule IDs ``text`` names in the docstring form (``Rule: ID`` / ``Rules: ID, ID``), in
    order of first mention, without repeats (for readers; the index uses the decorators)."""
    return tuple(dict.fromkeys(rid for m in _CODE_CITE.finditer(text) for rid in _ANY_ID.findall(m.group(1))))


#: a source ID of spec/sources.md (letters only after ``SRC-``, so it never reads as a rule ID)
SOURCE_ID = r"SRC-[A-Z]+(?:-[A-Z]+)*"
_SOURCE_LABEL = re.compile(rf"^\(({SOURCE_ID})\)=\s*$")
_SOURCE_CITE = re.compile(rf"\b{SOURCE_ID}\b")
_OUTSIDE = re.compile(r"https?://|\bwww\.|\b[\w-]+\.(?:com|io|org|net|xyz|finance|trade|vision)\b")
SOURCES_FILE = "sources.md"


def sources(spec_dir: Path) -> dict[str, int]:
    """The source IDs ``spec_dir/sources.md`` defines (its MyST labels), with their lines."""
    path = spec_dir / SOURCES_FILE
    if not path.is_file():
        return {}
    lines = path.read_text("utf-8").splitlines()
    return {m.group(1): i + 1 for i, line in enumerate(lines) if (m := _SOURCE_LABEL.match(line))}


def source_citations(spec_dir: Path) -> list[tuple[str, str, int]]:
    """``(source ID, file, line)`` for each source a spec page other than sources.md cites."""
    out = []
    for path in sorted(spec_dir.glob("*.md")):
        if path.name == SOURCES_FILE:
            continue
        for i, line in enumerate(path.read_text("utf-8").splitlines()):
            out += [(m.group(0), path.name, i + 1) for m in _SOURCE_CITE.finditer(line)]
    return out


def outside_links(spec_dir: Path) -> list[tuple[str, int, str]]:
    """``(file, line, text)`` of each URL or web address in spec/ outside sources.md."""
    out = []
    for path in sorted(spec_dir.glob("*.md")):
        if path.name == SOURCES_FILE:
            continue
        for i, line in enumerate(path.read_text("utf-8").splitlines()):
            out += [(path.name, i + 1, m.group(0)) for m in _OUTSIDE.finditer(line)]
    return out


# --------------------------------------------------------------------------------------
# tests/: @pytest.mark.rule markers, by AST
# --------------------------------------------------------------------------------------


@attrs.frozen
class TestRef:
    """A test function or class carrying ``@pytest.mark.rule(...)`` (or a module ``pytestmark``)."""

    __test__ = False  # not a pytest test class

    rules: tuple[str, ...]
    test: str  # pytest node id without parameters, e.g. "tests/margin/test_x.py::test_mm"
    file: str
    line: int


def _is_rule_marker(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "rule"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "mark"
    )


def _str_constants(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List)):
        out: list[str] = []
        for elt in node.elts:
            got = _str_constants(elt)
            if got is None:
                return None
            out += got
        return out
    return None


def _marker_ids(call: ast.Call, names: Mapping[str, list[str]], where: str) -> tuple[str, ...]:
    out: list[str] = []
    for arg in call.args:
        got: list[str] | None
        if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
            got = names.get(arg.value.id)
        else:
            got = _str_constants(arg)
        if got is None:
            raise ValueError(
                f"{where}: a rule marker argument is not a string or a module-level tuple of strings"
            )
        out += got
    return tuple(out)


def _scan_defs(
    body: list[ast.stmt], prefix: str, rel: str, names: Mapping[str, list[str]], out: list[TestRef]
) -> None:
    for stmt in body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        ids: list[str] = []
        for dec in stmt.decorator_list:
            if isinstance(dec, ast.Call) and _is_rule_marker(dec):
                ids += _marker_ids(dec, names, f"{rel}:{dec.lineno}")
        node_id = f"{prefix}::{stmt.name}"
        if ids:
            out.append(TestRef(tuple(dict.fromkeys(ids)), node_id, rel, stmt.lineno))
        if isinstance(stmt, ast.ClassDef):
            _scan_defs(stmt.body, node_id, rel, names, out)


def scan_tests(root: Path, tests_dir: str = "tests") -> list[TestRef]:
    """Every rule marker under ``root/tests_dir``, in file then line order. A marker argument
    must be a string literal or ``*NAME`` of a module-level tuple of them (else ValueError)."""
    out: list[TestRef] = []
    for path in sorted((root / tests_dir).rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text("utf-8"), filename=rel)
        names: dict[str, list[str]] = {}
        for stmt in tree.body:
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
                continue
            target = stmt.targets[0]
            if not isinstance(target, ast.Name):
                continue
            got = _str_constants(stmt.value)
            if got is not None:
                names[target.id] = got
            if target.id == "pytestmark":
                value = stmt.value
                values = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
                for v in values:
                    if isinstance(v, ast.Call) and _is_rule_marker(v):
                        out.append(
                            TestRef(_marker_ids(v, names, f"{rel}:{stmt.lineno}"), rel, rel, stmt.lineno)
                        )
        _scan_defs(tree.body, rel, rel, names, out)
    return out


def docstring_mentions(root: Path) -> list[tuple[str, str, int]]:
    """``(ID, file, line)`` for each ``Rule: ID`` / ``Rules: ID, ID`` written in model/ and
    proofs/ (for readers; the test refuses a mention of an undefined rule)."""
    out = []
    for base in ("model", "proofs"):
        for path in sorted((root / base).rglob("*.py")):
            text = path.read_text("utf-8")
            for m in _CODE_CITE.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                out += [(rid, path.relative_to(root).as_posix(), line) for rid in _ANY_ID.findall(m.group(1))]
    return out
