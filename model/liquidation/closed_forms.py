"""Closed-form liquidation and bankruptcy prices, exact, before any tick rounding.

Every function here is a pure formula on exact rationals written with ``+ - * /`` only,
so that it runs on :class:`fractions.Fraction` (the model) and on Z3 ``Real`` terms (the
proofs) without change. Values are in *real* units (not the integer units of a profile):
sizes in base (linear) or in quote/USD (inverse ``N``), prices in quote per base, money in
the settlement asset. :mod:`perpspec.liquidation.price` converts a profile's integer units
to these at the boundary and rounds the result to the venue's tick in a named direction
(rule LIQ-RND-01).

``side`` is ``+1`` (long) or ``-1`` (short). A function that would divide by zero for some
inputs says so; the callers decide "no liquidation price" (rule LIQ-NONE-01) *before*
dividing, from :func:`binance_lp1_terms` and friends, so that a formula stays a formula.

Rules: LIQ-BIN-01, LIQ-BIN-02, LIQ-BIN-03, LIQ-BYB-01, LIQ-BYB-02, LIQ-BYB-03, LIQ-BYB-04,
LIQ-BYB-05, LIQ-OKX-01, LIQ-OKX-02, LIQ-HL-01, LIQ-BMX-01, LIQ-BMX-02, LIQ-DYDX-01,
LIQ-BP-01, LIQ-EQ-01, LIQ-ORD-01.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from fractions import Fraction
from typing import Any, TypeVar

import attrs
from perpspec.numeric import Cond, Term, abs_, and_, div_floor
from perpspec.traceability import implements

#: A number of the exact-rational backends: ``Fraction`` or a Z3 ``Real`` term.
Num = Any

ZERO = Fraction(0)

_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def exact_args(fn: _Fn) -> _Fn:
    """Lift plain ``int`` arguments to ``Fraction`` so that ``/`` stays exact (never a float).

    A type-based conversion at the boundary (no branch on values): Z3 terms and Fractions
    pass through unchanged.
    """

    def lift(x: Any) -> Any:
        return Fraction(x) if isinstance(x, int) and not isinstance(x, bool) else x

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*(lift(a) for a in args), **{k: lift(v) for k, v in kwargs.items()})

    return wrapper  # type: ignore[return-value]


# --------------------------------------------------------------------------------------
# The two model functions everything is checked against (LIQ-EQ-01)
# --------------------------------------------------------------------------------------


@exact_args
@implements("LIQ-EQ-01")
def upnl_linear(side: Num, q: Num, ep: Num, price: Num) -> Num:
    """Rule: LIQ-EQ-01. Exact unrealized PnL of a linear position: :math:`s\\,Q\\,(P - EP)`."""
    return side * q * (price - ep)


@exact_args
@implements("LIQ-EQ-01")
def upnl_inverse(side: Num, n: Num, ep: Num, price: Num) -> Num:
    """Rule: LIQ-EQ-01. Exact inverse PnL in coin: :math:`s\\,N\\,(1/EP - 1/P)` (``N`` in USD)."""
    return side * n * (1 / ep - 1 / price)


@exact_args
@implements("LIQ-EQ-01")
def mm_tier(notional: Num, rate: Num, cum: Num) -> Num:
    """Rule: LIQ-EQ-01. Exact maintenance margin inside one tier: :math:`N \\cdot r - cum`.

    This is the exact (pre-rounding) value a margin model's ``maintenance_tiers()`` states
    (:class:`perpspec.margin.LinearTier`), in real units.
    """
    return notional * rate - cum


@exact_args
@implements("LIQ-EQ-01")
def equity_minus_mm_at(
    price: Num,
    *,
    wb: Num,
    tmm_other: Num,
    upnl_other: Num,
    side: Num,
    q: Num,
    ep: Num,
    rate: Num,
    cum: Num,
) -> Num:
    """Rule: LIQ-EQ-01. Equity minus maintenance margin of a linear account at ``price``.

    :math:`WB + UPNL_1 + s Q (P - EP) - (TMM_1 + Q P\\,r - cum)`, built from
    :func:`upnl_linear` and :func:`mm_tier`. At the exact liquidation price of
    :func:`binance_lp_one_way` (same arguments) it is exactly zero.

    Symbolic use (Z3)::

        import z3
        wb, tmm, up, q, ep, r, cum = z3.Reals("wb tmm up q ep r cum")
        lp = binance_lp_one_way(wb, tmm, up, 1, q, ep, r, cum)   # a Z3 Real term
        gap = equity_minus_mm_at(lp, wb=wb, tmm_other=tmm, upnl_other=up, side=1,
                                 q=q, ep=ep, rate=r, cum=cum)
        z3.prove(z3.Implies(z3.And(q > 0, r < 1), gap == 0))

    Works unchanged on ``Fraction`` (the Hypothesis tests) and on ``int``.
    """
    equity = wb + upnl_other + upnl_linear(side, q, ep, price)
    return equity - (tmm_other + mm_tier(q * price, rate, cum))


@exact_args
@implements("LIQ-EQ-01")
def equity_minus_mm_at_inverse(
    price: Num,
    *,
    wb: Num,
    tmm_other: Num,
    upnl_other: Num,
    side: Num,
    n: Num,
    ep: Num,
    rate: Num,
    cum: Num,
) -> Num:
    """Rule: LIQ-EQ-01. The inverse (coin-margined) analogue of :func:`equity_minus_mm_at`.

    :math:`WB + UPNL_1 + s N (1/EP - 1/P) - (TMM_1 + (N/P) r - cum)`; zero at the exact
    :func:`binance_coinm_lp`. Symbolically, state ``price > 0`` and ``ep > 0``.
    """
    equity = wb + upnl_other + upnl_inverse(side, n, ep, price)
    return equity - (tmm_other + mm_tier(n / price, rate, cum))


@exact_args
@implements("LIQ-ORD-01")
def lp_strictly_before_bp(side: Num, lp: Num, bp: Num, ep: Num) -> Cond:
    """Rule: LIQ-ORD-01. The liquidation price is reached strictly before bankruptcy.

    Long: :math:`BP < LP < EP`; short: :math:`EP < LP < BP`; i.e.
    :math:`s\\,BP < s\\,LP < s\\,EP`. Returns a ``bool`` on Fractions and a Z3 ``BoolRef``
    on terms (``side`` may be a Python int with Z3 prices), via :func:`perpspec.numeric.and_`.
    Holds whenever the margin held exceeds MM at entry and MM is positive at the BP.
    """
    return and_(side * bp < side * lp, side * lp < side * ep)


# --------------------------------------------------------------------------------------
# Binance USD-M (LIQ-BIN-01) and COIN-M (LIQ-BIN-03)
# --------------------------------------------------------------------------------------


@attrs.frozen
class BinanceLeg:
    """One leg of the FAQ's LP1 formula: absolute size ``q``, entry ``ep``, bracket ``mmr``/``cum``.

    ``side`` only matters for the BOTH (one-way) leg; LONG legs are +1 and SHORT legs -1.
    """

    q: Num = ZERO
    ep: Num = ZERO
    mmr: Num = ZERO
    cum: Num = ZERO
    side: Num = 1


@exact_args
@implements("LIQ-BIN-01")
def binance_lp1_terms(
    wb: Num,
    tmm1: Num,
    upnl1: Num,
    both: BinanceLeg = BinanceLeg(),
    long: BinanceLeg = BinanceLeg(),
    short: BinanceLeg = BinanceLeg(),
) -> tuple[Num, Num]:
    """Rule: LIQ-BIN-01. Numerator and denominator of the Binance USD-M LP1 formula.

    .. math::

        LP_1 = \\frac{WB - TMM_1 + UPNL_1 + cum_B + cum_L + cum_S
                     - s_B Q_B EP_B - Q_L EP_L + Q_S EP_S}
                    {Q_B MMR_B + Q_L MMR_L + Q_S MMR_S - s_B Q_B - Q_L + Q_S}

    Isolated mode: ``wb`` is the isolated wallet balance and ``tmm1 = upnl1 = 0``.
    """
    num = (
        wb
        - tmm1
        + upnl1
        + both.cum
        + long.cum
        + short.cum
        - both.side * both.q * both.ep
        - long.q * long.ep
        + short.q * short.ep
    )
    den = both.q * both.mmr + long.q * long.mmr + short.q * short.mmr - both.side * both.q - long.q + short.q
    return num, den


@exact_args
@implements("LIQ-BIN-01")
def binance_lp1(
    wb: Num,
    tmm1: Num,
    upnl1: Num,
    both: BinanceLeg = BinanceLeg(),
    long: BinanceLeg = BinanceLeg(),
    short: BinanceLeg = BinanceLeg(),
) -> Num:
    """Rule: LIQ-BIN-01. :math:`LP_1` (see :func:`binance_lp1_terms`); the denominator must be non-zero."""
    num, den = binance_lp1_terms(wb, tmm1, upnl1, both, long, short)
    return num / den


@exact_args
@implements("LIQ-BIN-02")
def binance_lp_one_way(wb: Num, tmm1: Num, upnl1: Num, side: Num, q: Num, ep: Num, mmr: Num, cum: Num) -> Num:
    """Rule: LIQ-BIN-02. One-way reduction of LP1:

    .. math:: LP = \\frac{WB - TMM_1 + UPNL_1 + cum - s Q EP}{Q\\,MMR - s Q}

    i.e. long :math:`(Q EP - (WB - TMM_1 + UPNL_1) - cum)/(Q(1 - MMR))`, short
    :math:`(Q EP + (WB - TMM_1 + UPNL_1) + cum)/(Q(1 + MMR))`.
    """
    return binance_lp1(wb, tmm1, upnl1, both=BinanceLeg(q=q, ep=ep, mmr=mmr, cum=cum, side=side))


@exact_args
@implements("LIQ-BIN-03")
def binance_coinm_lp_terms(
    wb: Num, tmm1: Num, upnl1: Num, side: Num, n: Num, ep: Num, mmr: Num, cum: Num
) -> tuple[Num, Num]:
    """Rule: LIQ-BIN-03. Numerator and denominator of the derived COIN-M (inverse) LP.

    .. math:: LP = \\frac{N (MMR + s)}{WB - TMM_1 + UPNL_1 + cum + s N / EP}

    ``N`` is the USD notional (contracts x contract value); money is in coin.
    """
    return n * (mmr + side), wb - tmm1 + upnl1 + cum + side * n / ep


@exact_args
@implements("LIQ-BIN-03")
def binance_coinm_lp(wb: Num, tmm1: Num, upnl1: Num, side: Num, n: Num, ep: Num, mmr: Num, cum: Num) -> Num:
    """Rule: LIQ-BIN-03. The COIN-M LP (see :func:`binance_coinm_lp_terms`)."""
    num, den = binance_coinm_lp_terms(wb, tmm1, upnl1, side, n, ep, mmr, cum)
    return num / den


@exact_args
@implements("LIQ-BP-01")
def zero_equity_price_linear(equity_at_ep: Num, side: Num, q: Num, ep: Num) -> Num:
    """Rule: LIQ-BP-01. Bankruptcy price of a linear position: equity is zero.

    :math:`BP = EP - s\\,E/Q` where ``E`` is the equity backing the position at ``EP``
    (isolated margin, or the cross equity net of the other positions' PnL).
    """
    return ep - side * equity_at_ep / q


@exact_args
@implements("LIQ-BP-01")
def zero_equity_price_inverse(equity_at_ep: Num, side: Num, n: Num, ep: Num) -> Num:
    """Rule: LIQ-BP-01. Bankruptcy price of an inverse position (coin equity ``E`` at ``EP``).

    :math:`E + s N (1/EP - 1/BP) = 0 \\Rightarrow BP = s N / (E + s N / EP)`.
    """
    return side * n / (equity_at_ep + side * n / ep)


# --------------------------------------------------------------------------------------
# Bybit (LIQ-BYB-01 .. 05)
# --------------------------------------------------------------------------------------


@exact_args
@implements("LIQ-BYB-01")
def bybit_linear_isolated_lp(
    side: Num, q: Num, ep: Num, leverage: Num, mmr: Num, deduction: Num, extra: Num
) -> Num:
    """Rule: LIQ-BYB-01. Bybit USDT-perpetual isolated LP (MM at the entry value).

    .. math::

        IM = Q\\,EP/L,\\quad MM = Q\\,EP\\,MMR - ded,\\quad
        LP = EP - s\\,(IM - MM)/Q - s\\,Extra/Q

    Funding taken from the position margin enters as negative ``extra``.
    """
    im = q * ep / leverage
    mm = mm_tier(q * ep, mmr, deduction)
    return ep - side * (im - mm) / q - side * extra / q


@exact_args
@implements("LIQ-BYB-02")
def bybit_bp_linear(side: Num, ep: Num, leverage: Num) -> Num:
    """Rule: LIQ-BYB-02. Bybit USDT bankruptcy price :math:`EP (1 - s/L)` (``IMR = 1/L``)."""
    return ep * (1 - side / leverage)


@exact_args
@implements("LIQ-BYB-03")
def bybit_bp_inverse(side: Num, ep: Num, leverage: Num) -> Num:
    """Rule: LIQ-BYB-03. Bybit inverse bankruptcy price :math:`EP\\,L/(L + s)`.

    Long :math:`EP\\,L/(L+1)`, short :math:`EP\\,L/(L-1)` (undefined at ``L = 1`` for a short).
    """
    return ep * leverage / (leverage + side)


@exact_args
@implements("LIQ-BYB-04")
def bybit_inverse_cross_bp(side: Num, q: Num, ep: Num, balance: Num, order_margin: Num, taker: Num) -> Num:
    """Rule: LIQ-BYB-04. Bybit inverse cross bankruptcy price with the fee to close.

    Long (doc): :math:`BP = (1 + f) Q / (Q/EP + B - OM)`; short (derived mirror):
    :math:`BP = (1 - f) Q / (Q/EP - (B - OM))`; together
    :math:`BP = (1 + s f) Q / (Q/EP + s (B - OM))`. ``Q`` in USD contracts, ``B``, ``OM`` in coin.
    """
    return (1 + side * taker) * q / (q / ep + side * (balance - order_margin))


@exact_args
@implements("LIQ-BYB-04")
def bybit_inverse_cross_lp(
    side: Num, q: Num, ep: Num, balance: Num, order_margin: Num, mmr: Num, taker: Num, bp: Num
) -> Num:
    """Rule: LIQ-BYB-04. Bybit inverse cross LP: MM at the entry value plus the fee to close at ``bp``.

    Solves :math:`s Q (1/EP - 1/LP) = -(B - OM - (Q/EP) MMR - Q f / BP)`:

    .. math:: LP = \\frac{s Q}{B - OM + s Q/EP - Q\\,MMR/EP - Q f/BP}

    (the doc gives the long; the short is the derived mirror).
    """
    return side * q / (balance - order_margin + side * q / ep - q * mmr / ep - q * taker / bp)


@exact_args
@implements("LIQ-BYB-05")
def bybit_close_fee_linear(q: Num, bp: Num, taker: Num) -> Num:
    """Rule: LIQ-BYB-05. Fee to close at the bankruptcy price, linear: :math:`Q\\,BP\\,f`."""
    return q * bp * taker


@exact_args
@implements("LIQ-BYB-05")
def bybit_close_fee_inverse(q: Num, bp: Num, taker: Num) -> Num:
    """Rule: LIQ-BYB-05. Fee to close at the bankruptcy price, inverse (coin): :math:`Q f / BP`."""
    return q * taker / bp


@exact_args
@implements("LIQ-BYB-01")
def bybit_uta_inverse_isolated_lp(
    side: Num, q: Num, ep: Num, leverage: Num, mmr: Num, deduction: Num, extra: Num, taker: Num
) -> Num:
    """Rule: LIQ-BYB-01. Bybit UTA inverse isolated LP (as the doc prints it).

    Long :math:`Q(MMR + 1)/[Q/EP + Q/(EP L) + Extra/(1 + f) + ded]`;
    short :math:`Q(1 - MMR)/[Q/EP - Q/(EP L) - Extra/(1 - f) - ded]`. In one line:
    :math:`Q(1 + s\\,MMR) / [Q/EP + s(Q/(EP L) + Extra/(1 + s f) + ded)]`, which solves
    equity = MM with MM taken at the liquidation value :math:`Q\\,MMR/LP - ded` (the fee
    only discounts the extra margin).
    """
    return (
        q * (1 + side * mmr) / (q / ep + side * (q / ep / leverage + extra / (1 + side * taker) + deduction))
    )


# --------------------------------------------------------------------------------------
# OKX (LIQ-OKX-01, LIQ-OKX-02)
# --------------------------------------------------------------------------------------


@exact_args
@implements("LIQ-OKX-01")
def okx_isolated_linear_lp(side: Num, q: Num, ep: Num, margin: Num, mmr: Num, fee: Num) -> Num:
    """Rule: LIQ-OKX-01. OKX isolated USDT-margined LP including the taker fee term.

    Long :math:`(EP Q - m)/(Q(1 - MMR - f))`, short :math:`(EP Q + m)/(Q(1 + MMR + f))`:
    :math:`LP = (EP Q - s\\,m)/(Q(1 - s(MMR + f)))` solves
    :math:`m + s Q (P - EP) = Q P (MMR + f)` (margin ratio exactly 100%).
    """
    return (ep * q - side * margin) / (q * (1 - side * (mmr + fee)))


@exact_args
@implements("LIQ-OKX-02")
def okx_margin_ratio(margin: Num, upl: Num, notional: Num, mmr: Num, fee: Num) -> Num:
    """Rule: LIQ-OKX-02. Current OKX isolated margin ratio; liquidation when it is <= 1.

    :math:`MR = (m + UPL) / (N (MMR_{tier} + f))`.
    """
    return (margin + upl) / (notional * (mmr + fee))


@exact_args
@implements("LIQ-OKX-02")
def okx_margin_ratio_2020(margin: Num, upl: Num, position_value: Num) -> Num:
    """Rule: LIQ-OKX-02. 2020 OKEx isolated margin ratio :math:`(m + UPL)/PV`.

    Liquidation when it is below :math:`MMR + f_{liq}` (equivalent to the current rule with ``<``).
    """
    return (margin + upl) / position_value


# --------------------------------------------------------------------------------------
# Hyperliquid (LIQ-HL-01)
# --------------------------------------------------------------------------------------


@exact_args
@implements("LIQ-HL-01")
def hyperliquid_lp(side: Num, q: Num, price: Num, margin_available: Num, l_rate: Num) -> Num:
    """Rule: LIQ-HL-01. Hyperliquid's liquidation price as documented.

    .. math:: LP = P - s \\cdot \\frac{margin\\_available}{Q} \\cdot \\frac{1}{1 - l\\,s}

    ``margin_available`` = account value (cross) or isolated margin plus its uPnL (isolated)
    minus the maintenance margin required, both at the current price ``P``; ``l`` is the
    maintenance rate of the tier at the liquidation price.
    """
    return price - side * margin_available / q / (1 - l_rate * side)


# --------------------------------------------------------------------------------------
# BitMEX (LIQ-BMX-01, LIQ-BMX-02), inverse, unverified
# --------------------------------------------------------------------------------------


@exact_args
@implements("LIQ-BMX-01")
def bitmex_bankruptcy(side: Num, ep: Num, leverage: Num, taker: Num) -> Num:
    """Rule: LIQ-BMX-01 (unverified, support-derived). :math:`BP = EP/(1 + s\\,IM)` with
    :math:`IM = 1/L - 2 f_{taker}`.
    """
    im = 1 / leverage - 2 * taker
    return ep / (1 + side * im)


@exact_args
@implements("LIQ-BMX-01")
def bitmex_liquidation(side: Num, ep: Num, leverage: Num, taker: Num, mm_rate: Num, funding: Num) -> Num:
    """Rule: LIQ-BMX-01 (unverified). Long :math:`BP + EP(MM + F)`, short :math:`BP - EP(MM - F)`:
    :math:`LP = BP + EP (s\\,MM + F)` with :math:`MM = mm + f_{taker}`.
    """
    mm = mm_rate + taker
    return bitmex_bankruptcy(side, ep, leverage, taker) + ep * (side * mm + funding)


@exact_args
@implements("LIQ-BMX-02")
def btcmex_lp(side: Num, ep: Num, leverage: Num, mmr: Num) -> Num:
    """Rule: LIQ-BMX-02. BTCMEX (BitMEX-style inverse) isolated LP, MM at entry value.

    Long :math:`EP L/(L + 1 - MMR L)`, short :math:`EP L/(L - 1 + MMR L)`:
    :math:`LP = EP\\,L / (L + s(1 - MMR\\,L))`.
    """
    return ep * leverage / (leverage + side * (1 - mmr * leverage))


# --------------------------------------------------------------------------------------
# dYdX v4 (LIQ-DYDX-01), integers in quote quantums
# --------------------------------------------------------------------------------------


@implements("LIQ-DYDX-01")
def dydx_bankruptcy_quote(delta_nnv: Term, delta_mmr: Term, tnc: Term, tmmr: Term) -> Term:
    """Rule: LIQ-DYDX-01. dYdX v4 bankruptcy price of closing ``dq``, in quote quantums.

    .. math:: BP = -\\Delta NNV - \\lfloor TNC\\,|\\Delta MMR| / TMMR \\rfloor

    ``delta_nnv`` and ``delta_mmr`` are the changes of the position's net notional value
    and maintenance requirement when ``dq`` is applied; ``tnc`` and ``tmmr`` are the
    subaccount's total net collateral and total maintenance requirement (``tmmr > 0``).
    Rounding: floor (Euclidean, positive divisor), so BP rounds toward +infinity.
    Runs on ints and on Z3 Int terms.
    """
    return -delta_nnv - div_floor(tnc * abs_(delta_mmr), tmmr)
