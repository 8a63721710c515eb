"""Build-time page generation for the Sphinx site (called from ``conf.py``).

Writes into ``docs/generated/`` (git-ignored):

- ``spec/*.md``: copies of ``spec/*.md``. The spec index's toctree is rewritten to list the
  spec files that exist (missing entries dropped, unlisted files appended), and links to
  spec files that do not exist become plain text, so the site builds with ``-W`` while
  the spec is being written. After each rule's text a generated block lists its
  implementing functions (Python domain entries; ``sphinx.ext.viewcode`` links each to its
  highlighted source page inside the site), its tests and its proofs with status, all from
  one :class:`perpspec.traceability.RuleIndex`.
- ``traceability.md``: the rule -> implementing code, tests, proofs matrix from the same
  index.
- ``proofs.md``: the invariant and proof catalogue from the proof registry, with statuses
  from a ``perpspec prove --json`` file if one is found (``$PERPSPEC_PROOFS_JSON``, else
  ``perpspec-report/proofs.json``), otherwise "not run".
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from perpspec.citations import ID, SOURCE_ID, SOURCES_FILE, parse_spec
from perpspec.traceability import (
    Entry,
    Implementation,
    RuleIndex,
    build,
    proof_results,
    proof_results_path,
)

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec"
OUT = Path(__file__).resolve().parent / "generated"

_TOCTREE = re.compile(r"(```\{toctree\}\n)(.*?)(```)", re.S)
_RULE_HEADING = re.compile(rf"^###\s+({ID}):")
_RULE_LABEL = re.compile(rf"^\(({ID})\)=\s*$")
_SOURCE_REF = re.compile(rf"(?<![\w`<-])({SOURCE_ID})\b(?!>)")
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


def _signature(impl: Implementation) -> str:
    """``name(arg, ...)`` of a decorated definition: parameter names only (no annotations, which
    the Python domain would try to cross-reference), ``self``/``cls`` dropped for methods."""
    import importlib
    import inspect

    obj: Any = importlib.import_module(impl.module)
    for part in impl.qualname.split("."):
        obj = getattr(obj, part)
    name = impl.qualname
    if impl.kind == "class":
        return name
    params = []
    for i, prm in enumerate(inspect.signature(obj).parameters.values()):
        if i == 0 and impl.kind == "method" and prm.name in ("self", "cls"):
            continue
        prefix = {prm.VAR_POSITIONAL: "*", prm.VAR_KEYWORD: "**"}.get(prm.kind, "")
        params.append(prefix + prm.name)
    return f"{name}({', '.join(params)})"


def _directive(impl: Implementation, described: set[str]) -> list[str]:
    """A Python domain entry for one implementation; indexed (a link target) the first time it
    appears, ``:no-index:`` after that. viewcode adds its ``[source]`` link either way."""
    kind = {"function": "py:function", "method": "py:method", "class": "py:class"}[impl.kind]
    lines = [f"```{{{kind}}} {_signature(impl)}", f":module: {impl.module}"]
    if impl.name in described:
        lines.append(":no-index:")
    described.add(impl.name)
    rules = ", ".join(impl.rules)
    lines += ["", f"`{impl.file}:{impl.line}` · implements {rules}", "```"]
    return lines


def _tests_line(entry: Entry) -> str:
    return ", ".join(f"`{t.test.split('::', 1)[-1]}` (`{t.file}:{t.line}`)" for t in entry.tests) or "none"


def _proofs_line(entry: Entry) -> str:
    return ", ".join(f"{{ref}}`{p.id} <proof-{p.id.lower()}>` ({p.status})" for p in entry.proofs) or "none"


def trace_block(entry: Entry, described: set[str]) -> list[str]:
    """The generated block shown after a rule's text: code, tests, proofs."""
    out = ["", "::::{admonition} Implemented, tested, proved", ":class: note", ""]
    if entry.implementations:
        out += ["**Implemented by:**", ""]
        for impl in entry.implementations:
            out += _directive(impl, described) + [""]
    else:
        out += ["**Implemented by:** no function (an invariant shown by its proofs).", ""]
    out += [f"**Tested by:** {_tests_line(entry)}", "", f"**Proved by:** {_proofs_line(entry)}", "::::", ""]
    return out


