"""Liquidation and bankruptcy prices of one position: the public API.

:func:`liquidation_price` and :func:`bankruptcy_price` take an account, a position key
``(symbol, slot)``, the marks (price units) and a profile. They convert the account's
integer units into exact real values once (:func:`inputs_for`), hand them to the
profile's ``[liquidation]`` variant (:mod:`perpspec.liquidation.variants`), which applies
its venue's closed form (:mod:`perpspec.liquidation.closed_forms`) with the tier fixed
point (:func:`tier_fixed_point`), and round the exact price to the market's tick in the
direction the profile names for the side (:func:`round_price`).

Rules: LIQ-TIER-01, LIQ-NONE-01, LIQ-RND-01, LIQ-GEN-01.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs
from perpspec.margin import LinearTier, MarginModel, PositionRisk
from perpspec.numeric import Rounding, fraction_to_step, pow10
from perpspec.profile import ContractKind, Profile
from perpspec.traceability import implements

if TYPE_CHECKING:
    from perpspec.liquidation.variants import LiquidationModel

Key = tuple[str, str]


@attrs.frozen
class PriceResult:
    """A liquidation or bankruptcy price.

    - ``exact``: the exact rational price in quote per base (``None``: no such price,
      rule LIQ-NONE-01, the reason in ``note``);
    - ``rounded``: ``exact`` on the market's tick, in the profile's price units, rounded in
      the direction the profile names for the side (rule LIQ-RND-01);
    - ``tier``: index of the margin tier the fixed point selected (rule LIQ-TIER-01);
    - ``rules``: the rule IDs applied.
    """

    exact: Fraction | None
    rounded: int | None
    tier: int | None
    rules: tuple[str, ...]
    note: str = ""


@attrs.frozen
class ExactTier:
    """A maintenance tier in real units: notional in ``[lower, upper)``, ``MM = N·rate - cum``."""

    lower: Fraction
    upper: Fraction | None
    rate: Fraction
    cum: Fraction

    @implements("LIQ-TIER-01")
    def contains(self, notional: Fraction) -> bool:
        """Rule: LIQ-TIER-01. ``lower <= notional < upper`` (``upper=None``: unbounded)."""
        return self.lower <= notional and (self.upper is None or notional < self.upper)


def exact_tiers(tiers: Sequence[LinearTier], money_decimals: int) -> tuple[ExactTier, ...]:
    """A margin model's ``maintenance_tiers()`` (money units of notional) in real units."""
    one = pow10(money_decimals)
    return tuple(
        ExactTier(
            lower=Fraction(t.lower, one),
            upper=None if t.upper is None else Fraction(t.upper, one),
            rate=Fraction(t.rate),
            cum=Fraction(t.deduction) / one,
        )
        for t in tiers
    )


@attrs.frozen
class Leg:
    """One position of the priced symbol, in real units.

    ``q``: absolute size in base (linear) or USD notional ``N`` (inverse); ``ep``: entry price;
    ``side``: +1/-1; ``slot``: BOTH, LONG or SHORT; ``tiers``: its maintenance schedule;
    ``leverage``: the user's leverage or ``None``; ``margin``: its isolated margin (0 cross).
    """

    slot: str
    side: int
    q: Fraction
    ep: Fraction
    tiers: tuple[ExactTier, ...]
    leverage: Fraction | None = None
    margin: Fraction = Fraction(0)


@attrs.frozen
class LiqInputs:
    """Everything a closed form needs, exact, real units (see :func:`inputs_for`).

    - ``legs``: the legs priced together (cross hedge mode: the LONG and SHORT legs of the
      symbol share one LP; otherwise the one position);
    - ``wb``: the cross wallet balance, or the isolated margin of an isolated position;
    - ``tmm_other`` / ``upnl_other``: MM and uPnL of every other cross position at its mark
      (0 for isolated);
    - ``mark``: the symbol's current mark (``None`` if not given);
    - ``tick``: the market tick in price units; ``price_decimals``: the profile's.
    """

    contract: ContractKind
    legs: tuple[Leg, ...]
    wb: Fraction
    tmm_other: Fraction
    upnl_other: Fraction
    isolated: bool
    mark: Fraction | None
    tick: int
    price_decimals: int

    @property
    def leg(self) -> Leg:
        """The first (priced) leg."""
        return self.legs[0]


# --------------------------------------------------------------------------------------
# Tier fixed point, rounding, "no price"
# --------------------------------------------------------------------------------------


