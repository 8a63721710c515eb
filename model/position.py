"""One position: signed size, signed entry value, and the PnL it realizes and carries.

Units (``m``, ``p``, ``s`` are the profile's money, price and size decimals):

- ``size``: signed size units, ``+`` long, ``-`` short (linear: 10^-s base; inverse: contracts).
- ``entry_value``: signed, same sign as ``size``.
  Linear: :math:`E = \\sum_i q_i \\cdot p_i`, exact, in units of :math:`10^{-(s+p)}` quote
  (rule PNL-LIN-01). Inverse: :math:`E = \\sum_i C(q_i, p_i)`, the coin cost of each fill in
  money units, rounded per the profile's accounting variant (rules PNL-INV-01, PNL-AVG-02).

PnL has one shape for both kinds, with :math:`\\sigma = -1` (linear) or :math:`+1` (inverse)
and :math:`F(q, p)` the signed cost of a fill of ``q`` at ``p``:

- unrealized: :math:`\\sigma (E + F(-size, mark))` (value at mark rounded in the venue's favour);
- realized when a fill of ``q`` closes the part :math:`c = -q` of the position:
  :math:`\\sigma (E_c + F(q, p))` with :math:`E_c` the closed part's share of ``E``
  (rule PNL-RED-01).

Rules: PNL-LIN-01, PNL-LIN-02, PNL-INV-01, PNL-AVG-01, PNL-AVG-02, PNL-NOT-01, PNL-NOT-02,
PNL-RED-01, PNL-FLIP-01.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
from perpspec.margin.accounting import DEFAULT_ACCOUNTING, AccountingBase
from perpspec.numeric import Rounding, Term, abs_, div_ceil, div_floor, div_half_up, div_round, pow10, rescale
from perpspec.profile import ContractKind, MarketSpec, Profile, Scales
from perpspec.traceability import implements


@attrs.frozen
class Position:
    """A position in one market slot (frozen; replaced, never mutated).

    - ``size``: signed size units (+ long, - short).
    - ``entry_value``: signed entry cost (see the module docstring for its units).
    - ``leverage``: the leverage the user set, or ``None``.
    - ``isolated``: isolated margin mode; ``isolated_margin`` is the margin held by the
      position, money units (isolated positions only; 0 for cross).
    """

    size: int = 0
    entry_value: int = 0
    leverage: int | None = None
    isolated: bool = False
    isolated_margin: int = 0

    @property
    def is_flat(self) -> bool:
        return self.size == 0


def accounting_of(profile: Profile | None) -> AccountingBase:
    """The profile's ``[accounting]`` variant, or the exact default when it sets none."""
    return DEFAULT_ACCOUNTING if profile is None else profile.accounting_model


def _sigma(market: MarketSpec) -> int:
    return 1 if market.contract is ContractKind.INVERSE else -1


@implements("PNL-LIN-01", "PNL-INV-01", "PNL-AVG-02")
def fill_cost(
    qty: int, price: int, market: MarketSpec, scales: Scales, accounting: AccountingBase = DEFAULT_ACCOUNTING
) -> int:
    """Rules: PNL-LIN-01, PNL-INV-01, PNL-AVG-02. Signed cost of a fill of ``qty`` at ``price``.

    Linear: :math:`q \\cdot p` exactly, in :math:`10^{-(s+p)}` quote. Inverse: the coin cost
    in money units, rounded as the accounting variant says.
    """
    if price <= 0:
        raise ValueError("a fill price must be positive")
    if market.contract is ContractKind.INVERSE:
        return accounting.inverse_cost(qty, price, market, scales)
    return qty * price


def _to_money(amount: int, market: MarketSpec, scales: Scales) -> int:
    """Linear amounts in 10^-(s+p) quote -> money units, floor (venue's favour); inverse as is."""
    if market.contract is ContractKind.INVERSE:
        return amount
    return int(
        rescale(amount, scales.size_decimals + scales.price_decimals, scales.money_decimals, Rounding.FLOOR)
    )


@implements("PNL-RED-01")
def closed_entry(entry_value: int, size: int, closed: int, market: MarketSpec) -> int:
    """Rule: PNL-RED-01. The part of ``entry_value`` attributed to ``closed`` of ``size``.

    :math:`E_c = \\sigma \\lfloor \\sigma E c / size \\rfloor`: pro rata, rounded so that the
    realized PnL :math:`\\sigma(E_c + F)` is rounded down (venue's favour). The remainder
    :math:`E - E_c` stays in the position, so no value is created or lost.
    """
    s = _sigma(market)
    return s * int(div_floor(s * entry_value * closed, size))


