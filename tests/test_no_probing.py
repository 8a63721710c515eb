"""No attribute probing of variants: the engine, the account and liquidation functions and the
proofs talk to a variant only through its mechanism's declared interface (issue 7 item 1,
design §7; :mod:`perpspec.registry`).

The scan reads every module of model/ and proofs/ with :mod:`ast` and reports

- every ``hasattr(...)`` and ``getattr(...)`` call,
- every ``type(x) is C`` / ``type(x) == C`` (and ``is not`` / ``!=``) and every
  ``isinstance(x, C)`` whose class ``C`` is a variant class or a mechanism interface (a class
  decorated with ``@variant`` or ``@interface``, or derived from one),

outside :data:`ALLOWED`: the places that read fields *by name* for a reason other than finding
out what a variant can do, each with that reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: (repository path, enclosing function or class qualname) -> why that use of getattr is not
#: probing a variant. A use in any other place fails the test.
ALLOWED: dict[tuple[str, str], str] = {
    # a variant's semantic check reads its OWN fields by name to report each bad one by name
    # (issue 7 item 2 replaces these loops with a shared helper)
    ("model/margin/drift.py", "DriftSizePremium.check"): "own fields, by name, for the error",
    ("model/margin/deribit.py", "DeribitSizeLinear.check"): "own fields, by name, for the error",
    ("model/funding/premium_clamp.py", "PremiumInterestClamp.check"): "own fields, by name, for the error",
    ("model/funding/gmx.py", "GmxSkew.check"): "own fields, by name, for the error",
    ("model/funding/__init__.py", "check_nonneg"): "the named fields of a parameter object, for the error",
    ("model/scenario.py", "GeneratorSpec.check"): "own fields (scenario knobs), by name, for the error",
    ("model/scenario.py", "knobs.conv"): "a scenario knob named by the caller (not a variant)",
    # a table's column, named by the model that owns the table
    ("model/margin/piecewise.py", "column"): "a named column of a margin table's rows (the caller names it)",
    # the profile loader and profile editing walk any attrs object field by field
    ("model/ranges.py", "range_problems"): "generic walk over the declared fields of any parameter object",
    ("model/profiles/__init__.py", "_checks"): "generic walk over the fields of any attrs section",
    ("model/profiles/__init__.py", "_first_error"): "cattrs exception notes (not a variant)",
    ("model/profiles/__init__.py", "_converter.need.get"): "a Scales field named by the unit table",
    ("model/profiles/edit.py", "_set_field"): "the field a param_change path names (ENG-PAR-01)",
    # not variants at all
    ("model/oracle/replay.py", "_touched"): "the account fields of an event (events are not variants)",
    ("model/traceability.py", "_repo_path"): "a module's __file__ (modules are not variants)",
}

PROBES = ("hasattr", "getattr")


def _variant_classes(files: list[Path]) -> set[str]:
    """Names of the classes decorated ``@variant(...)`` or ``@interface(...)`` and of every class
    derived from one (by base-class name, to a fixed point)."""
    classes: list[ast.ClassDef] = []
    for path in files:
        classes += [n for n in ast.walk(ast.parse(path.read_text("utf-8"))) if isinstance(n, ast.ClassDef)]
    names = set()
    for cls in classes:
        for dec in cls.decorator_list:
            fn = dec.func if isinstance(dec, ast.Call) else dec
            if isinstance(fn, ast.Name) and fn.id in ("variant", "interface"):
                names.add(cls.name)
    grew = True
    while grew:
        grew = False
        for cls in classes:
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in cls.bases}
            if cls.name not in names and bases & names:
                names.add(cls.name)
                grew = True
    return names


def _class_name(node: ast.expr) -> set[str]:
    """The class names an ``isinstance`` second argument or a comparison operand names."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.Tuple):
        return {n for e in node.elts for n in _class_name(e)}
    return set()


def _is_type_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "type"
        and len(node.args) == 1
    )


def probes(source: str, rel: str, variant_classes: set[str]) -> list[tuple[str, str, int, str]]:
    """``(path, qualname, line, what)`` of every probe in ``source`` (see the module docstring)."""
    out: list[tuple[str, str, int, str]] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            scope = (*scope, node.name)
        where = ".".join(scope) or "<module>"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in PROBES:
                out.append((rel, where, node.lineno, f"{node.func.id}(...)"))
            elif node.func.id == "isinstance" and len(node.args) == 2:
                hit = _class_name(node.args[1]) & variant_classes
                if hit:
                    out.append((rel, where, node.lineno, f"isinstance(..., {sorted(hit)[0]})"))
        if isinstance(node, ast.Compare) and _is_type_call(node.left):
            if any(isinstance(op, ast.Is | ast.IsNot | ast.Eq | ast.NotEq) for op in node.ops):
                hit = {n for c in node.comparators for n in _class_name(c)} & variant_classes
                if hit:
                    out.append((rel, where, node.lineno, f"type(...) is {sorted(hit)[0]}"))
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(ast.parse(source), ())
    return out


