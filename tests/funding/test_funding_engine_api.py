"""The engine-facing funding interface (FND-ENG-01..04): for every bundled profile a hand-built
:class:`FundingContext` gives the hand-computed settlement rate; settle_market is zero-sum."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perpspec.funding import (
    Contract,
    FundingContext,
    SettlementRates,
    book_inputs,
    first_tier_rates,
    settle_market,
)
from perpspec.funding.deribit import DeribitAccrual
from perpspec.funding.drift import DriftCarry, DriftFunding
from perpspec.funding.dydx import DydxIndexMove
from perpspec.funding.gmx import GmxSkew
from perpspec.funding.kraken import KrakenFunding
from perpspec.funding.premium_clamp import IntervalCarry
from perpspec.funding.synthetix import SynthetixVelocity
from perpspec.profile import ContractKind, Profile
from perpspec.profiles import load_profile
from perpspec.units import format_units, parse_units

BUNDLED = ["binance-usdm", "binance-coinm", "bybit-linear", "bybit-inverse", "bitmex-xbtusd",
           "okx-swap", "hyperliquid", "dydx-v4", "drift-v2", "deribit"]
T = 1_700_000_000_000  # an arbitrary settlement time (ms)
HOUR_MS = 3_600_000


def r(text: str) -> int:
    """A decimal rate string as 10^-8 units."""
    return parse_units(text, 8)


def contract_of(profile: Profile, symbol: str) -> Contract:
    spec = profile.markets[symbol]
    s = profile.scales
    return Contract(spec.contract, s.size_decimals, s.price_decimals, s.money_decimals, spec.contract_value)


def ctx_for(name: str, symbol: str, **kw: Any) -> tuple[Any, FundingContext]:
    """The profile's funding model and a context for ``symbol`` with the market's first-tier
    rates (``first_tier_rates``) unless ``kw`` overrides them."""
    profile = load_profile(name)
    mmr, imr = first_tier_rates(profile.markets[symbol].margin)
    fields: dict[str, Any] = {"first_mmr": mmr, "first_imr": imr}
    fields.update(kw)
    return profile.mechanism("funding"), FundingContext(symbol, T, contract_of(profile, symbol), **fields)


def samples(*premiums: int) -> tuple[tuple[int, int], ...]:
    return tuple((T - (len(premiums) - k) * 5_000, p) for k, p in enumerate(premiums))


# --------------------------------------------------------------------------- per profile


@pytest.mark.rule("FND-ENG-01", "FND-CLP-01", "FND-INT-01", "FND-CAP-01", "FND-AVG-01")
def test_binance_usdm_bin_fr_01_via_samples() -> None:
    """BIN-FR-01 through the engine interface: avgP 0.10% -> F_8h 0.05%; avgP 0.02% -> I = 0.01%;
    on a carried 4-h interval F = F_8h / 2. Source: Binance FAQ 360033525031."""
    fund, ctx = ctx_for("binance-usdm", "BTCUSDT", samples=samples(r("0.10%"), r("0.10%")))
    assert fund.settlement_rate(ctx) == (r("0.05%"), IntervalCarry(8, 0))
    # linear weights 1, 2: (1 x -0.02% + 2 x 0.05%) / 3 = 0.02666..% -> F = I
    _, ctx = ctx_for("binance-usdm", "BTCUSDT", samples=samples(r("-0.02%"), r("0.05%")))
    assert fund.settlement_rate(ctx) == (r("0.01%"), IntervalCarry(8, 0))
    _, ctx4 = ctx_for("binance-usdm", "BTCUSDT", samples=samples(r("0.10%")), carry=IntervalCarry(4, 0))
    assert fund.settlement_rate(ctx4) == (r("0.025%"), IntervalCarry(4, 0))


@pytest.mark.rule("FND-ENG-01", "FND-CAP-01", "FND-INT-02")
def test_binance_btcusdt_cap_from_first_mmr_and_interval_change() -> None:
    """BIN-FR-02 via the context: the bundled BTCUSDT first bracket MMR 0.4% gives the cap
    0.75 x 0.4% = 0.3%; ETHUSDT (MMR 0.5%) 0.375%; BTCUSDT-2021 is not a capped symbol (2%).
    A settlement at the cap moves the symbol to 1 h; 16 calm 1-h cycles move it to 4 h.
    Source: Binance FAQ 360033525031 (caps and interval section)."""
    fund, ctx = ctx_for("binance-usdm", "BTCUSDT", samples=samples(r("1%")))
    assert (ctx.first_mmr, ctx.first_imr) == (r("0.4%"), r("0.8%"))
    rate, carry = fund.settlement_rate(ctx)
    assert rate == r("0.3%")  # F_8h = 0.95%, capped at 0.3%
    assert carry == IntervalCarry(1, 0)
    _, eth = ctx_for("binance-usdm", "ETHUSDT", samples=samples(r("1%")))
    assert fund.settlement_rate(eth)[0] == r("0.375%")
    _, other = ctx_for("binance-usdm", "BTCUSDT-2021", samples=samples(r("30%")))
    assert fund.settlement_rate(other)[0] == r("2%")
    # on the 1-h interval: F = 0.01% / 8 = 0.00125% <= 0.025%: calm; the 16th calm cycle -> 4 h
    for k in range(1, 17):
        _, c = ctx_for("binance-usdm", "BTCUSDT", samples=samples(0), carry=carry)
        rate, carry = fund.settlement_rate(c)
        assert rate == r("0.00125%")
        assert carry == (IntervalCarry(1, k) if k < 16 else IntervalCarry(4, 0))
    # a replayed rate at the floor also moves the symbol to 1 h (FND-ENG-03)
    _, c = ctx_for("binance-usdm", "BTCUSDT", carry=IntervalCarry(4, 0))
    assert fund.explicit_rates(c, -r("0.3%")) == SettlementRates.symmetric(-r("0.3%"), IntervalCarry(1, 0))


@pytest.mark.rule("FND-ENG-01", "FND-IMN-01", "FND-PRM-01")
def test_binance_impact_notional_and_book_inputs() -> None:
    """BIN-FR-02: IMN = 200 USDT / 0.8% = 25,000 USDT; the engine walks the book at that notional.
    A 25,000 USDT sell against bids 10,100 x 2 BTC and 10,000 x 5 BTC fills 2 BTC at 10,100
    (20,200 USDT) and 0.48 BTC at 10,000: average 25,000 / 2.48 = 10,080.64... -> floor 10,080.64."""
    fund, ctx = ctx_for("binance-usdm", "BTCUSDT")
    assert format_units(fund.impact_notional_for("BTCUSDT", ctx.first_imr), 8) == "25000"
    book = (((10_100_00, 2_000), (10_000_00, 5_000)), ((10_200_00, 10_000),))
    got = book_inputs(fund, "BTCUSDT", book, ctx.contract, ctx.first_imr)
    assert (got.best_bid, got.best_ask) == (10_100_00, 10_200_00)
    assert got.impact_bid == 10_080_64 and got.impact_ask == 10_200_00
    p = fund.sample_premium(FundingContext("BTCUSDT", T, ctx.contract, index=10_000_00,
                                           impact_bid=got.impact_bid, impact_ask=got.impact_ask))
    assert p == r("0.8064%")
    coinm = load_profile("binance-coinm").mechanism("funding")
    assert coinm.impact_notional_for("BTCUSD", r("0.8%")) is None  # 200 USD is not a coin amount


@pytest.mark.rule("FND-ENG-01", "FND-CAP-01")
def test_binance_coinm_rate() -> None:
    """COIN-M BTCUSD: the same formula (avgP 0.10% -> 0.05%); cap 0.75 x 0.4% = 0.3%."""
    fund, ctx = ctx_for("binance-coinm", "BTCUSD", samples=samples(r("0.10%")))
    assert ctx.contract.kind is ContractKind.INVERSE
    assert fund.settlement_rate(ctx)[0] == r("0.05%")
    _, capped = ctx_for("binance-coinm", "BTCUSD", samples=samples(r("2%")))
    assert fund.settlement_rate(capped)[0] == r("0.3%")


@pytest.mark.rule("FND-ENG-01", "FND-AVG-01", "FND-CLP-01")
@pytest.mark.parametrize("name", ["bybit-linear", "bybit-inverse"])
def test_bybit_linear_weights(name: str) -> None:
    """Bybit: minute samples, weights 1..n: [0, 0, 0.3%] -> avgP 0.15% -> F = 0.10% (cap 100%)."""
    symbol = "BTCUSDT" if name == "bybit-linear" else "BTCUSD"
    fund, ctx = ctx_for(name, symbol, samples=samples(0, 0, r("0.3%")))
    assert fund.settlement_rate(ctx) == (r("0.10%"), IntervalCarry(8, 0))


@pytest.mark.rule("FND-ENG-01", "FND-CAP-01", "FND-PRM-01")
def test_bitmex_mark_reference_and_cap() -> None:
    """BMX-FR-02: cap 75% x (IM 1% - MM 0.5%) = 0.375%; premium against the mark; no scaling.
    Uniform TWAP of [0.5%, 1.5%] = 1% -> F_8h 0.95% -> 0.375%. With the bundled XBTUSD margin
    (IM 1%, MM 0.40%) the engine's cap is 75% x 0.6% = 0.45%. Source: BitMEX guide."""
    fund, ctx = ctx_for("bitmex-xbtusd", "XBTUSD", samples=samples(r("0.5%"), r("1.5%")),
                        first_mmr=r("0.5%"), first_imr=r("1%"))
    assert fund.settlement_rate(ctx)[0] == r("0.375%")
    _, bundled = ctx_for("bitmex-xbtusd", "XBTUSD", samples=samples(r("0.5%"), r("1.5%")))
    assert (bundled.first_mmr, bundled.first_imr) == (r("0.4%"), r("1%"))
    assert fund.settlement_rate(bundled)[0] == r("0.45%")
    prem = FundingContext("XBTUSD", T, ctx.contract, index=10_000_0, mark=10_050_0,
                          impact_bid=10_100_0, impact_ask=10_200_0)
    assert fund.sample_premium(prem) == r("0.5%")
    assert fund.sample_premium(attrs_evolve(prem, mark=None)) is None
    assert format_units(fund.impact_notional_for("XBTUSD", r("1%")), 8) == "10"  # 0.1 XBT / 1%


