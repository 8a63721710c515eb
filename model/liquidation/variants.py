"""The ``[liquidation]`` variants: one frozen parameter class per venue family.

Each class names the tick rounding per side (``lp_long``, ``lp_short``, ``bp_long``,
``bp_short``; rule LIQ-RND-01) and its venue parameters (taker fee to close, ...), and
provides ``liquidation(inp)`` and ``bankruptcy(inp)`` over the exact inputs of
:class:`perpspec.liquidation.price.LiqInputs`. A profile selects one with
``[liquidation] model = "<name>"``. No venue is special-cased anywhere: the choice of
closed form is the variant, the choice of branch is the data (contract kind, margin mode).

Rules: LIQ-GEN-01, LIQ-BIN-01, LIQ-BIN-02, LIQ-BIN-03, LIQ-BYB-01, LIQ-BYB-02, LIQ-BYB-03,
LIQ-BYB-04, LIQ-OKX-01, LIQ-HL-01, LIQ-BMX-01, LIQ-DYDX-01, LIQ-BP-01, LIQ-TIER-01, LIQ-RND-01.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs
from perpspec.liquidation.closed_forms import (
    BinanceLeg,
    binance_coinm_lp_terms,
    binance_lp1_terms,
    bitmex_bankruptcy,
    bitmex_liquidation,
    bybit_bp_inverse,
    bybit_bp_linear,
    bybit_inverse_cross_bp,
    bybit_inverse_cross_lp,
    bybit_linear_isolated_lp,
    bybit_uta_inverse_isolated_lp,
    dydx_bankruptcy_quote,
    hyperliquid_lp,
    mm_tier,
    okx_isolated_linear_lp,
    upnl_linear,
    zero_equity_price_inverse,
    zero_equity_price_linear,
)
from perpspec.liquidation.price import (
    ExactTier,
    LiqInputs,
    PriceResult,
    net_side,
    none,
    result,
    tier_fixed_point,
)
from perpspec.numeric import Rounding, pow10, rescale
from perpspec.profile import ContractKind
from perpspec.quantities import Price, Rate
from perpspec.ranges import ranged
from perpspec.registry import Variant, interface, variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE, rate_to_fraction

_FLAT = (ExactTier(Fraction(0), None, Fraction(0), Fraction(0)),)


@implements("LIQ-TIER-01")
def tier_at(tiers: tuple[ExactTier, ...], notional: Fraction) -> tuple[int, ExactTier]:
    """Rule: LIQ-TIER-01. The tier whose ``[lower, upper)`` holds ``notional`` (the last if none)."""
    for i, t in enumerate(tiers):
        if t.contains(notional):
            return i, t
    return len(tiers) - 1, tiers[-1]


# --------------------------------------------------------------------------------------
# Generic solvers (LIQ-GEN-01): equity(P) = MM(P), linear and inverse
# --------------------------------------------------------------------------------------


@implements("LIQ-GEN-01")
def linear_lp(
    inp: LiqInputs, extra_rate: Fraction = Fraction(0), *, zero_mm: bool = False
) -> tuple[Fraction | None, int | None, str]:
    """Rules: LIQ-GEN-01, LIQ-BIN-01, LIQ-TIER-01. Solve the LP1 closed form over the legs with the
    tier fixed point. ``zero_mm`` gives the bankruptcy price (MM and other MM set to zero,
    rule LIQ-BP-01); ``extra_rate`` is added to every tier rate (OKX's fee term).
    """
    tmm = Fraction(0) if zero_mm else inp.tmm_other
    schedules = [_FLAT if zero_mm else leg.tiers for leg in inp.legs]
    saw_flat = False

    def solve(tiers: tuple[ExactTier, ...]) -> Fraction | None:
        nonlocal saw_flat
        slots: dict[str, BinanceLeg] = {}
        for leg, t in zip(inp.legs, tiers, strict=True):
            slots[leg.slot.lower()] = BinanceLeg(
                q=leg.q, ep=leg.ep, mmr=t.rate + extra_rate, cum=t.cum, side=leg.side
            )
        num, den = binance_lp1_terms(inp.wb, tmm, inp.upnl_other, **slots)
        if den == 0:
            saw_flat = True
            return None
        return Fraction(num) / den

    found = tier_fixed_point(solve, lambda i, p: inp.legs[i].q * p, schedules)
    if found is None:
        why = (
            "equity minus MM does not depend on the price (offsetting legs)"
            if saw_flat
            else "no tier is self-consistent"
        )
        return None, None, why
    return found[1], found[0][0], ""


@implements("LIQ-GEN-01")
def inverse_lp(
    inp: LiqInputs, extra_rate: Fraction = Fraction(0), *, zero_mm: bool = False
) -> tuple[Fraction | None, int | None, str]:
    """Rules: LIQ-GEN-01, LIQ-BIN-03, LIQ-TIER-01. The COIN-M closed form with the tier fixed point
    (tiers on the coin notional ``N/LP``); one leg only.
    """
    if len(inp.legs) != 1:
        return None, None, "hedge-mode cross inverse legs are not modelled by the closed form"
    leg = inp.leg
    tmm = Fraction(0) if zero_mm else inp.tmm_other
    schedules = [_FLAT if zero_mm else leg.tiers]

    def solve(tiers: tuple[ExactTier, ...]) -> Fraction | None:
        t = tiers[0]
        num, den = binance_coinm_lp_terms(
            inp.wb, tmm, inp.upnl_other, leg.side, leg.q, leg.ep, t.rate + extra_rate, t.cum
        )
        if den == 0 or num == 0:
            return None
        return Fraction(num) / den

    found = tier_fixed_point(solve, lambda i, p: inp.leg.q / p if p > 0 else Fraction(-1), schedules)
    if found is None:
        return None, None, "no positive self-consistent price"
    return found[1], found[0][0], ""


@interface("liquidation")
class LiquidationModel(Variant):
    """The declared interface of mechanism ``liquidation`` (the liquidation and bankruptcy
    *prices*; LIQ-GEN-01, LIQ-BP-01, LIQ-RND-01). ``liquidation``, ``bankruptcy``, ``lp_mode``
    and ``bp_mode`` are required; ``price_step`` and ``bankruptcy_account`` have the documented
    defaults. (The liquidation *procedure*, the insurance fund and ADL get interfaces of their
    own with the issues that add them.)"""

    __slots__ = ()

    #: the grid the venue states these prices on, price units; default ``None``: the tick
    price_step: Price | None = None

    @abc.abstractmethod
    def liquidation(self, inp: LiqInputs) -> PriceResult:
        """The liquidation price of the position ``inp`` describes, rounded on the grid."""
        raise NotImplementedError

    @abc.abstractmethod
    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        """The bankruptcy price (equity zero) of the position ``inp`` describes."""
        raise NotImplementedError

    @abc.abstractmethod
    def lp_mode(self, side: int) -> Rounding:
        """The rounding of the liquidation price of a long (``side > 0``) or short position."""
        raise NotImplementedError

    @abc.abstractmethod
    def bp_mode(self, side: int) -> Rounding:
        """The rounding of the bankruptcy price of a long (``side > 0``) or short position."""
        raise NotImplementedError

    def bankruptcy_account(
        self, account: Any, symbol: str, slot: str, marks: Mapping[str, int], profile: Any, inp: LiqInputs
    ) -> PriceResult:
        """The bankruptcy price of ``account``'s position ``(symbol, slot)`` for a venue that
        computes it from the whole account (dYdX); default: :meth:`bankruptcy` of ``inp``."""
        return self.bankruptcy(inp)


@attrs.frozen(kw_only=True)
class Roundings(LiquidationModel):
    """Rule: LIQ-RND-01. The tick rounding of each price per side (a profile names them)."""

    lp_long: Rounding = Rounding.CEIL
    lp_short: Rounding = Rounding.FLOOR
    bp_long: Rounding = Rounding.CEIL
    bp_short: Rounding = Rounding.FLOOR
    #: The grid the venue states these prices on, price units; ``None``: the market's tick.
    #: (Binance prints liquidation prices at its 2-decimal price precision, finer than the
    #: BTCUSDT 0.10 tick.)
    price_step: Price | None = ranged(1, default=None)

    def lp_mode(self, side: int) -> Rounding:
        return self.lp_long if side > 0 else self.lp_short

    def bp_mode(self, side: int) -> Rounding:
        return self.bp_long if side > 0 else self.bp_short

    def generic_liquidation(
        self, inp: LiqInputs, rules: tuple[str, ...], extra_rate: Fraction = Fraction(0)
    ) -> PriceResult:
        solver = inverse_lp if inp.contract is ContractKind.INVERSE else linear_lp
        exact, tier, note = solver(inp, extra_rate)
        return result(exact, inp, self.lp_mode(net_side(inp.legs)), (*rules, "LIQ-TIER-01"), tier, note)

    def generic_bankruptcy(self, inp: LiqInputs) -> PriceResult:
        solver = inverse_lp if inp.contract is ContractKind.INVERSE else linear_lp
        exact, _tier, note = solver(inp, zero_mm=True)
        return result(exact, inp, self.bp_mode(net_side(inp.legs)), ("LIQ-BP-01",), None, note)


# --------------------------------------------------------------------------------------
# Binance
# --------------------------------------------------------------------------------------


@variant("liquidation", "binance-closed-form")
@attrs.frozen(kw_only=True)
class BinanceClosedForm(Roundings):
    """Rules: LIQ-BIN-01, LIQ-BIN-02, LIQ-TIER-01. Binance USD-M LP1 (cross/isolated, one-way/hedge).

    Default rounding half-up on every side: Binance's published 2-decimal figures
    (reference §8.2); the LP rounding direction itself is undocumented.
    """

    lp_long: Rounding = Rounding.HALF_UP
    lp_short: Rounding = Rounding.HALF_UP
    bp_long: Rounding = Rounding.HALF_UP
    bp_short: Rounding = Rounding.HALF_UP

    def liquidation(self, inp: LiqInputs) -> PriceResult:
        rule = "LIQ-BIN-03" if inp.contract is ContractKind.INVERSE else "LIQ-BIN-01"
        return self.generic_liquidation(inp, (rule,))

    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        return self.generic_bankruptcy(inp)


@variant("liquidation", "binance-coinm-closed-form")
@attrs.frozen(kw_only=True)
class BinanceCoinmClosedForm(BinanceClosedForm):
    """Rules: LIQ-BIN-03, LIQ-TIER-01. Binance COIN-M (inverse) LP, derived form, tiers on ``N/LP``."""


# --------------------------------------------------------------------------------------
# Bybit
# --------------------------------------------------------------------------------------


def _leverage(leg: Any) -> Fraction | None:
    """The user's leverage of the leg, or ``None`` when it has none."""
    if leg.leverage is not None and leg.leverage > 0:
        return Fraction(leg.leverage)
    return None


@variant("liquidation", "bybit-closed-form")
@attrs.frozen(kw_only=True)
class BybitClosedForm(Roundings):
    """Rules: LIQ-BYB-01, LIQ-BYB-02, LIQ-BYB-03, LIQ-BYB-04, LIQ-RND-01.

    Linear isolated: MM at the entry value, extra margin = isolated margin - IM (LIQ-BYB-01).
    Inverse isolated: the UTA form. Inverse cross: fee to close at the bankruptcy price
    (LIQ-BYB-04). Linear cross: the generic form (LIQ-GEN-01). ``taker_fee`` is the fee rate
    to close. Rounding: long up, short down to the tick (the help-center examples round a
    long's LP and BP up to the 0.5 tick; the short direction is the mirror reading).
    """

    taker_fee: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))

    def liquidation(self, inp: LiqInputs) -> PriceResult:
        leg = inp.leg
        f = rate_to_fraction(self.taker_fee)
        mode = self.lp_mode(leg.side)
        if inp.contract is ContractKind.LINEAR:
            if not inp.isolated:
                return self.generic_liquidation(inp, ("LIQ-GEN-01",))
            pv = leg.q * leg.ep
            lev = _leverage(leg)
            im = pv / lev if lev is not None else inp.wb
            lev_ = lev if lev is not None else pv / inp.wb
            i, t = tier_at(leg.tiers, pv)
            lp = bybit_linear_isolated_lp(leg.side, leg.q, leg.ep, lev_, t.rate, t.cum, inp.wb - im)
            return result(lp, inp, mode, ("LIQ-BYB-01",), i)
        if inp.isolated:
            pv_coin = leg.q / leg.ep
            lev = _leverage(leg)
            if lev is None:
                lev = pv_coin / inp.wb
            extra = inp.wb - pv_coin / lev

            def solve(tiers: tuple[ExactTier, ...]) -> Fraction | None:
                t = tiers[0]
                return Fraction(
                    bybit_uta_inverse_isolated_lp(leg.side, leg.q, leg.ep, lev, t.rate, t.cum, extra, f)
                )

            found = tier_fixed_point(solve, lambda _i, p: leg.q / p if p > 0 else Fraction(-1), [leg.tiers])
            if found is None:
                return none(("LIQ-BYB-01", "LIQ-TIER-01"), "no self-consistent tier")
            return result(found[1], inp, mode, ("LIQ-BYB-01", "LIQ-TIER-01"), found[0][0])
        if len(inp.legs) != 1:
            return none(("LIQ-BYB-04",), "hedge-mode inverse cross is not modelled")
        balance = inp.wb + inp.upnl_other - inp.tmm_other
        i, t = tier_at(leg.tiers, leg.q / leg.ep)
        bp = bybit_inverse_cross_bp(leg.side, leg.q, leg.ep, balance, Fraction(0), f)
        if bp <= 0:
            return none(("LIQ-BYB-04",), "no positive bankruptcy price")
        lp = bybit_inverse_cross_lp(leg.side, leg.q, leg.ep, balance, Fraction(0), t.rate, f, bp)
        return result(lp, inp, mode, ("LIQ-BYB-04",), i)

    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        leg = inp.leg
        mode = self.bp_mode(leg.side)
        if inp.isolated and leg.leverage is not None and leg.leverage > 0:
            if inp.contract is ContractKind.LINEAR and inp.wb == leg.q * leg.ep / leg.leverage:
                return result(bybit_bp_linear(leg.side, leg.ep, leg.leverage), inp, mode, ("LIQ-BYB-02",))
            if inp.contract is ContractKind.INVERSE and inp.wb == leg.q / leg.ep / leg.leverage:
                if leg.side < 0 and leg.leverage == 1:
                    return none(("LIQ-BYB-03",), "a 1x inverse short cannot go bankrupt")
                return result(bybit_bp_inverse(leg.side, leg.ep, leg.leverage), inp, mode, ("LIQ-BYB-03",))
        if inp.contract is ContractKind.INVERSE and not inp.isolated and len(inp.legs) == 1:
            balance = inp.wb + inp.upnl_other - inp.tmm_other
            f = rate_to_fraction(self.taker_fee)
            return result(
                bybit_inverse_cross_bp(leg.side, leg.q, leg.ep, balance, Fraction(0), f),
                inp,
                mode,
                ("LIQ-BYB-04",),
            )
        if inp.isolated:
            if inp.contract is ContractKind.INVERSE:
                bp = zero_equity_price_inverse(inp.wb, leg.side, leg.q, leg.ep)
            else:
                bp = zero_equity_price_linear(inp.wb, leg.side, leg.q, leg.ep)
            return result(bp, inp, mode, ("LIQ-BP-01",))
        return self.generic_bankruptcy(inp)


