"""The account-level API: liquidation_price / bankruptcy_price over Account + Profile.

Published cases re-run through accounts in integer units (shared/reference/cex-venues.md
sec 9: BIN-LP-01, BYB-LP-01, BYB-LP-02, HL-LP-01; defi-engines.md sec 6 case 8), the tier
fixed point, "no liquidation price", and the bundled profiles' [liquidation] sections.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs
import pytest
from perpspec.account import Account
from perpspec.liquidation.price import bankruptcy_price, liquidation_price
from perpspec.liquidation.variants import (
    BinanceClosedForm,
    BybitClosedForm,
    DydxBankruptcy,
    HyperliquidClosedForm,
)
from perpspec.margin import LinearTier, MarginModel, PositionRisk
from perpspec.numeric import Rounding, div_ceil
from perpspec.position import Position
from perpspec.profile import ContractKind, MarketSpec, Meta, Profile, Scales
from perpspec.profiles import bundled_names, load_profile
from perpspec.quantities import Price, Rate, Size
from perpspec.units import parse_units

D = Fraction


@attrs.frozen
class TierMargin(MarginModel):
    """Test margin model: ``MM = ceil(N·rate - cum)`` in the tier holding ``N`` (money units)."""

    tiers: tuple[LinearTier, ...]

    def maintenance_tiers(self) -> tuple[LinearTier, ...]:
        return self.tiers

    def _tier(self, n: int) -> LinearTier:
        for t in self.tiers:
            if t.lower <= n and (t.upper is None or n < t.upper):
                return t
        return self.tiers[-1]

    def maintenance(self, pos: PositionRisk) -> int:
        t = self._tier(pos.notional)
        x = pos.notional * t.rate - t.deduction
        return int(div_ceil(x.numerator, x.denominator))

    def initial(self, pos: PositionRisk) -> int:
        return int(div_ceil(pos.notional, pos.leverage or 1))


def one_tier(rate: str, cum: str, money_dec: int) -> TierMargin:
    return TierMargin((LinearTier(0, None, D(rate), D(parse_units(cum, money_dec))),))


def profile_of(scales: Scales, markets: dict[str, MarketSpec], liq: Any) -> Profile:
    return Profile(Meta("test", "test", "USDT"), scales, markets, {"liquidation": liq}, "test")


def linear(tick: str, margin: Any, scales: Scales) -> MarketSpec:
    return MarketSpec(ContractKind.LINEAR, Price(parse_units(tick, scales.price_decimals)), Size(1), margin)


USDM = Scales(price_decimals=2, size_decimals=3, money_decimals=8)


def units(text: str, dec: int) -> int:
    return parse_units(text, dec)


def bin01_account(btc_margin: Any) -> tuple[Account, dict[str, int], Profile]:
    s = USDM
    eth = one_tier("0.10", "135365", 8)
    prof = profile_of(
        s, {"BTCUSDT": linear("0.01", btc_margin, s), "ETHUSDT": linear("0.01", eth, s)}, BinanceClosedForm()
    )
    btc_q, eth_q = units("109.488", 3), units("3683.979", 3)
    acct = Account(
        "bin-lp-01",
        collateral=units("1535443.01", 8),
        positions={
            ("BTCUSDT", "BOTH"): Position(btc_q, btc_q * units("32481.98", 2)),
            ("ETHUSDT", "BOTH"): Position(eth_q, eth_q * units("1456.84", 2)),
        },
    )
    marks = {"BTCUSDT": units("31967.27", 2), "ETHUSDT": units("1335.18", 2)}
    return acct, marks, prof


#: A bracket table in the style of Binance's 2021 BTCUSDT brackets (cum by the recurrence).
BRACKETS = TierMargin(
    tuple(
        LinearTier(units(lo, 8), None if hi is None else units(hi, 8), D(r), D(units(c, 8)))
        for lo, hi, r, c in (
            ("0", "50000", "0.004", "0"),
            ("50000", "250000", "0.005", "50"),
            ("250000", "1000000", "0.01", "1300"),
            ("1000000", "10000000", "0.025", "16300"),
            ("10000000", None, "0.05", "266300"),
        )
    )
)


@pytest.mark.rule("LIQ-GEN-01", "LIQ-BIN-01", "LIQ-TIER-01", "LIQ-RND-01")
def test_bin_lp_01_through_accounts_with_tier_fixed_point() -> None:
    """BIN-LP-01 (Binance FAQ via freqtrade c9ae5e1) from an account snapshot: the bracket table's
    fixed point picks the 1M-10M bracket (index 3: 2.5% / 16,300; notional at LP 2,881,384), the
    exact LP is 26,316.893265..., published 26,316.89 (half-up to the 0.01 tick)."""
    acct, marks, prof = bin01_account(BRACKETS)
    res = liquidation_price(acct, "BTCUSDT", "BOTH", marks, prof)
    assert res.tier == 3
    assert res.exact is not None and abs(res.exact - D("26316.893265")) < D(1, 10**6)
    assert res.rounded == 2631689
    assert {"LIQ-BIN-01", "LIQ-TIER-01", "LIQ-RND-01"} <= set(res.rules)
    single = liquidation_price(
        acct, "BTCUSDT", "BOTH", marks, bin01_account(one_tier("0.025", "16300", 8))[2]
    )
    assert single.exact == res.exact


@pytest.mark.rule("LIQ-TIER-01")
def test_tier_fixed_point_differs_from_entry_tier() -> None:
    """The tier is chosen at the LP, not at entry: a 100 BTC long @ 3,000 (300,000 notional, tier 2
    at entry) with 60,000 collateral liquidates at 2,411.557788 (notional 241,156 < 250,000), so
    the fixed point selects tier 1 (0.5% / 50); tier 2 would give 2,411.11, inconsistent."""
    s = USDM
    prof = profile_of(s, {"BTCUSDT": linear("0.01", BRACKETS, s)}, BinanceClosedForm())
    q = units("100", 3)
    acct = Account(
        "t", collateral=units("60000", 8), positions={("BTCUSDT", "BOTH"): Position(q, q * units("3000", 2))}
    )
    res = liquidation_price(acct, "BTCUSDT", "BOTH", {"BTCUSDT": units("3000", 2)}, prof)
    assert res.exact is not None and res.tier == 1
    # self-consistency: the LP solves equity == MM with tier 1's rate and cum
    lp = res.exact
    assert 60000 + 100 * (lp - 3000) == 100 * lp * D("0.005") - 50
    assert D(50000) <= 100 * lp < D(250000)


@pytest.mark.rule("LIQ-NONE-01", "LIQ-BIN-01")
def test_no_liquidation_price() -> None:
    """LIQ-NONE-01: a 1x long (margin covers a fall to zero) has no LP; offsetting hedge legs with
    equal size and zero MM rate make equity - MM independent of the price."""
    s = USDM
    prof = profile_of(s, {"BTCUSDT": linear("0.01", one_tier("0.004", "0", 8), s)}, BinanceClosedForm())
    q = units("1", 3)
    acct = Account(
        "t", collateral=units("40000", 8), positions={("BTCUSDT", "BOTH"): Position(q, q * units("30000", 2))}
    )
    res = liquidation_price(acct, "BTCUSDT", "BOTH", {"BTCUSDT": units("30000", 2)}, prof)
    assert res.exact is None and res.rounded is None and "LIQ-NONE-01" in res.rules
    zero = profile_of(s, {"BTCUSDT": linear("0.01", one_tier("0", "0", 8), s)}, BinanceClosedForm())
    hedge = Account(
        "h",
        collateral=units("100", 8),
        hedge_mode=True,
        positions={
            ("BTCUSDT", "LONG"): Position(q, q * units("30000", 2)),
            ("BTCUSDT", "SHORT"): Position(-q, -q * units("30000", 2)),
        },
    )
    res2 = liquidation_price(hedge, "BTCUSDT", "LONG", {"BTCUSDT": units("30000", 2)}, zero)
    assert res2.exact is None and "offsetting" in res2.note


@pytest.mark.rule("LIQ-BYB-01", "LIQ-BYB-02", "LIQ-RND-01")
def test_byb_lp_01_through_accounts() -> None:
    """BYB-LP-01 (Bybit "Liquidation Price (USDT Contract)"): isolated 50x, margin 400 (+ extra):
    19,700 / 23,300 / 19,900 on the 0.01 tick; BP of the 400-margin long 19,600 = 20,000·(1 - 1/50)."""
    s = USDM
    prof = profile_of(s, {"BTCUSDT": linear("0.01", one_tier("0.005", "0", 8), s)}, BybitClosedForm())
    q = units("1", 3)
    ev = q * units("20000", 2)
    # long 400 margin; short 400 + 3,000 extra; long after 200 of funding taken from its 400
    cases = [(q, ev, "400", 1970000), (-q, -ev, "3400", 2330000), (q, ev, "200", 1990000)]
    for size, entry, margin, want in cases:
        pos = Position(size, entry, leverage=50, isolated=True, isolated_margin=units(margin, 8))
        acct = Account("b", positions={("BTCUSDT", "BOTH"): pos})
        res = liquidation_price(acct, "BTCUSDT", "BOTH", {"BTCUSDT": units("20000", 2)}, prof)
        assert res.rounded == want and res.exact == D(want, 100), (margin, res)
    pos = Position(q, ev, leverage=50, isolated=True, isolated_margin=units("400", 8))
    bp = bankruptcy_price(Account("b", positions={("BTCUSDT", "BOTH"): pos}), "BTCUSDT", "BOTH", {}, prof)
    assert bp.exact == 19600 and "LIQ-BYB-02" in bp.rules


@pytest.mark.rule("LIQ-BYB-04", "LIQ-RND-01")
def test_byb_lp_02_through_accounts() -> None:
    """BYB-LP-02 (help.bybit.com 360039261334) on the bybit-inverse scales (price 1 dp, tick 0.5):
    balance 0.5 BTC, long 10,000 contracts of 1 USD @ 8,000. LP 5,739.083528 -> 5,739.5 (ceil to
    the 0.5 tick), the published figure. BP exact 5,718.571429; the doc displays it at 2 dp
    (5,718.57); on the 0.5 tick the profile's ceil gives 5,719.0."""
    s = Scales(price_decimals=1, size_decimals=0, money_decimals=8)
    market = MarketSpec(ContractKind.INVERSE, Price(5), Size(1), one_tier("0.005", "0", 8), contract_value=1)
    prof = profile_of(s, {"BTCUSD": market}, BybitClosedForm(taker_fee=Rate(75000)))
    ev = units("1.25", 8)  # 10,000 contracts / 8,000 = 1.25 BTC
    acct = Account("i", collateral=units("0.5", 8), positions={("BTCUSD", "BOTH"): Position(10000, ev)})
    marks = {"BTCUSD": 80000}
    lp = liquidation_price(acct, "BTCUSD", "BOTH", marks, prof)
    assert lp.exact is not None and abs(lp.exact - D("5739.083528")) < D(1, 10**6)
    assert lp.rounded == 57395
    bp = bankruptcy_price(acct, "BTCUSD", "BOTH", marks, prof)
    assert bp.exact == D("1.00075") * 10000 / D("1.75") and bp.rounded == 57190


