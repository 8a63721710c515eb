"""The rule index: which rules spec/ defines and where code, tests and proofs cite them.

Spec format (MyST Markdown, one file per mechanism in ``spec/``)::

    (MRG-BRK-01)=
    ### MRG-BRK-01: Bracket maintenance margin

A rule heading is a level-3 heading whose text starts with the ID and a colon. IDs are
``AAA-BBBB-NN`` (mechanism, topic, number) or ``INV-NN`` for invariants.

Citations:

- model and proofs: ``Rule: ID`` or ``Rules: ID, ID`` in a docstring or comment;
- tests: ``@pytest.mark.rule("ID", ...)``.

:func:`index` gathers both so that a test can fail on a dangling citation (of no rule) or
an orphan rule (implemented or tested by nothing), and the docs can print the matrix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import attrs

ID = r"(?:[A-Z]{3}-[A-Z0-9]{2,5}-\d{2}|INV-\d{2})"
_HEADING = re.compile(rf"^###\s+({ID}):\s+(.+?)\s*$")
_LABEL = re.compile(rf"^\(({ID})\)=\s*$")
_CODE_CITE = re.compile(rf"\bRules?:\s*((?:{ID}(?:\s*,\s*|\s+and\s+|\s*)?)+)")
_TEST_CITE = re.compile(r"mark\.rule\(([^)]*)\)")
_ANY_ID = re.compile(ID)


@attrs.frozen
class Rule:
    """One normative rule of spec/."""

    id: str
    title: str
    file: str
    line: int
    body: str


@attrs.frozen
class Citation:
    """One place that cites a rule."""

    id: str
    file: str
    line: int
    kind: str  # "model" | "proof" | "test"


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
    """The rule IDs ``text`` cites in the code form (``Rule: ID`` / ``Rules: ID, ID``), in order
    of first mention, without repeats."""
    return tuple(dict.fromkeys(rid for m in _CODE_CITE.finditer(text) for rid in _ANY_ID.findall(m.group(1))))


def citations(root: Path, kind: str, files: Iterable[Path]) -> list[Citation]:
    """Citations of rules in the given source files."""
    out: list[Citation] = []
    pattern = _TEST_CITE if kind == "test" else _CODE_CITE
    for path in files:
        text = path.read_text("utf-8")
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            for rid in _ANY_ID.findall(m.group(1)):
                out.append(Citation(rid, str(path.relative_to(root)), line, kind))
    return out


def index(root: Path) -> tuple[list[Rule], list[Citation]]:
    """Rules of ``root/spec`` and citations in ``root/{model,proofs,tests}``."""
    rules = parse_spec(root / "spec")
    cites = (
        citations(root, "model", sorted((root / "model").rglob("*.py")))
        + citations(root, "proof", sorted((root / "proofs").rglob("*.py")))
        + citations(root, "test", sorted((root / "tests").rglob("*.py")))
    )
    return rules, cites