# --------------------------------------------------------------------------------------
# OKX
# --------------------------------------------------------------------------------------


@variant("liquidation", "okx-closed-form")
@attrs.frozen(kw_only=True)
class OkxClosedForm(Roundings):
    """Rules: LIQ-OKX-01, LIQ-GEN-01, LIQ-TIER-01. OKX: liquidation at margin ratio 100% with
    the taker fee added to the tier MMR. Isolated linear: the closed form with the tier at
    the LP; cross and inverse: the generic form with rate ``MMR + fee``.
    """

    taker_fee: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))

    def liquidation(self, inp: LiqInputs) -> PriceResult:
        f = rate_to_fraction(self.taker_fee)
        leg = inp.leg
        if inp.contract is ContractKind.LINEAR and inp.isolated:

            def solve(tiers: tuple[ExactTier, ...]) -> Fraction | None:
                t = tiers[0]
                if 1 - leg.side * (t.rate + f) == 0:
                    return None
                return Fraction(okx_isolated_linear_lp(leg.side, leg.q, leg.ep, inp.wb + t.cum, t.rate, f))

            found = tier_fixed_point(solve, lambda _i, p: leg.q * p, [leg.tiers])
            if found is None:
                return none(("LIQ-OKX-01", "LIQ-TIER-01"), "no self-consistent tier")
            return result(found[1], inp, self.lp_mode(leg.side), ("LIQ-OKX-01", "LIQ-TIER-01"), found[0][0])
        return self.generic_liquidation(inp, ("LIQ-OKX-01", "LIQ-GEN-01"), f)

    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        return self.generic_bankruptcy(inp)


