"""Binance brackets: published maintenance amounts, bracket lookup, IM, table validation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from perpspec.margin import PositionRisk
from perpspec.margin.brackets import BinanceBrackets, Bracket, next_cum
from perpspec.profiles import load_profile, parameter_problems
from perpspec.units import RATE_ONE, parse_units

USDT = 8  # binance-usdm money decimals
BTC = 8  # binance-coinm money decimals


def usdt(x: str) -> int:
    return parse_units(x, USDT)


def rate(x: str) -> int:
    return parse_units(x, 8)


def model(profile: str, market: str) -> BinanceBrackets:
    m = load_profile(profile).market(market).margin
    assert isinstance(m, BinanceBrackets)
    return m


def tier_of(m: BinanceBrackets, n: int) -> int:
    return max(k for k, t in enumerate(m.maintenance_tiers()) if t.lower <= n)


@pytest.mark.rule("MRG-BRK-01", "MRG-BRK-02")
def test_bin_mm_01_2021_table_lookup() -> None:
    """BIN-MM-01 (Binance FAQ b3c689c1…, 2021 BTCUSDT table via gist highfestiva): a 264,000 USDT
    position is in the 1% bracket; the 500,000 bracket's maintenance amount is 1,300 USDT."""
    m = model("binance-usdm", "BTCUSDT-2021")
    tiers = m.maintenance_tiers()
    assert tiers[tier_of(m, usdt("264000"))].rate == Fraction(1, 100)
    assert tiers[tier_of(m, usdt("500000"))].deduction == usdt("1300")
    # MM(264,000) = 264,000 * 1% - 1,300 = 1,340 USDT exactly
    assert m.maintenance(PositionRisk(size=0, notional=usdt("264000"))) == usdt("1340")
    # MM(500,000) = 5,000 - 1,300 = 3,700
    assert m.maintenance(PositionRisk(size=0, notional=usdt("500000"))) == usdt("3700")


@pytest.mark.rule("MRG-BRK-02")
def test_bin_mm_01_cum_recurrence_steps() -> None:
    """BIN-MM-01 (Binance FAQ b3c689c1… and its 2020 copy, Qenv logic/binance.md):
    250,000 × (1% − 0.5%) + 50 = 1,300; 5,000,000 × (5% − 2.5%) + 16,300 = 141,300."""
    assert next_cum(usdt("250000"), rate("0.005"), rate("0.01"), usdt("50")) == usdt("1300") * RATE_ONE
    assert next_cum(usdt("5000000"), rate("0.025"), rate("0.05"), usdt("16300")) == usdt("141300") * RATE_ONE


