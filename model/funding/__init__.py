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

The engine-facing interface (spec/funding.md FND-ENG-01..04): every variant subclasses
:class:`EngineFunding`, the declared interface of the mechanism (``impact_notional_for``,
``sample_premium(ctx)``, ``settlement_rates(ctx)``, ``settlement_rate(ctx)``,
``explicit_rates(ctx, rate)``, ``settle_native``, ``funding_interval_ms(carry)``,
``predicted_rate(samples)``, ``notional_price``, ``sink``, ``payment_rounding``) over a
:class:`FundingContext`, by calling its own formula methods; :func:`settle_market` settles the
result zero-sum.

Rules: FND-PRM-01, FND-AVG-01, FND-CLP-01, FND-CAP-01, FND-INT-01, FND-PAY-01, FND-SUM-01,
FND-ENG-01, FND-ENG-02, FND-ENG-03, FND-ENG-04.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
from perpspec.errors import ModelError
from perpspec.numeric import Rounding, Term, clamp, div_round, max_, pow10
from perpspec.profile import ContractKind
from perpspec.registry import Variant, interface
from perpspec.traceability import implements
from perpspec.units import RATE_DECIMALS, RATE_ONE

if TYPE_CHECKING:
    from perpspec.margin import MarginModel

#: The sink that receives settlement dust unless a profile names another one.
DEFAULT_SINK = "insurance-fund"


class NotionalPrice(enum.Enum):
    """Which price a venue values a position at when it charges funding (FND-PAY-01)."""

    MARK = "mark"  #: Binance, Bybit, BitMEX, OKX
    ORACLE = "oracle"  #: Hyperliquid, dYdX (through the index), Drift
    INDEX = "index"  #: venues that pay on the index price


# --------------------------------------------------------------------------- premium, average


@implements("FND-PRM-01")
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


@implements("FND-AVG-01")
def linear_weights(n: int) -> list[int]:
    """Rule: FND-AVG-01. Binance/Bybit weights ``1..n`` (the latest sample weighs most)."""
    return list(range(1, n + 1))


@implements("FND-AVG-01")
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


@implements("FND-CLP-01")
def interest_clamp(avg_premium: Term, interest: Term, band: Term) -> Term:
    """Rule: FND-CLP-01. :math:`F = \\bar P + \\operatorname{clamp}(I - \\bar P, -b, +b)`.

    Consequence: ``F == I`` exactly when ``I - b <= avgP <= I + b``. Exact (no division).
    """
    return avg_premium + clamp(interest - avg_premium, -band, band)


@implements("FND-CAP-01")
def cap_rate(rate: Term, floor: Term, cap: Term) -> Term:
    """Rule: FND-CAP-01. :math:`F_{capped} = \\min(\\max(F, floor), cap)`; exact."""
    return clamp(rate, floor, cap)


@implements("FND-INT-01")
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


@implements("FND-PAY-01")
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


@implements("FND-PAY-01")
def notional(contract: Contract, size: Term, price: Term, rounding: Rounding = Rounding.TRUNC) -> Term:
    """Rule: FND-PAY-01. Signed notional in money units: ``q p`` (linear) or ``q cv / p`` (inverse)."""
    num, den = owed_fraction(contract, size, price, RATE_ONE)
    return div_round(num, den, rounding)


@implements("FND-PAY-01")
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


@implements("FND-SUM-01")
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


@implements("FND-PAY-01", "FND-SUM-01")
def settle(contract: Contract, sizes: Sequence[int], price: Term, rate: Term,
           rounding: Rounding = Rounding.CEIL, sink: str = DEFAULT_SINK) -> Settlement:
    """Rules: FND-PAY-01, FND-SUM-01. Settle one funding rate over every position of a market.

    ``sizes`` are the signed sizes of all accounts; they must net to zero (each long has a short),
    so that the exact flows sum to zero and the dust is pure rounding.
    """
    return settle_sides(contract, sizes, price, rate, rate, rounding, sink)


