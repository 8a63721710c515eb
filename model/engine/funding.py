"""Funding: premium samples and settlements over the holders of a market.

Rules: ENG-UNK-01, ENG-FSM-01, ENG-FND-01, ENG-PRC-01, ENG-FUND-01, FND-ENG-01, FND-ENG-02,
FND-ENG-03, FND-ENG-04, FND-SUM-01, ACC-ISO-01, INV-03.
"""

from __future__ import annotations

from typing import Any

import attrs
from perpspec.account import Account
from perpspec.engine.common import (
    Output,
    Rejected,
    handles,
    market_spec,
    with_bad_debt,
    with_markets,
    with_position_debt,
)
from perpspec.errors import ModelError
from perpspec.events import FundingPayment, FundingRateOut, FundingSample, FundingSettlement
from perpspec.funding import EngineFunding, NotionalPrice
from perpspec.margin import MarginModel
from perpspec.state import SHARED, Exchange, FundingState, InsuranceFund, Market, market_with
from perpspec.traceability import implements

_TIERS: dict[int, tuple[MarginModel, tuple[int, int]]] = {}


def _first_tier_rates(margin: MarginModel) -> tuple[int, int]:
    """``funding.first_tier_rates(margin)``, cached per margin object (a ``param_change`` of the
    market's margin makes a new object, so the cache never serves stale rates)."""
    from perpspec import funding as fnd

    hit = _TIERS.get(id(margin))
    if hit is None or hit[0] is not margin:
        hit = (margin, fnd.first_tier_rates(margin))
        _TIERS[id(margin)] = hit
    return hit[1]


@implements("FND-ENG-01")
def funding_context(ex: Exchange, symbol: str, t: int, with_book: bool = True) -> Any:
    """Rule: FND-ENG-01. The :class:`~perpspec.funding.FundingContext` of market ``symbol`` at
    ``t``: its prices, the impact and top-of-book prices of its last book snapshot (only
    ``with_book``), the first-tier margin rates, the samples and carry since the last
    settlement and the open interest (no AMM: ``amm_net = 0``)."""
    from perpspec import funding as fnd

    spec = ex.profile.markets[symbol]
    scales = ex.profile.scales
    m = ex.markets[symbol]
    contract = fnd.Contract(
        spec.contract, scales.size_decimals, scales.price_decimals, scales.money_decimals, spec.contract_value
    )
    first_mmr, first_imr = _first_tier_rates(spec.margin)
    model = ex.profile.funding_model
    bi = fnd.BookInputs()
    if with_book and model is not None:
        bi = fnd.book_inputs(model, symbol, m.book, contract, first_imr)
    return fnd.FundingContext(
        symbol,
        t,
        contract,
        index=m.index,
        mark=m.mark,
        oracle=m.oracle,
        last_price=m.last_price,
        impact_bid=bi.impact_bid,
        impact_ask=bi.impact_ask,
        best_bid=bi.best_bid,
        best_ask=bi.best_ask,
        first_mmr=first_mmr,
        first_imr=first_imr,
        samples=m.funding.samples,
        last_settlement=m.funding.last_settlement,
        carry=m.funding.extra,
        long_size=m.oi_long,
        short_size=m.oi_short,
        amm_net=0,
    )


