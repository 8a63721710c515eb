"""Funding: shared formulas and the payment/settlement API every funding variant uses.

Conventions (spec/funding.md):

- Rates are integers in 10^-8 (:data:`perpspec.units.RATE_ONE`, type ``Rate``) unless a venue's
  own integer scale must be reproduced exactly (dYdX ppm, Drift 1e9 funding precision,
  Synthetix 1e18, GMX 1e30); such variants convert at the boundary with a named rounding
  (:func:`to_rate`).
- ``F > 0`` means longs pay shorts, on every venue.
- ``owed`` is the amount a position pays (positive) or receives (negative); a *balance delta*
  (what :class:`Settlement` lists) is ``-owed`` after rounding.

Every formula here is written over :mod:`perpspec.numeric` and runs on ints and Z3 terms.

Each variant module registers a frozen attrs parameter class with
``@variant("funding", name)``; each provides, through :class:`Payments`, ``payment(notional,
rate)`` and ``settle(contract, sizes, price, rate) -> Settlement``, plus its own rate functions
(their inputs differ by venue: impact prices, TWAPs, votes, OI skew...).

Rules: FND-PRM-01, FND-AVG-01, FND-CLP-01, FND-CAP-01, FND-INT-01, FND-PAY-01, FND-SUM-01.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol

import attrs
from perpspec.numeric import Rounding, Term, clamp, div_round, max_, pow10
from perpspec.profile import ContractKind
from perpspec.units import RATE_DECIMALS, RATE_ONE

#: The sink that receives settlement dust unless a profile names another one.
DEFAULT_SINK = "insurance-fund"


class NotionalPrice(enum.Enum):
    """Which price a venue values a position at when it charges funding (FND-PAY-01)."""

    MARK = "mark"  #: Binance, Bybit, BitMEX, OKX
    ORACLE = "oracle"  #: Hyperliquid, dYdX (through the index), Drift
    INDEX = "index"  #: venues that pay on the index price


# --------------------------------------------------------------------------- premium, average


def premium_index(impact_bid: Term, impact_ask: Term, reference: Term, denominator: Term,
                  rounding: Rounding = Rounding.TRUNC, scale: int = RATE_ONE) -> Term:
    """Rule: FND-PRM-01. Premium index in ``1/scale`` units (default 10^-8).

    :math:`P = \\dfrac{\\max(0, B - R) - \\max(0, R - A)}{D}`, with ``B``/``A`` the impact bid/ask,
    ``R`` the reference (index on the current Binance/Bybit/dYdX/Hyperliquid docs, mark on the
    2020 Binance and older BitMEX/Bybit docs) and ``D`` the denominator (index, spot or oracle).
    One division, rounded ``rounding`` (default toward zero).
    """
    num = max_(0, impact_bid - reference) - max_(0, reference - impact_ask)
    return div_round(num * scale, denominator, rounding)


def linear_weights(n: int) -> list[int]:
    """Rule: FND-AVG-01. Binance/Bybit weights ``1..n`` (the latest sample weighs most)."""
    return list(range(1, n + 1))


def weighted_average(samples: Sequence[Term], weights: Sequence[int] | None = None,
                     rounding: Rounding = Rounding.TRUNC) -> Term:
    """Rule: FND-AVG-01. :math:`\\bar P = \\sum w_k P_k / \\sum w_k`, one division, ``rounding``.

    ``weights=None`` is the plain mean (OKX, dYdX hourly average).
    """
    if not samples:
        raise ValueError("cannot average an empty list of samples")
    ws = [1] * len(samples) if weights is None else list(weights)
    if len(ws) != len(samples):
        raise ValueError("one weight per sample")
    total = sum(ws)
    num: Term = 0
    for w, p in zip(ws, samples, strict=True):
        num = num + w * p
    return div_round(num, total, rounding)


def interest_clamp(avg_premium: Term, interest: Term, band: Term) -> Term:
    """Rule: FND-CLP-01. :math:`F = \\bar P + \\operatorname{clamp}(I - \\bar P, -b, +b)`.

    Consequence: ``F == I`` exactly when ``I - b <= avgP <= I + b``. Exact (no division).
    """
    return avg_premium + clamp(interest - avg_premium, -band, band)


def cap_rate(rate: Term, floor: Term, cap: Term) -> Term:
    """Rule: FND-CAP-01. :math:`F_{capped} = \\min(\\max(F, floor), cap)`; exact."""
    return clamp(rate, floor, cap)


def scale_interval(rate_base: Term, interval_hours: Term, base_hours: int = 8,
                   rounding: Rounding = Rounding.TRUNC) -> Term:
    """Rule: FND-INT-01. :math:`F_N = F_{8h} / (8/N) = F_{8h} \\cdot N / 8`, rounded ``rounding``."""
    return div_round(rate_base * interval_hours, base_hours, rounding)


def to_rate(value: Term, decimals: int, rounding: Rounding = Rounding.TRUNC) -> Term:
    """A rate held with ``decimals`` decimals (ppm = 6, 1e18...) as a ``Rate`` (10^-8)."""
    if decimals >= RATE_DECIMALS:
        return div_round(value, pow10(decimals - RATE_DECIMALS), rounding)
    return value * pow10(RATE_DECIMALS - decimals)


# --------------------------------------------------------------------------- notional, payment


@attrs.frozen
class Contract:
    """How a position's size and price turn into a notional in money units (FND-PAY-01).

    ``contract_value`` is the quote value of one contract (inverse contracts only), in whole
    quote units as in :class:`perpspec.profile.MarketSpec`.
    """

    kind: ContractKind
    size_decimals: int
    price_decimals: int
    money_decimals: int
    contract_value: int = 0


def owed_fraction(contract: Contract, size: Term, price: Term, rate: Term) -> tuple[Term, Term]:
    """Rule: FND-PAY-01. The exact amount a position owes, as ``(numerator, denominator)``.

    Linear: :math:`owed = q \\cdot p \\cdot F` (money units
    ``= q p F 10^{m} / (10^{s+d} 10^8)``); inverse: :math:`owed = q \\cdot cv \\cdot F / p`
    (``= q\\,cv\\,F\\,10^{m+d} / (p\\,10^{s}\\,10^8)``). ``q`` signed (long > 0), so a long owes
    ``> 0`` when ``F > 0``. The denominator is positive.
    """
    s, d, m = contract.size_decimals, contract.price_decimals, contract.money_decimals
    if contract.kind is ContractKind.LINEAR:
        return size * price * rate * pow10(m), pow10(s + d) * RATE_ONE
    return size * contract.contract_value * rate * pow10(m + d), price * pow10(s) * RATE_ONE


def notional(contract: Contract, size: Term, price: Term, rounding: Rounding = Rounding.TRUNC) -> Term:
    """Rule: FND-PAY-01. Signed notional in money units: ``q p`` (linear) or ``q cv / p`` (inverse)."""
    num, den = owed_fraction(contract, size, price, RATE_ONE)
    return div_round(num, den, rounding)


def payment(notional_money: Term, rate: Term, rounding: Rounding = Rounding.CEIL) -> Term:
    """Rule: FND-PAY-01. Amount owed by a position of signed notional ``N`` (money units):
    :math:`owed = N \\cdot F` rounded ``rounding`` (default ceil: a payer pays the exact amount
    rounded up, a receiver gets it rounded down; both favour the venue).
    """
    return div_round(notional_money * rate, RATE_ONE, rounding)


# --------------------------------------------------------------------------- zero-sum settlement


@attrs.frozen
class Settlement:
    """Rule: FND-SUM-01. The result of settling funding across all accounts of a market.

    - ``payments[i]``: balance change of account ``i`` (negative: it paid);
    - ``dust``: what the rounding left over, credited to ``sink`` (never lost);
    - ``sum(payments) + dust == 0`` exactly.
    """

    payments: tuple[Term, ...]
    dust: Term
    sink: str

    def total(self) -> Term:
        """``sum(payments) + dust``: zero on every settlement (the zero-sum check)."""
        out: Term = self.dust
        for p in self.payments:
            out = out + p
        return out


def settle_owed(owed: Sequence[tuple[Term, Term]], rounding: Rounding = Rounding.CEIL,
                sink: str = DEFAULT_SINK) -> Settlement:
    """Rule: FND-SUM-01. Round each exact amount owed and send the residual to ``sink``.

    :math:`\\Delta_i = -\\operatorname{round}(owed_i)`, :math:`dust = -\\sum_i \\Delta_i`.
    When the exact amounts sum to zero (every long has a short) and ``rounding`` is ceil (the
    default, venue-favouring), :math:`0 \\le dust < n`; with toward-zero rounding (Drift),
    :math:`|dust| < n`.
    """
    payments = tuple(-div_round(num, den, rounding) for num, den in owed)
    dust: Term = 0
    for p in payments:
        dust = dust - p
    return Settlement(payments=payments, dust=dust, sink=sink)


def settle(contract: Contract, sizes: Sequence[int], price: Term, rate: Term,
           rounding: Rounding = Rounding.CEIL, sink: str = DEFAULT_SINK) -> Settlement:
    """Rules: FND-PAY-01, FND-SUM-01. Settle one funding rate over every position of a market.

    ``sizes`` are the signed sizes of all accounts; they must net to zero (each long has a short),
    so that the exact flows sum to zero and the dust is pure rounding.
    """
    if sum(sizes) != 0:
        raise ValueError("positions must net to zero (every long has a short) to settle zero-sum")
    return settle_owed([owed_fraction(contract, q, price, rate) for q in sizes], rounding, sink)


class Payments:
    """Mixin giving a variant ``payment`` and ``settle`` from its ``payment_rounding`` and ``sink``.

    Rules: FND-PAY-01, FND-SUM-01.
    """

    payment_rounding: Rounding
    sink: str

    def payment(self, notional_money: Term, rate: Term) -> Term:
        """Amount owed by a position of signed notional ``notional_money`` at ``rate``."""
        return payment(notional_money, rate, self.payment_rounding)

    def settle(self, contract: Contract, sizes: Sequence[int], price: Term, rate: Term) -> Settlement:
        """Per-account balance changes, dust and sink for one settlement."""
        return settle(contract, sizes, price, rate, self.payment_rounding, self.sink)


class FundingModel(Protocol):
    """What every funding variant provides (its rate functions are venue-specific)."""

    sink: str

    def payment(self, notional_money: Term, rate: Term) -> Term: ...

    def settle(self, contract: Contract, sizes: Sequence[int], price: Term, rate: Term) -> Settlement: ...


def check_nonneg(obj: object, *names: str) -> list[tuple[str, str]]:
    """Semantic check helper for parameter classes: the named fields must be >= 0."""
    return [(n, "must not be negative") for n in names if getattr(obj, n) < 0]


__all__ = [
    "DEFAULT_SINK",
    "Contract",
    "FundingModel",
    "NotionalPrice",
    "Payments",
    "Settlement",
    "cap_rate",
    "check_nonneg",
    "interest_clamp",
    "linear_weights",
    "notional",
    "owed_fraction",
    "payment",
    "premium_index",
    "scale_interval",
    "settle",
    "settle_owed",
    "to_rate",
    "weighted_average",
]