def _with_trace_blocks(text: str, idx: RuleIndex, described: set[str]) -> str:
    """``text`` with :func:`trace_block` after each rule (before the next label or heading)."""
    lines = text.splitlines()
    out: list[str] = []
    current: str | None = None

    def close() -> None:
        if current is not None and current in idx.entries:
            while out and not out[-1].strip():
                out.pop()
            out.extend(trace_block(idx.entries[current], described))

    for line in lines:
        m = _RULE_HEADING.match(line)
        if line.startswith("#") or _RULE_LABEL.match(line):
            close()
            current = None
        if m:
            current = m.group(1)
        out.append(line)
    close()
    return "\n".join(out) + "\n"


def copy_spec(idx: RuleIndex | None = None) -> list[str]:
    """Copy spec/*.md into generated/spec/ (with the rules' trace blocks when ``idx`` is given);
    returns the copied page names (without .md)."""
    target = OUT / "spec"
    if target.exists():
        for old in target.glob("*.md"):
            if not (SPEC / old.name).exists():
                old.unlink()
    files = sorted(SPEC.glob("*.md"))
    existing = {p.stem for p in files}
    described: set[str] = set()
    for p in _spec_order(files):
        text = _unlink_missing(p.read_text("utf-8"), existing)
        if p.stem == "index":
            text = _rewrite_toctree(text, existing)
        elif p.name != SOURCES_FILE:
            text = _SOURCE_REF.sub(lambda m: f"{{ref}}`{m.group(1)} <{m.group(1)}>`", text)
            if idx is not None:
                text = _with_trace_blocks(text, idx, described)
        _write(target / p.name, text)
    if "index" not in existing:
        body = "# Specification\n\n```{toctree}\n:maxdepth: 1\n\n" + "\n".join(sorted(existing)) + "\n```\n"
        _write(target / "index.md", body)
    return sorted(existing)


def _spec_order(files: list[Path]) -> list[Path]:
    return sorted(files, key=lambda p: p.name)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _ref(rule_id: str, known: set[str] | Mapping[str, Any]) -> str:
    return f"{{ref}}`{rule_id} <{rule_id}>`" if rule_id in known else f"`{rule_id}` (undefined)"


def traceability_page(idx: RuleIndex) -> str:
    """The traceability matrix page (MyST Markdown), from the same index as the rule pages."""
    out = [
        "# Traceability",
        "",
        "Every normative rule of the specification, with the functions that define it (their",
        "`@implements` decorator; each links to its entry on the rule's page and from there to",
        "the highlighted source), the tests that check it (`@pytest.mark.rule`) and the Z3",
        "proofs that prove it, with their status. Generated at build time from",
        "`perpspec.traceability.build` (`python -m perpspec.traceability ID` prints one row).",
        "",
        f"{len(idx.rules)} rules, {len(idx.implementations)} implementing definitions,",
        f"{len(idx.tests)} marked tests, {len(idx.proofs)} proofs.",
        "",
        "| Rule | Title | Spec | Implemented by | Tests | Proved by |",
        "|---|---|---|---|---|---|",
    ]
    for r in idx.rules:
        e = idx.entries[r.id]
        impls = ", ".join(f"{{py:obj}}`{i.qualname} <{i.name}>`" for i in e.implementations) or "—"
        tests = f"{len(e.tests)}" if e.tests else "—"
        proved = _proofs_line(e) if e.proofs else "—"
        out.append(
            f"| {_ref(r.id, idx.entries)} | {_cell(r.title)} | `spec/{r.file}:{r.line}` | "
            f"{_cell(impls)} | {tests} | {_cell(proved)} |"
        )
    dangling = idx.dangling()
    if dangling:
        out += ["", "## Citations of undefined rules", ""]
        out += [f"- `{d}`" for d in dangling]
    return "\n".join(out) + "\n"


def proofs_page(data: Mapping[str, Any] | None, where: Path) -> str:
    """The invariants and proofs page (MyST Markdown); ``data``: the ``prove --json`` results."""
    from perpspec.proofs.framework import all_proofs

    known = {r.id for r in parse_spec(SPEC)}
    invariants = [r for r in parse_spec(SPEC) if r.id.startswith("INV-")]
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
        out += [f"(proof-{s.id.lower()})=", f"### {s.id}: {s.title}", ""]
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
    where = proof_results_path(ROOT)
    data = proof_results(where)
    idx = build(ROOT, data)
    copy_spec(idx)
    _write(OUT / "traceability.md", traceability_page(idx))
    _write(OUT / "proofs.md", proofs_page(data, where))


def clean() -> None:
    """Remove the generated pages."""
    shutil.rmtree(OUT, ignore_errors=True)