@pytest.mark.rule("FND-ENG-01", "FND-OKX-01")
def test_okx_fr_01_via_samples_and_groups() -> None:
    """OKX-FR-01: mean 0.5% on BTC-USDT-SWAP (group BTC) -> 0.375%. Groups: the id without
    -SWAP when the table names it, else the underlying. Source: okx.com/help/360053909272."""
    fund, ctx = ctx_for("okx-swap", "BTC-USDT-SWAP", samples=tuple((T - k, r("0.5%")) for k in range(480)))
    assert fund.settlement_rate(ctx) == (r("0.375%"), None)
    assert fund.group_for("BTC-USDT-SWAP") == "BTC"
    assert fund.group_for("BTC-USDC-SWAP") == "BTC-USDC"
    assert fund.group_for("DOGE-USD-SWAP") == "DOGE-USD"
    assert fund.group_for("DOGE-USDT-SWAP") == "DOGE"
    assert fund.cap_for(fund.group_for("DOGE-USDT-SWAP")) == r("1.5%")
    mid = attrs_evolve(ctx, best_bid=10_010_00, best_ask=10_030_00, index=10_000_00)
    assert fund.sample_premium(mid) == r("0.2%")
    assert fund.impact_notional_for("BTC-USDT-SWAP", ctx.first_imr) is None