@implements("FND-PAY-01", "FND-SUM-01", "FND-ENG-04")
def settle_sides(contract: Contract, sizes: Sequence[int], price: Term, rate_long: Term,
                 rate_short: Term, rounding: Rounding = Rounding.CEIL,
                 sink: str = DEFAULT_SINK) -> Settlement:
    """Rules: FND-PAY-01, FND-SUM-01, FND-ENG-04. Settle per-side rates: longs owe at
    ``rate_long``, shorts at ``rate_short`` (equal for every symmetric venue). With unequal rates
    the flows do not cancel; the sink takes the imbalance with the rounding dust, so
    ``sum(payments) + dust == 0`` still holds exactly.
    """
    if sum(sizes) != 0:
        raise ValueError("positions must net to zero (every long has a short) to settle zero-sum")
    ints = type(price) is int and type(rate_long) is int and type(rate_short) is int
    if ints and len(sizes) >= _GENERATE_FROM:
        # many holders: each side's payment -round(owed) as a function of the size alone,
        # generated from owed_fraction and div_round with the price and rate folded in
        pay_long = _payment_of_size(contract, price, rate_long, rounding)
        pay_short = (
            pay_long if rate_short == rate_long else _payment_of_size(contract, price, rate_short, rounding)
        )
        payments = tuple([pay_long(q) if q > 0 else pay_short(q) for q in sizes])
        return Settlement(payments=payments, dust=-sum(payments), sink=sink)
    return settle_owed([owed_fraction(contract, q, price, rate_long if q > 0 else rate_short)
                        for q in sizes], rounding, sink)


#: From this many positions on, :func:`settle_sides` generates the per-size payment function
#: (a few hundred microseconds) instead of evaluating the definitions per position.
_GENERATE_FROM = 256


def _payment_of_size(contract: Contract, price: int, rate: int, rounding: Rounding) -> Any:
    """Rules: FND-PAY-01, FND-SUM-01. ``size -> -round(owed_fraction(contract, size, price,
    rate))``, generated by :func:`perpspec.codegen.generate` from those definitions (what
    :func:`settle_owed` computes for one position), or the definitions themselves if they
    cannot be traced."""
    from perpspec.codegen import NotTraceable, generate

    def pay(q: Any) -> Any:
        num, den = owed_fraction(contract, q, price, rate)
        return -div_round(num, den, rounding)

    try:
        return generate("payment", ("size",), pay).fn
    except NotTraceable:
        return pay


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


# --------------------------------------------------------------------------- engine-facing API


@attrs.frozen
class FundingContext:
    """Rule: FND-ENG-01. Everything the engine knows about one market at a sample or settlement.

    - ``symbol``, ``t`` (ms of the event clock), ``contract`` (units, FND-PAY-01);
    - ``index``, ``mark``, ``oracle``, ``last_price``: price units, ``None`` when not yet seen;
    - ``impact_bid``/``impact_ask``: impact prices (price units) of the last book snapshot at the
      notional the variant names (:meth:`EngineFunding.impact_notional_for`); ``best_bid``/
      ``best_ask``: top of that book (see :func:`book_inputs`);
    - ``first_mmr``/``first_imr``: the market's first-tier maintenance rate and initial rate at
      max leverage (``Rate``, 10^-8; :func:`first_tier_rates`);
    - ``samples``: ``(t, premium Rate)`` taken since the last settlement (oldest first);
    - ``last_settlement``: time (ms) of the last settlement, ``None`` before the first;
    - ``carry``: the variant's own frozen state between settlements (``None`` initially);
    - ``long_size``/``short_size``: open interest of each side (size units, both >= 0);
      ``amm_net``: the signed base position of an AMM counterparty (Drift), 0 when none.
    """

    symbol: str
    t: int
    contract: Contract
    index: int | None = None
    mark: int | None = None
    oracle: int | None = None
    last_price: int | None = None
    impact_bid: int | None = None
    impact_ask: int | None = None
    best_bid: int | None = None
    best_ask: int | None = None
    first_mmr: int = 0
    first_imr: int = 0
    samples: tuple[tuple[int, int], ...] = ()
    last_settlement: int | None = None
    carry: Any = None
    long_size: int = 0
    short_size: int = 0
    amm_net: int = 0

    def premiums(self) -> list[int]:
        """The premium values of ``samples``, oldest first."""
        return [p for _, p in self.samples]

    @implements("FND-ENG-01")
    def elapsed_ms(self) -> int:
        """Rule: FND-ENG-01. Time (ms) since the last settlement, else since the first sample,
        else 0 (the first settlement of a time-accruing variant starts its clock)."""
        if self.last_settlement is not None:
            return self.t - self.last_settlement
        return self.t - self.samples[0][0] if self.samples else 0


