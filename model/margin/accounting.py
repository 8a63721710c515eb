"""Position accounting parameters: how fills become entry value, and account-level predicates.

A profile may carry an ``[accounting]`` section selecting one of these variants of mechanism
``accounting``; a profile without one uses :data:`DEFAULT_ACCOUNTING` (``exact``). The
variant decides:

- how one fill's contract cost is rounded (inverse contracts only; linear cost is exact):
  ``exact`` rounds the whole fill once, half away from zero (rule PNL-INV-01);
  ``bitmex-satoshi`` rounds the cost of one contract, ``round(1e8/price)`` satoshi, then
  multiplies by the number of contracts (rule PNL-AVG-02);
- how the displayed average entry price is derived (PNL-AVG-01 exact, PNL-AVG-02 BitMEX);
- the liquidation trigger predicate (rule ACC-LIQ-01) and the minimum transfer margin
  (rule ACC-WDR-01);
- the named roundings of a position's value at mark in its uPnL (PNL-LIN-01/02) and of the
  notional fed to margin models (PNL-NOT-01/02).

The module lives in ``perpspec.margin`` only so that it is auto-imported with the built-in
variants; the section name in a profile is ``[accounting]``.

Rules: PNL-INV-01, PNL-AVG-02, PNL-LIN-02, PNL-NOT-02, ACC-LIQ-01, ACC-WDR-01.
"""

from __future__ import annotations

import enum

import attrs
from perpspec.numeric import Rounding, div_round, pow10
from perpspec.profile import ContractKind, MarketSpec, Scales
from perpspec.quantities import Rate
from perpspec.ranges import ranged
from perpspec.registry import Variant, interface, variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE


class Trigger(enum.Enum):
    """The cross-margin liquidation predicate (rule ACC-LIQ-01)."""

    #: liquidatable when equity < MM (Hyperliquid "account equity < maintenance margin").
    EQUITY_LT_MM = "equity-lt-mm"
    #: liquidatable when equity <= MM (Binance/OKX "margin ratio >= 100%" / "<= 100%").
    EQUITY_LE_MM = "equity-le-mm"
    #: liquidatable when MM > 0 and MM > equity (dYdX v4 ``lib/margin/risk.go``).
    MM_POSITIVE_GT_EQUITY = "mm-positive-gt-equity"


@interface("accounting")
@attrs.frozen
class AccountingBase(Variant):
    """The declared interface of mechanism ``accounting``, with the fields shared by every
    accounting variant (``per_contract_rounding`` and ``inverse_cost`` are its capabilities).

    - ``trigger``: the cross liquidation predicate (ACC-LIQ-01).
    - ``transfer_min_rate``: the transfer (withdrawal) margin requirement is
      ``max(IM, ceil(rate * total notional))`` (ACC-WDR-01); Hyperliquid uses 10%.
    - ``upnl_rounding``: how a linear position's value at mark becomes money units in its
      uPnL: ``floor`` (PNL-LIN-01, the default) or ``trunc`` (PNL-LIN-02: Drift truncates
      ``base * price`` toward zero, so a short's uPnL rounds up).
    - ``liability_rounding``: how the notional fed to margin models becomes money units:
      ``ceil`` (PNL-NOT-01, the default) or ``floor`` (PNL-NOT-02: Drift's liability value).
    """

    trigger: Trigger = Trigger.EQUITY_LT_MM
    transfer_min_rate: Rate = ranged(0, RATE_ONE, default=Rate(0))
    upnl_rounding: Rounding = Rounding.FLOOR  # PNL-LIN-01 / PNL-LIN-02
    liability_rounding: Rounding = Rounding.CEIL

    def check(self) -> list[tuple[str, str]]:
        out = []
        if self.upnl_rounding not in (Rounding.FLOOR, Rounding.TRUNC):
            out.append(("upnl_rounding", "expected 'floor' (PNL-LIN-01) or 'trunc' (PNL-LIN-02)"))
        if self.liability_rounding not in (Rounding.CEIL, Rounding.FLOOR):
            out.append(("liability_rounding", "expected 'ceil' (PNL-NOT-01) or 'floor' (PNL-NOT-02)"))
        return out

    # Overridden per variant -------------------------------------------------------------

    def per_contract_rounding(self) -> bool:
        """True if the inverse cost is rounded per size unit before multiplying (BitMEX)."""
        return False

    @implements("PNL-INV-01", "PNL-AVG-02")
    def inverse_cost(self, qty: int, price: int, market: MarketSpec, scales: Scales) -> int:
        """Rules: PNL-INV-01, PNL-AVG-02. Signed coin cost of ``qty`` size units at ``price``.

        :math:`C = qty \\cdot cv \\cdot 10^{m+p} / (price \\cdot 10^{s})`, rounded half away
        from zero once per fill (``exact``) or per size unit (``bitmex-satoshi``).
        """
        num = market.contract_value * pow10(scales.money_decimals + scales.price_decimals)
        den = price * pow10(scales.size_decimals)
        if self.per_contract_rounding():
            return qty * int(div_round(num, den, Rounding.HALF_UP))
        return int(div_round(qty * num, den, Rounding.HALF_UP))


@variant("accounting", "exact")
@attrs.frozen
class ExactAccounting(AccountingBase):
    """Exact average entry (PNL-AVG-01); inverse cost rounded once per fill (PNL-INV-01)."""


@variant("accounting", "bitmex-satoshi")
@attrs.frozen
class BitmexSatoshiAccounting(AccountingBase):
    """Rule: PNL-AVG-02. BitMEX: ``execCost = round(1e8/price) * contracts`` per fill; the
    displayed average is ``1e8 / avgSatoshi`` with ``avgSatoshi = floor(cost/contracts)``
    for longs and ``round(cost/contracts)`` for shorts.
    """

    def per_contract_rounding(self) -> bool:
        return True


DEFAULT_ACCOUNTING = ExactAccounting()


def is_inverse(market: MarketSpec) -> bool:
    """True for inverse (coin-margined) contracts."""
    return market.contract is ContractKind.INVERSE


__all__ = [
    "DEFAULT_ACCOUNTING",
    "AccountingBase",
    "BitmexSatoshiAccounting",
    "ExactAccounting",
    "Trigger",
    "is_inverse",
]