@pytest.mark.rule("LIQ-HL-01", "LIQ-TIER-01", "LIQ-RND-01")
def test_hl_lp_01_through_accounts() -> None:
    """HL-LP-01 (Hyperliquid docs trading/liquidations): isolated 1 BTC @ 100,000 with 10,000
    margin, l = 1/80: long 91,139.240506 -> 91,139.240507 (ceil, 6 dp), short 108,641.975309 ->
    108,641.975308 (floor); with a second tier above 150M notional the fixed point keeps tier 0."""
    s = Scales(price_decimals=6, size_decimals=5, money_decimals=6)
    tiers = TierMargin(
        (
            LinearTier(0, 150_000_000 * 10**6, D(1, 80), D(0)),
            LinearTier(150_000_000 * 10**6, None, D(1, 40), D(1_875_000 * 10**6)),
        )
    )
    prof = profile_of(s, {"BTC": linear("0.000001", tiers, s)}, HyperliquidClosedForm())
    q = units("1", 5)
    for sign, exact, rounded in ((1, D(7_200_000, 79), 91139240507), (-1, D(8_800_000, 81), 108641975308)):
        pos = Position(
            sign * q,
            sign * q * units("100000", 6),
            leverage=10,
            isolated=True,
            isolated_margin=units("10000", 6),
        )
        acct = Account("h", positions={("BTC", "BOTH"): pos})
        res = liquidation_price(acct, "BTC", "BOTH", {"BTC": units("100000", 6)}, prof)
        assert res.exact == exact and res.rounded == rounded and res.tier == 0


