"""CEX funding cases from shared/reference cex-venues.md §9 (exact value and published figure)."""

from __future__ import annotations

import pytest
from perpspec.funding import Contract, interest_clamp, notional, payment, premium_index, scale_interval
from perpspec.funding.deribit import DeribitDeadband
from perpspec.funding.hyperliquid import HyperliquidFunding
from perpspec.funding.kraken import KrakenFunding
from perpspec.funding.okx import OkxRollingMean
from perpspec.funding.premium_clamp import (
    CapBasis,
    PremiumInterestClamp,
    PremiumReference,
    Weighting,
    interest_from_rates,
)
from perpspec.profile import ContractKind
from perpspec.profiles import load_profile
from perpspec.units import format_units, parse_units


def r(text: str) -> int:
    """A decimal rate string as 10^-8 units."""
    return parse_units(text, 8)


BINANCE = PremiumInterestClamp(cap_basis=CapBasis.MMR, impact_margin=parse_units("200", 8))


@pytest.mark.rule("FND-CLP-01", "FND-INT-01", "FND-CAP-01")
@pytest.mark.parametrize(
    ("avg_p", "f_8h"),
    [("-0.04%", "0.01%"), ("0.02%", "0.01%"), ("0.06%", "0.01%"), ("0.10%", "0.05%"), ("-0.10%", "-0.05%")],
)
def test_bin_fr_01_clamp_and_interval(avg_p: str, f_8h: str) -> None:
    """BIN-FR-01: F_8h = avgP + clamp(I - avgP, +-0.05%) and F_4h = F_8h / 2.

    Source: Binance FAQ 360033525031 ("between -0.04% and 0.06% -> 0.01%"; /(8/N) since
    2025-09-18), https://www.binance.com/en/support/faq/360033525031.
    """
    assert BINANCE.rate_base(r(avg_p)) == r(f_8h)
    assert BINANCE.rate(r(avg_p), cap=r("0.3%"), interval_hours=8) == r(f_8h)
    assert BINANCE.rate(r(avg_p), cap=r("0.3%"), interval_hours=4) == r(f_8h) // 2
    assert scale_interval(r(f_8h), 4) * 2 == r(f_8h)


@pytest.mark.rule("FND-CLP-01")
def test_bin_fr_01_band_boundaries() -> None:
    """BIN-FR-01: F = I exactly on [-0.04%, +0.06%] and not outside (doc's own statement)."""
    i, b = r("0.01%"), r("0.05%")
    assert interest_clamp(r("-0.04%"), i, b) == i
    assert interest_clamp(r("0.06%"), i, b) == i
    assert interest_clamp(r("0.06%") + 1, i, b) == i + 1
    assert interest_clamp(r("-0.04%") - 1, i, b) == i - 1


@pytest.mark.rule("FND-IMN-01", "FND-CAP-01")
def test_bin_fr_02_imn_and_caps() -> None:
    """BIN-FR-02: IMN = 200 USDT / IMR at max leverage -> 25,000 (IMR 0.8%) and 4,000 (5%);
    cap = 0.75 x MMR -> 0.3% (MMR 0.4%) and 0.4875% (MMR 0.65%).

    Source: Binance FAQ 360033525031; live fundingInfo (secondary).
    """
    assert format_units(BINANCE.impact_notional(r("0.8%")), 8) == "25000"
    assert format_units(BINANCE.impact_notional(r("5%")), 8) == "4000"
    assert BINANCE.cap_for(mmr=r("0.4%")) == r("0.3%")
    assert BINANCE.cap_for(mmr=r("0.65%")) == r("0.4875%")
    # older rule 0.75 x (IMR - MMR) gives the same number when IMR = 2 MMR (ADAUSDT 75x)
    old = PremiumInterestClamp(cap_basis=CapBasis.IM_MINUS_MM)
    assert old.cap_for(mmr=r("0.65%"), imr=r("1.3%")) == r("0.4875%")


@pytest.mark.rule("FND-CAP-01")
def test_bin_fr_02_bundled_profile_caps() -> None:
    """BIN-FR-02 via the bundled binance-usdm profile: majors 0.75 MMR, other symbols 2%."""
    fund = load_profile("binance-usdm").mechanism("funding")
    assert fund.cap_for_symbol("BTCUSDT", mmr=r("0.4%")) == r("0.3%")
    assert fund.cap_for_symbol("XYZUSDT", mmr=r("0.4%")) == r("2%")
    assert format_units(fund.impact_notional(r("0.8%")), 8) == "25000"


@pytest.mark.rule("FND-INT-02")
def test_binance_interval_changes() -> None:
    """Binance interval rules: to 1 h after a capped settlement; back to 4 h after 16 calm cycles.

    Source: Binance FAQ 360033525031 (interval section, 2025-05-02 and 2026-01-02 changes).
    """
    fund = load_profile("binance-usdm").mechanism("funding")
    cap = r("0.3%")
    hours, streak = fund.next_interval(8, cap, cap, 0)
    assert (hours, streak) == (1, 0)
    for k in range(1, 16):
        hours, streak = fund.next_interval(hours, r("0.02%"), cap, streak)
        assert (hours, streak) == (1, k)
    hours, streak = fund.next_interval(hours, r("0.025%"), cap, streak)
    assert (hours, streak) == (4, 0)
    # a non-calm cycle resets the streak
    assert fund.next_interval(1, r("0.03%"), cap, 7) == (1, 0)