# --------------------------------------------------------------------------------------
# Hyperliquid
# --------------------------------------------------------------------------------------


@variant("liquidation", "hyperliquid-closed-form")
@attrs.frozen(kw_only=True)
class HyperliquidClosedForm(Roundings):
    """Rules: LIQ-HL-01, LIQ-TIER-01. Hyperliquid's documented formula at the current mark, with
    the tier (rate ``l`` and deduction) chosen at the liquidation price by the fixed point.
    """

    def liquidation(self, inp: LiqInputs) -> PriceResult:
        if inp.contract is not ContractKind.LINEAR or len(inp.legs) != 1:
            return none(("LIQ-HL-01",), "Hyperliquid perps are linear and one-way")
        leg = inp.leg
        price = inp.mark if inp.mark is not None else leg.ep
        value = inp.wb + inp.upnl_other + upnl_linear(leg.side, leg.q, leg.ep, price)

        def solve(tiers: tuple[ExactTier, ...]) -> Fraction | None:
            t = tiers[0]
            if 1 - t.rate * leg.side == 0:
                return None
            available = value - (inp.tmm_other + mm_tier(leg.q * price, t.rate, t.cum))
            return Fraction(hyperliquid_lp(leg.side, leg.q, price, available, t.rate))

        found = tier_fixed_point(solve, lambda _i, p: leg.q * p, [leg.tiers])
        if found is None:
            return none(("LIQ-HL-01", "LIQ-TIER-01"), "no self-consistent tier")
        return result(found[1], inp, self.lp_mode(leg.side), ("LIQ-HL-01", "LIQ-TIER-01"), found[0][0])

    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        return self.generic_bankruptcy(inp)