@pytest.mark.rule("FND-ENG-01", "FND-HL-01")
def test_hl_fr_01_hourly_from_one_sample() -> None:
    """HL-FR-01: impact bid 10,100, oracle 10,000 -> premium 1%; hourly 0.95% / 8 = 0.11875%.
    Source: Hyperliquid docs trading/funding (reading: /8 per the text)."""
    fund, ctx = ctx_for("hyperliquid", "BTC", impact_bid=10_100_000000, impact_ask=10_200_000000,
                        oracle=10_000_000000)
    p = fund.sample_premium(ctx)
    assert p == r("1%")
    assert fund.settlement_rate(attrs_evolve(ctx, samples=((T, p),))) == (r("0.11875%"), None)
    assert fund.impact_notional_for("BTC", ctx.first_imr) is None  # per-asset values not captured


@pytest.mark.rule("FND-ENG-01", "FND-DYDX-01", "FND-DYDX-03", "FND-DYDX-04", "FND-DYDX-05")
def test_dydx_case_5_clamp_from_first_rates() -> None:
    """Case 5: IM 15%, MF 80% (MMF 12%) -> rate clamp 6 x 3% = 18% per 8 h. A premium of 50%
    (every sample) is clamped to 180,000 ppm; one tick applies 1/8: 2.25%. At oracle 50,000 the
    index moves by 180,000 x 3600 x 50,000e6 x 10^-9 / 28,800 = 1,125,000 and 1 BTC long pays
    1,125 USDC = 50,000 x 2.25%. Source: dYdX v4 liquidity_tier_test.go, funding.go."""
    fund, ctx = ctx_for("dydx-v4", "BTC-USD", samples=tuple((T - k, r("50%")) for k in range(60)),
                        first_imr=r("15%"), first_mmr=r("12%"), oracle=50_000_000000)
    rates = fund.settlement_rates(ctx)
    assert rates.rate == r("2.25%")
    assert rates.carry == 1_125_000 and rates.native == DydxIndexMove(0, 1_125_000)
    s = settle_market(fund, ctx.contract, [1_000_000_000, -1_000_000_000], 50_000_000000, rates)
    assert s.payments == (-1_125_000_000, 1_125_000_000) and s.dust == 0
    # the bundled Large-Cap tier (IM 2%, MF 60%): 6 x (2% - 1.2%) = 4.8% per 8 h -> 0.6% per tick
    _, large = ctx_for("dydx-v4", "BTC-USD", samples=ctx.samples, oracle=50_000_000000)
    assert fund.settlement_rates(large).rate == r("0.6%")
    # vote: 1% premium (within the 60x vote clamp); an empty book side contributes 0
    vote = attrs_evolve(ctx, index=10_000_000000, impact_bid=10_100_000000, impact_ask=None)
    assert fund.sample_premium(vote) == r("1%")


