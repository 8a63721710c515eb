"""The insurance fund's policy: which fund a market draws on, what it pays, what it refuses.

The balances live in :class:`perpspec.state.InsuranceFund` (money units, by fund key: a market
symbol, or :data:`perpspec.state.SHARED`). The policy is a declared variant of mechanism
``insurance`` (profile section ``[insurance]``); a profile without one uses one shared fund that
pays whatever it holds.

- INS-SCP-01: a fund per market (``scope = "per-market"``, Drift, dYdX isolated markets) or one
  shared by all (``"shared"``, the CEXs, dYdX's cross markets).
- INS-PAY-01: a payout toward a loss ``L`` from a fund holding ``B`` is
  :math:`\\min(L, \\max(0, B - reserve), cap)`; ``reserve`` is what the fund keeps back (Drift
  leaves 1 unit in the vault: ``min(loss, vault - 1, cap)``), ``cap`` a per-payout limit (none by
  default). The fund is therefore never negative (INV-09).
- INS-REF-01: with ``refuse_shortfall`` (dYdX ``IsValidInsuranceFundDelta``: valid iff
  ``balance + delta >= 0``), a liquidation slice whose fund delta the fund cannot pay in full is
  **not made**; the unit goes to the next step of the waterfall whole. Without it the fund pays
  what INS-PAY-01 allows and the rest is an uncovered loss (LIQ-UNC-01).
"""

from __future__ import annotations

import enum

import attrs
from perpspec.quantities import Money
from perpspec.ranges import ranged
from perpspec.registry import Variant, interface, variant
from perpspec.state import SHARED
from perpspec.traceability import implements


class Scope(enum.Enum):
    """Rule: INS-SCP-01. One fund for all markets, or one per market."""

    SHARED = "shared"
    PER_MARKET = "per-market"


@interface("insurance")
class InsurancePolicy(Variant):
    """The declared interface of mechanism ``insurance`` (INS-SCP-01, INS-PAY-01, INS-REF-01)."""

    __slots__ = ()

    scope: Scope
    refuse_shortfall: bool

    @implements("INS-SCP-01")
    def fund_of(self, symbol: str) -> str:
        """Rule: INS-SCP-01. The key of the fund market ``symbol`` draws on and pays into."""
        return symbol if self.scope is Scope.PER_MARKET else SHARED

    def payout(self, balance: int, loss: int) -> int:
        """Rule: INS-PAY-01. What the fund pays toward ``loss`` (> 0) from ``balance``."""
        return min(loss, max(0, balance))


@variant("insurance", "pooled")
@attrs.frozen
class PooledFund(InsurancePolicy):
    """Rules: INS-SCP-01, INS-PAY-01, INS-REF-01. A fund that pays a loss as far as it can,
    keeping ``reserve`` back and paying at most ``cap`` per payout (``None``: no cap)."""

    scope: Scope = Scope.SHARED
    refuse_shortfall: bool = False
    reserve: Money = ranged(0, default=Money(0))
    cap: Money | None = ranged(0, default=None)

    @implements("INS-PAY-01")
    def payout(self, balance: int, loss: int) -> int:
        """Rule: INS-PAY-01. :math:`\\min(L, \\max(0, B - reserve), cap)`."""
        paid = min(loss, max(0, balance - self.reserve))
        return paid if self.cap is None else min(paid, self.cap)


DEFAULT_INSURANCE = PooledFund()

__all__ = ["DEFAULT_INSURANCE", "InsurancePolicy", "PooledFund", "Scope"]
