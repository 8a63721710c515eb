"""Build-time page generation for the Sphinx site (called from ``conf.py``).

Writes into ``docs/generated/`` (git-ignored):

- ``spec/*.md``: copies of ``spec/*.md``. The spec index's toctree is rewritten to list the
  spec files that exist (missing entries dropped, unlisted files appended), and links to
  spec files that do not exist become plain text, so the site builds with ``-W`` while
  the spec is being written.
- ``traceability.md``: the rule -> implementing code, tests, proofs matrix from
  :func:`perpspec.traceability.index`.
- ``proofs.md``: the invariant and proof catalogue from the proof registry, with statuses
  from a ``perpspec prove --json`` file if one is found (``$PERPSPEC_PROOFS_JSON``, else
  ``perpspec-report/proofs.json``), otherwise "not run".
"""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec"
OUT = Path(__file__).resolve().parent / "generated"

_TOCTREE = re.compile(r"(```\{toctree\}\n)(.*?)(```)", re.S)
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([A-Za-z0-9_\-]+)\.md(#[^)]*)?\)")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text("utf-8") != text:  # keep mtimes stable for incremental builds
        path.write_text(text, "utf-8")


def _rewrite_toctree(text: str, existing: set[str]) -> str:
    """Keep toctree entries whose file exists; append existing spec files nobody listed."""

    def fix(m: re.Match[str]) -> str:
        lines = m.group(2).splitlines()
        options = [ln for ln in lines if ln.startswith(":") or not ln.strip()]
        entries = [ln.strip() for ln in lines if ln.strip() and not ln.startswith(":")]
        kept = [e for e in entries if e in existing]
        extra = sorted(existing - set(entries) - {"index"})
        opts = [o for o in options if o.strip()]
        body = "\n".join(opts) + "\n\n" + "\n".join(kept + extra) + "\n"
        return m.group(1) + body + m.group(3)

    return _TOCTREE.sub(fix, text, count=1)


def _unlink_missing(text: str, existing: set[str]) -> str:
    def fix(m: re.Match[str]) -> str:
        return m.group(0) if m.group(2) in existing else m.group(1)

    return _MD_LINK.sub(fix, text)


def copy_spec() -> list[str]:
    """Copy spec/*.md into generated/spec/; returns the copied page names (without .md)."""
    target = OUT / "spec"
    if target.exists():
        for old in target.glob("*.md"):
            if not (SPEC / old.name).exists():
                old.unlink()
    files = sorted(SPEC.glob("*.md"))
    existing = {p.stem for p in files}
    for p in files:
        text = _unlink_missing(p.read_text("utf-8"), existing)
        if p.stem == "index":
            text = _rewrite_toctree(text, existing)
        _write(target / p.name, text)
    if "index" not in existing:
        body = "# Specification\n\n```{toctree}\n:maxdepth: 1\n\n" + "\n".join(sorted(existing)) + "\n```\n"
        _write(target / "index.md", body)
    return sorted(existing)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _ref(rule_id: str, known: set[str]) -> str:
    return f"{{ref}}`{rule_id} <{rule_id}>`" if rule_id in known else f"`{rule_id}` (undefined)"


def traceability_page() -> str:
    """The traceability matrix page (MyST Markdown)."""
    from perpspec.traceability import index

    rules, cites = index(ROOT)
    known = {r.id for r in rules}
    by: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in cites:
        by[(c.id, c.kind)].append(f"`{c.file}:{c.line}`")
    out = [
        "# Traceability",
        "",
        "Every normative rule of the specification, with the model code that implements it",
        "(`Rule:` citations in docstrings), the tests that check it (`@pytest.mark.rule`) and",
        "the Z3 proofs that prove it. Generated at build time from `perpspec.traceability.index`.",
        "",
        f"{len(rules)} rules, {len(cites)} citations.",
        "",
        "| Rule | Title | Spec | Implemented in | Tested by | Proved by |",
        "|---|---|---|---|---|---|",
    ]
    for r in rules:
        cols = [", ".join(by.get((r.id, k), [])) or "—" for k in ("model", "test", "proof")]
        out.append(
            f"| {_ref(r.id, known)} | {_cell(r.title)} | `spec/{r.file}:{r.line}` | "
            + " | ".join(_cell(c) for c in cols)
            + " |"
        )
    dangling = sorted({c.id for c in cites if c.id not in known})
    if dangling:
        out += ["", "## Citations of undefined rules", ""]
        for d in dangling:
            where = sorted(f"`{c.file}:{c.line}`" for c in cites if c.id == d)
            out.append(f"- `{d}`: " + ", ".join(where))
    return "\n".join(out) + "\n"


def _proof_json() -> tuple[dict[str, Any] | None, str]:
    env = os.environ.get("PERPSPEC_PROOFS_JSON")
    path = Path(env) if env else ROOT / "perpspec-report" / "proofs.json"
    if not path.is_file():
        return None, str(path)
    import orjson

    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return None, str(path)
    return (data if isinstance(data, dict) else None), str(path)


def proofs_page() -> str:
    """The invariants and proofs page (MyST Markdown)."""
    from perpspec.proofs.framework import all_proofs
    from perpspec.traceability import parse_spec

    known = {r.id for r in parse_spec(SPEC)}
    invariants = [r for r in parse_spec(SPEC) if r.id.startswith("INV-")]
    data, where = _proof_json()
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if data is not None:
        for r in data.get("results", []):
            results[str(r.get("proof"))].append(r)
    proved_by: dict[str, list[str]] = defaultdict(list)
    specs = all_proofs()
    for s in specs:
        for rid in s.rules:
            proved_by[rid].append(s.id)
    out = [
        "# Invariants & proofs",
        "",
        "Each proof calls the model's own functions on Z3 terms, asserts the negation of the",
        "property under the stated bounds and checks it is unsatisfiable (`perpspec prove`).",
        "A status is `proved`, `counterexample` (with the model values), `unknown` (solver",
        "timeout: not proved, not refuted) or `error` (the proof could not be built).",
        "",
    ]
    if data is None:
        out += [f"Statuses: **not run** (no results file at `{where}`; write one with",
                "`perpspec prove --json perpspec-report/proofs.json` before building the docs).", ""]
    else:
        summ = data.get("summary", {})
        out += [f"Statuses from `perpspec prove --json` (timeout {data.get('timeout_s')} s): "
                + ", ".join(f"{v} {k}" for k, v in sorted(summ.items())) + ".", ""]
    out += ["## Invariants", "", "| Invariant | Statement | Proofs |", "|---|---|---|"]
    for inv in invariants:
        proofs = ", ".join(f"`{p}`" for p in proved_by.get(inv.id, [])) or "— (state-machine test)"
        out.append(f"| {_ref(inv.id, known)} | {_cell(inv.title)} | {proofs} |")
    out += ["", "## Proofs", ""]
    for s in specs:
        out += [f"### {s.id}: {s.title}", ""]
        out += [f"- **Rules:** {', '.join(_ref(r, known) for r in s.rules)}",
                f"- **Bounds:** {s.bounds}",
                f"- **Solver timeout:** {s.timeout_s} s per claim",
                ""]
        doc_lines = s.doc.splitlines()[1:]
        body = "\n".join(doc_lines).strip()
        if body:
            out += [body.replace("*", "\\*"), ""]
        rows = results.get(s.id, [])
        if not rows:
            out += ["Status: **not run**.", ""]
            continue
        out += ["| Subject | Status | Claim | Counterexample | Bounds |", "|---|---|---|---|---|"]
        for r in rows:
            cex = ", ".join(f"{k} = {v}" for k, v in sorted(dict(r.get("counterexample", {})).items()))
            detail = cex or str(r.get("reason", ""))
            cells = [str(r.get("subject")), f"**{r.get('status')}**", str(r.get("failed_claim", "")), detail,
                     str(r.get("bounds", ""))]
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    return "\n".join(out) + "\n"


def generate() -> None:
    """Write every generated page (called by ``conf.py`` before Sphinx reads the sources)."""
    OUT.mkdir(parents=True, exist_ok=True)
    copy_spec()
    _write(OUT / "traceability.md", traceability_page())
    _write(OUT / "proofs.md", proofs_page())


def clean() -> None:
    """Remove the generated pages."""
    shutil.rmtree(OUT, ignore_errors=True)
