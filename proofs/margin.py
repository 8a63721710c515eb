"""Proofs over the margin models, one result per bundled profile and market.

Every claim calls the market's own margin model (``maintenance`` / ``initial`` /
``max_leverage``) on Z3 integer terms: notional ``N`` in money units, the position's size
``S`` and the market's open interest ``OI`` free (non-negative) and held fixed while ``N``
moves. The exact schedule (``maintenance_tiers()``) is used only to split the notional axis
into tiers, so that a counterexample names its tier, and to state the rounding bound; it
never replaces the model's formula.

A risk-limit step model (BitMEX) is split per step for PRF-MRG-04, up to a stated step count.

Rules: INV-20, INV-21, INV-22, INV-23, MRG-FLAT-01.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, NamedTuple

import z3
from perpspec.margin import LinearTier, MarginModel, PositionRisk
from perpspec.numeric import div_ceil
from perpspec.proofs.framework import Claim, Obligation, proof
from perpspec.proofs.subjects import MarginSubject, is_tiered, margin_subjects
from perpspec.units import RATE_ONE, format_units


def provable(model: MarginModel) -> bool:
    """Margin models these proofs apply to: flat, and every model exposing its schedule."""
    return model.flat_maintenance_rate() is not None or is_tiered(model)


def _symbols() -> tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef]:
    return z3.Int("N"), z3.Int("S"), z3.Int("OI")


def _pos(n: Any, s: Any, oi: Any, leverage: Any = None) -> PositionRisk:
    return PositionRisk(size=s, notional=n, leverage=leverage, oi_notional=oi)


def _in_tier(n: z3.ArithRef, tier: LinearTier) -> tuple[Any, ...]:
    lo = (n >= tier.lower,)
    return lo if tier.upper is None else (*lo, n < tier.upper)


def _tier_label(k: int, tier: LinearTier, decimals: int) -> str:
    hi = "∞" if tier.upper is None else format_units(tier.upper, decimals)
    return f"tier {k} [{format_units(tier.lower, decimals)}, {hi})"


def step_bound(tiers: tuple[LinearTier, ...]) -> int:
    """The largest change of the rounded MM over one money unit of notional.

    The exact schedule is continuous with slope at most ``r_max`` per unit; a final rounding
    to an integer (floor, ceil or nearest) moves two values ``r_max`` apart by at most
    ``ceil(r_max)`` units, which is 1 for every rate up to 100%.
    """
    r_max = max((t.rate for t in tiers), default=Fraction(0))
    return max(1, int(div_ceil(r_max.numerator, r_max.denominator)))


@proof(
    "PRF-MRG-01",
    rules=("INV-20",),
    bounds="N ∈ [0, ∞) money units (unbounded), size and open interest free, ≥ 0",
    timeout_s=30,
    subjects=margin_subjects(provable),
    fast=True,
)
def mm_non_decreasing(sub: MarginSubject) -> Obligation:
    """Maintenance margin is non-negative and non-decreasing in notional: 0 ≤ MM(N) ≤ MM(N+1).

    One claim per tier of the market's schedule (the claim for tier k also covers the step
    onto tier k+1). Rules: INV-20.
    """
    n, s, oi = _symbols()
    m = sub.model
    mm0, mm1 = m.maintenance(_pos(n, s, oi)), m.maintenance(_pos(n + 1, s, oi))
    d = sub.money_decimals
    show = {"N": (n, d), "MM(N)": (mm0, d), "MM(N+1)": (mm1, d), "size": (s, sub.size_decimals),
            "OI": (oi, d)}
    claims = tuple(
        Claim(z3.And(mm0 >= 0, mm0 <= mm1), (*_in_tier(n, t), s >= 0, oi >= 0), show, _tier_label(k, t, d))
        for k, t in enumerate(sub.tiers())
    )
    return Obligation(claims)


@proof(
    "PRF-MRG-02",
    rules=("INV-21",),
    bounds="N ∈ [0, ∞) money units (unbounded), size and open interest free, ≥ 0",
    timeout_s=30,
    subjects=margin_subjects(provable),
)
def mm_continuous(sub: MarginSubject) -> Obligation:
    """Maintenance margin is continuous up to its rounding: |MM(N+1) − MM(N)| ≤ ⌈r_max⌉ money units.

    At each tier boundary the left and right pieces of the schedule agree, so one money
    unit more notional moves the rounded MM by at most the top rate rounded up (one unit for
    rates up to 100%); a jump at a boundary (a mistyped deduction or ``cum``) breaks it.
    Rules: INV-21.
    """
    n, s, oi = _symbols()
    m = sub.model
    tiers = sub.tiers()
    bound = step_bound(tiers)
    mm0, mm1 = m.maintenance(_pos(n, s, oi)), m.maintenance(_pos(n + 1, s, oi))
    d = sub.money_decimals
    show = {"N": (n, d), "MM(N)": (mm0, d), "MM(N+1)": (mm1, d)}
    claims = tuple(
        Claim(z3.And(mm0 - mm1 <= bound, mm1 - mm0 <= bound), (*_in_tier(n, t), s >= 0, oi >= 0), show,
              _tier_label(k, t, d))
        for k, t in enumerate(tiers)
    )
    return Obligation(claims, f"step bound {bound} money unit(s) = ⌈max tier rate⌉")


def _leverage_cap(model: MarginModel, n: Any) -> tuple[Any, str]:
    """The largest leverage the model allows at notional ``n``: its ``max_leverage(N)`` (a tiered
    model's tier cap; ⌊1/imr⌋ for a flat model, whose initial rate is the least margin a
    leverage may ask for: L·imr ≤ 1)."""
    cap = model.max_leverage(n)
    if cap is not None:
        return cap, "1 ≤ L ≤ max_leverage(N) (the model's own cap: the tier's, or ⌊1/imr⌋ if flat)"
    return None, "the model states no leverage cap: only the no-leverage claim is checked"


@proof(
    "PRF-MRG-03",
    rules=("INV-22",),
    bounds="N ∈ [0, ∞) money units (unbounded), integer leverage L in the tier's range, or no leverage set",
    timeout_s=30,
    subjects=margin_subjects(provable),
)
def im_covers_mm(sub: MarginSubject) -> Obligation:
    """Initial margin is at least maintenance margin for every leverage the tier allows: IM(N, L) ≥ MM(N).

    One claim per tier with the leverage symbolic in the range the model allows at that
    notional, and one claim without a leverage setting. Rules: INV-22.
    """
    n, s, oi = _symbols()
    lev = z3.Int("L")
    m = sub.model
    d = sub.money_decimals
    mm = m.maintenance(_pos(n, s, oi))
    im_none = m.initial(_pos(n, s, oi))
    base = (s >= 0, oi >= 0)
    claims = []
    cap, how = _leverage_cap(m, n)
    if cap is not None:
        im = m.initial(_pos(n, s, oi, lev))
        show = {"N": (n, d), "L": (lev, 0), "IM": (im, d), "MM": (mm, d)}
        for k, t in enumerate(sub.tiers()):
            in_range = (*_in_tier(n, t), *base, lev >= 1, lev <= cap)
            claims.append(Claim(im >= mm, in_range, show, _tier_label(k, t, d)))
    show_none = {"N": (n, d), "IM": (im_none, d), "MM": (mm, d)}
    claims.append(Claim(im_none >= mm, (n >= 0, *base), show_none, "no leverage set"))
    return Obligation(tuple(claims), how)


def runs_on_z3(model: MarginModel) -> bool:
    """A margin model whose ``maintenance`` and ``initial`` accept Z3 terms (Drift's integer
    square root, for one, is int-only and is left to the Hypothesis tests)."""
    s, n, oi = z3.Ints("S N OI")
    try:
        model.maintenance(_pos(n, s, oi))
        model.initial(_pos(n, s, oi))
    except Exception:
        return False
    return True


#: The most risk-limit steps a step-model proof splits the value axis into (the solver runs
#: one claim per step and per boundary, a few milliseconds each).
MAX_STEPS = 250


def risk_steps(model: MarginModel) -> tuple[int, int] | None:
    """``(base limit, step)`` in money units of a risk-limit step model (BitMEX), else ``None``.

    A step model applies one rate to the whole position value and raises it by one step at
    each risk limit ``base + k·step``, so ``MM = V·rate(steps(V))`` is a product of two terms
    that depend on ``V``: nonlinear, and Z3 times out on it over the whole axis. Inside one
    step the rate is a constant and the claim is linear.
    """
    steps = model.risk_limit_steps()
    if steps is None:
        return None
    base, step = steps
    return (base, step) if base >= 0 and step > 0 else None


def step_limit(model: MarginModel, base: int, step: int) -> tuple[int, str]:
    """The number ``K`` of steps the proof covers and why.

    ``K`` is the last step whose initial rate (the model's own ``im_rate``, evaluated on the
    step's upper limit) is at most 100%: above it a position needs more initial margin than
    its value (leverage below 1), so no larger position can be opened. Capped at
    :data:`MAX_STEPS`; a model without ``im_rate`` gets the cap.
    """
    if model.im_rate(base + step) is None:
        return MAX_STEPS, f"K is the proof's step cap {MAX_STEPS}"
    k = 0
    while k < MAX_STEPS:
        rate = model.im_rate(base + (k + 1) * step)
        if rate is None or rate > RATE_ONE:
            break
        k += 1
    if k == MAX_STEPS:
        return k, f"K is the proof's step cap {MAX_STEPS} (the initial rate is still ≤ 100% there)"
    return k, "K is the last step whose initial rate is ≤ 100%: a larger position needs IM above its value"


class _TwoPoints(NamedTuple):
    """The PRF-MRG-04 setup: positions ``(S, N)`` and ``(S′, N′)`` at one open interest ``OI``,
    the model's ``MM(S, N)``, ``MM(S′, N′)`` and ``IM(S, N)`` (no leverage set) on them, and the
    values a counterexample shows."""

    n: z3.ArithRef
    s: z3.ArithRef
    oi: z3.ArithRef
    n2: z3.ArithRef
    s2: z3.ArithRef
    mm0: Any
    mm1: Any
    im0: Any
    show: dict[str, tuple[Any, int]]


def _two_points(sub: MarginSubject) -> _TwoPoints:
    """The :class:`_TwoPoints` of a subject, on its own margin model."""
    n, s, oi = _symbols()
    n2, s2 = z3.Int("N2"), z3.Int("S2")
    m = sub.model
    d = sub.money_decimals
    mm0, mm1 = m.maintenance(_pos(n, s, oi)), m.maintenance(_pos(n2, s2, oi))
    im0 = m.initial(_pos(n, s, oi))
    show = {"S": (s, sub.size_decimals), "N": (n, d), "S′": (s2, sub.size_decimals), "N′": (n2, d),
            "OI": (oi, d), "MM": (mm0, d), "MM′": (mm1, d), "IM": (im0, d)}
    return _TwoPoints(n, s, oi, n2, s2, mm0, mm1, im0, show)


def _step_claims(sub: MarginSubject, base: int, step: int) -> Obligation:
    """PRF-MRG-04 for a risk-step model, split per step ``k = 0..K`` (see :func:`risk_steps`).

    Step 0 is ``[0, base]``, step ``k ≥ 1`` is ``(base + (k−1)·step, base + k·step]`` (a value
    equal to a limit stays in it). Per step: ``0 ≤ MM(N) ≤ MM(N′)`` for ``N ≤ N′`` in the step
    and ``IM(N) ≥ MM(N)``; per boundary ``b_k = base + k·step``: ``MM(b_k) ≤ MM(b_k + 1)`` (the
    jump onto the next step never lowers MM). Chained, they give ``MM(N) ≤ MM(N′)`` for all
    ``0 ≤ N ≤ N′ ≤ base + K·step``. The split only bounds the inputs; the goal is the model's
    own ``maintenance`` / ``initial`` on the Z3 terms.
    """
    n, s, oi, n2, s2, mm0, mm1, im0, show = _two_points(sub)
    d = sub.money_decimals
    k_max, why = step_limit(sub.model, base, step)
    free = (s >= 0, s <= s2, oi >= 0)
    claims: list[Claim] = []
    for k in range(k_max + 1):
        hi = base + k * step
        lo = n >= 0 if k == 0 else n > hi - step
        top_k = format_units(hi, d)
        span = f"[0, {top_k}]" if k == 0 else f"({format_units(hi - step, d)}, {top_k}]"
        claims.append(Claim(z3.And(mm0 >= 0, mm0 <= mm1), (lo, n <= n2, n2 <= hi, *free), show,
                            f"step {k} {span}: monotone"))
        claims.append(Claim(im0 >= mm0, (lo, n <= hi, *free), show, f"step {k} {span}: IM ≥ MM"))
        if k < k_max:
            claims.append(Claim(mm0 <= mm1, (n == hi, n2 == n + 1, *free), show,
                                f"boundary {top_k}: step {k} → {k + 1}"))
    top = format_units(base + k_max * step, d)
    bounds = (f"risk steps: k ≤ K = {k_max}, value N ≤ N′ ≤ {top} in the settlement asset; {why}; "
              "one claim per step (monotone inside it, IM ≥ MM) and per boundary "
              "(MM(limit + 1) ≥ MM(limit)); "
              f"values above {top} are not proved")
    return Obligation(tuple(claims), bounds)


@proof(
    "PRF-MRG-04",
    rules=("INV-20", "INV-22", "INV-23"),
    bounds="size S ≤ S′, notional N ≤ N′ ∈ [0, ∞) (unbounded), open interest free, ≥ 0; no leverage set; "
           "risk-step models (BitMEX): split per step, N ≤ N′ bounded by the step count "
           "(see the subject's bounds)",
    timeout_s=15,
    subjects=margin_subjects(lambda m: not provable(m) and runs_on_z3(m)),
)
def mm_non_decreasing_in_size(sub: MarginSubject) -> Obligation:
    """Size-scaled and open-interest margin models: MM is non-negative and non-decreasing in size
    and notional together, and IM ≥ MM without a leverage setting.

    For models whose rate depends on the position size or value (OKX size tiers, Deribit's
    size-linear rate, BitMEX risk steps, dYdX's open-interest IMF): ``0 ≤ MM(S, N) ≤ MM(S′, N′)``
    for ``S ≤ S′``, ``N ≤ N′``, and ``IM(S, N) ≥ MM(S, N)``. A risk-step model (BitMEX) is
    split per step ``k = 0..K`` with a claim per step boundary (:func:`_step_claims`): its
    ``MM = V·rate(steps(V))`` is nonlinear over the whole axis but linear inside one step; the
    proof then holds for values up to ``base + K·step`` and says so in its bounds.
    Rules: INV-20, INV-22, INV-23.
    """
    steps = risk_steps(sub.model)
    if steps is not None:
        return _step_claims(sub, *steps)
    n, s, oi, n2, s2, mm0, mm1, im0, show = _two_points(sub)
    base = (n >= 0, s >= 0, oi >= 0)
    return Obligation((
        Claim(z3.And(mm0 >= 0, mm0 <= mm1), (*base, s <= s2, n <= n2), show, "monotone"),
        Claim(im0 >= mm0, base, show, "IM ≥ MM"),
    ))