def _files() -> list[Path]:
    return sorted((ROOT / "model").rglob("*.py")) + sorted((ROOT / "proofs").rglob("*.py"))


def test_no_attribute_probing_outside_the_allowlist() -> None:
    files = _files()
    classes = _variant_classes(files)
    found = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        found += probes(path.read_text("utf-8"), rel, classes)
    bad = [
        f"{rel}:{line} in {where}: {what}" for rel, where, line, what in found if (rel, where) not in ALLOWED
    ]
    assert not bad, (
        "attribute probing of variants (declare the capability on the mechanism's interface, with a "
        "default, and call it):\n" + "\n".join(bad)
    )


def test_the_interfaces_are_found() -> None:
    """The scan knows the variant classes (else isinstance checks on them would pass unseen)."""
    classes = _variant_classes(_files())
    for name in (
        "MarginModel",
        "EngineFunding",
        "MarkModel",
        "IndexModel",
        "LiquidationModel",
        "FeeModel",
        "AccountingBase",
        "FlatMargin",
        "Roundings",
        "BinanceClosedForm",
    ):
        assert name in classes


def test_the_scan_reports_each_kind_of_probe() -> None:
    source = (
        "def engine(model, margin):\n"
        "    if hasattr(model, 'sample_premium'):\n"
        "        pass\n"
        "    x = getattr(margin, 'imr', None)\n"
        "    if isinstance(margin, FlatMargin) or type(margin) is FlatMargin:\n"
        "        pass\n"
        "    return type(model).__name__, isinstance(x, int), type(x) is int\n"
    )
    found = probes(source, "model/x.py", {"FlatMargin"})
    assert [(w, what) for _, w, _, what in found] == [
        ("engine", "hasattr(...)"),
        ("engine", "getattr(...)"),
        ("engine", "isinstance(..., FlatMargin)"),
        ("engine", "type(...) is FlatMargin"),
    ]


def _qualnames(tree: ast.AST) -> set[str]:
    names: set[str] = set()

    def walk(node: ast.AST, scope: tuple[str, ...]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            scope = (*scope, node.name)
            names.add(".".join(scope))
        for child in ast.iter_child_nodes(node):
            walk(child, scope)

    walk(tree, ())
    return names


def test_every_allowlisted_place_exists() -> None:
    """An allowlist entry names a real function of a real module (a stale entry is removed)."""
    for rel, where in ALLOWED:
        assert where in _qualnames(ast.parse((ROOT / rel).read_text("utf-8"))), f"{rel}: no {where}"


def test_every_variant_subclasses_its_mechanisms_interface() -> None:
    """A variant is registered only as a subclass of its mechanism's declared interface, so the
    typed accessors (``Profile.funding_model``, ``MarketSpec.margin``...) hold what they say."""
    from perpspec.registry import INTERFACES, variant, variants_of

    mechanisms = (
        "accounting",
        "fees",
        "funding",
        "index",
        "insurance",
        "liquidation",
        "liquidation_procedure",
        "liquidation_trigger",
        "margin",
        "mark",
    )
    for mech in mechanisms:
        assert variants_of(mech), mech
        for name, cls in variants_of(mech).items():
            assert issubclass(cls, INTERFACES[mech]), (mech, name)
            assert cls.variant_name == name
    assert sorted(INTERFACES) == sorted(mechanisms)
    with pytest.raises(TypeError, match="must subclass the interface of mechanism margin"):

        @variant("margin", "not-a-margin-model")
        class NotAMarginModel:
            pass

    assert "not-a-margin-model" not in variants_of("margin")


def test_a_variant_missing_a_required_capability_cannot_be_built() -> None:
    from perpspec.margin import MarginModel, PositionRisk

    class MaintenanceOnly(MarginModel):
        def maintenance(self, pos: PositionRisk) -> int:
            return 0

    with pytest.raises(TypeError, match="abstract method"):
        MaintenanceOnly()  # type: ignore[abstract]
