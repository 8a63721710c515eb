"""The rule index: which rules spec/ defines, which functions implement them, which tests
and proofs check them.

Rules are the level-3 headings of ``spec/*.md`` (``### MRG-BRK-01: Title`` under the label
``(MRG-BRK-01)=``, read by :mod:`perpspec.citations`). Where a rule is cited, by kind:

- model code: the function, method or class that DEFINES the rule carries
  ``@implements("ID", ...)`` (:func:`implements`); its docstring (or its class's or module's)
  still names the rule and gives the formula for readers, but the index is built from the
  decorators, not from the text;
- tests: ``@pytest.mark.rule("ID", ...)`` on a test function or class, or in ``pytestmark``,
  read by an AST scan of ``tests/`` (:func:`perpspec.citations.scan_tests`);
- proofs: the ``rules`` of :func:`perpspec.proofs.framework.proof`, with their latest status
  from a ``perpspec prove --json`` file when one is given.

:func:`build` joins the four into a :class:`RuleIndex`; ``RuleIndex.lookup("MRG-BRK-01")``
answers rule -> implementing functions (qualname, file:line) -> tests -> proofs with status.
``python -m perpspec.traceability ID...`` prints the same lookup.

Coverage policy (checked by ``tests/test_traceability.py`` through
:meth:`RuleIndex.problems`): every rule is implemented by at least one decorated function,
except an invariant (``INV-NN``), which may instead be proved by a registered proof (a
property of the model's functions that no single function computes, such as INV-20 "MM is
non-decreasing in notional"); every rule is checked by at least one test or proof; no
decorator, marker or proof cites an ID that spec/ does not define.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
from perpspec.citations import (
    ID,
    Rule,
    TestRef,
    labels,
    parse_spec,
    scan_tests,
)

_ONE_ID = re.compile(rf"^{ID}$")

# --------------------------------------------------------------------------------------
# The decorator and its registry
# --------------------------------------------------------------------------------------

_T = TypeVar("_T")

#: (rule IDs, decorated object) in import order; read only by :func:`implementations`
_REGISTRY: list[tuple[tuple[str, ...], Any]] = []


def implements(*rule_ids: str) -> Callable[[_T], _T]:
    """Mark the function, method or class that defines the rules ``rule_ids``.

    Zero runtime cost: at import it records ``(rule_ids, obj)`` and returns ``obj`` itself
    (no wrapper). Place it directly above ``def`` (below ``@staticmethod``/``@property``),
    or on top of a class's decorators. A malformed ID is an error at import.
    """
    bad = [r for r in rule_ids if not _ONE_ID.match(r)]
    if not rule_ids or bad:
        raise ValueError(f"@implements needs rule IDs like 'MRG-BRK-01' or 'INV-01', got {rule_ids!r}")

    def record(obj: _T) -> _T:
        _REGISTRY.append((rule_ids, obj))
        return obj

    return record


@attrs.frozen
class Implementation:
    """One decorated definition: the rules it implements and where it is."""

    rules: tuple[str, ...]
    module: str  # e.g. "perpspec.margin.brackets"
    qualname: str  # e.g. "BinanceBrackets.maintenance"
    file: str  # repository path, e.g. "model/margin/brackets.py"
    line: int  # line of the ``def``/``class`` statement
    kind: str  # "function" | "method" | "class"

    @property
    def name(self) -> str:
        """The dotted import path, ``module.qualname``."""
        return f"{self.module}.{self.qualname}"


def _repo_path(module: str) -> tuple[str, str]:
    """The repository path of a perpspec module and the file it was loaded from.

    ``perpspec.proofs.x`` lives in ``proofs/x.py``; any other ``perpspec.x`` in
    ``model/x.py`` (the pyproject mapping), installed or editable alike."""
    mod = sys.modules[module]
    file = str(getattr(mod, "__file__", "") or "")
    top, prefix = (
        ("perpspec.proofs", "proofs") if module.startswith("perpspec.proofs") else ("perpspec", "model")
    )
    base = Path(str(sys.modules[top].__file__)).parent
    return f"{prefix}/{Path(file).relative_to(base).as_posix()}", file


_SOURCE_LINES: dict[str, list[str]] = {}


def _def_line(file: str, first: int) -> int:
    """The line of the ``def``/``class`` statement at or after ``first`` (skips decorators)."""
    lines = _SOURCE_LINES.get(file)
    if lines is None:
        lines = _SOURCE_LINES[file] = Path(file).read_text("utf-8").splitlines()
    for n in range(first, len(lines) + 1):
        text = lines[n - 1].lstrip()
        if text.startswith(("def ", "async def ", "class ")):
            return n
    return first


def _record(rule_ids: tuple[str, ...], obj: Any) -> Implementation:
    module = str(obj.__module__)
    qualname = str(obj.__qualname__)
    path, file = _repo_path(module)
    if isinstance(obj, type):
        kind = "class"
        first = inspect.getsourcelines(obj)[1]
    else:
        kind = "method" if "." in qualname.replace(".<locals>.", ":") else "function"
        first = obj.__code__.co_firstlineno
    return Implementation(rule_ids, module, qualname, path, _def_line(file, first), kind)


def load_all_modules() -> list[str]:
    """Import every module of ``perpspec`` and ``perpspec.proofs`` so that every
    ``@implements`` has run (``perpspec.__main__`` excepted: it runs the CLI). Returns the
    modules skipped because an optional third-party package they import is not installed."""
    skipped = []
    for top in ("perpspec", "perpspec.proofs"):
        pkg = importlib.import_module(top)
        for info in pkgutil.walk_packages(pkg.__path__, top + "."):
            if info.name.endswith(".__main__"):
                continue
            try:
                importlib.import_module(info.name)
            except ModuleNotFoundError as exc:
                if (exc.name or "perpspec").split(".")[0] == "perpspec":
                    raise
                skipped.append(info.name)
    return skipped


def implementations() -> list[Implementation]:
    """Every decorated definition of the package, in (file, line) order; one per object."""
    load_all_modules()
    seen: dict[tuple[str, str], Implementation] = {}
    for rule_ids, obj in _REGISTRY:
        if not str(obj.__module__).startswith("perpspec."):
            continue  # e.g. a test decorating a local function
        impl = _record(rule_ids, obj)
        key = (impl.module, impl.qualname)
        if key in seen:  # a module imported twice (e.g. reloaded) registers again
            impl = attrs.evolve(impl, rules=tuple(dict.fromkeys(seen[key].rules + impl.rules)))
        seen[key] = impl
    return sorted(seen.values(), key=lambda i: (i.file, i.line))


def rules_of(cls: type) -> tuple[str, ...]:
    """The rule IDs a class or any of its methods (including inherited ones) implements."""
    names = {(c.__module__, c.__qualname__) for c in cls.__mro__}
    out: list[str] = []
    for rule_ids, obj in _REGISTRY:
        owner = str(obj.__qualname__).rsplit(".", 1)[0] if not isinstance(obj, type) else obj.__qualname__
        if (obj.__module__, owner) in names:
            out.extend(rule_ids)
    return tuple(dict.fromkeys(out))


# --------------------------------------------------------------------------------------
# proofs: the registry, with statuses from `perpspec prove --json`
# --------------------------------------------------------------------------------------


@attrs.frozen
class ProofRef:
    """A registered proof and its latest status (``"not run"`` without a results file)."""

    id: str
    title: str
    rules: tuple[str, ...]
    bounds: str
    status: str  # e.g. "proved 10, n/a 2" or "not run"
    file: str
    line: int


def proof_results_path(root: Path) -> Path:
    """Where proof results are read from: ``$PERPSPEC_PROOFS_JSON``, else
    ``root/perpspec-report/proofs.json``."""
    env = os.environ.get("PERPSPEC_PROOFS_JSON")
    return Path(env) if env else root / "perpspec-report" / "proofs.json"


def proof_results(path: Path) -> dict[str, Any] | None:
    """The parsed ``perpspec prove --json`` file, or None when absent or unreadable."""
    if not path.is_file():
        return None
    import orjson

    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def proofs(results: Mapping[str, Any] | None = None) -> list[ProofRef]:
    """Every registered proof, by ID, with its status summarised over its subjects."""
    from perpspec.proofs.framework import all_proofs

    counts: dict[str, Counter[str]] = {}
    for r in (results or {}).get("results", []):
        counts.setdefault(str(r.get("proof")), Counter())[str(r.get("status"))] += 1
    out = []
    for spec in all_proofs():
        c = counts.get(spec.id)
        status = ", ".join(f"{k} {v}" for k, v in sorted(c.items())) if c else "not run"
        path, file = _repo_path(spec.fn.__module__)
        line = _def_line(file, spec.fn.__code__.co_firstlineno)
        out.append(ProofRef(spec.id, spec.title, spec.rules, spec.bounds, status, path, line))
    return out


# --------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------


@attrs.frozen
class Entry:
    """Everything that cites one rule."""

    rule: Rule
    implementations: tuple[Implementation, ...]
    tests: tuple[TestRef, ...]
    proofs: tuple[ProofRef, ...]

    def render(self) -> str:
        """The lookup as plain text (what ``python -m perpspec.traceability ID`` prints)."""
        r = self.rule
        out = [f"{r.id}: {r.title}  (spec/{r.file}:{r.line})", "  implemented by:"]
        out += [f"    {i.name}  {i.file}:{i.line}" for i in self.implementations] or ["    -"]
        out.append("  tested by:")
        out += [f"    {t.test}  {t.file}:{t.line}" for t in self.tests] or ["    -"]
        out.append("  proved by:")
        out += [f"    {p.id} [{p.status}]  {p.file}:{p.line}" for p in self.proofs] or ["    -"]
        return "\n".join(out)


@attrs.frozen
class RuleIndex:
    """The rules of spec/ joined with their implementations, tests and proofs."""

    rules: tuple[Rule, ...]
    implementations: tuple[Implementation, ...]
    tests: tuple[TestRef, ...]
    proofs: tuple[ProofRef, ...]
    labels: Mapping[str, tuple[str, int]]
    entries: Mapping[str, Entry] = attrs.field(init=False)

    @entries.default
    def _join(self) -> Mapping[str, Entry]:
        def having(items: Iterable[Any], rid: str) -> tuple[Any, ...]:
            return tuple(x for x in items if rid in x.rules)

        return {
            r.id: Entry(
                r, having(self.implementations, r.id), having(self.tests, r.id), having(self.proofs, r.id)
            )
            for r in self.rules
        }

    def lookup(self, rule_id: str) -> Entry:
        """Rule -> implementing functions -> tests -> proofs (KeyError for an unknown ID)."""
        return self.entries[rule_id]

    def dangling(self) -> list[str]:
        """Decorators, markers and proofs that cite an ID spec/ does not define."""
        known = self.entries
        out = [
            f"{i.file}:{i.line} {i.name} @implements {rid}"
            for i in self.implementations
            for rid in i.rules
            if rid not in known
        ]
        out += [
            f"{t.file}:{t.line} {t.test} marks {rid}"
            for t in self.tests
            for rid in t.rules
            if rid not in known
        ]
        out += [
            f"{p.file}:{p.line} proof {p.id} cites {rid}"
            for p in self.proofs
            for rid in p.rules
            if rid not in known
        ]
        return out

    def orphans(self) -> list[str]:
        """Rules the coverage policy (module docstring) finds uncovered."""
        out = []
        for r in self.rules:
            e = self.entries[r.id]
            if not e.implementations and not (r.id.startswith("INV-") and e.proofs):
                out.append(
                    f"spec/{r.file}:{r.line} {r.id}: no @implements"
                    + (" and no proof" if r.id.startswith("INV-") else "")
                )
            if not e.tests and not e.proofs:
                out.append(f"spec/{r.file}:{r.line} {r.id}: no test (@pytest.mark.rule) and no proof")
        return out

    def unlabelled(self) -> list[str]:
        """Rule headings without their MyST label ``(ID)=``, and IDs defined twice."""
        out = [
            f"spec/{r.file}:{r.line} {r.id}: no label ({r.id})="
            for r in self.rules
            if r.id not in self.labels
        ]
        seen: Counter[str] = Counter(r.id for r in self.rules)
        out += [f"{rid} is defined {n} times" for rid, n in sorted(seen.items()) if n > 1]
        return out

    def problems(self) -> list[str]:
        """Everything the traceability test refuses."""
        return self.unlabelled() + self.dangling() + self.orphans()


def build(root: Path, results: Mapping[str, Any] | None = None) -> RuleIndex:
    """The index of the repository at ``root`` (spec/ and tests/ are read from there; the code
    and proofs from the imported package). ``results``: a parsed ``perpspec prove --json``."""
    return RuleIndex(
        tuple(parse_spec(root / "spec")),
        tuple(implementations()),
        tuple(scan_tests(root)),
        tuple(proofs(results)),
        labels(root / "spec"),
    )


@attrs.frozen
class Citation:
    """One place that cites a rule (the flat view of a :class:`RuleIndex`)."""

    id: str
    file: str
    line: int
    kind: str  # "model" | "proof" | "test"


def index(root: Path) -> tuple[list[Rule], list[Citation]]:
    """The rules of ``root/spec`` and every citation of the index, flat: decorated definitions
    (``model``), proofs (``proof``) and test markers (``test``)."""
    idx = build(root)
    cites = [Citation(rid, i.file, i.line, "model") for i in idx.implementations for rid in i.rules]
    cites += [Citation(rid, p.file, p.line, "proof") for p in idx.proofs for rid in p.rules]
    cites += [Citation(rid, t.file, t.line, "test") for t in idx.tests for rid in t.rules]
    return list(idx.rules), cites


def main(argv: list[str] | None = None) -> int:
    """``python -m perpspec.traceability [--root DIR] ID...``: print each rule's lookup."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path.cwd()
    if args[:1] == ["--root"] and len(args) >= 2:
        root, args = Path(args[1]), args[2:]
    if not (root / "spec").is_dir():
        print(
            f"error: {root / 'spec'} is not a directory (run from the repository or pass --root)",
            file=sys.stderr,
        )
        return 2
    idx = build(root, proof_results(proof_results_path(root)))
    unknown = [a for a in args if a not in idx.entries]
    if unknown:
        print(f"error: spec/ defines no rule {', '.join(unknown)}", file=sys.stderr)
        return 2
    for rid in args or [r.id for r in idx.rules]:
        print(idx.lookup(rid).render())
    return 0


if __name__ == "__main__":
    # Run as a script this file is ``__main__``, a second copy of the module: the decorators
    # of the package register in ``perpspec.traceability``, so run that module's ``main``.
    from perpspec.traceability import main as _main

    raise SystemExit(_main())
