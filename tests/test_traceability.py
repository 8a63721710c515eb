"""Every spec rule is implemented and tested; every citation names a rule (design §5)."""

from __future__ import annotations

from pathlib import Path

from perpspec.traceability import index, labels

ROOT = Path(__file__).resolve().parents[1]


def test_no_dangling_citations() -> None:
    rules, cites = index(ROOT)
    known = {r.id for r in rules}
    dangling = [f"{c.file}:{c.line} cites {c.id}" for c in cites if c.id not in known]
    assert not dangling, "citations of rules spec/ does not define:\n" + "\n".join(dangling)


def test_no_orphan_rules() -> None:
    rules, cites = index(ROOT)
    implemented = {c.id for c in cites if c.kind in ("model", "proof")}
    tested = {c.id for c in cites if c.kind in ("test", "proof")}
    orphans = [f"{r.file}:{r.line} {r.id} (not implemented)" for r in rules if r.id not in implemented]
    orphans += [f"{r.file}:{r.line} {r.id} (not tested or proved)" for r in rules if r.id not in tested]
    assert not orphans, "rules nothing implements or checks:\n" + "\n".join(orphans)


def test_rule_ids_unique_and_labelled() -> None:
    rules, _ = index(ROOT)
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)), "duplicate rule IDs"
    lab = labels(ROOT / "spec")
    missing = [f"{r.file}:{r.line} {r.id}" for r in rules if r.id not in lab]
    assert not missing, "rule headings without a MyST label (ID)=:\n" + "\n".join(missing)