# --------------------------------------------------------------------------------------
# BitMEX (unverified support-derived forms)
# --------------------------------------------------------------------------------------


@variant("liquidation", "bitmex-closed-form")
@attrs.frozen(kw_only=True)
class BitmexClosedForm(Roundings):
    """Rule: LIQ-BMX-01 (unverified). Inverse isolated BP ``EP/(1 + s IM)`` with
    ``IM = 1/L - 2 taker`` and LP ``BP + EP(s MM + F)`` with ``MM = mm_rate + taker``.
    ``mm_rate`` 0 means: the margin model's tier rate at the entry value.
    """

    taker_fee: Rate = ranged(0, RATE_ONE - 1, default=Rate(0))
    mm_rate: Rate = ranged(0, RATE_ONE, default=Rate(0))
    funding: Rate = ranged(-RATE_ONE, RATE_ONE, default=Rate(0))

    def _lev(self, inp: LiqInputs) -> Fraction | None:
        leg = inp.leg
        if leg.leverage is not None and leg.leverage > 0:
            return Fraction(leg.leverage)
        if inp.isolated and inp.wb > 0:
            return leg.q / leg.ep / inp.wb
        return None

    def liquidation(self, inp: LiqInputs) -> PriceResult:
        lev = self._lev(inp)
        if lev is None:
            return self.generic_liquidation(inp, ("LIQ-GEN-01",))
        leg = inp.leg
        mm = rate_to_fraction(self.mm_rate) if self.mm_rate else tier_at(leg.tiers, leg.q / leg.ep)[1].rate
        lp = bitmex_liquidation(
            leg.side, leg.ep, lev, rate_to_fraction(self.taker_fee), mm, rate_to_fraction(self.funding)
        )
        return result(
            lp, inp, self.lp_mode(leg.side), ("LIQ-BMX-01",), None, "unverified support-derived formula"
        )

    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        lev = self._lev(inp)
        if lev is None:
            return self.generic_bankruptcy(inp)
        leg = inp.leg
        bp = bitmex_bankruptcy(leg.side, leg.ep, lev, rate_to_fraction(self.taker_fee))
        return result(
            bp, inp, self.bp_mode(leg.side), ("LIQ-BMX-01",), None, "unverified support-derived formula"
        )


