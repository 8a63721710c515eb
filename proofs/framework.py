"""The proof framework: a registry of Z3 proofs over the model's own functions.

A proof is a function decorated with :func:`proof`. It receives one *subject* (a bundled
profile's market and its margin table, a liquidation setting, or nothing for the numeric
core), builds symbolic inputs (``z3.Int``), calls the MODEL function with those terms (the
function defined once over :mod:`perpspec.numeric`, never a re-typed formula), and
returns an :class:`Obligation`: one or more :class:`Claim` s, each a goal that must hold
under the stated preconditions.

The framework checks each claim by asserting its preconditions and the *negation* of its
goal: ``unsat`` means the goal holds for every input in the bounds (``proved``); ``sat``
gives a ``counterexample`` whose model values are reported as exact decimal strings
(:func:`perpspec.units.format_units`); ``unknown`` (solver timeout or incompleteness) is
reported as ``unknown``. A proof that cannot even be built (the model function raised,
e.g. a Python ``if`` on a Z3 term) is an ``error``; a subject that gives the proof nothing
to check (e.g. a table that states no max leverage) is ``n/a``.

Results are data (:class:`ProofResult`); :mod:`perpspec.proofs.runner` prints and writes
them. One result per (proof, subject): a margin proof runs once per bundled profile and
market.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any, Literal

import attrs
import z3
from perpspec.units import format_fraction, format_units

Status = Literal["proved", "counterexample", "unknown", "error", "n/a"]

#: Statuses that make ``perpspec prove`` fail (exit code 1). ``unknown`` is reported, not a failure.
FAILING: tuple[Status, ...] = ("counterexample", "error")


@attrs.frozen
class Claim:
    """One proof obligation: under ``assume``, ``goal`` holds.

    ``show`` names the terms to print in a counterexample, each with the number of
    decimals of its unit (money, price, size or rate decimals; 0 for plain integers).
    ``label`` says which part of the subject the claim is about (e.g. ``"tier 3"``), so
    a counterexample names the tier that fails.
    """

    goal: Any
    assume: tuple[Any, ...] = ()
    show: Mapping[str, tuple[Any, int]] = attrs.field(factory=dict)
    label: str = ""


@attrs.frozen
class Obligation:
    """What a proof function returns: its claims and the subject-specific bounds."""

    claims: tuple[Claim, ...]
    bounds: str = ""


@attrs.frozen
class Subject:
    """What a proof is run on: a display name (``profile/market`` or ``numeric``) and a value."""

    name: str
    value: Any = None
    profile: str = ""
    market: str = ""
    #: set when the subject could not be built (e.g. its profile failed to load)
    error: str = ""
    #: rule IDs the subject's own model code cites (added to the proof's rules in the result)
    rules: tuple[str, ...] = ()


ProofFn = Callable[[Any], Obligation]


@attrs.frozen
class ProofSpec:
    """A registered proof: ID, the rules it checks, its stated bounds and solver timeout."""

    id: str
    title: str
    rules: tuple[str, ...]
    bounds: str
    timeout_s: int
    fn: ProofFn
    subjects: Callable[[], list[Subject]]
    fast: bool
    doc: str


@attrs.frozen
class ProofResult:
    """The outcome of one proof on one subject."""

    proof_id: str
    title: str
    subject: str
    profile: str
    market: str
    status: Status
    rules: tuple[str, ...]
    bounds: str
    claims: int
    #: label of the claim that failed (or was unknown), "" if all were proved
    failed_claim: str = ""
    #: counterexample model values, as exact decimal strings
    counterexample: Mapping[str, str] = attrs.field(factory=dict)
    reason: str = ""
    time_ms: int = 0

    @property
    def failed(self) -> bool:
        return self.status in FAILING

    def as_dict(self) -> dict[str, Any]:
        """The deterministic part of the result (run time excluded; see the runner)."""
        return {
            "proof": self.proof_id,
            "title": self.title,
            "subject": self.subject,
            "profile": self.profile,
            "market": self.market,
            "status": self.status,
            "rules": list(self.rules),
            "bounds": self.bounds,
            "claims": self.claims,
            "failed_claim": self.failed_claim,
            "counterexample": dict(self.counterexample),
            "reason": self.reason,
        }


#: proof ID -> spec, in registration order
REGISTRY: dict[str, ProofSpec] = {}


def numeric_subject() -> list[Subject]:
    """The single subject of proofs that need no profile data."""
    return [Subject("numeric")]


def proof(
    proof_id: str,
    *,
    rules: Sequence[str],
    bounds: str,
    timeout_s: int = 30,
    subjects: Callable[[], list[Subject]] = numeric_subject,
    fast: bool = False,
) -> Callable[[ProofFn], ProofFn]:
    """Register a proof function.

    ``rules`` are the spec rule IDs the proof checks (the traceability index reads them from
    this registry; the docstring names them for readers); ``bounds`` states the value ranges
    the proof covers (the docs show it beside the status); ``timeout_s`` is the solver
    timeout per claim; ``subjects`` enumerates what the proof runs on; ``fast`` marks it as
    part of the quick subset the test suite runs.
    """

    def register(fn: ProofFn) -> ProofFn:
        if proof_id in REGISTRY and REGISTRY[proof_id].fn is not fn:
            raise ValueError(f"proof {proof_id} registered twice")
        doc = inspect.cleandoc(fn.__doc__ or "")
        title = doc.splitlines()[0].rstrip(".") if doc else proof_id
        REGISTRY[proof_id] = ProofSpec(
            proof_id, title, tuple(rules), bounds, timeout_s, fn, subjects, fast, doc
        )
        return fn

    return register


def all_proofs() -> list[ProofSpec]:
    """Every registered proof (imports the built-in proof modules first), sorted by ID."""
    from perpspec.proofs import catalog  # noqa: F401  (registers on import)

    return sorted(REGISTRY.values(), key=lambda s: s.id)


def render(model: z3.ModelRef, term: Any, decimals: int) -> str:
    """A term's value in a counterexample: integers of ``10^-decimals`` units as exact decimals;
    ``decimals < 0`` marks a real-valued term (shown as an exact fraction or decimal)."""
    if isinstance(term, bool):
        return str(term).lower()
    if isinstance(term, int):
        return format_units(term, max(decimals, 0))
    v = model.eval(term, model_completion=True)
    if z3.is_int_value(v):
        return format_units(int(v.as_long()), max(decimals, 0))
    if z3.is_rational_value(v):
        frac = Fraction(int(v.numerator_as_long()), int(v.denominator_as_long()))
        text = format_fraction(frac)
        return text if not text.endswith("...") else f"{frac.numerator}/{frac.denominator}"
    if z3.is_true(v) or z3.is_false(v):
        return str(z3.is_true(v)).lower()
    if z3.is_algebraic_value(v):
        return f"{v.as_decimal(12)} (algebraic)"
    return str(v)


def check_claim(claim: Claim, timeout_s: int) -> tuple[Status, dict[str, str], str]:
    """Check one claim: ``proved`` (negation unsat), ``counterexample`` or ``unknown``."""
    solver = z3.Solver()
    solver.set("timeout", max(1, timeout_s) * 1000)
    solver.set("random_seed", 0)
    for a in claim.assume:
        solver.add(a)
    solver.add(z3.Not(claim.goal) if z3.is_expr(claim.goal) else z3.BoolVal(not claim.goal))
    verdict = solver.check()
    if verdict == z3.unsat:
        return "proved", {}, ""
    if verdict == z3.sat:
        model = solver.model()
        values: dict[str, str] = {}
        for name, (term, decimals) in claim.show.items():
            values[name] = render(model, term, decimals)
        return "counterexample", values, ""
    return "unknown", {}, str(solver.reason_unknown())


def run_proof(spec: ProofSpec, subject: Subject, timeout_s: int | None = None) -> ProofResult:
    """Run one proof on one subject. ``timeout_s`` caps the proof's own timeout."""
    limit = spec.timeout_s if timeout_s is None else min(spec.timeout_s, timeout_s)
    base: dict[str, Any] = {
        "proof_id": spec.id,
        "title": spec.title,
        "subject": subject.name,
        "profile": subject.profile,
        "market": subject.market,
        "rules": tuple(dict.fromkeys(spec.rules + subject.rules)),
    }
    start = time.perf_counter_ns()

    def elapsed() -> int:
        return (time.perf_counter_ns() - start) // 1_000_000

    if subject.error:
        return ProofResult(**base, status="error", bounds=spec.bounds, claims=0, reason=subject.error)
    try:
        ob = spec.fn(subject.value)
    except Exception as exc:  # the model function could not be run on Z3 terms
        return ProofResult(
            **base,
            status="error",
            bounds=spec.bounds,
            claims=0,
            reason=f"building the proof failed: {type(exc).__name__}: {exc}",
            time_ms=elapsed(),
        )
    bounds = f"{spec.bounds}; {ob.bounds}" if ob.bounds else spec.bounds
    if not ob.claims:
        return ProofResult(
            **base,
            status="n/a",
            bounds=bounds,
            claims=0,
            reason="nothing to check for this subject (see bounds)",
            time_ms=elapsed(),
        )
    unknown: tuple[str, str] | None = None
    for claim in ob.claims:
        try:
            status, values, reason = check_claim(claim, limit)
        except z3.Z3Exception as exc:
            return ProofResult(
                **base,
                status="error",
                bounds=bounds,
                claims=len(ob.claims),
                failed_claim=claim.label,
                reason=f"solver error: {exc}",
                time_ms=elapsed(),
            )
        if status == "counterexample":
            return ProofResult(
                **base,
                status=status,
                bounds=bounds,
                claims=len(ob.claims),
                failed_claim=claim.label,
                counterexample=values,
                time_ms=elapsed(),
            )
        if status == "unknown" and unknown is None:
            unknown = (claim.label, reason)
    if unknown is not None:
        return ProofResult(
            **base,
            status="unknown",
            bounds=bounds,
            claims=len(ob.claims),
            failed_claim=unknown[0],
            reason=f"solver returned unknown ({unknown[1]}) within {limit} s",
            time_ms=elapsed(),
        )
    return ProofResult(**base, status="proved", bounds=bounds, claims=len(ob.claims), time_ms=elapsed())


def select(specs: Iterable[ProofSpec], only: str | None = None, fast_only: bool = False) -> list[ProofSpec]:
    """The proofs whose ID contains ``only`` (case-insensitive), optionally only the fast ones."""
    out = [s for s in specs if only is None or only.lower() in s.id.lower()]
    return [s for s in out if s.fast] if fast_only else out


def run_all(
    only: str | None = None,
    timeout_s: int | None = None,
    fast_only: bool = False,
    on_result: Callable[[int], None] | None = None,
) -> list[ProofResult]:
    """Run every selected proof on each of its subjects, in ID then subject order
    (``on_result(results so far)`` after each one: the progress bar of ``perpspec prove``)."""
    results = []
    for spec in select(all_proofs(), only, fast_only):
        try:
            subjects = spec.subjects()
        except Exception as exc:
            why = f"enumerating subjects failed: {type(exc).__name__}: {exc}"
            subjects = [Subject("(subjects)", error=why)]
        for subject in subjects:
            results.append(run_proof(spec, subject, timeout_s))
            if on_result is not None:
                on_result(len(results))
    return results