@pytest.mark.rule("FND-ENG-01", "FND-ENG-03", "FND-DRF-01", "FND-DRF-02", "FND-DRF-04")
def test_drift_case_19_via_carried_twaps() -> None:
    """Case 19 with the controller's offset: mark TWAP $50, oracle TWAP $49 -> 42,075,000 (1e9),
    i.e. 0.042075 USD per SOL per hour = 0.085867% of $49 (toward zero). 1 SOL long pays
    0.042075 USDC. Source: drift math/funding/tests.rs; controller/funding.rs."""
    fund, ctx = ctx_for("drift-v2", "SOL-PERP", carry=DriftCarry(50_000_000, 49_000_000),
                        long_size=10**9, short_size=10**9)
    rates = fund.settlement_rates(ctx)
    assert rates.rate == rates.rate_long == rates.rate_short == 85_867
    assert rates.carry == DriftCarry(None, None, 0, 0)  # TWAPs consumed, AMM flat: fee pool unchanged
    s = settle_market(fund, ctx.contract, [10**9, -(10**9)], 49_000_000, rates)
    assert s.payments == (-42_075, 42_075) and s.sink == "amm-fee-pool"
    # without carried TWAPs the current mark and oracle stand in; without them: missing
    _, now = ctx_for("drift-v2", "SOL-PERP", mark=50_000_000, oracle=49_000_000)
    assert fund.settlement_rates(now).native == rates.native
    assert fund.settlement_rates(attrs_evolve(now, mark=None)) is None


