"""What the proofs run on: the bundled profiles' markets, their margin tables and funding settlement.

A proof over a margin model runs once per bundled profile and market whose model it
applies to (:func:`margin_subjects`). A profile that fails to load yields one ``error``
subject, so a broken bundled profile makes ``perpspec prove`` fail instead of silently
skipping it.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import attrs
from perpspec.funding import EngineFunding
from perpspec.liquidation.variants import LiquidationModel
from perpspec.margin import LinearTier, MarginModel
from perpspec.numeric import Rounding
from perpspec.profile import ContractKind
from perpspec.proofs.framework import Subject
from perpspec.registry import Variant
from perpspec.traceability import rules_of


@attrs.frozen
class MarginSubject:
    """One market's margin model with the scales needed to print its values."""

    profile: str
    market: str
    model: MarginModel
    money_decimals: int
    size_decimals: int
    price_decimals: int
    #: the market's contract kind, tick (price units) and the profile's [liquidation] variant
    contract: ContractKind = ContractKind.LINEAR
    tick: int = 1
    liquidation: LiquidationModel | None = None

    def tiers(self) -> tuple[LinearTier, ...]:
        """The model's exact schedule, or one unbounded piece for an untiered (flat) model
        (rate 0 for a model that is neither)."""
        tiers = self.model.maintenance_tiers()
        if tiers is not None:
            return tuple(tiers)
        rate = self.model.flat_maintenance_rate()
        from perpspec.units import RATE_ONE

        return (LinearTier(0, None, Fraction(rate if rate is not None else 0, RATE_ONE), Fraction(0)),)


def cited_rules(obj: Any) -> tuple[str, ...]:
    """The rule IDs the class of ``obj`` implements (its methods' ``@implements``), sorted."""
    return tuple(sorted(rules_of(type(obj))))


def margin_subject(
    profile: str,
    market: str,
    model: MarginModel,
    money_decimals: int = 8,
    size_decimals: int = 0,
    price_decimals: int = 0,
    contract: ContractKind = ContractKind.LINEAR,
    tick: int = 1,
    liquidation: LiquidationModel | None = None,
) -> Subject:
    """A subject for one margin model (also used by tests with a hand-built table)."""
    value = MarginSubject(
        profile, market, model, money_decimals, size_decimals, price_decimals, contract, tick, liquidation
    )
    return Subject(f"{profile}/{market}", value, profile, market, rules=cited_rules(model))


def per_bundled_profile(subjects_of: Callable[[str, Any], list[Subject]]) -> list[Subject]:
    """``subjects_of(name, profile)`` for every bundled profile, in name order; a profile that fails
    to load gives one ``error`` subject instead."""
    from perpspec.profiles import bundled_names, load_profile

    out: list[Subject] = []
    for name in bundled_names():
        try:
            prof = load_profile(name)
        except Exception as exc:
            out.append(Subject(name, profile=name, error=f"profile failed to load: {exc}"))
            continue
        out.extend(subjects_of(name, prof))
    return out


def margin_subjects(accept: Callable[[Any], bool]) -> Callable[[], list[Subject]]:
    """Enumerator of every bundled (profile, market) whose margin model ``accept`` s."""

    def of_profile(name: str, prof: Any) -> list[Subject]:
        sc = prof.scales
        return [
            margin_subject(name, sym, spec.margin, sc.money_decimals, sc.size_decimals,
                           sc.price_decimals, spec.contract, spec.tick, prof.liquidation_model)
            for sym, spec in sorted(prof.markets.items())
            if accept(spec.margin)
        ]

    def enumerate_subjects() -> list[Subject]:
        return per_bundled_profile(of_profile)

    return enumerate_subjects


def is_tiered(model: MarginModel) -> bool:
    """A model exposing its exact schedule (``maintenance_tiers()``)."""
    return model.maintenance_tiers() is not None


def variant_name(model: Variant | None) -> str:
    """The registered variant name of a parameter object ("" if unregistered or absent)."""
    return "" if model is None else model.variant_name


@attrs.frozen
class FundingSubject:
    """One market's funding settlement: its contract (kind, scales, contract value) and the
    rounding and dust sink the engine settles it with (ENG-FUND-01)."""

    profile: str
    market: str
    contract: Any  # perpspec.funding.Contract
    rounding: Rounding
    sink: str
    variant: str = ""


def settlement_rounding(model: EngineFunding | None) -> tuple[Rounding, str]:
    """The rounding and sink a funding variant settles with, as the engine picks them
    (:func:`perpspec.funding.settle_market`): the variant's ``payment_rounding`` and ``sink``
    (declared, with defaults ceil and the insurance fund), the same defaults without a variant."""
    from perpspec.funding import DEFAULT_SINK

    if model is None:
        return Rounding.CEIL, DEFAULT_SINK
    return model.payment_rounding, model.sink


def funding_subject(profile: str, market: str, contract: Any, rounding: Rounding = Rounding.CEIL,
                    sink: str = "insurance-fund", variant: str = "") -> Subject:
    """A subject for one market's funding settlement (also used by tests)."""
    value = FundingSubject(profile, market, contract, rounding, sink, variant)
    return Subject(f"{profile}/{market}", value, profile, market)


def funding_subjects() -> list[Subject]:
    """Every bundled (profile, market) with the contract and rounding its funding settles with."""
    from perpspec.funding import Contract

    def of_profile(name: str, prof: Any) -> list[Subject]:
        model = prof.funding_model
        rounding, sink = settlement_rounding(model)
        sc = prof.scales
        return [
            funding_subject(name, sym, Contract(spec.contract, sc.size_decimals, sc.price_decimals,
                                                sc.money_decimals, spec.contract_value),
                            rounding, sink, variant_name(model))
            for sym, spec in sorted(prof.markets.items())
        ]

    return per_bundled_profile(of_profile)