@pytest.mark.rule("MRG-BRK-02")
def test_bin_mm_01_oct_2024_cums() -> None:
    """BIN-MM-01 (freqtrade binance_leverage_tiers.json @ 3d9514d): the Oct-2024 BTCUSDT cums follow
    the recurrence: 0, 50, 950, 11,450, …, 421,481,450."""
    m = model("binance-usdm", "BTCUSDT")
    want = [0, 50, 950, 11450, 131450, 481450, 2981450, 14481450, 26481450, 41481450, 121481450, 421481450]
    assert [c // (RATE_ONE * 10**USDT) for c in m.cums_scaled()] == want
    assert all(c % (RATE_ONE * 10**USDT) == 0 for c in m.cums_scaled())
    assert [t.deduction for t in m.maintenance_tiers()] == [usdt(str(w)) for w in want]


@pytest.mark.rule("MRG-BRK-02")
def test_eth_2021_cums() -> None:
    """ETHUSDT 2021 table (gist crackcomm, cex-venues §1.1): cums 0, 15, 365, 5,365, … 2,510,365."""
    m = model("binance-usdm", "ETHUSDT")
    want = [0, 15, 365, 5365, 35365, 135365, 260365, 510365, 2510365]
    assert [t.deduction for t in m.maintenance_tiers()] == [usdt(str(w)) for w in want]


@pytest.mark.rule("MRG-BRK-01")
def test_bin_cm_01_inverse_mm() -> None:
    """BIN-CM-01 (Binance COIN-M FAQ ceccfcfb…): 100 BTCUSD contracts of 100 USD at mark 25,000:
    notional 0.4 BTC, MM = 0.4 × 0.4% − 0 = 0.0016 BTC."""
    p = load_profile("binance-coinm")
    m = p.market("BTCUSD").margin
    cv = p.market("BTCUSD").contract_value
    notional = 100 * cv * 10**BTC // 25000  # exact: 0.4 BTC in satoshi
    assert notional == parse_units("0.4", BTC)
    assert m.maintenance(PositionRisk(size=100, notional=notional)) == parse_units("0.0016", BTC)


@pytest.mark.rule("MRG-BRK-02")
def test_bin_cm_01_cum_recurrence_and_newer_bracket() -> None:
    """BIN-CM-01 (Binance COIN-M FAQ ceccfcfb…): older table 50 × (5% − 2.5%) + 0.56 = 1.81 BTC;
    newer revision: a 300 BTC position is in the 12.5% bracket with maintenance amount 11.605 BTC."""
    assert next_cum(parse_units("50", BTC), rate("0.025"), rate("0.05"), parse_units("0.56", BTC)) == (
        parse_units("1.81", BTC) * RATE_ONE
    )
    m = model("binance-coinm", "BTCUSD")
    t = m.maintenance_tiers()[tier_of(m, parse_units("300", BTC))]
    assert t.rate == Fraction(125, 1000)
    assert t.deduction == parse_units("11.605", BTC)
    # the older 11.81 BTC figure is superseded (cex-venues §1.3): not what the profile uses
    assert t.deduction != parse_units("11.81", BTC)


@pytest.mark.rule("MRG-BRK-03")
def test_initial_margin_capped_by_bracket_leverage() -> None:
    """Hand-computed (Oct-2024 table): 100,000 USDT is in the 100x bracket, so 125x is capped:
    IM = 100,000 / 100 = 1,000; at 20x IM = 5,000; without a setting the bracket's 100x."""
    m = model("binance-usdm", "BTCUSDT")
    n = usdt("100000")
    assert m.initial(PositionRisk(size=0, notional=n, leverage=125)) == usdt("1000")
    assert m.initial(PositionRisk(size=0, notional=n, leverage=20)) == usdt("5000")
    assert m.initial(PositionRisk(size=0, notional=n)) == usdt("1000")
    # IM rounds up to the money unit: 1 unit at 3x -> 1
    assert m.initial(PositionRisk(size=0, notional=1, leverage=3)) == 1


def _bk(floor: str, mmr: str, lev: int, cum: str | None = None) -> Bracket:
    return Bracket(usdt(floor), rate(mmr), lev, None if cum is None else usdt(cum))


@pytest.mark.rule("MRG-BRK-02")
def test_check_rejects_bad_tables() -> None:
    """Validation: a published cum off the recurrence, non-monotone floors, negative or
    decreasing rates, and a max leverage whose 1/L is below the MMR are errors, each naming its row."""
    good = BinanceBrackets((_bk("0", "0.004", 125, "0"), _bk("50000", "0.005", 100, "50")))
    assert parameter_problems(good) == []
    bad_cum = BinanceBrackets((_bk("0", "0.004", 125), _bk("50000", "0.005", 100, "51")))
    assert [p for p, _ in parameter_problems(bad_cum)] == ["brackets[1].cum"]
    assert "recurrence" in parameter_problems(bad_cum)[0][1]
    floors = BinanceBrackets((_bk("0", "0.004", 125), _bk("50000", "0.005", 100), _bk("40000", "0.01", 50)))
    assert "brackets[2].floor" in [p for p, _ in parameter_problems(floors)]
    neg = BinanceBrackets((_bk("0", "-0.004", 125),))
    assert [p for p, _ in parameter_problems(neg)] == ["brackets[0].mmr"]
    dec = BinanceBrackets((_bk("0", "0.01", 50), _bk("50000", "0.005", 50)))
    assert [p for p, _ in parameter_problems(dec)] == ["brackets[1].mmr"]
    im_lt_mm = BinanceBrackets((_bk("0", "0.02", 100),))
    assert [p for p, _ in parameter_problems(im_lt_mm)] == ["brackets[0].max_leverage"]
    start = BinanceBrackets((_bk("10", "0.01", 50),))
    assert [p for p, _ in parameter_problems(start)] == ["brackets[0].floor"]