@pytest.mark.rule("FND-PRM-01", "FND-AVG-01")
def test_premium_and_linear_average() -> None:
    """Premium index against the index (current docs) and the mark (2020 FAQ); linear weights."""
    assert premium_index(10_100, 10_200, 10_000, 10_000) == r("1%")
    assert premium_index(9_800, 9_900, 10_000, 10_000) == -r("1%")
    assert premium_index(9_990, 10_010, 10_000, 10_000) == 0  # index inside the spread
    old = PremiumInterestClamp(premium_reference=PremiumReference.MARK)
    assert old.premium(10_100, 10_200, index=10_000, mark=10_050) == r("0.5%")
    # weights 1..3: (1*0 + 2*0 + 3*0.03%) / 6 = 0.015%
    assert BINANCE.average([0, 0, r("0.03%")]) == r("0.015%")
    assert PremiumInterestClamp(weighting=Weighting.UNIFORM).average([0, 0, r("0.03%")]) == r("0.01%")
    assert BINANCE.samples_per_interval() == 5_760
    assert PremiumInterestClamp(sample_seconds=60).samples_per_interval() == 480


XBT = Contract(ContractKind.INVERSE, size_decimals=0, price_decimals=1, money_decimals=8, contract_value=1)


@pytest.mark.rule("FND-IRT-01", "FND-PAY-01")
def test_bmx_fr_01_interest_only_payment() -> None:
    """BMX-FR-01: F = (1.00% - 0.25%)/3 = 0.25%; long 15,000 XBTUSD @ 750 = 20 XBT pays 0.05 XBT;
    PnL to 800 = 1.25 XBT; net 1.2 XBT. The example is interest-only (it uses I as F).

    Source: bitmex.com/app/perpetualContractsGuideExamples.
    """
    f = interest_from_rates(r("1%"), r("0.25%"), 3)
    assert f == r("0.25%")
    value = notional(XBT, 15_000, 7_500)
    assert format_units(value, 8) == "20"
    paid = payment(value, f)
    assert format_units(paid, 8) == "0.05"
    pnl = value - notional(XBT, 15_000, 8_000)
    assert format_units(pnl, 8) == "1.25"
    assert format_units(pnl - paid, 8) == "1.2"
    fund = load_profile("bitmex-xbtusd").mechanism("funding")
    assert fund.settle(XBT, [15_000, -15_000], 7_500, f).payments == (-5_000_000, 5_000_000)


@pytest.mark.rule("FND-CAP-01", "FND-IRT-01", "FND-IMN-01")
def test_bmx_fr_02_cap_daily_max_interest() -> None:
    """BMX-FR-02: cap 75% x (1% - 0.5%) = 0.375%; daily max 1.125% at 8 h, 4.5% at 2 h;
    I = (0.06% - 0.03%)/3 = 0.01%.

    Source: BitMEX guide (cap quoted by secondary);
    blog.bitmex.com/important-changes-to-bitcoin-usd-swap-funding.
    """
    fund = load_profile("bitmex-xbtusd").mechanism("funding")
    cap = fund.cap_for(mmr=r("0.5%"), imr=r("1%"))
    assert cap == r("0.375%")
    assert fund.daily_max(cap, 8) == r("1.125%")
    assert fund.daily_max(cap, 2) == r("4.5%")
    assert interest_from_rates(r("0.06%"), r("0.03%")) == r("0.01%")
    # no interval scaling on BitMEX: the cap is per interval
    assert fund.rate(r("1%"), cap=cap, interval_hours=2) == r("0.375%")
    assert fund.impact_notional(r("1%")) == parse_units("10", 8)  # 0.1 XBT / 1%


@pytest.mark.rule("FND-HL-01", "FND-PRM-01", "FND-CLP-01")
def test_hl_fr_01_hourly_reading() -> None:
    """HL-FR-01 (and defi case 23): premium 1%, F_8h = 0.95%, hourly F_8h/8 = 0.11875%, cap 4%/h.

    Reading pinned: the docs text says hourly = 1/8 of the 8-h rate; the docs' numerical example
    stops at 0.95% (omits /8). Source: Hyperliquid docs trading/funding.
    """
    fund = load_profile("hyperliquid").mechanism("funding")
    assert isinstance(fund, HyperliquidFunding)
    p = fund.premium(10_100, 10_200, 10_000)
    assert p == r("1%")
    assert fund.rate_8h(p) == r("0.95%")
    assert fund.hourly(p) == r("0.11875%")
    assert fund.hourly(p) != fund.rate_8h(p)  # the example's un-divided figure is not applied
    assert "/ 8" in fund.reading and "omits" in fund.reading
    assert fund.hourly(r("100%")) == r("4%")  # cap 4%/h
    # payment at the oracle price: 2 BTC at oracle 10,000 (6 price decimals, 5 size decimals)
    usdc = Contract(ContractKind.LINEAR, size_decimals=5, price_decimals=6, money_decimals=6)
    owed = fund.payment(notional(usdc, 200_000, 10_000_000_000), fund.hourly(p))
    assert format_units(owed, 6) == "23.75"