@handles(FundingSample)
@implements("ENG-UNK-01", "ENG-FSM-01", "FND-ENG-02")
def funding_sample(ex: Exchange, ev: FundingSample) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-UNK-01, ENG-FSM-01, FND-ENG-02. Append a premium sample to the market's
    funding accumulator: the event's ``premium``, else the one the profile's funding variant
    takes from the market's prices and book (``sample_premium``); when the variant takes none
    (an input is missing, or it takes no samples) nothing is recorded (a valid no-op)."""
    market_spec(ex, ev.symbol)
    m = ex.markets[ev.symbol]
    premium = ev.premium
    if premium is None:
        model = ex.profile.funding_model
        if model is None:
            return with_markets(ex, ev.t, ex.markets), []
        computed = model.sample_premium(funding_context(ex, ev.symbol, ev.t))
        if computed is None:
            return with_markets(ex, ev.t, ex.markets), []
        premium = int(computed)
    f = m.funding
    f = FundingState(
        samples=(*f.samples, (ev.t, premium)),
        last_settlement=f.last_settlement,
        last_rate=f.last_rate,
        index=f.index,
        extra=f.extra,
    )
    markets = dict(ex.markets)
    markets[ev.symbol] = market_with(m, funding=f)
    return with_markets(ex, ev.t, markets), []


def _funding_price(m: Market, model: EngineFunding | None) -> int:
    """Rule: FND-PAY-01. The price funding notionals are taken at: the variant's
    ``notional_price`` (the mark without a variant), else the valuation price."""
    which = NotionalPrice.MARK if model is None else model.notional_price
    price = m.mark if which is NotionalPrice.MARK else m.oracle if which is NotionalPrice.ORACLE else m.index
    price = price if price is not None else m.valuation_price()
    if price is None:
        raise Rejected("ENG-PRC-01", f"no price for {m.symbol} yet: funding cannot be settled")
    return price


@handles(FundingSettlement)
@implements("ENG-FND-01", "ENG-PRC-01", "ENG-FUND-01", "FND-ENG-03")
def funding_settlement(ex: Exchange, ev: FundingSettlement) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-FND-01, ENG-PRC-01, ENG-FUND-01, FND-ENG-03, FND-ENG-04. Settle funding over
    every open position of the market.

    The rates are ``explicit_rates(ctx, rate)`` for the event's (replayed) rate, else the
    profile's funding variant's ``settlement_rates(ctx)`` (``None``: rejected, ENG-FND-01).
    :func:`perpspec.funding.settle_market` settles them zero-sum (FND-SUM-01): each account's
    collateral changes by its payment (an isolated position's margin instead, ACC-ISO-01: a
    debit beyond it is the position's bad debt) and the dust goes to the variant's sink (the
    insurance fund, or a named dust sink). The samples are cleared; the rate and the carry are kept.
    """
    from perpspec import funding as fnd

    market_spec(ex, ev.symbol)
    m = ex.markets[ev.symbol]
    model = ex.profile.funding_model
    ctx = funding_context(ex, ev.symbol, ev.t, with_book=ev.rate is None)
    rates: Any
    if ev.rate is not None:
        if model is not None:
            rates = model.explicit_rates(ctx, ev.rate)
        else:
            rates = fnd.SettlementRates.symmetric(ev.rate, ctx.carry)
    else:
        if model is None:
            raise Rejected(
                "ENG-FND-01", "this profile's funding model cannot compute the rate: give the rate"
            )
        rates = model.settlement_rates(ctx)
        if rates is None:
            raise Rejected(
                "ENG-FND-01",
                f"the funding model cannot compute {ev.symbol}'s rate (no samples since the last "
                "settlement, or a price or margin rate it needs is missing): give the rate",
            )
    price = _funding_price(m, model)
    # the holder index lists exactly the accounts with a non-zero position in the market;
    # the order is (account id, slot), as if every account were scanned and sorted
    ids = ex.holders.get(ev.symbol) if ex.holders is not None else None
    scan = ex.accounts if ids is None else ids
    # every (account, slot) holding the market, in (account id, slot) order; an account holds
    # slot BOTH in one-way mode, LONG and SHORT in hedge mode (ACC-HDG-01, INV-07)
    one_way, hedge = ((ev.symbol, "BOTH"),), ((ev.symbol, "LONG"), (ev.symbol, "SHORT"))
    old_accounts = ex.accounts
    holders = []
    for aid in sorted(scan):
        acct = old_accounts[aid]
        positions = acct.positions
        for key in hedge if acct.hedge_mode else one_way:
            pos = positions.get(key)
            if pos is not None and pos.size != 0:
                holders.append((aid, key, pos.size, acct, pos))
    sizes = [h[2] for h in holders]
    result = fnd.settle_market(model, ctx.contract, sizes, price, rates)
    payments = [int(p) for p in result.payments]
    dust = int(result.dust)
    if sum(payments) + dust != 0:
        raise ModelError("funding settlement is not zero-sum (FND-SUM-01)")
    rate, rate_long, rate_short = int(rates.rate), int(rates.rate_long), int(rates.rate_short)
    outs: list[Output] = []
    touched: list[str] = []
    deficits: list[tuple[str, tuple[str, str], int]] = []
    changed: dict[str, Account] = {}  # the new accounts, written into the map at once
    t, symbol, old_bad = ev.t, ev.symbol, ex.bad_debt
    for (aid, key, q, a, pos), pay in zip(holders, payments, strict=True):
        # a hedge-mode account's second slot starts from the account its first slot left
        # (only that first slot's position was replaced: ``pos`` is still current)
        a = changed.get(aid, a)
        if pos.isolated:
            # an isolated position's funding settles against its own margin (ACC-ISO-01);
            # a debit beyond it is the position's bad debt, never the cross wallet's
            margin = pos.isolated_margin + pay
            if margin < 0:
                deficits.append((aid, key, -margin))
                margin = 0
            positions = dict(a.positions)
            positions[key] = attrs.evolve(pos, isolated_margin=margin)
            changed[aid] = Account(a.id, a.collateral, positions, a.hedge_mode)
        else:
            c = a.collateral + pay
            changed[aid] = Account(a.id, c, a.positions, a.hedge_mode)
            if c < 0 or aid in old_bad:  # with_bad_debt changes nothing for the others
                touched.append(aid)
        outs.append(FundingPayment(t, aid, symbol, key[1], rate_long if q > 0 else rate_short, pay))
    accounts = old_accounts.update(changed)
    insurance, dust_map = ex.insurance, ex.dust
    if result.sink == fnd.DEFAULT_SINK:
        bal = dict(insurance.balances)
        bal[SHARED] = bal.get(SHARED, 0) + dust
        insurance = InsuranceFund(balances=bal)
    else:
        dm = dict(dust_map)
        dm[result.sink] = dm.get(result.sink, 0) + dust
        dust_map = dm
    # every touched account is in ``changed`` (a dict: cheaper to look up than the map)
    bad, bad_outs = with_bad_debt(ev.t, ex.bad_debt, changed, sorted(set(touched)))
    if deficits:
        bad, more = with_position_debt(ev.t, bad, deficits)
        bad_outs = bad_outs + more
    carry = rates.carry
    f = m.funding
    funding = FundingState(
        samples=(),
        last_settlement=ev.t,
        last_rate=rate,
        index=carry if type(carry) is int else f.index,
        extra=carry,
    )
    markets = dict(ex.markets)
    markets[ev.symbol] = attrs.evolve(m, funding=funding)
    ex2 = attrs.evolve(
        ex, t=ev.t, accounts=accounts, markets=markets, insurance=insurance, dust=dust_map, bad_debt=bad
    )
    return ex2, [*outs, FundingRateOut(ev.t, ev.symbol, rate, dust, result.sink), *bad_outs]