# --------------------------------------------------------------------------------------
# dYdX v4, Drift v2, Deribit
# --------------------------------------------------------------------------------------


@variant("liquidation", "dydx-bankruptcy")
@attrs.frozen(kw_only=True)
class DydxBankruptcy(Roundings):
    """Rules: LIQ-DYDX-01, LIQ-GEN-01. dYdX v4: the LP is the generic cross solution (TNC = MM);
    the bankruptcy price of a full close is the integer formula of LIQ-DYDX-01 (quote quantums),
    divided by the size.
    """

    def liquidation(self, inp: LiqInputs) -> PriceResult:
        return self.generic_liquidation(inp, ("LIQ-GEN-01",))

    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        return self.generic_bankruptcy(inp)

    @implements("LIQ-DYDX-01")
    def bankruptcy_account(
        self, account: Any, symbol: str, slot: str, marks: Mapping[str, int], profile: Any, inp: LiqInputs
    ) -> PriceResult:
        """Rule: LIQ-DYDX-01. Full close of ``(symbol, slot)``: ``dNNV = -size·oracle`` (truncated),
        ``dMMR = -MM``, ``TNC``/``TMMR`` of the cross account (or of the isolated position)."""
        from perpspec.account import (
            equity,
            isolated_equity,
            isolated_requirement,
            position_requirement,
            requirement,
        )

        if symbol not in marks:
            return self.bankruptcy(inp)
        pos = account.positions[(symbol, slot)]
        sc = profile.scales
        nnv = int(
            rescale(
                pos.size * marks[symbol],
                sc.size_decimals + sc.price_decimals,
                sc.money_decimals,
                Rounding.TRUNC,
            )
        )
        mm = position_requirement(symbol, pos, marks, profile).maintenance
        if pos.isolated:
            tnc = isolated_equity(account, (symbol, slot), marks, profile)
            tmmr = isolated_requirement(account, (symbol, slot), marks, profile).maintenance
        else:
            tnc = equity(account, marks, profile)
            tmmr = requirement(account, marks, profile).maintenance
        if tmmr <= 0:
            return none(("LIQ-DYDX-01",), "no maintenance requirement: the formula is undefined")
        bp_qq = int(dydx_bankruptcy_quote(-nnv, -mm, tnc, tmmr))
        side = 1 if pos.size > 0 else -1
        exact = Fraction(side * bp_qq, pow10(sc.money_decimals)) / inp.leg.q
        return result(exact, inp, self.bp_mode(side), ("LIQ-DYDX-01",), None, f"bankruptcy quote {bp_qq} qq")


@variant("liquidation", "drift-oracle")
@attrs.frozen(kw_only=True)
class DriftOracle(Roundings):
    """Rule: LIQ-GEN-01. Drift v2: margin at the oracle price; the LP is the generic solution of
    equity = MM (the marks passed are oracle prices); BP: equity zero (LIQ-BP-01).
    """

    def liquidation(self, inp: LiqInputs) -> PriceResult:
        return self.generic_liquidation(inp, ("LIQ-GEN-01",))

    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        return self.generic_bankruptcy(inp)


@variant("liquidation", "deribit-incremental")
@attrs.frozen(kw_only=True)
class DeribitIncremental(Roundings):
    """Rule: LIQ-GEN-01. Deribit: MM grows with the *size*, so at a fixed size it is linear in the
    price; the LP is the generic solution with the margin model's rate at the current size.
    """

    def liquidation(self, inp: LiqInputs) -> PriceResult:
        return self.generic_liquidation(inp, ("LIQ-GEN-01",))

    def bankruptcy(self, inp: LiqInputs) -> PriceResult:
        return self.generic_bankruptcy(inp)