@attrs.frozen
class SettlementRates:
    """Rules: FND-ENG-01, FND-ENG-04. What one settlement applies.

    - ``rate``: the headline rate of the settlement (``Rate``, F > 0 longs pay), what the venue
      publishes and what the engine reports;
    - ``rate_long``/``rate_short``: the rates each side owes at (``owed = N x rate`` at the
      variant's notional price); equal to ``rate`` except for asymmetric venues (Drift's capped
      receiving side, GMX's larger/smaller side);
    - ``carry``: the variant's carried state after this settlement (store it and pass it back);
    - ``native``: the variant's own settlement payload (dYdX funding indices, Drift 1e9 rates,
      Deribit rate and elapsed time), ``None`` for the generic zero-sum settlement.
    """

    rate: Term
    rate_long: Term
    rate_short: Term
    carry: Any = None
    native: Any = None

    @classmethod
    def symmetric(cls, rate: Term, carry: Any = None, native: Any = None) -> SettlementRates:
        """One rate for both sides."""
        return cls(rate, rate, rate, carry, native)


#: One hour and the default funding interval (8 hours), milliseconds.
HOUR_MS = 3_600_000
DEFAULT_INTERVAL_MS = 8 * HOUR_MS


@interface("funding")
class EngineFunding(Variant):
    """Rules: FND-ENG-01, FND-ENG-02. The declared interface of mechanism ``funding``: every
    capability the engine, the scenario runner and the proofs use, each optional one with its
    documented default. Each variant subclasses it and overrides ``settlement_rates`` (and what
    else its venue does) by calling its own formula methods."""

    __slots__ = ()

    #: where the settlement dust goes (FND-SUM-01); default: the insurance fund
    sink: str = DEFAULT_SINK
    #: the price a position's funding notional is taken at (FND-PAY-01); default: the mark
    notional_price: NotionalPrice = NotionalPrice.MARK
    #: how the generic settlement rounds each payment (FND-PAY-01); default: up
    payment_rounding: Rounding = Rounding.CEIL

    def impact_notional_for(self, symbol: str, first_imr: int) -> int | None:
        """Money units of the impact notional the engine walks the book with; ``None`` when the
        variant reads no impact prices or the profile does not give the notional."""
        return None

    @implements("FND-ENG-02")
    def sample_premium(self, ctx: FundingContext) -> Term | None:
        """Rule: FND-ENG-02. The premium sample (``Rate``) this venue takes at ``ctx``; ``None``
        when an input is missing or the venue takes no premium samples."""
        return None

    @implements("FND-ENG-01")
    @abc.abstractmethod
    def settlement_rates(self, ctx: FundingContext) -> SettlementRates | None:
        """Rule: FND-ENG-01. The rates of a settlement at ``ctx``; ``None`` when an input is
        missing (FND-ENG-02). Required: every variant overrides it."""
        raise NotImplementedError

    @implements("FND-ENG-01")
    def settlement_rate(self, ctx: FundingContext) -> tuple[Term, Any] | None:
        """Rule: FND-ENG-01. ``(headline rate, new carry)``; ``None`` on missing inputs."""
        r = self.settlement_rates(ctx)
        return None if r is None else (r.rate, r.carry)

    @implements("FND-ENG-03")
    def explicit_rates(self, ctx: FundingContext, rate: Term) -> SettlementRates:
        """Rule: FND-ENG-03. A venue-published rate replayed by the engine: the rate per
        settlement, both sides, generic settlement; the carry is kept."""
        return SettlementRates.symmetric(rate, ctx.carry)

    def settle_native(self, contract: Contract, sizes: Sequence[int], price: Term,
                      rates: SettlementRates) -> Settlement:
        """The variant's own settlement of ``rates`` whose ``native`` payload it set (dYdX funding
        index, Drift per-side 1e9 rates, Deribit accrual). Default: the variant sets no native
        payload, so it is never asked (a model error if it is)."""
        raise ModelError(f"funding variant {self.variant_name!r} has no native settlement")

    def funding_interval_ms(self, carry: Any) -> int:
        """The funding interval in ms (what a mark variant reads as the time to the next funding,
        ENG-MRK-01), given the variant's carried state ``carry`` (a variant whose interval changes
        carries it, FND-INT-02). Default: 8 hours."""
        return DEFAULT_INTERVAL_MS

    def predicted_rate(self, samples: Sequence[int]) -> Term | None:
        """The rate the premium ``samples`` so far would settle at, for a scenario's summary;
        default ``None``: the variant does not predict its rate from the samples alone."""
        return None