@pytest.mark.rule("FND-ENG-01", "FND-DRF-03")
def test_drift_case_20_asymmetric_via_context() -> None:
    """Case 20 through the interface: AMM short 12,295,081,967 with fee pool $0.5 -> the shorts'
    (receivers') rate is cut to 24,222,164 while longs pay 41,666,666 (1e9); tfmd -> 416,667.
    Offset disabled to match the program's helper. Source: drift capped_sym_funding_test."""
    fund = DriftFunding(offset_denominator=0)
    oracle = 10**9  # a TWAP pair that gives the rate 41,666,666: spread 1,000,000 at oracle $1,000
    contract = Contract(ContractKind.LINEAR, 9, 6, 6)
    ctx = FundingContext("X", T, contract, carry=DriftCarry(oracle + 1_000_000, oracle, 500_000, 500_000),
                         long_size=12_295_081_967, short_size=24_590_163_934, amm_net=-12_295_081_967)
    rates = fund.settlement_rates(ctx)
    assert rates.native.rate_long == 41_666_666 and rates.native.rate_short == 24_222_164
    assert rates.carry.total_fee_minus_distributions == 416_667
    assert rates.rate_long > rates.rate_short


@pytest.mark.rule("FND-ENG-01", "FND-DRB-01", "FND-DRB-02", "FND-ENG-04")
def test_drb_fr_01_accrual_via_context() -> None:
    """DRB-FR-01: premium 0.10% -> F = 0.075%; 1 h on 1 BTC at index 80,000 accrues
    80,000 x 0.075% / 8 = 7.5 USD. Source: support.deribit.com "Funding Specifications"."""
    fund, ctx = ctx_for("deribit", "BTC_USDC-PERPETUAL", samples=((T - 60_000, r("0.10%")),),
                        last_settlement=T - HOUR_MS)
    rates = fund.settlement_rates(ctx)
    assert rates.rate == r("0.075%") and rates.native == DeribitAccrual(r("0.075%"), HOUR_MS)
    s = settle_market(fund, ctx.contract, [10_000, -10_000], 80_000_00, rates)
    assert [format_units(p, 8) for p in s.payments] == ["-7.5", "7.5"]
    # no sample yet: the current mark vs index; dead band 0.02% -> 0
    _, cur = ctx_for("deribit", "BTC_USDC-PERPETUAL", mark=80_016_00, index=80_000_00)
    assert fund.sample_premium(cur) == r("0.02%") and fund.settlement_rate(cur)[0] == 0
    # a replayed rate is the 8-hour rate, accrued over the elapsed time
    assert fund.explicit_rates(ctx, r("0.075%")) == rates


@pytest.mark.rule("FND-ENG-01", "FND-KRK-01", "FND-GMX-01", "FND-SNX-01", "FND-SNX-02")
def test_unbundled_variants_via_context() -> None:
    """KRK-FR-01: mark 7,010, index 7,000 -> premium 0.142857% -> hourly 0.017857%.
    Case 24 (GMX): factor 1/50,000 per s, OI 150k/50k, 1 s -> longs pay 0.001%, shorts receive
    0.003%. Case 25 (Synthetix): full skew, velocity 0.25%/day, 29,000 s -> rate 0.00083912/day;
    the settlement charges the average 0.00041956 x 29,000/86,400 = 0.000140825... -> 14,082."""
    usd = Contract(ContractKind.LINEAR, 0, 0, 3)
    kr = KrakenFunding()
    k = FundingContext("PF_XBTUSD", T, usd, mark=7_010, index=7_000)
    p = kr.sample_premium(k)
    assert p == 142_857
    assert kr.settlement_rate(attrs_evolve(k, samples=((T, p),))) == (17_857, None)
    g = GmxSkew(funding_factor=Fraction(1, 50_000))
    gc = FundingContext("ETH", T, usd, last_settlement=T - 1_000, long_size=150_000, short_size=50_000)
    gr = g.settlement_rates(gc)
    assert (gr.rate_long, gr.rate_short) == (1_000, 3_000)
    assert g.sample_premium(gc) is None
    snx = SynthetixVelocity(max_funding_velocity=250_000, skew_scale=1_000)
    sc = FundingContext("ETH", T, usd, last_settlement=T - 29_000_000, long_size=1_000)
    sr = snx.settlement_rates(sc)
    assert sr.carry == 839_120_370_370_370
    exact = Fraction(839_120_370_370_370, 2) * Fraction(29_000, 86_400) / 10**10
    assert sr.rate == 14_082 == int(exact)


