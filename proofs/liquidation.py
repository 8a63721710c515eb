"""Proofs over the liquidation closed forms, one result per bundled tiered market.

The closed forms of :mod:`perpspec.liquidation.closed_forms` are written with ``+ - * /``
only, so they run on Z3 ``Real`` terms unchanged: the proofs call the model's own
``binance_lp_one_way`` / ``binance_coinm_lp`` (the LP1 solver every tiered variant uses,
rule LIQ-GEN-01), ``equity_minus_mm_at`` / ``equity_minus_mm_at_inverse``,
``zero_equity_price_linear`` / ``zero_equity_price_inverse`` and ``lp_strictly_before_bp``.
The tier data (rate and ``cum`` per tier, in real units) come from the market's margin model
through :func:`perpspec.liquidation.price.exact_tiers`, the same conversion the model uses.

Rules: LIQ-EQ-01, LIQ-ORD-01, LIQ-BIN-02, LIQ-BIN-03, LIQ-BP-01, LIQ-RND-01, LIQ-TIER-01.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import z3
from perpspec.liquidation.closed_forms import BinanceLeg as _Leg
from perpspec.liquidation.closed_forms import (
    binance_coinm_lp,
    binance_coinm_lp_terms,
    binance_lp1_terms,
    binance_lp_one_way,
    equity_minus_mm_at,
    equity_minus_mm_at_inverse,
    lp_strictly_before_bp,
    zero_equity_price_inverse,
    zero_equity_price_linear,
)
from perpspec.liquidation.price import ExactTier, exact_tiers
from perpspec.margin import MarginModel
from perpspec.numeric import Rounding, abs_, pow10
from perpspec.profile import ContractKind
from perpspec.proofs.framework import Claim, Obligation, proof
from perpspec.proofs.subjects import MarginSubject, is_tiered, margin_subjects
from perpspec.units import format_fraction

SIDES = ((1, "long"), (-1, "short"))


def _q(x: Fraction) -> Any:
    return z3.Q(x.numerator, x.denominator)


def _in(n: Any, t: ExactTier) -> tuple[Any, ...]:
    lo = (n >= _q(t.lower),)
    return lo if t.upper is None else (*lo, n < _q(t.upper))


def _tiers(sub: MarginSubject) -> tuple[ExactTier, ...]:
    """The subject's exact schedule (the subjects of these proofs are tiered models)."""
    return exact_tiers(sub.tiers(), sub.money_decimals)


def _label(t: ExactTier) -> str:
    hi = "∞" if t.upper is None else format_fraction(t.upper)
    return f"[{format_fraction(t.lower)}, {hi})"


def _show(**terms: Any) -> dict[str, tuple[Any, int]]:
    # real-valued counterexample values are printed as exact decimals where they terminate
    return {k: (v, -1) for k, v in terms.items()}


def _rounding_window(mode: Rounding | None, side: int) -> tuple[str, Fraction]:
    """How far (in ticks) and in which direction the named tick rounding may move the price."""
    if mode is None:
        return "any", Fraction(1)
    if mode in (Rounding.HALF_UP, Rounding.HALF_EVEN):
        return "nearest", Fraction(1, 2)
    if mode is Rounding.CEIL:
        return "up", Fraction(1)
    return "down", Fraction(1)  # FLOOR, and TRUNC on positive prices


@proof(
    "PRF-LIQ-01",
    rules=("LIQ-EQ-01", "LIQ-BIN-02", "LIQ-BIN-03", "LIQ-RND-01"),
    bounds="WB, TMM1, UPNL1 ∈ ℝ free; Q, EP > 0 (ℝ); each tier's rate and cum; both sides",
    timeout_s=30,
    subjects=margin_subjects(is_tiered),
)
def equity_equals_mm_at_lp(sub: MarginSubject) -> Obligation:
    """Equity equals maintenance margin at the exact liquidation price, and within one tick of it
    after the profile's named tick rounding.

    Per tier and side: ``equity_minus_mm_at(LP) = 0`` exactly at the closed-form LP (linear:
    ``binance_lp_one_way``; inverse: ``binance_coinm_lp``). Linear markets also get the
    rounded claim: for every price ``R`` the profile's LP rounding (``lp_long``/``lp_short``)
    can produce from the exact LP (``LP ≤ R < LP + tick`` for up, ``LP − tick < R ≤ LP`` for
    down, ``|R − LP| ≤ tick/2`` for nearest), ``|equity − MM| at R ≤ w · tick · Q · |s − rate|``
    with ``w`` = 1 (directed) or 1/2 (nearest). Rules: LIQ-EQ-01, LIQ-BIN-02, LIQ-BIN-03, LIQ-RND-01.
    """
    wb, tmm, up, q, ep, r = z3.Reals("WB TMM1 UPNL1 Q EP R")
    tick = Fraction(sub.tick, pow10(sub.price_decimals))
    claims: list[Claim] = []
    inverse = sub.contract is ContractKind.INVERSE
    for k, t in enumerate(_tiers(sub)):
        rate, cum = _q(t.rate), _q(t.cum)
        for side, name in SIDES:
            label = f"{name}, tier {k} {_label(t)}"
            if inverse:
                lp = binance_coinm_lp(wb, tmm, up, side, q, ep, rate, cum)
                num, den = binance_coinm_lp_terms(wb, tmm, up, side, q, ep, rate, cum)
                gap = equity_minus_mm_at_inverse(
                    lp, wb=wb, tmm_other=tmm, upnl_other=up, side=side, n=q, ep=ep, rate=rate, cum=cum
                )
                pre_inv = (q > 0, ep > 0, den != 0, num != 0, lp > 0)
                show = _show(WB=wb, TMM1=tmm, UPNL1=up, N=q, EP=ep, LP=lp)
                claims.append(Claim(gap == 0, pre_inv, show, label))
                continue
            lp = binance_lp_one_way(wb, tmm, up, side, q, ep, rate, cum)
            _, den = binance_lp1_terms(wb, tmm, up, both=_Leg(q=q, ep=ep, mmr=rate, cum=cum, side=side))
            gap = equity_minus_mm_at(lp, wb=wb, tmm_other=tmm, upnl_other=up, side=side, q=q, ep=ep,
                                     rate=rate, cum=cum)
            pre = (q > 0, ep > 0, den != 0)
            claims.append(Claim(gap == 0, pre, _show(WB=wb, TMM1=tmm, UPNL1=up, Q=q, EP=ep, LP=lp), label))
            mode = None if sub.liquidation is None else sub.liquidation.lp_mode(side)
            how, width = _rounding_window(mode, side)
            tk = _q(tick)
            window = {
                "up": (lp <= r, r < lp + tk),
                "down": (lp - tk < r, r <= lp),
                "nearest": (2 * abs_(r - lp) <= tk,),
                "any": (abs_(r - lp) <= tk,),
            }[how]
            gap_r = equity_minus_mm_at(r, wb=wb, tmm_other=tmm, upnl_other=up, side=side, q=q, ep=ep,
                                       rate=rate, cum=cum)
            bound = _q(width) * tk * q * abs_(side - rate)
            claims.append(Claim(abs_(gap_r) <= bound, (*pre, *window),
                                _show(Q=q, EP=ep, LP=lp, R=r, gap=gap_r), f"{label}, rounded {how}"))
    return Obligation(tuple(claims), f"tick {format_fraction(tick)}")