@implements("LIQ-TIER-01")
def tier_fixed_point(
    solve: Callable[[tuple[ExactTier, ...]], Fraction | None],
    notional_at: Callable[[int, Fraction], Fraction],
    schedules: Sequence[Sequence[ExactTier]],
) -> tuple[tuple[int, ...], Fraction] | None:
    """Rule: LIQ-TIER-01. The self-consistent tier choice and its price.

    For every combination of one tier per leg (``schedules[i]`` is leg ``i``'s schedule),
    ``solve`` gives the closed-form price under those tiers (or ``None``); the combination is
    accepted when every leg's notional at that price, ``notional_at(i, price)``, lies in the
    leg's chosen ``[lower, upper)``. Combinations are tried in table order; because MM is
    continuous in the notional, at most one is consistent except exactly at a boundary,
    where both neighbours give the same price and the upper tier (the half-open interval)
    is reported. ``None`` if no combination is consistent.
    """
    for combo in itertools.product(*(range(len(s)) for s in schedules)):
        tiers = tuple(schedules[i][j] for i, j in enumerate(combo))
        price = solve(tiers)
        if price is None:
            continue
        if all(t.contains(notional_at(i, price)) for i, t in enumerate(tiers)):
            return combo, price
    return None


@implements("LIQ-RND-01")
def round_price(exact: Fraction, tick: int, price_decimals: int, mode: Rounding) -> int:
    """Rule: LIQ-RND-01. ``exact`` (quote per base) on the tick, in price units, direction ``mode``."""
    return fraction_to_step(exact * pow10(price_decimals), tick, mode)


@implements("LIQ-NONE-01", "LIQ-RND-01")
def result(
    exact: Fraction | None,
    inp: LiqInputs,
    mode: Rounding,
    rules: tuple[str, ...],
    tier: int | None = None,
    note: str = "",
) -> PriceResult:
    """Rules: LIQ-NONE-01, LIQ-RND-01. Wrap an exact price: a non-positive price is "no price"."""
    if exact is None:
        return PriceResult(None, None, tier, (*rules, "LIQ-NONE-01"), note)
    if exact <= 0:
        return PriceResult(
            None,
            None,
            tier,
            (*rules, "LIQ-NONE-01"),
            note
            or "no positive price: the margin covers a fall to zero (or the account is "
            "already below MM at every price)",
        )
    return PriceResult(
        exact, round_price(exact, inp.tick, inp.price_decimals, mode), tier, (*rules, "LIQ-RND-01"), note
    )


@implements("LIQ-NONE-01")
def none(rules: tuple[str, ...], note: str) -> PriceResult:
    """Rule: LIQ-NONE-01. No price exists (the reason in ``note``)."""
    return PriceResult(None, None, None, (*rules, "LIQ-NONE-01"), note)


def net_side(legs: Sequence[Leg]) -> int:
    """The side whose rounding applies: the sign of the legs' net size (+1 if flat)."""
    net = sum(leg.side * leg.q for leg in legs)
    return -1 if net < 0 else 1


# --------------------------------------------------------------------------------------
# Account -> exact inputs
# --------------------------------------------------------------------------------------


@implements("LIQ-TIER-01")
def schedule_of(
    margin: MarginModel, money_decimals: int, notional_units: int, size_units: int, leverage: int | None
) -> tuple[ExactTier, ...]:
    """Rule: LIQ-TIER-01. A market's maintenance schedule in real units.

    A model with ``maintenance_tiers()`` gives its tiers; a flat model (``flat_maintenance_rate``) one tier;
    any other model one tier whose rate is its maintenance margin at the current notional
    divided by that notional (the rate of a size-scaled model, e.g. Deribit's, at this size).
    """
    tiers = margin.maintenance_tiers()
    if tiers is not None:
        return exact_tiers(tiers, money_decimals)
    mmr = margin.flat_maintenance_rate()
    if mmr is not None:
        from perpspec.units import rate_to_fraction

        return (ExactTier(Fraction(0), None, rate_to_fraction(mmr), Fraction(0)),)
    if notional_units <= 0:
        return (ExactTier(Fraction(0), None, Fraction(0), Fraction(0)),)
    mm = int(margin.maintenance(PositionRisk(size=size_units, notional=notional_units, leverage=leverage)))
    return (ExactTier(Fraction(0), None, Fraction(mm, notional_units), Fraction(0)),)