# --------------------------------------------------------------------------- missing inputs


@pytest.mark.rule("FND-ENG-02")
@pytest.mark.parametrize("name", BUNDLED)
def test_missing_inputs_give_none(name: str) -> None:
    """FND-ENG-02: a context with no prices, book or samples gives no premium sample; the
    settlement is None except where the venue needs no sample (dYdX pads with zeros but needs
    the oracle; Drift needs TWAPs or mark and oracle)."""
    profile = load_profile(name)
    symbol = next(iter(profile.markets))
    fund, ctx = ctx_for(name, symbol)
    assert fund.sample_premium(ctx) is None
    assert fund.settlement_rates(ctx) is None
    assert fund.settlement_rate(ctx) is None


@pytest.mark.rule("FND-ENG-02", "FND-CAP-01")
def test_cap_needing_margin_rates_is_missing_without_them() -> None:
    """A 0.75 x MMR cap cannot be computed with first_mmr = 0: no rate (the engine rejects)."""
    fund, ctx = ctx_for("binance-usdm", "BTCUSDT", samples=samples(r("1%")), first_mmr=0)
    assert fund.settlement_rates(ctx) is None


# --------------------------------------------------------------------------- zero-sum, every profile


def attrs_evolve(ctx: FundingContext, **kw: Any) -> FundingContext:
    return attrs.evolve(ctx, **kw)


@st.composite
def balanced_sizes(draw: st.DrawFn) -> list[int]:
    sizes = draw(st.lists(st.integers(-10**12, 10**12).filter(bool), min_size=1, max_size=6))
    rest = -sum(sizes)
    return [*sizes, rest] if rest else [*sizes, 1, -1]


@pytest.mark.rule("FND-ENG-04", "FND-SUM-01")
@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(BUNDLED),
    sizes=balanced_sizes(),
    premiums=st.lists(st.integers(-r("5%"), r("5%")), min_size=1, max_size=5),
    price=st.integers(1, 10**11),
    drift=st.integers(-(10**6), 10**6),
    explicit=st.none() | st.integers(-r("4%"), r("4%")),
    elapsed=st.integers(0, 8 * HOUR_MS),
)
def test_settle_market_is_zero_sum_for_every_profile(
    name: str, sizes: list[int], premiums: list[int], price: int, drift: int, explicit: int | None,
    elapsed: int,
) -> None:
    """For every bundled profile's variant, computed or replayed: sum(payments) + dust == 0,
    one payment per position, the dust in the variant's sink."""
    profile = load_profile(name)
    for symbol in profile.markets:
        fund, ctx = ctx_for(name, symbol, samples=tuple((T - k, p) for k, p in enumerate(premiums)),
                            index=price, mark=price + drift if price + drift > 0 else price,
                            oracle=price, last_settlement=T - elapsed,
                            long_size=sum(q for q in sizes if q > 0),
                            short_size=-sum(q for q in sizes if q < 0))
        rates = fund.settlement_rates(ctx) if explicit is None else fund.explicit_rates(ctx, explicit)
        assert rates is not None
        s = settle_market(fund, ctx.contract, sizes, price, rates)
        assert s.total() == 0 and len(s.payments) == len(sizes) and s.sink == fund.sink


@pytest.mark.rule("FND-ENG-04", "FND-SUM-01", "FND-GMX-01")
@settings(max_examples=60, deadline=None)
@given(sizes=balanced_sizes(), long_oi=st.integers(0, 10**9), short_oi=st.integers(0, 10**9),
       dt=st.integers(0, 10**7))
def test_asymmetric_gmx_rates_settle_zero_sum(sizes: list[int], long_oi: int, short_oi: int, dt: int) -> None:
    """GMX's larger side pays, the smaller receives more per unit: the sink absorbs the rest."""
    g = GmxSkew(funding_factor=Fraction(1, 50_000))
    contract = Contract(ContractKind.LINEAR, 3, 2, 8)
    ctx = FundingContext("ETH", T, contract, last_settlement=T - dt, long_size=long_oi, short_size=short_oi)
    s = settle_market(g, contract, sizes, 2_000_00, g.settlement_rates(ctx))
    assert s.total() == 0
