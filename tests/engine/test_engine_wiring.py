"""The step function computes funding and marks with the profile's own variants.

Every bundled profile: two accounts with opposite positions, prices and a book (or replayed
samples where the venue's sample cannot be taken from the bundled profile), funding samples
WITHOUT a premium and a settlement WITHOUT a rate; the payments are hand-computed below
(simple numbers: index 50,000, a book 0.1% above it). Then the mark: Binance's median of
three from index + book + last trade, a published mark taking precedence, the index from
constituents (outlier, stale feed), Hyperliquid/dYdX oracle-based marks. And the regression
of a flat position with settings in a market without a price.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from perpspec.engine import step
from perpspec.events import (
    BookSnapshot,
    Deposit,
    Fill,
    FundingPayment,
    FundingRateOut,
    FundingSample,
    FundingSettlement,
    IndexPrice,
    MarkPrice,
    OraclePrice,
    PriceOut,
    Reject,
    SetLeverage,
    Withdraw,
    decode_line,
    encode_event,
)
from perpspec.oracle.digest import digest
from perpspec.position import Position
from perpspec.profiles import bundled_names, load_profile
from perpspec.state import Exchange, initial_exchange, invariant_violations
from perpspec.units import parse_units

H = 3_600_000  # one hour in ms


def run_ok(ex: Exchange, *events: Any) -> tuple[Exchange, list[Any]]:
    outs: list[Any] = []
    for ev in events:
        ex, o = step(ex, ev)
        assert not any(isinstance(x, Reject) for x in o), (ev, o)
        assert invariant_violations(ex) == []
        outs.extend(o)
    return ex, outs


def rejected(ex: Exchange, ev: Any, rule: str) -> Reject:
    before = digest(ex)
    ex2, outs = step(ex, ev)
    assert ex2 is ex and digest(ex2) == before
    assert len(outs) == 1 and isinstance(outs[0], Reject), outs
    assert outs[0].rule_id == rule, outs[0]
    return outs[0]


class Venue:
    """A profile with two funded accounts and helpers in its units."""

    def __init__(self, profile: Any, symbol: str | None = None) -> None:
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.sym = symbol or sorted(self.profile.markets)[0]
        s = self.profile.scales
        self.pd, self.sd, self.md = s.price_decimals, s.size_decimals, s.money_decimals
        self.ex = initial_exchange(self.profile)
        self.ex, _ = run_ok(
            self.ex, Deposit(0, "a", self.money("1000000")), Deposit(0, "b", self.money("1000000"))
        )

    def px(self, x: str) -> int:
        return parse_units(x, self.pd)

    def sz(self, x: str) -> int:
        return parse_units(x, self.sd)

    def money(self, x: str) -> int:
        return parse_units(x, self.md)

    def run(self, *events: Any) -> list[Any]:
        self.ex, outs = run_ok(self.ex, *events)
        return outs

    def trade(self, t: int, qty: str, price: str) -> Fill:
        """``a`` buys ``qty`` from ``b`` (fees 0 to keep the numbers simple)."""
        return Fill(
            t, self.sym, self.sz(qty), self.px(price), "a", "b", "seller", buyer_fee_rate=0, seller_fee_rate=0
        )

    def book(self, t: int, bid: str, ask: str, depth: str) -> BookSnapshot:
        return BookSnapshot(t, self.sym, ((self.px(bid), self.sz(depth)),), ((self.px(ask), self.sz(depth)),))

    def settle(self, t: int, rate: int | None = None) -> tuple[dict[str, int], FundingRateOut]:
        outs = self.run(FundingSettlement(t, self.sym, rate))
        pays = {o.account: o.amount for o in outs if isinstance(o, FundingPayment)}
        rate_out = next(o for o in outs if isinstance(o, FundingRateOut))
        assert sum(pays.values()) + rate_out.dust == 0  # FND-SUM-01
        return pays, rate_out


def with_funding(name: str, **changes: Any) -> Any:
    """A bundled profile with some funding parameters changed (a user profile)."""
    p = load_profile(name)
    mechanisms = dict(p.mechanisms)
    mechanisms["funding"] = attrs.evolve(mechanisms["funding"], **changes)
    return attrs.evolve(p, mechanisms=mechanisms)


# --------------------------------------------------------------------------- funding, per profile


@pytest.mark.rule("ENG-FSM-01", "ENG-FUND-01", "ENG-MRK-01", "FND-ENG-01", "FND-ENG-04", "FND-CLP-01")
def test_binance_usdm_premium_from_the_book_then_the_clamp() -> None:
    """Index 50,000; a book 0.1% above it (bid 50,050 / ask 50,060, 1 BTC each, deeper than the
    impact notional 200 / 0.8% = 25,000 USDT): impact bid 50,050, impact ask 50,060, premium
    (50,050 - 50,000) / 50,000 = 0.1%. Two samples -> avgP 0.1%; F = 0.1% + clamp(0.01% - 0.1%,
    +-0.05%) = 0.05% (8 h interval, cap 0.75 x 0.4% = 0.3% not reached). The mark is the median
    of Price1 = 50,000 (no funding yet), Price2 = 50,000 + 55 and the last trade 50,000: 50,000.
    The long pays 1 x 50,000 x 0.05% = 25 USDT."""
    v = Venue("binance-usdm")
    v.run(IndexPrice(1, v.sym, v.px("50000")), v.trade(2, "1", "50000"), v.book(3, "50050", "50060", "1"))
    m = v.ex.markets[v.sym]
    assert (m.mark, m.mark_source) == (v.px("50000"), "model")
    v.run(FundingSample(5_000, v.sym), FundingSample(10_000, v.sym))
    assert v.ex.markets[v.sym].funding.samples == ((5_000, 100_000), (10_000, 100_000))
    pays, rate = v.settle(8 * H)
    assert rate.rate == 50_000 and rate.dust == 0
    assert pays == {"a": -v.money("25"), "b": v.money("25")}
    f = v.ex.markets[v.sym].funding
    assert (f.samples, f.last_settlement, f.last_rate) == ((), 8 * H, 50_000)
    # a replayed venue rate still settles as given: 0.01% -> 1 x 50,000 x 0.01% = 5 USDT
    pays, rate = v.settle(16 * H, 10_000)
    assert rate.rate == 10_000 and pays == {"a": -v.money("5"), "b": v.money("5")}


@pytest.mark.rule("ENG-FSM-01", "ENG-FND-01", "ENG-FUND-01", "FND-ENG-02", "FND-AVG-01")
def test_binance_coinm_takes_no_sample_without_an_impact_notional() -> None:
    """COIN-M names no impact notional (its 200 USD margin is not a coin amount): a sample
    without premium records nothing, a settlement without samples is rejected. Replayed samples
    0.02%, 0.04% (weights 1, 2): avgP = trunc(0.10% / 3) = 0.03333%, F = 0.03333% +
    clamp(0.01% - 0.03333%, +-0.05%) = 0.01%. 10 contracts of 100 USD at mark 50,000: the long
    pays 10 x 100 / 50,000 x 0.01% BTC = 200 satoshi."""
    v = Venue("binance-coinm")
    v.run(MarkPrice(1, v.sym, v.px("50000")), v.trade(2, "10", "50000"), v.book(3, "50050", "50060", "10000"))
    outs = v.run(FundingSample(5_000, v.sym))
    assert outs == [] and v.ex.markets[v.sym].funding.samples == ()
    rejected(v.ex, FundingSettlement(8 * H, v.sym), "ENG-FND-01")
    v.run(FundingSample(6_000, v.sym, 20_000), FundingSample(7_000, v.sym, 40_000))
    pays, rate = v.settle(8 * H)
    assert rate.rate == 10_000
    assert pays == {"a": -200, "b": 200}


@pytest.mark.rule("ENG-FSM-01", "ENG-FUND-01", "ENG-MRK-01", "FND-ENG-01", "FND-CAP-01")
def test_bitmex_premium_against_the_fair_price() -> None:
    """IMN = 0.1 XBT / IM 1% = 10 XBT; the book holds 1,000,000 contracts (20 XBT) at bid 50,050
    and ask 50,060: impact bid 50,050, ask 50,060. The fair price with no funding rate yet is the
    index, 50,000 (computed at the index event); the premium against it is 0.1%; F = 0.1% +
    clamp(0.01% - 0.1%, +-0.05%) = 0.05% (cap 75% x (1% - 0.4%) = 0.45%). 1,000 contracts of
    1 USD at 50,000: 0.02 XBT x 0.05% = 1,000 satoshi."""
    v = Venue("bitmex-xbtusd")
    v.run(IndexPrice(1, v.sym, v.px("50000")), v.trade(2, "1000", "50000"))
    v.run(v.book(3, "50050", "50060", "1000000"))
    assert (v.ex.markets[v.sym].mark, v.ex.markets[v.sym].mark_source) == (v.px("50000"), "model")
    v.run(FundingSample(60_000, v.sym))
    assert v.ex.markets[v.sym].funding.samples == ((60_000, 100_000),)
    pays, rate = v.settle(8 * H)
    assert rate.rate == 50_000 and pays == {"a": -1_000, "b": 1_000}


@pytest.mark.rule("ENG-FSM-01", "ENG-FUND-01", "ENG-MRK-01", "PRC-MRK-05")
def test_bybit_linear_computed_mark_and_replayed_samples() -> None:
    """Bybit's profile gives no impact margin, so samples are replayed: 0.01%, 0.01% -> F = 0.01%.
    The mark is Index + MA(basis) = 50,000 + ((49,990 + 50,010)/2 - 50,000) = 50,000. 1 BTC at
    50,000 x 0.01% = 5 USDT."""
    v = Venue("bybit-linear")
    v.run(IndexPrice(1, v.sym, v.px("50000")), v.trade(2, "1", "50000"), v.book(3, "49990", "50010", "1"))
    assert (v.ex.markets[v.sym].mark, v.ex.markets[v.sym].mark_source) == (v.px("50000"), "model")
    assert v.run(FundingSample(60_000, v.sym)) == [] and v.ex.markets[v.sym].funding.samples == ()
    v.run(FundingSample(60_000, v.sym, 10_000), FundingSample(120_000, v.sym, 10_000))
    pays, rate = v.settle(8 * H)
    assert rate.rate == 10_000 and pays == {"a": -v.money("5"), "b": v.money("5")}


@pytest.mark.rule("ENG-FUND-01", "FND-PAY-01")
def test_bybit_inverse_replayed_samples() -> None:
    """1,000 contracts of 1 USD at mark 50,000, F = 0.01%: 0.02 BTC x 0.01% = 200 satoshi."""
    v = Venue("bybit-inverse")
    v.run(MarkPrice(1, v.sym, v.px("50000")), v.trade(2, "1000", "50000"))
    v.run(FundingSample(60_000, v.sym, 10_000))
    pays, rate = v.settle(8 * H)
    assert rate.rate == 10_000 and pays == {"a": -200, "b": 200}


@pytest.mark.rule("ENG-FSM-01", "ENG-FUND-01", "ENG-MRK-01", "FND-ENG-03")
def test_okx_mid_premium_and_computed_mark() -> None:
    """Mid (50,040 + 50,060)/2 = 50,050 against index 50,000: premium 0.1%; two samples, mean
    0.1% (BTC cap 0.375%). The mark (Index + MA(basis)) is 50,050; the long pays 1 BTC x 50,050
    x 0.1% = 50.05 USDT."""
    v = Venue("okx-swap")
    v.run(IndexPrice(1, v.sym, v.px("50000")), v.trade(2, "1", "50000"), v.book(3, "50040", "50060", "1"))
    assert v.ex.markets[v.sym].mark == v.px("50050")
    v.run(FundingSample(60_000, v.sym), FundingSample(120_000, v.sym))
    pays, rate = v.settle(8 * H)
    assert rate.rate == 100_000 and pays == {"a": -v.money("50.05"), "b": v.money("50.05")}


@pytest.mark.rule("ENG-FSM-01", "ENG-FUND-01", "FND-ENG-03", "FND-ENG-04")
def test_deribit_accrues_over_the_elapsed_time() -> None:
    """Mark 50,050 (index 50,000 + basis 50) -> premium 0.1%; dead band: F = 0.1% - 0.025% =
    0.075%, accrued over the 8 h since the first sample on the index price: 1 BTC x 50,000 x
    0.075% = 37.5 USDT. A replayed rate is also an 8-hour rate accrued over the elapsed time:
    0.01% over the next 4 h = 50,000 x 0.01% / 2 = 2.5 USDT."""
    v = Venue("deribit")
    v.run(IndexPrice(1, v.sym, v.px("50000")), v.trade(2, "1", "50000"), v.book(3, "50040", "50060", "1"))
    assert v.ex.markets[v.sym].mark == v.px("50050")
    v.run(FundingSample(H, v.sym))
    pays, rate = v.settle(9 * H)
    assert rate.rate == 75_000 and pays == {"a": -v.money("37.5"), "b": v.money("37.5")}
    pays, rate = v.settle(13 * H, 10_000)
    assert rate.rate == 10_000 and pays == {"a": -v.money("2.5"), "b": v.money("2.5")}


@pytest.mark.rule("ENG-FSM-01", "ENG-FUND-01", "ENG-MRK-01", "FND-ENG-02", "FND-ENG-04")
def test_drift_settles_from_mark_and_oracle_without_samples() -> None:
    """Drift takes no samples. The mark is the oracle (100 USD), so the spread is the offset
    trunc(100 / 5000) = 0.02 USD; hourly: rate = trunc(20,000 x 1000 / 24) = 833,333 (1e9). 10 SOL:
    floor(833,333 x 10e9 / 1e9) = 8,333,330 (1e9 quote) -> 8,333 quote units = 0.008333 USDC
    each way. Headline: trunc(833,333 x 1e8 / (100e6 x 1000)) = 833 (0.00000833)."""
    v = Venue("drift-v2")
    v.run(OraclePrice(1, v.sym, v.px("100")), v.trade(2, "10", "100"))
    assert (v.ex.markets[v.sym].mark, v.ex.markets[v.sym].mark_source) == (v.px("100"), "model")
    assert v.run(FundingSample(60_000, v.sym)) == []
    pays, rate = v.settle(H)
    assert rate.rate == 833 and pays == {"a": -8_333, "b": 8_333}
    assert v.ex.dust == {"amm-fee-pool": 0}


@pytest.mark.rule("ENG-FSM-01", "ENG-FUND-01", "FND-ENG-01", "FND-ENG-04")
def test_dydx_votes_from_the_book_and_the_funding_index() -> None:
    """A user profile with a 10,000 USDC impact notional: impact bid 50,050, ask 50,060 against
    index 50,000 -> vote 1,000 ppm (bound 60 x (2% - 1.2%) not reached). 60 samples -> hourly
    premium 1,000 ppm = rate_8h (bound 6 x 0.8% not reached). One 3,600 s tick at oracle 50,000:
    index delta trunc(1,000 x 3,600 x 5e10 / 1e9 / 28,800) = 6,250 ppm quantums per base quantum;
    1 BTC = 1e9 quantums pays 6,250 x 1e9 / 1e6 = 6.25 USDC (= 50,000 x 0.1% / 8). Headline
    trunc(0.1% x 3,600 / 28,800) = 0.0125%."""
    p = with_funding("dydx-v4", impact_notionals={"BTC-USD": 10_000_000_000})
    v = Venue(p, "BTC-USD")
    v.run(IndexPrice(1, v.sym, v.px("50000")), OraclePrice(1, v.sym, v.px("50000")))
    v.run(v.trade(2, "1", "50000"), v.book(3, "50050", "50060", "1"))
    v.run(*[FundingSample(60_000 * (i + 1), v.sym) for i in range(60)])
    assert {p for _, p in v.ex.markets[v.sym].funding.samples} == {100_000}
    pays, rate = v.settle(H)
    assert rate.rate == 12_500 and pays == {"a": -v.money("6.25"), "b": v.money("6.25")}
    assert v.ex.markets[v.sym].funding.index == 6_250


@pytest.mark.rule("ENG-FSM-01", "ENG-FUND-01", "FND-HL-01")
def test_hyperliquid_hourly_eighth() -> None:
    """A user profile with a 10,000 USDC impact notional: premium against the oracle 0.1%;
    F_8h = 0.05%, hourly F = 0.05% / 8 = 0.00625%, paid on the oracle price: 1 BTC x 50,000 x
    0.00625% = 3.125 USDC. Bundled (no impact notional): no sample, replayed ones work."""
    p = with_funding("hyperliquid", impact_notionals={"BTC": 10_000_000_000})
    v = Venue(p, "BTC")
    v.run(OraclePrice(1, v.sym, v.px("50000")), v.trade(2, "1", "50000"), v.book(3, "50050", "50060", "1"))
    v.run(FundingSample(5_000, v.sym), FundingSample(10_000, v.sym))
    pays, rate = v.settle(H)
    assert rate.rate == 6_250 and pays == {"a": -v.money("3.125"), "b": v.money("3.125")}
    b = Venue("hyperliquid", "BTC")
    b.run(OraclePrice(1, b.sym, b.px("50000")), b.trade(2, "1", "50000"), b.book(3, "50050", "50060", "1"))
    assert b.run(FundingSample(5_000, b.sym)) == []
    b.run(FundingSample(5_000, b.sym, 100_000))
    pays, rate = b.settle(H)
    assert rate.rate == 6_250 and pays == {"a": -b.money("3.125"), "b": b.money("3.125")}


@pytest.mark.rule("ENG-FUND-01", "ENG-FND-01", "ENG-FSM-01")
@pytest.mark.parametrize("name", bundled_names())
def test_every_profile_settles_zero_sum_with_computed_inputs(name: str) -> None:
    """Every bundled profile: prices, a book, samples without premium, a settlement without a
    rate -> accepted (zero-sum, checked in ``settle``) or rejected with ENG-FND-01 only (no sample
    could be taken); a replayed rate always settles."""
    v = Venue(name)
    big = "1000000" if v.profile.markets[v.sym].contract.value == "inverse" else "100"
    v.run(
        IndexPrice(1, v.sym, v.px("50000")),
        OraclePrice(1, v.sym, v.px("50000")),
        v.trade(2, "1", "50000"),
        v.book(3, "50050", "50060", big),
        FundingSample(60_000, v.sym),
    )
    ex, outs = step(v.ex, FundingSettlement(H, v.sym))
    if any(isinstance(o, Reject) for o in outs):
        assert [o.rule_id for o in outs] == ["ENG-FND-01"] and v.ex.markets[v.sym].funding.samples == ()
    else:
        assert invariant_violations(ex) == []
    v.settle(2 * H, 10_000)


# --------------------------------------------------------------------------- marks


@pytest.mark.rule("ENG-MRK-01", "PRC-MRK-01", "EVT-OUT-01")
def test_binance_median_of_three_and_published_precedence() -> None:
    """Index 50,000; last funding 0.03% (settled at 8 h); at 12 h, 4 h of the 8 h interval remain:
    Price1 = 50,000 x (1 + 0.03% x 4/8) = 50,007.5 (BIN-MP-01's 0.015% basis). Book 50,100 /
    50,120 -> basis 110 -> Price2 = 50,110. Last trade 50,020 -> mark = median(50,007.5, 50,110,
    50,020) = 50,020. A trade at 50,200 moves it to median(50,007.5, 50,110, 50,200) = 50,110.
    A published mark then takes precedence for good."""
    v = Venue("binance-usdm")
    v.run(IndexPrice(1, v.sym, v.px("50000")), v.trade(2, "1", "50000"))
    v.settle(8 * H, 30_000)
    v.run(v.trade(12 * H - 1, "0.001", "50020"), v.book(12 * H, "50100", "50120", "1"))
    assert v.ex.markets[v.sym].mark == v.px("50020")
    outs = v.run(IndexPrice(12 * H, v.sym, v.px("50000")))
    assert outs == [PriceOut(12 * H, v.sym, v.px("50000"), v.px("50020"), None, "model")]
    v.run(v.trade(12 * H, "0.001", "50200"))
    assert v.ex.markets[v.sym].mark == v.px("50110")
    outs = v.run(MarkPrice(12 * H + 1, v.sym, v.px("49000")))
    assert outs == [PriceOut(12 * H + 1, v.sym, v.px("50000"), v.px("49000"), None, "published")]
    v.run(v.trade(12 * H + 2, "0.001", "50300"), v.book(12 * H + 3, "50200", "50220", "1"))
    v.run(IndexPrice(12 * H + 4, v.sym, v.px("50100")))
    assert (v.ex.markets[v.sym].mark, v.ex.markets[v.sym].mark_source) == (v.px("49000"), "published")


@pytest.mark.rule("ENG-MRK-01", "PRC-MRK-01", "PRC-EMA-01")
def test_basis_is_sampled_once_per_interval() -> None:
    """binance-usdm samples the basis every 1 s: a second book within the same second does not
    enter the average; one a second later does (basis 110 and 30 -> MA 70)."""
    v = Venue("binance-usdm")
    v.run(IndexPrice(1_000, v.sym, v.px("50000")), v.book(1_000, "50100", "50120", "1"))
    v.run(v.book(1_500, "50010", "50050", "1"))
    st = v.ex.markets[v.sym].mark_state
    assert st.basis.samples == (2 * 11_000,) and v.ex.markets[v.sym].mark_sampled_at == 1_000
    v.run(v.book(2_000, "50010", "50050", "1"))
    assert v.ex.markets[v.sym].mark_state.basis.samples == (2 * 11_000, 2 * 3_000)
    assert v.ex.markets[v.sym].mark is None  # no trade yet: no last price, no mark


@pytest.mark.rule("ENG-MRK-01", "PRC-MRK-03", "PRC-MRK-04")
def test_oracle_based_marks() -> None:
    """dYdX: the mark is the oracle. Hyperliquid: components oracle + EMA(mid - oracle) =
    50,000 + 55 and median(bid 50,050, ask 50,060, last 50,000) = 50,050; with two components
    the 30 s mid EMA (50,055) is added: median(50,055, 50,050, 50,055) = 50,055."""
    d = Venue("dydx-v4")
    outs = d.run(OraclePrice(1, d.sym, d.px("50000")))
    assert outs == [PriceOut(1, d.sym, None, d.px("50000"), d.px("50000"), "model")]
    h = Venue("hyperliquid", "BTC")
    h.run(OraclePrice(1_000, h.sym, h.px("50000")), h.trade(1_000, "1", "50000"))
    assert h.ex.markets[h.sym].mark is None  # no book yet: only component 2 needs it; none available
    h.run(h.book(2_000, "50050", "50060", "1"))
    assert h.ex.markets[h.sym].mark == h.px("50055")


@pytest.mark.rule("ENG-IDX-01", "PRC-IDX-02", "PRC-IDX-03", "EVT-FMT-01")
def test_index_from_sources() -> None:
    """Sources 50,000 (w 1), 50,010 (w 1), 50,020 (w 2), 60,000 (outlier > 5% from the median)
    and 49,000 (stale: 11 s old > 10 s): index = (50,000 + 50,010 + 2 x 50,020) / 4 = 50,012.5.
    Every source stale -> no index -> ENG-IDX-01; a source updated after the event too."""
    v = Venue("binance-usdm")
    t = 100_000
    src = (
        (v.px("50000"), 1, t),
        (v.px("50010"), 1, t - 10_000),  # exactly 10 s old: still fresh
        (v.px("50020"), 2, t),
        (v.px("60000"), 1, t),
        (v.px("49000"), 1, t - 11_000),
    )
    outs = v.run(IndexPrice(t, v.sym, sources=src))
    assert outs[0].index == v.px("50012.5") and v.ex.markets[v.sym].index == v.px("50012.5")
    stale = tuple((p, w, 0) for p, w, _ in src)
    rejected(v.ex, IndexPrice(t, v.sym, sources=stale), "ENG-IDX-01")
    rejected(v.ex, IndexPrice(t, v.sym, sources=((v.px("1"), 1, t + 1),)), "ENG-IDX-01")
    line = (
        b'{"v":1,"kind":"index_price","t":100000,"symbol":"BTCUSDT",'
        b'"sources":[{"price":"50000","weight":"1","updated_at":100000}]}'
    )
    ev = decode_line(line, v.profile)
    assert ev == IndexPrice(t, "BTCUSDT", sources=((v.px("50000"), 100_000_000, t),))
    assert decode_line(encode_event(ev, v.profile), v.profile) == ev


# --------------------------------------------------------------------------- regression


@pytest.mark.rule("ENG-PRC-01", "ENG-IMR-01", "ENG-WDR-01")
def test_flat_position_with_settings_in_an_unpriced_market() -> None:
    """Found by a randomized differential run: set_leverage on ETHUSDT (no price yet) left a flat
    position with settings; a later risk-increasing BTCUSDT fill raised ``KeyError: no mark price
    for ETHUSDT``. A flat position needs no price; a non-flat one without any price is rejected
    with ENG-PRC-01."""
    v = Venue("binance-usdm")
    v.run(SetLeverage(1, "a", "ETHUSDT", 10), MarkPrice(2, v.sym, v.px("50000")))
    v.run(v.trade(3, "1", "50000"), Withdraw(4, "a", v.money("1")))
    assert v.ex.accounts["a"].positions[(v.sym, "BOTH")].size == v.sz("1")
    # a non-flat position in a market without a price (only constructible by hand)
    acct = v.ex.accounts["a"]
    positions = dict(acct.positions)
    positions[("ETHUSDT", "BOTH")] = Position(0, 0, 10)
    bad = attrs.evolve(acct, positions={**positions, ("ETHUSDT", "BOTH"): Position(v.sz("1"), 0, 10)})
    ex = attrs.evolve(v.ex, accounts=v.ex.accounts.set("a", bad), holders=None)
    rejected(ex, v.trade(5, "1", "50000"), "ENG-PRC-01")
    rejected(ex, Withdraw(5, "a", v.money("1")), "ENG-PRC-01")