def tier_caps(model: MarginModel, tiers: tuple[ExactTier, ...], money_decimals: int) -> list[int | None]:
    """The max leverage of each tier: the model's ``max_leverage(N)`` at the tier's lower bound,
    else the ``max_leverage`` column of its table (``None``: the tier states no cap)."""
    one = pow10(money_decimals)
    caps = [model.max_leverage(int(t.lower * one)) for t in tiers]
    if all(c is not None for c in caps):
        return [int(c) for c in caps if c is not None]
    column = list(model.tier_max_leverage())
    return column if len(column) == len(tiers) else [None] * len(tiers)


@proof(
    "PRF-LIQ-02",
    rules=("LIQ-ORD-01", "LIQ-BP-01", "LIQ-TIER-01"),
    bounds="isolated one-way position opened at its initial margin Q·EP/L; Q, EP > 0 (ℝ); "
    "leverage L ∈ [1, entry tier's max leverage] (ℝ); LP > 0 with its notional in the LP tier",
    timeout_s=30,
    subjects=margin_subjects(is_tiered),
)
def lp_before_bp(sub: MarginSubject) -> Obligation:
    """The liquidation price lies strictly before the bankruptcy price (and after the entry) for
    every leverage the entry tier allows: s·BP < s·LP < s·EP.

    One claim per side, entry tier j (where the leverage cap applies) and LP tier k (the tier
    fixed point: the notional at the LP lies in tier k); a counterexample names the tiers.
    Tiers without a stated max leverage are not checked (reported in the bounds).
    Rules: LIQ-ORD-01, LIQ-BP-01, LIQ-TIER-01.
    """
    q, ep, lev = z3.Reals("Q EP L")
    tiers = _tiers(sub)
    caps = tier_caps(sub.model, tiers, sub.money_decimals)
    inverse = sub.contract is ContractKind.INVERSE
    claims: list[Claim] = []
    entry_notional = q / ep if inverse else q * ep  # money (coin for inverse) at entry
    wb = entry_notional / lev  # isolated margin = the initial margin at leverage L
    for j, tj in enumerate(tiers):
        cap = caps[j]
        if cap is None:
            continue
        for side, name in SIDES:
            if inverse:
                bp = zero_equity_price_inverse(wb, side, q, ep)
            else:
                bp = zero_equity_price_linear(wb, side, q, ep)
            for k, tk in enumerate(tiers):
                rate, cum = _q(tk.rate), _q(tk.cum)
                if inverse:
                    lp = binance_coinm_lp(wb, 0, 0, side, q, ep, rate, cum)
                    num, den = binance_coinm_lp_terms(wb, 0, 0, side, q, ep, rate, cum)
                    lp_tier = (*_in(q / lp, tk), num != 0)
                else:
                    lp = binance_lp_one_way(wb, 0, 0, side, q, ep, rate, cum)
                    _, den = binance_lp1_terms(wb, 0, 0, both=_Leg(q=q, ep=ep, mmr=rate, cum=cum, side=side))
                    lp_tier = _in(q * lp, tk)
                pre = (q > 0, ep > 0, lev >= 1, lev <= cap, *_in(entry_notional, tj), den != 0, lp > 0,
                       *lp_tier)
                show = _show(Q=q, EP=ep, L=lev, LP=lp, BP=bp)
                claims.append(Claim(lp_strictly_before_bp(side, lp, bp, ep), pre, show,
                                    f"{name}, entry tier {j} {_label(tj)} (max {cap}x), LP tier {k}"))
    skipped = sum(1 for c in caps if c is None)
    extra = f"{skipped} tier(s) without a max leverage not checked" if skipped else ""
    return Obligation(tuple(claims), extra)