@pytest.mark.rule("LIQ-DYDX-01", "LIQ-GEN-01")
def test_dydx_case_8_through_accounts() -> None:
    """dYdX case 8 (TestGetBankruptcyPriceInQuoteQuantums) from an account: 0.1 BTC long at $50,000
    (oracle), USDC -4,501 (collateral 499 after the entry value), MMR 10%: full-close BP
    4,501,000,000 qq, i.e. 45,010 per BTC."""
    s = Scales(price_decimals=6, size_decimals=9, money_decimals=6)
    prof = profile_of(s, {"BTC-USD": linear("1", one_tier("0.10", "0", 6), s)}, DydxBankruptcy())
    q = units("0.1", 9)
    pos = Position(q, q * units("50000", 6))
    acct = Account("d", collateral=units("499", 6), positions={("BTC-USD", "BOTH"): pos})
    marks = {"BTC-USD": units("50000", 6)}
    bp = bankruptcy_price(acct, "BTC-USD", "BOTH", marks, prof)
    assert bp.exact == 45010 and "bankruptcy quote 4501000000 qq" in bp.note
    lp = liquidation_price(acct, "BTC-USD", "BOTH", marks, prof)
    # equity 499 + 0.1(P - 50,000) == 0.01 P  ->  P = 4,501/0.09
    assert lp.exact == D(4501 * 100, 9)


