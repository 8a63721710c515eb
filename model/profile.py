"""The profile: one venue's choices and parameters, as frozen data.

A profile is a TOML file (or a folder of TOML files merged by top-level table) loaded by
:mod:`perpspec.profiles`. Fixed sections: ``[profile]`` (name, title, sources, readings of
ambiguous docs), ``[scales]``, ``[markets.SYMBOL]`` (contract kind, tick, lot, margin
variant). Every other top-level section is a mechanism (``liquidation``, ``funding``,
``mark``, ...) whose ``model`` key selects a registered variant (:mod:`perpspec.registry`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from perpspec.margin import MarginModel
from perpspec.quantities import Money, Price, Size
from perpspec.ranges import ranged, within
from perpspec.traceability import implements

if TYPE_CHECKING:
    from perpspec.fees import FeeModel
    from perpspec.funding import EngineFunding
    from perpspec.liquidation.insurance import InsurancePolicy
    from perpspec.liquidation.procedure import LiquidationProcedure
    from perpspec.liquidation.trigger import LiquidationTrigger
    from perpspec.liquidation.variants import LiquidationModel
    from perpspec.margin.accounting import AccountingBase
    from perpspec.pricing.index import IndexModel
    from perpspec.pricing.mark import MarkModel


@implements("UNT-KND-01")
class ContractKind(enum.Enum):
    """How PnL and notional are denominated. Rule: UNT-KND-01."""

    LINEAR = "linear"  #: margined and settled in the quote asset; notional = size * price
    INVERSE = "inverse"  #: margined in the base coin; notional = contracts * value / price


@attrs.frozen
class Meta:
    """``[profile]``: who this is, where its facts come from, which doc readings it takes."""

    name: str
    title: str
    settlement: str
    sources: tuple[str, ...] = ()
    readings: Mapping[str, str] = attrs.field(factory=dict)


_DECIMALS = attrs.validators.and_(attrs.validators.ge(0), attrs.validators.le(18))


@attrs.frozen
class Scales:
    """``[scales]``: decimals of each unit (see :mod:`perpspec.quantities`)."""

    price_decimals: int = attrs.field(
        validator=attrs.validators.and_(attrs.validators.ge(0), attrs.validators.le(18))
    )
    size_decimals: int = attrs.field(
        validator=attrs.validators.and_(attrs.validators.ge(0), attrs.validators.le(18))
    )
    money_decimals: int = attrs.field(
        validator=attrs.validators.and_(attrs.validators.ge(0), attrs.validators.le(18))
    )


@implements("UNT-MKT-01")
def symbol_problem(symbol: str) -> str | None:
    """Rule: UNT-MKT-01. Why ``symbol`` cannot name a market, or ``None``.

    A symbol is non-empty and has no ``/`` (the separator of ``ACCOUNT/SYMBOL/SLOT`` bad-debt
    keys and of ``SYMBOL/SLOT`` in expect records: ``A/B`` made them ambiguous), no ``.``
    (the separator of ``param_change`` paths ``markets.SYMBOL.field``), no whitespace and no
    control characters.
    """
    if not symbol:
        return "a market symbol must not be empty"
    bad = sorted({c for c in symbol if c in "/." or c.isspace() or not c.isprintable()})
    if bad:
        return (
            f"market symbol {symbol!r} contains {', '.join(repr(c) for c in bad)}; '/' separates "
            "ACCOUNT/SYMBOL/SLOT keys and '.' param_change paths (rename the market)"
        )
    return None


@attrs.frozen
class MarketSpec:
    """``[markets.SYMBOL]``: one perpetual market's static parameters.

    ``contract_value`` is the quote value of one contract for inverse contracts (e.g.
    1 USD on BitMEX XBTUSD, 100 USD on Binance COIN-M BTCUSD); it is 0 for linear ones.
    ``margin`` is the parameter object of the margin variant the market uses.
    """

    contract: ContractKind
    tick: Price = attrs.field(metadata=within(1))
    lot: Size = attrs.field(metadata=within(1))
    margin: MarginModel = attrs.field()
    contract_value: int = ranged(why="its sign follows the contract kind: see check()", default=0)
    min_size: Size | None = ranged(0, default=None)

    @implements("UNT-MKT-01")
    def check(self) -> list[tuple[str, str]]:
        """Rule: UNT-MKT-01. ``contract_value > 0`` for an inverse contract and ``== 0`` for a
        linear one (``tick > 0``, ``lot > 0`` and ``min_size >= 0`` are the fields' declared
        ranges, UNT-RNG-01). Run by the profile loader and again by every ``param_change`` of
        the market (ENG-PAR-01)."""
        out = []
        if self.contract is ContractKind.INVERSE and self.contract_value <= 0:
            out.append(
                (
                    "contract_value",
                    f"an inverse contract needs a positive contract_value (quote value of one "
                    f"contract), got {self.contract_value}",
                )
            )
        if self.contract is ContractKind.LINEAR and self.contract_value != 0:
            out.append(
                (
                    "contract_value",
                    f"a linear contract has contract_value 0 (leave it out), got {self.contract_value}",
                )
            )
        return out


@attrs.frozen
class Profile:
    """A loaded, validated profile.

    ``mechanisms`` maps each section name to its variant's parameter object. The mechanisms the
    engine uses are also typed attributes, set from ``mechanisms`` at construction (``None``
    where the profile has no such section): ``funding_model``, ``mark_model``, ``index_model``,
    ``liquidation_model``, ``fees_model``, ``accounting_model`` (the exact default
    accounting when the profile sets none), ``liquidation_trigger_model`` (default
    ``maintenance``), ``liquidation_procedure_model`` (``None``: nothing is liquidated) and
    ``insurance_model`` (default: one shared fund). Each is typed by its mechanism's declared interface
    (:mod:`perpspec.registry`), so every call the engine makes on a variant is type-checked.
    """

    meta: Meta
    scales: Scales
    markets: Mapping[str, MarketSpec]
    mechanisms: Mapping[str, Any]
    source: str
    funding_model: EngineFunding | None = attrs.field(init=False, eq=False, repr=False)
    mark_model: MarkModel | None = attrs.field(init=False, eq=False, repr=False)
    index_model: IndexModel | None = attrs.field(init=False, eq=False, repr=False)
    liquidation_model: LiquidationModel | None = attrs.field(init=False, eq=False, repr=False)
    fees_model: FeeModel | None = attrs.field(init=False, eq=False, repr=False)
    accounting_model: AccountingBase = attrs.field(init=False, eq=False, repr=False)
    liquidation_trigger_model: LiquidationTrigger = attrs.field(init=False, eq=False, repr=False)
    liquidation_procedure_model: LiquidationProcedure | None = attrs.field(init=False, eq=False, repr=False)
    insurance_model: InsurancePolicy = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        from perpspec.liquidation.insurance import DEFAULT_INSURANCE
        from perpspec.liquidation.trigger import DEFAULT_TRIGGER
        from perpspec.margin.accounting import DEFAULT_ACCOUNTING

        get = self.mechanisms.get
        object.__setattr__(self, "funding_model", get("funding"))
        object.__setattr__(self, "mark_model", get("mark"))
        object.__setattr__(self, "index_model", get("index"))
        object.__setattr__(self, "liquidation_model", get("liquidation"))
        object.__setattr__(self, "fees_model", get("fees"))
        object.__setattr__(self, "accounting_model", get("accounting") or DEFAULT_ACCOUNTING)
        object.__setattr__(self, "liquidation_trigger_model", get("liquidation_trigger") or DEFAULT_TRIGGER)
        object.__setattr__(self, "liquidation_procedure_model", get("liquidation_procedure"))
        object.__setattr__(self, "insurance_model", get("insurance") or DEFAULT_INSURANCE)

    @property
    def name(self) -> str:
        return self.meta.name

    def market(self, symbol: str) -> MarketSpec:
        """The market ``symbol`` (KeyError if the profile has none)."""
        return self.markets[symbol]

    def mechanism(self, name: str) -> Any:
        """The parameters of mechanism ``name`` (``None`` if the profile does not set it)."""
        return self.mechanisms.get(name)

    def money(self) -> Money:
        """One whole unit of the settlement asset, in money units."""
        return Money(10**self.scales.money_decimals)