@implements("FND-ENG-04")
def settle_market(model: EngineFunding | None, contract: Contract, sizes: Sequence[int], price: Term,
                  rates: SettlementRates) -> Settlement:
    """Rules: FND-ENG-04, FND-SUM-01. Settle one market: the variant's own settlement when
    ``rates.native`` is set (``model.settle_native``: dYdX funding index, Drift per-side 1e9
    rates, Deribit accrual), else the generic per-side zero-sum settlement at ``price`` with the
    variant's ``payment_rounding`` (ceil when it names none) and ``sink``. Either way
    ``sum(payments) + dust == 0`` exactly and ``dust`` goes to ``result.sink``.
    """
    if rates.native is not None and model is not None:
        result = model.settle_native(contract, sizes, price, rates)
    elif model is None:
        result = settle_sides(contract, sizes, price, rates.rate_long, rates.rate_short)
    else:
        result = settle_sides(contract, sizes, price, rates.rate_long, rates.rate_short,
                              model.payment_rounding, model.sink)
    if result.total() != 0:
        raise ModelError("funding settlement is not zero-sum (FND-SUM-01)")
    return result


#: Notional (money units) at which :func:`first_tier_rates` probes a margin model: 10^8 money
#: units times a rate in 10^-8 is a whole number of money units, so no requirement rounds.
PROBE_NOTIONAL = RATE_ONE


@implements("FND-ENG-01")
def first_tier_rates(margin: MarginModel) -> tuple[int, int]:
    """Rule: FND-ENG-01. ``(first_mmr, first_imr)`` of a market's margin model, ``Rate``.

    The model is asked for the maintenance and initial margin (no leverage setting, i.e. at max
    leverage) of a position of size 0 and notional :data:`PROBE_NOTIONAL` with no open interest:
    the first tier of every tiered model. ``rate = requirement x 10^8 / notional`` is exact for
    every rate that is a whole number of 10^-8 (all bundled markets); a finer rate comes out
    rounded the way the margin model rounds requirements (up).
    """
    from perpspec.margin import PositionRisk

    pos = PositionRisk(size=0, notional=PROBE_NOTIONAL)
    mm = int(margin.maintenance(pos))
    im = int(margin.initial(pos))
    return (div_round(mm * RATE_ONE, PROBE_NOTIONAL, Rounding.TRUNC),
            div_round(im * RATE_ONE, PROBE_NOTIONAL, Rounding.TRUNC))


@attrs.frozen
class BookInputs:
    """Top of book and impact prices of one snapshot (price units, ``None`` when absent)."""

    best_bid: int | None = None
    best_ask: int | None = None
    impact_bid: int | None = None
    impact_ask: int | None = None


@implements("FND-ENG-01")
def book_inputs(model: EngineFunding, symbol: str, book: Any, contract: Contract,
                first_imr: int) -> BookInputs:
    """Rule: FND-ENG-01. The book fields of a :class:`FundingContext` from the last snapshot
    ``book = (bids, asks)`` of ``(price, size)`` levels (best first): the top of book, and the
    impact prices of PRC-IMP-01 at ``model.impact_notional_for(symbol, first_imr)`` money units
    (``None`` when the variant names no notional or the book is too thin)."""
    if not book:
        return BookInputs()
    from perpspec.pricing.impact import BookLevel, BookScale, impact_prices

    bids, asks = book
    out = BookInputs(best_bid=bids[0][0] if bids else None, best_ask=asks[0][0] if asks else None)
    amount = model.impact_notional_for(symbol, first_imr)
    if amount is None or amount <= 0:
        return out
    scale = BookScale(contract.price_decimals, contract.size_decimals, contract.money_decimals,
                      contract.kind, contract.contract_value)
    imp = impact_prices([BookLevel(p, q) for p, q in bids], [BookLevel(p, q) for p, q in asks],
                        amount, scale)
    return attrs.evolve(out, impact_bid=imp.bid, impact_ask=imp.ask)


def check_nonneg(obj: object, *names: str) -> list[tuple[str, str]]:
    """Semantic check helper for parameter classes: the named fields must be >= 0."""
    return [(n, "must not be negative") for n in names if getattr(obj, n) < 0]


__all__ = [
    "DEFAULT_INTERVAL_MS",
    "DEFAULT_SINK",
    "HOUR_MS",
    "PROBE_NOTIONAL",
    "BookInputs",
    "Contract",
    "EngineFunding",
    "FundingContext",
    "NotionalPrice",
    "Payments",
    "Settlement",
    "SettlementRates",
    "book_inputs",
    "cap_rate",
    "check_nonneg",
    "first_tier_rates",
    "interest_clamp",
    "linear_weights",
    "notional",
    "owed_fraction",
    "payment",
    "premium_index",
    "scale_interval",
    "settle",
    "settle_market",
    "settle_owed",
    "settle_sides",
    "to_rate",
    "weighted_average",
]