@implements("LIQ-GEN-01")
def inputs_for(account: Any, symbol: str, slot: str, marks: Mapping[str, int], profile: Profile) -> LiqInputs:
    """Rule: LIQ-GEN-01. The exact inputs of the position ``(symbol, slot)`` of ``account``.

    Cross: ``wb`` = the account's collateral; ``tmm_other``, ``upnl_other`` = MM and uPnL of
    every other cross symbol at its mark, from the margin model and
    :func:`perpspec.position.unrealized_pnl` (money units, exact division by
    :math:`10^{m}`). In hedge mode the LONG and SHORT legs of the symbol are priced together.
    Isolated: ``wb`` = the position's isolated margin, no other terms.
    """
    from perpspec.account import position_requirement, position_upnl
    from perpspec.position import accounting_of, entry_price, notional

    scales = profile.scales
    acc = accounting_of(profile)
    money = pow10(scales.money_decimals)
    price_one = pow10(scales.price_decimals)
    key = (symbol, slot)
    if key not in account.positions or account.positions[key].size == 0:
        raise KeyError(f"account {account.id} has no open position {symbol}/{slot}")
    pos = account.positions[key]
    market = profile.market(symbol)
    mark_units = marks.get(symbol)

    def leg_of(slot_: str, p: Any) -> Leg:
        ep = entry_price(p, market, scales, acc) / price_one
        if market.contract is ContractKind.INVERSE:
            q = Fraction(abs(p.size) * market.contract_value, pow10(scales.size_decimals))
        else:
            q = Fraction(abs(p.size), pow10(scales.size_decimals))
        ref = mark_units if mark_units is not None else max(1, int(ep * price_one))
        n_units = notional(abs(p.size), ref, market, scales, acc)
        tiers = schedule_of(market.margin, scales.money_decimals, n_units, abs(p.size), p.leverage)
        return Leg(
            slot=slot_,
            side=1 if p.size > 0 else -1,
            q=q,
            ep=ep,
            tiers=tiers,
            leverage=None if p.leverage is None else Fraction(p.leverage),
            margin=Fraction(p.isolated_margin, money),
        )

    mark = None if mark_units is None else Fraction(mark_units, price_one)
    if pos.isolated:
        return LiqInputs(
            contract=market.contract,
            legs=(leg_of(slot, pos),),
            wb=Fraction(pos.isolated_margin, money),
            tmm_other=Fraction(0),
            upnl_other=Fraction(0),
            isolated=True,
            mark=mark,
            tick=market.tick,
            price_decimals=scales.price_decimals,
        )
    legs = [leg_of(slot, pos)]
    tmm = upnl = 0
    for (sym, sl), p in sorted(account.positions.items()):
        if p.isolated or p.size == 0 or (sym, sl) == key:
            continue
        if sym == symbol:
            legs.append(leg_of(sl, p))
            continue
        tmm += position_requirement(sym, p, marks, profile).maintenance
        upnl += position_upnl(sym, p, marks, profile)
    return LiqInputs(
        contract=market.contract,
        legs=tuple(legs),
        wb=Fraction(account.collateral, money),
        tmm_other=Fraction(tmm, money),
        upnl_other=Fraction(upnl, money),
        isolated=False,
        mark=mark,
        tick=market.tick,
        price_decimals=scales.price_decimals,
    )


def _variant(profile: Profile) -> LiquidationModel:
    v = profile.liquidation_model
    if v is None:
        raise ValueError(f"profile {profile.name} has no [liquidation] section")
    return v


@implements("LIQ-RND-01")
def _on_grid(inp: LiqInputs, variant: LiquidationModel) -> LiqInputs:
    """Rule: LIQ-RND-01. Round on the variant's ``price_step`` where it names one, else the tick."""
    step = variant.price_step
    return inp if step is None else attrs.evolve(inp, tick=step)


@implements("LIQ-DSP-01")
def liquidation_price(
    account: Any, symbol: str, slot: str, marks: Mapping[str, int], profile: Profile
) -> PriceResult:
    """Rules: LIQ-GEN-01, LIQ-DSP-01. The liquidation price of ``account``'s position
    ``(symbol, slot)``: the venue's display figure.

    The profile's ``[liquidation]`` variant computes the exact price and rounds it. The engine
    liquidates by the margin trigger (ACC-LIQ-01 at the mark), not at this price; where the
    venue's closed form takes the MM at the entry value or counts fees, the two differ by the
    gap LIQ-DSP-01 states (Bybit linear isolated: ``LP - P* = MMR * |EP - P*|``).
    """
    variant = _variant(profile)
    return variant.liquidation(_on_grid(inputs_for(account, symbol, slot, marks, profile), variant))


def bankruptcy_price(
    account: Any, symbol: str, slot: str, marks: Mapping[str, int], profile: Profile
) -> PriceResult:
    """Rule: LIQ-BP-01. The bankruptcy price (equity zero) of the position ``(symbol, slot)``."""
    variant = _variant(profile)
    inp = _on_grid(inputs_for(account, symbol, slot, marks, profile), variant)
    return variant.bankruptcy_account(account, symbol, slot, marks, profile, inp)


__all__ = [
    "ExactTier",
    "Leg",
    "LiqInputs",
    "PriceResult",
    "bankruptcy_price",
    "exact_tiers",
    "inputs_for",
    "liquidation_price",
    "round_price",
    "tier_fixed_point",
]
