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
from typing import Any

import attrs
from perpspec.quantities import Money, Price, Size


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


@attrs.frozen
class MarketSpec:
    """``[markets.SYMBOL]``: one perpetual market's static parameters.

    ``contract_value`` is the quote value of one contract for inverse contracts (e.g.
    1 USD on BitMEX XBTUSD, 100 USD on Binance COIN-M BTCUSD); it is 0 for linear ones.
    ``margin`` is the parameter object of the margin variant the market uses.
    """

    contract: ContractKind
    tick: Price
    lot: Size
    margin: Any
    contract_value: int = 0
    min_size: Size | None = None


@attrs.frozen
class Profile:
    """A loaded, validated profile."""

    meta: Meta
    scales: Scales
    markets: Mapping[str, MarketSpec]
    mechanisms: Mapping[str, Any]
    source: str

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
