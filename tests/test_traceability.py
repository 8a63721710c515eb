"""Every spec rule is implemented and checked; every citation names a rule (design §5).

The index is :func:`perpspec.traceability.build`: ``@implements`` decorators in the code,
``@pytest.mark.rule`` markers in tests/, the proof registry. The coverage policy is in the
module docstring of :mod:`perpspec.traceability`.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from perpspec import traceability
from perpspec.citations import docstring_mentions, outside_links, scan_tests, source_citations, sources
from perpspec.traceability import RuleIndex, build, implements

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def idx() -> RuleIndex:
    return build(ROOT)


def test_rule_ids_unique_and_labelled(idx: RuleIndex) -> None:
    bad = idx.unlabelled()
    assert not bad, "rule headings without a MyST label (ID)= or defined twice:\n" + "\n".join(bad)


def test_no_dangling_citations(idx: RuleIndex) -> None:
    bad = idx.dangling()
    assert not bad, "decorators, markers or proofs citing rules spec/ does not define:\n" + "\n".join(bad)


def test_no_orphan_rules(idx: RuleIndex) -> None:
    bad = idx.orphans()
    assert not bad, "rules nothing implements or checks:\n" + "\n".join(bad)


def test_docstring_mentions_name_defined_rules(idx: RuleIndex) -> None:
    """A ``Rule: ID`` written for readers must name a rule spec/ defines."""
    bad = [
        f"{f}:{line} mentions {rid}" for rid, f, line in docstring_mentions(ROOT) if rid not in idx.entries
    ]
    assert not bad, "docstrings naming undefined rules:\n" + "\n".join(bad)


def test_decorated_definitions_name_their_rules_for_readers(idx: RuleIndex) -> None:
    """Design principle: the docstring gives the rule ID and the formula. Each rule of an
    ``@implements`` appears in the docstring of the definition, its class or its module."""
    nested = [f"{i.file}:{i.line} {i.name}" for i in idx.implementations if "<locals>" in i.qualname]
    assert not nested, "@implements on a nested function (not importable):\n" + "\n".join(nested)
    bad = []
    for impl in idx.implementations:
        module = sys.modules[impl.module]
        obj: object = module
        docs = [inspect.getdoc(module) or ""]
        for part in impl.qualname.split("."):
            obj = getattr(obj, part)
            docs.append(inspect.getdoc(obj) or "")
        text = "\n".join(docs)
        bad += [f"{impl.file}:{impl.line} {impl.name}: {rid}" for rid in impl.rules if rid not in text]
    assert not bad, "@implements IDs no docstring names:\n" + "\n".join(bad)


def test_spec_cites_sources_by_id_only() -> None:
    """spec/sources.md holds every source; the other pages cite them by ID and hold no URL."""
    defined = sources(ROOT / "spec")
    cited = source_citations(ROOT / "spec")
    undefined = [f"spec/{f}:{line} cites {sid}" for sid, f, line in cited if sid not in defined]
    assert not undefined, "sources spec/sources.md does not define:\n" + "\n".join(undefined)
    unused = sorted(set(defined) - {sid for sid, _, _ in cited})
    assert not unused, f"sources no rule cites: {unused}"
    links = [f"spec/{f}:{line}: {text}" for f, line, text in outside_links(ROOT / "spec")]
    assert not links, "addresses outside the repository (cite a source ID instead):\n" + "\n".join(links)


def test_lookup_joins_code_tests_and_proofs(idx: RuleIndex) -> None:
    """One lookup gives the defining function (with its file and line), tests and proofs."""
    e = idx.lookup("RND-DIV-02")
    assert [i.name for i in e.implementations] == ["perpspec.numeric.div_ceil"]
    impl = e.implementations[0]
    assert impl.file == "model/numeric.py"
    assert (ROOT / impl.file).read_text("utf-8").splitlines()[impl.line - 1].startswith("def div_ceil(")
    assert any(t.file == "tests/test_numeric.py" for t in e.tests)
    assert [p.id for p in e.proofs] == ["PRF-RND-02"]
    assert e.proofs[0].status == "not run"
    with pytest.raises(KeyError):
        idx.lookup("MRG-XXX-99")


def test_lookup_reports_proof_status_from_results(idx: RuleIndex) -> None:
    results = {"results": [{"proof": "PRF-RND-02", "status": "proved"}]}
    e = build(ROOT, results).lookup("RND-DIV-02")
    assert e.proofs[0].status == "proved 1"


def test_implements_returns_the_object_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(traceability, "_REGISTRY", [])

    def f(x: int) -> int:
        return x + 1

    assert implements("RND-DIV-01")(f) is f
    assert traceability._REGISTRY == [(("RND-DIV-01",), f)]
    with pytest.raises(ValueError, match="rule IDs"):
        implements("not-an-id")
    with pytest.raises(ValueError, match="rule IDs"):
        implements()


def test_scan_tests_reads_markers(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\n"
        "RULES = ('A', 'B')\n"
        "pytestmark = pytest.mark.rule('M')\n"
        "@pytest.mark.rule(*RULES)\n"
        "@pytest.mark.parametrize('x', [1])\n"
        "def test_a(x): ...\n"
        "@pytest.mark.rule('C')\n"
        "class TestK:\n"
        "    @pytest.mark.rule('D', 'C')\n"
        "    def test_b(self): ...\n",
        "utf-8",
    )
    got = [(t.test, t.rules, t.line) for t in scan_tests(tmp_path)]
    assert got == [
        ("tests/test_x.py", ("M",), 3),
        ("tests/test_x.py::test_a", ("A", "B"), 6),
        ("tests/test_x.py::TestK", ("C",), 8),
        ("tests/test_x.py::TestK::test_b", ("D", "C"), 10),
    ]
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\n@pytest.mark.rule(f())\ndef test_a(): ...\n"
    )
    with pytest.raises(ValueError, match=r"test_x\.py:2"):
        scan_tests(tmp_path)


def test_every_module_imports() -> None:
    """The index imports every module; one that fails to import would hide its rules (only a
    missing optional third-party package may skip a module)."""
    traceability.load_all_modules()  # raises on any failure but a missing optional package
    modules = {i.module for i in traceability.implementations()}
    assert {"perpspec.numeric", "perpspec.margin.brackets", "perpspec.funding"} <= modules


def test_command_line_lookup() -> None:
    """``python -m perpspec.traceability ID`` prints the lookup; an unknown ID exits 2."""
    cmd = [sys.executable, "-m", "perpspec.traceability", "--root", str(ROOT)]
    ok = subprocess.run([*cmd, "RND-DIV-02"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "perpspec.numeric.div_ceil  model/numeric.py:" in ok.stdout
    assert "PRF-RND-02 [" in ok.stdout
    bad = subprocess.run([*cmd, "MRG-XXX-99"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "MRG-XXX-99" in bad.stderr
