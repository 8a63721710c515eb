"""Proofs over funding settlement, one result per bundled profile and market.

The claims call the model's own per-holder functions on Z3 terms:
:func:`perpspec.funding.owed_fraction` (the exact amount a position owes, FND-PAY-01) and
:func:`perpspec.funding.settle_owed` (round each amount, the residual to the sink,
FND-SUM-01). The generic settlement the engine applies (:func:`perpspec.funding.settle_market`
without a native payload, i.e. :func:`~perpspec.funding.settle` / ``settle_sides`` with one rate
for both sides) is exactly ``settle_owed`` over ``owed_fraction`` behind Python control flow on
the sizes (the netting guard ``sum(sizes) != 0`` and the per-side rate pick ``q > 0``), which
cannot take Z3 terms; the proof states the netting as its precondition and passes the one rate.
The venue-native settlements (dYdX funding index, Drift's per-side 1e9 rates, Deribit accrual:
``settle_native``) are not covered here.

Rules: FND-SUM-01, FND-PAY-01, INV-01.
"""

from __future__ import annotations

from typing import Any

import z3
from perpspec.funding import owed_fraction, settle_owed
from perpspec.numeric import Rounding
from perpspec.profile import ContractKind
from perpspec.proofs.framework import Claim, Obligation, proof
from perpspec.proofs.subjects import FundingSubject, funding_subjects

#: Holder counts the proof covers (one claim pair per count).
HOLDERS = (2, 3, 4)


def dust_bound(dust: Any, n: int, rounding: Rounding) -> Any:
    """The dust FND-SUM-01 allows ``n`` holders under ``rounding``: ceil ``0 ≤ dust < n`` (the
    venue keeps it), floor ``−n < dust ≤ 0``, toward zero or to nearest ``|dust| < n``."""
    if rounding is Rounding.CEIL:
        return z3.And(dust >= 0, dust < n)
    if rounding is Rounding.FLOOR:
        return z3.And(dust > -n, dust <= 0)
    return z3.And(dust > -n, dust < n)


def _same(a: Any, b: Any) -> bool:
    """Two denominators are the same term (ints equal, or Z3 terms equal after simplification)."""
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return bool(z3.is_true(z3.simplify(a == b)))


def _bound_text(rounding: Rounding) -> str:
    if rounding is Rounding.CEIL:
        return "0 ≤ dust < n"
    if rounding is Rounding.FLOOR:
        return "−n < dust ≤ 0"
    return "|dust| < n"


@proof(
    "PRF-FND-01",
    rules=("FND-SUM-01", "FND-PAY-01", "INV-01"),
    bounds="n = 2..4 holders (not proved for more), sizes free integers (any sign), price P ≥ 1 price "
           "unit (unbounded above), rate F any integer, one rate for both sides (unbounded: covers "
           "every profile's cap); the generic settlement only (not the native dYdX/Drift/Deribit ones)",
    timeout_s=20,
    subjects=funding_subjects,
    fast=True,
)
def funding_zero_sum(sub: FundingSubject) -> Obligation:
    """Funding settlement is zero-sum with bounded dust that favours the venue.

    For ``n = 2..4`` holders of symbolic signed sizes ``q_i``, a symbolic price ``P ≥ 1`` and
    rate ``F``, with the market's contract (linear or inverse, its scales and contract value)
    and the rounding the engine settles it with (the funding variant's ``payment_rounding``,
    ceil on every bundled profile):

    - *rounding bound* (no netting assumed): the exact amounts ``owed_i = num_i / den`` of
      ``owed_fraction`` (one common denominator: one price) and the rounded amounts of
      ``settle_owed`` satisfy ``0 ≤ Σ round(owed_i) − Σ owed_i < n`` for ceil (the sign per
      :func:`dust_bound` otherwise);
    - *zero-sum*: when the sizes net to zero (``Σ q_i = 0``: long sizes sum to the short sizes
      sum), ``Σ Δ_i + dust == 0`` exactly and ``0 ≤ dust < n`` (ceil).

    ``settle`` / ``settle_sides`` check the netting and pick each side's rate with Python
    control flow on the sizes, so the proof runs their body (``settle_owed`` over
    ``owed_fraction``, one rate for both sides) with the netting as precondition; the property
    is that of the per-holder rounding the settlement applies. Venue-native settlements
    (``settle_native``) are out of scope.
    Rules: FND-SUM-01, FND-PAY-01, INV-01.
    """
    c = sub.contract
    p, f = z3.Int("P"), z3.Int("F")
    rate_d, price_d, size_d, money_d = 8, c.price_decimals, c.size_decimals, c.money_decimals
    claims: list[Claim] = []
    for n in HOLDERS:
        qs = [z3.Int(f"q{i + 1}") for i in range(n)]
        owed = [owed_fraction(c, q, p, f) for q in qs]
        st = settle_owed(owed, sub.rounding, sub.sink)
        den = owed[0][1]
        exact_num = z3.Sum([num for num, _ in owed])
        rounded = -z3.Sum(list(st.payments))  # Σ round(owed_i) = dust
        show: dict[str, tuple[Any, int]] = {f"q{i + 1}": (q, size_d) for i, q in enumerate(qs)}
        show |= {"P": (p, price_d), "F": (f, rate_d)}
        show |= {f"Δ{i + 1}": (d, money_d) for i, d in enumerate(st.payments)}
        show |= {"dust": (st.dust, money_d)}
        # one price, so every holder's exact amount has the same (positive) denominator
        if not all(_same(o[1], den) for o in owed):
            raise ValueError("owed_fraction gave the holders different denominators")
        gap = rounded * den - exact_num  # (Σ round(owed_i) − Σ owed_i) · den
        bound = dust_bound(gap, n * den, sub.rounding)
        claims.append(Claim(z3.And(den > 0, bound), (p >= 1,), show, f"n = {n}: rounding bound"))
        claims.append(Claim(z3.And(st.total() == 0, dust_bound(st.dust, n, sub.rounding)),
                            (z3.Sum(qs) == 0, p >= 1), show, f"n = {n}: zero-sum"))
    kind = "inverse" if c.kind is ContractKind.INVERSE else "linear"
    how = f"{kind} contract, {sub.rounding.value} rounding: {_bound_text(sub.rounding)}"
    return Obligation(tuple(claims), how)