@pytest.mark.rule("LIQ-RND-01")
def test_bundled_profiles_name_a_liquidation_variant() -> None:
    """Every bundled profile selects a [liquidation] variant with a named rounding per side."""
    for name in bundled_names():
        v = load_profile(name).mechanism("liquidation")
        assert v is not None, name
        for f in ("lp_long", "lp_short", "bp_long", "bp_short"):
            assert isinstance(getattr(v, f), Rounding)
    assert load_profile("bybit-inverse").mechanism("liquidation").lp_long is Rounding.CEIL
    assert load_profile("binance-usdm").mechanism("liquidation").lp_long is Rounding.HALF_UP


@pytest.mark.rule("LIQ-BP-01", "LIQ-ORD-01")
def test_generic_bankruptcy_price_zero_equity() -> None:
    """LIQ-BP-01: the cross BP of BIN-LP-01's BTC long is where the account's equity is zero with
    the ETH uPnL held at its mark: 32,481.98 - (1,535,443.01 - 448,192.88514)/109.488; it lies
    below the LP (LIQ-ORD-01)."""
    acct, marks, prof = bin01_account(BRACKETS)
    bp = bankruptcy_price(acct, "BTCUSDT", "BOTH", marks, prof)
    lp = liquidation_price(acct, "BTCUSDT", "BOTH", marks, prof)
    want = D("32481.98") - (D("1535443.01") - D("448192.88514")) / D("109.488")
    assert bp.exact == want and bp.rounded is not None
    assert bp.exact is not None and lp.exact is not None and bp.exact < lp.exact < D("32481.98")


@pytest.mark.rule("LIQ-RND-01")
def test_binance_profile_publishes_lp_on_the_two_decimal_grid() -> None:
    """binance-usdm names price_step 0.01 (BIN-LP-01 is published as 26,316.89 on a 0.10-tick
    market); a non-positive step is refused at load time with the file, line and key."""
    from perpspec.errors import InputError
    from perpspec.profiles import load_profile, load_profile_files

    prof = load_profile("binance-usdm")
    assert prof.mechanism("liquidation").price_step == 1
    assert prof.market("BTCUSDT").tick == 10
    import importlib.resources as res

    folder = res.files("perpspec.profiles") / "binance-usdm"
    files = [(p.name, p.read_text("utf-8")) for p in folder.iterdir() if p.name.endswith(".toml")]
    files = [
        (n, t.replace('price_step = "0.01"', 'price_step = "0"')) if n == "liquidation.toml" else (n, t)
        for n, t in sorted(files)
    ]
    with pytest.raises(InputError) as err:
        load_profile_files(files)
    assert "liquidation.toml" in str(err.value) and "price_step" in str(err.value)