@implements("PNL-RED-01", "PNL-FLIP-01")
def apply_fill(
    pos: Position,
    qty: int,
    price: int,
    market: MarketSpec,
    scales: Scales,
    accounting: AccountingBase = DEFAULT_ACCOUNTING,
) -> tuple[Position, int]:
    """Rules: PNL-RED-01, PNL-FLIP-01. Apply a fill of signed ``qty`` at ``price``.

    Returns the new position and the realized PnL in money units. Open / increase add
    :math:`F(q, p)` to ``E``; reduce / close take :math:`E_c` out of ``E`` (entry price kept)
    and realize :math:`\\sigma(E_c + F(q, p))`; a flip is a close of the whole position then an
    open of the remainder at ``price``.
    """
    if qty == 0:
        return pos, 0
    if pos.size == 0 or (pos.size > 0) == (qty > 0):
        new = Position(
            pos.size + qty,
            pos.entry_value + fill_cost(qty, price, market, scales, accounting),
            pos.leverage,
            pos.isolated,
            pos.isolated_margin,
        )
        return new, 0
    s = _sigma(market)
    if abs(qty) <= abs(pos.size):
        closed = -qty
        e_c = closed_entry(pos.entry_value, pos.size, closed, market)
        realized = _to_money(s * (e_c + fill_cost(qty, price, market, scales, accounting)), market, scales)
        new = Position(pos.size + qty, pos.entry_value - e_c, pos.leverage, pos.isolated, pos.isolated_margin)
        return new, realized
    # flip: close everything, then open the remainder (PNL-FLIP-01). The fill's cost is
    # rounded once, as a whole, and split: the opened part gets its own cost and the closed
    # part the rest, so the two sides of a trade still cancel exactly (INV-04).
    opened_qty = qty + pos.size
    opened_cost = fill_cost(opened_qty, price, market, scales, accounting)
    closed_cost = fill_cost(qty, price, market, scales, accounting) - opened_cost
    realized = _to_money(s * (pos.entry_value + closed_cost), market, scales)
    return Position(opened_qty, opened_cost, pos.leverage, pos.isolated, pos.isolated_margin), realized


@implements("PNL-AVG-01", "PNL-AVG-02")
def entry_price(
    pos: Position, market: MarketSpec, scales: Scales, accounting: AccountingBase = DEFAULT_ACCOUNTING
) -> Fraction:
    """Rules: PNL-AVG-01, PNL-AVG-02. The average entry price, price units, exact rational.

    Linear: :math:`E / size`. Inverse (harmonic mean): :math:`size \\cdot cv \\cdot 10^{m+p}
    / (E \\cdot 10^s)`. ``bitmex-satoshi``: :math:`cv \\cdot 10^{m+p} / (avgSat \\cdot 10^s)` with
    ``avgSat = floor(E/size)`` for longs, ``round(E/size)`` (half up) for shorts.
    Raises ``ValueError`` for a flat position and for an inverse one whose entry value
    rounded to 0 coin units (its entry price is not finite).
    """
    if pos.size == 0:
        raise ValueError("a flat position has no entry price")
    if market.contract is not ContractKind.INVERSE:
        return Fraction(pos.entry_value, pos.size)
    num = market.contract_value * pow10(scales.money_decimals + scales.price_decimals)
    if accounting.per_contract_rounding():  # bitmex-satoshi: the average of per-contract costs
        per = abs(pos.entry_value)
        n = abs(pos.size)
        avg = int(div_floor(per, n)) if pos.size > 0 else int(div_half_up(per, n))
        if avg == 0:
            raise ValueError("the entry value per contract rounds to 0 coin units: no finite entry price")
        return Fraction(num, avg * pow10(scales.size_decimals))
    if pos.entry_value == 0:
        raise ValueError("the entry value rounds to 0 coin units: no finite entry price")
    return Fraction(pos.size * num, pos.entry_value * pow10(scales.size_decimals))


def entry_value_at(
    size: int, price: int, market: MarketSpec, scales: Scales, accounting: AccountingBase = DEFAULT_ACCOUNTING
) -> int:
    """The entry value of a position of ``size`` opened in one fill at ``price`` (snapshots)."""
    return fill_cost(size, price, market, scales, accounting)


@implements("PNL-NOT-01", "PNL-NOT-02")
def notional_term(
    size_abs: Term,
    price: Term,
    market: MarketSpec,
    scales: Scales,
    accounting: AccountingBase = DEFAULT_ACCOUNTING,
    rounding: Rounding = Rounding.CEIL,
) -> Term:
    """Rules: PNL-NOT-01, PNL-NOT-02. :math:`|N|` in money units at ``price`` (ints or Z3 terms).

    Linear: :math:`R(|q| \\cdot p \\cdot 10^{m-s-p})`. Inverse:
    :math:`R(|q| \\cdot cv \\cdot 10^{m+p} / (p \\cdot 10^s))`, or for ``bitmex-satoshi``
    :math:`|q| \\cdot round(cv \\cdot 10^{m+p} / (p \\cdot 10^s))`. ``R`` is ``rounding``: ceil
    (PNL-NOT-01, the requirement is never understated) unless a caller names the margin
    notional's rounding (:func:`margin_notional_term`, PNL-NOT-02).
    """
    q = abs_(size_abs)
    if market.contract is ContractKind.INVERSE:
        num = market.contract_value * pow10(scales.money_decimals + scales.price_decimals)
        den = price * pow10(scales.size_decimals)
        if accounting.per_contract_rounding():
            return q * div_half_up(num, den)
        return div_ceil(q * num, den) if rounding is Rounding.CEIL else div_round(q * num, den, rounding)
    return rescale(q * price, scales.size_decimals + scales.price_decimals, scales.money_decimals, rounding)