@pytest.mark.rule("FND-OKX-01")
def test_okx_fr_01_mean_and_cap() -> None:
    """OKX-FR-01: mean 0.5% on BTC -> 0.375%; no interest term; rolling last-N-hours window.

    Source: okx.com/help/360053909272; okx-to-optimize-funding-rate-calculation (2024-03-05).
    """
    fund = load_profile("okx-swap").mechanism("funding")
    assert isinstance(fund, OkxRollingMean)
    assert fund.cap_for("BTC") == r("0.375%")
    assert fund.cap_for("ETH") == r("0.75%")
    assert fund.cap_for("DOGE-USD") == r("3%")
    assert fund.cap_for("SOMETHING") == r("1.5%")
    samples = [r("0.5%")] * 480
    assert fund.rate(samples, fund.cap_for("BTC")) == r("0.375%")
    assert fund.rate(samples, fund.cap_for("ETH")) == r("0.5%")
    # rolling window: samples older than 480 minutes are ignored
    assert fund.rate([r("5%")] * 10 + [r("0.01%")] * 480, fund.cap_for("BTC")) == r("0.01%")
    assert fund.premium(10_010, 10_030, 10_000) == r("0.2%")


@pytest.mark.rule("FND-DRB-01", "FND-DRB-02")
@pytest.mark.parametrize(
    ("premium", "rate"), [("0.02%", "0"), ("0.10%", "0.075%"), ("-0.10%", "-0.075%"), ("1%", "0.5%")]
)
def test_drb_fr_01_dead_band(premium: str, rate: str) -> None:
    """DRB-FR-01: dead band +-0.025% and cap 0.5%: 0.02% -> 0; +-0.10% -> +-0.075%; 1% -> 0.5%.

    Source: support.deribit.com "Funding Specifications".
    """
    fund = load_profile("deribit").mechanism("funding")
    assert isinstance(fund, DeribitDeadband)
    assert fund.rate(r(premium)) == r(rate)


@pytest.mark.rule("FND-DRB-02", "FND-DRB-01")
def test_drb_fr_01_continuous_accrual() -> None:
    """DRB-FR-01 payment = F x size x dt/8h: 1 h at 0.075% on 80,000 USD accrues 7.5 USD."""
    fund = load_profile("deribit").mechanism("funding")
    n = parse_units("80000", 8)
    assert fund.premium(10_010_00, 10_000_00) == r("0.1%")
    assert format_units(fund.accrual(n, r("0.075%"), 3_600_000), 8) == "7.5"
    assert fund.accrual(n, r("0.075%"), 8 * 3_600_000) == fund.payment(n, r("0.075%"))


@pytest.mark.rule("FND-KRK-01", "FND-PAY-01")
def test_krk_fr_01_divisor_reading() -> None:
    """KRK-FR-01: index 7,000, perp 7,010: premium 0.142857%; /8 -> 0.017857%/h (pub 0.01785%),
    $17.857 (pub $17.85) and 0.002551 BTC (pub 0.00255) on 100,000 contracts; /24 -> 0.0000595.

    Reading pinned: /8, the only divisor that reproduces the page's figures; its text says /24.
    Source: support.kraken.com/hc/en-us/articles/360022835911.
    """
    fund = KrakenFunding()
    p = premium_index(7_010, 7_010, 7_000, 7_000)
    assert p == 142_857
    f = fund.hourly(7_010, 7_000)
    assert f == 17_857 and fund.hourly_from_premium(p) == f
    assert format_units(f, 8)[:9] == "0.0001785"
    usd = Contract(ContractKind.LINEAR, size_decimals=0, price_decimals=0, money_decimals=3)
    assert format_units(payment(notional(usd, 100_000, 1), f), 3) == "17.857"  # pub $17.85
    btc = Contract(ContractKind.INVERSE, size_decimals=0, price_decimals=0, money_decimals=8,
                   contract_value=1)
    paid_btc = format_units(payment(notional(btc, 100_000, 7_000), f), 8)
    assert paid_btc == "0.002551" and paid_btc[:7] == "0.00255"
    assert fund.settle(btc, [100_000, -100_000], 7_000, f).payments == (-255_100, 255_100)  # 0.002551
    text = KrakenFunding(hourly_divisor=24)
    assert text.hourly(7_010, 7_000) == 5_952  # 0.00005952 -> "0.0000595"
    # example 2: premium 7.142% -> capped at 0.25%/h under either reading
    assert fund.hourly_from_premium(r("7.142%")) == r("0.25%")
    assert text.hourly_from_premium(r("7.142%")) == r("0.25%")