@implements("PNL-NOT-02")
def margin_notional_term(
    size_abs: Term,
    price: Term,
    market: MarketSpec,
    scales: Scales,
    accounting: AccountingBase = DEFAULT_ACCOUNTING,
) -> Term:
    """Rule: PNL-NOT-02. The notional fed to margin models (Drift's "liability value"):
    :func:`notional_term` rounded with the accounting's ``liability_rounding`` (ceil by default,
    i.e. PNL-NOT-01; floor for Drift, whose ``calculate_base_asset_value_with_oracle_price``
    divides ``|base| * price`` down)."""
    return notional_term(size_abs, price, market, scales, accounting, accounting.liability_rounding)


@implements("PNL-NOT-02")
def margin_notional(
    size_abs: int,
    price: int,
    market: MarketSpec,
    scales: Scales,
    accounting: AccountingBase = DEFAULT_ACCOUNTING,
) -> int:
    """Rule: PNL-NOT-02. :func:`margin_notional_term` on ints."""
    return int(margin_notional_term(size_abs, price, market, scales, accounting))


@implements("PNL-NOT-01")
def notional(
    size_abs: int,
    price: int,
    market: MarketSpec,
    scales: Scales,
    accounting: AccountingBase = DEFAULT_ACCOUNTING,
) -> int:
    """Rule: PNL-NOT-01. :func:`notional_term` on ints."""
    return int(notional_term(size_abs, price, market, scales, accounting))


@implements("PNL-LIN-01", "PNL-LIN-02", "PNL-INV-01")
def upnl_term(
    size: Term,
    entry_value: Term,
    mark: Term,
    market: MarketSpec,
    scales: Scales,
    accounting: AccountingBase = DEFAULT_ACCOUNTING,
) -> Term:
    """Rules: PNL-LIN-01, PNL-LIN-02, PNL-INV-01. Unrealized PnL at ``mark``, money units (ints
    or Z3 terms).

    :math:`\\sigma (E + F(-size, mark))`. Linear: :math:`size \\cdot mark - E`, rescaled
    with floor (PNL-LIN-01); with the accounting's ``upnl_rounding = trunc`` (PNL-LIN-02), the
    value at mark is rounded toward zero and the whole money units of ``E`` are subtracted
    after: :math:`trunc((size \\cdot mark - E_r) / 10^k) - E_w` with
    :math:`E_w = \\lfloor E / 10^k \\rfloor`, :math:`E_r = E - E_w 10^k`, :math:`k = s+p-m`
    (Drift: ``base * price / 1e9`` toward zero, plus ``quote_asset_amount``).
    Inverse: :math:`E - V` with :math:`V` the coin value of ``size`` at ``mark``
    rounded up (ceil) as a signed value, so uPnL is rounded down (venue's favour);
    ``bitmex-satoshi`` values each contract at ``round(1e8/mark)`` (half up).
    A flat position (size 0, entry value 0) has uPnL 0.
    """
    if market.contract is ContractKind.INVERSE:
        num = market.contract_value * pow10(scales.money_decimals + scales.price_decimals)
        den = mark * pow10(scales.size_decimals)
        if accounting.per_contract_rounding():
            value = size * div_half_up(num, den)
        else:
            value = div_ceil(size * num, den)
        return entry_value - value
    frm, to = scales.size_decimals + scales.price_decimals, scales.money_decimals
    rounding = accounting.upnl_rounding
    if rounding is Rounding.FLOOR or frm <= to:
        return rescale(size * mark - entry_value, frm, to, Rounding.FLOOR)
    unit = pow10(frm - to)
    whole = div_floor(entry_value, unit)
    return rescale(size * mark - (entry_value - whole * unit), frm, to, rounding) - whole


@implements("PNL-LIN-01", "PNL-LIN-02", "PNL-INV-01")
def unrealized_pnl(
    pos: Position,
    mark: int,
    market: MarketSpec,
    scales: Scales,
    accounting: AccountingBase = DEFAULT_ACCOUNTING,
) -> int:
    """Rules: PNL-LIN-01, PNL-INV-01. :func:`upnl_term` of a position, on ints."""
    return int(upnl_term(pos.size, pos.entry_value, mark, market, scales, accounting))


def signed_notional(
    pos: Position,
    mark: int,
    market: MarketSpec,
    scales: Scales,
    accounting: AccountingBase = DEFAULT_ACCOUNTING,
) -> int:
    """Signed notional: ``sign(size) * notional(|size|, mark)`` (money units)."""
    n = notional(abs(pos.size), mark, market, scales, accounting)
    return n if pos.size >= 0 else -n


__all__ = [
    "Position",
    "accounting_of",
    "apply_fill",
    "closed_entry",
    "entry_price",
    "entry_value_at",
    "fill_cost",
    "margin_notional",
    "margin_notional_term",
    "notional",
    "notional_term",
    "signed_notional",
    "unrealized_pnl",
    "upnl_term",
]
