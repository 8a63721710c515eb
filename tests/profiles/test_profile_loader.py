"""Profile loading: every bundled profile loads; broken files give file:line:key errors, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from perpspec.cli import app
from perpspec.errors import InputError
from perpspec.profile import ContractKind
from perpspec.profiles import bundled_names, load_profile
from typer.testing import CliRunner

BUNDLED = [
    "binance-usdm",
    "binance-coinm",
    "bybit-linear",
    "bybit-inverse",
    "bitmex-xbtusd",
    "okx-swap",
    "hyperliquid",
    "dydx-v4",
    "drift-v2",
    "deribit",
]

SCALES = {
    "binance-usdm": (2, 3, 8),
    "binance-coinm": (1, 0, 8),
    "bybit-linear": (2, 3, 8),
    "bybit-inverse": (1, 0, 8),
    "bitmex-xbtusd": (1, 0, 8),
    "okx-swap": (2, 4, 8),
    "hyperliquid": (6, 5, 6),
    "dydx-v4": (6, 9, 6),
    "drift-v2": (6, 9, 6),
    "deribit": (2, 4, 8),
}

GOOD = """[profile]
name = "test"
title = "Test venue"
settlement = "USDT"

[scales]
price_decimals = 2
size_decimals = 3
money_decimals = 8

[markets.BTCUSDT]
contract = "linear"
tick = "0.1"
lot = "0.001"

[markets.BTCUSDT.margin]
model = "binance-brackets"
brackets = [
    { floor = "0", mmr = "0.4%", max_leverage = 125, cum = "0" },
    { floor = "50000", mmr = "0.5%", max_leverage = 100, cum = "50" },
    { floor = "250000", mmr = "1%", max_leverage = 50, cum = "1300" },
]
"""


def test_bundled_names() -> None:
    """The ten bundled profiles ship with perpspec."""
    assert set(BUNDLED) <= set(bundled_names())


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_profile_loads(name: str) -> None:
    """Each bundled profile loads, names itself, states its scales and sources, and every market has
    a margin model with no validation error; inverse markets carry a contract value."""
    p = load_profile(name)
    assert p.name == name
    assert (p.scales.price_decimals, p.scales.size_decimals, p.scales.money_decimals) == SCALES[name]
    assert p.meta.sources and all("http" in s for s in p.meta.sources)
    assert p.meta.readings
    assert p.markets
    for spec in p.markets.values():
        assert spec.margin.check() == []
        assert (spec.contract_value > 0) == (spec.contract is ContractKind.INVERSE)
        assert spec.tick > 0 and spec.lot > 0


def _load(tmp_path: Path, text: str) -> tuple[Path, InputError]:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_profile(path)
    return path, info.value


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_good_file_loads(tmp_path: Path) -> None:
    """The template used by the broken-file tests is itself valid."""
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    assert load_profile(path).market("BTCUSDT").margin.check() == []


BROKEN = [
    # (case, old, new, expected field, line needle, message fragment)
    ("syntax", 'lot = "0.001"', 'lot = "0.001', None, 'lot = "0.001', "TOML syntax error"),
    (
        "unknown key",
        'model = "binance-brackets"',
        'model = "binance-brackets"\nbogus = "1"',
        "markets.BTCUSDT.margin.bogus",
        "bogus",
        "unknown key",
    ),
    (
        "unknown market key",
        'tick = "0.1"',
        'tick = "0.1"\nticks = "0.1"',
        "markets.BTCUSDT.ticks",
        "ticks =",
        "unknown key",
    ),
    ("float", 'mmr = "1%"', "mmr = 0.01", "markets.BTCUSDT.margin.brackets[2].mmr", "mmr = 0.01", "float"),
    (
        "int for string",
        'title = "Test venue"',
        "title = 5",
        "profile.title",
        "title = 5",
        "expected a string",
    ),
    (
        "non-monotone brackets",
        'floor = "250000"',
        'floor = "40000"',
        "markets.BTCUSDT.margin.brackets[2].floor",
        'floor = "40000"',
        "strictly increasing",
    ),
    (
        "negative rate",
        'mmr = "0.4%"',
        'mmr = "-0.4%"',
        "markets.BTCUSDT.margin.brackets[0].mmr",
        "-0.4%",
        "negative",
    ),
    (
        "unknown model",
        'model = "binance-brackets"',
        'model = "binance-bracketz"',
        "markets.BTCUSDT.margin.model",
        "bracketz",
        "unknown margin model",
    ),
    (
        "published cum",
        'cum = "1300"',
        'cum = "1200"',
        "markets.BTCUSDT.margin.brackets[2].cum",
        'cum = "1200"',
        "recurrence",
    ),
]


@pytest.mark.rule("MRG-BRK-02")
@pytest.mark.parametrize(
    ("case", "old", "new", "field", "needle", "fragment"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_broken_profile_names_file_line_key(
    tmp_path: Path, case: str, old: str, new: str, field: str | None, needle: str, fragment: str
) -> None:
    """A broken profile is an InputError whose message names the file, the line of the offending key
    and the key path (TOML syntax errors: file and line)."""
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    path, err = _load(tmp_path, text)
    line = _line_of(text, needle)
    assert err.place.file == str(path)
    assert err.place.line == line
    assert f"{path}:{line}" in str(err)
    if field is not None:
        assert err.place.field == field
        assert f"'{field}'" in str(err)
    assert fragment in str(err)


def test_missing_file_and_unknown_section(tmp_path: Path) -> None:
    """A path that does not exist, and a section no mechanism registers, are InputErrors too."""
    with pytest.raises(InputError, match="no such profile"):
        load_profile(tmp_path / "nope.toml")
    _, err = _load(tmp_path, GOOD + '\n[marginn]\nmodel = "x"\n')
    assert "unknown section [marginn]" in str(err)
    assert err.place.line == _line_of(GOOD + '\n[marginn]\nmodel = "x"\n', "[marginn]")


@pytest.mark.parametrize("case", ["unknown model", "non-monotone brackets", "syntax"])
def test_cli_exits_2_without_traceback(tmp_path: Path, case: str) -> None:
    """`perpspec calc margin --profile BAD --account x.json` prints the file:line error and exits 2,
    never a traceback (the profile is loaded before the account file is read)."""
    _, old, new, *_ = next(b for b in BROKEN if b[0] == case)
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace(old, new, 1))
    result = CliRunner().invoke(app, ["calc", "margin", "--profile", str(bad), "--account", "x.json"])
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    assert f"{bad}:" in output.replace("\n", "")
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


MARKET_BROKEN = [
    # (case, old, new, expected field, line needle, message fragment)
    ("tick 0", 'tick = "0.1"', 'tick = "0"', "markets.BTCUSDT.tick", 'tick = "0"', "must be positive"),
    ("tick < 0", 'tick = "0.1"', 'tick = "-0.1"', "markets.BTCUSDT.tick", "-0.1", "must be positive"),
    ("lot 0", 'lot = "0.001"', 'lot = "0"', "markets.BTCUSDT.lot", 'lot = "0"', "must be positive"),
    ("lot < 0", 'lot = "0.001"', 'lot = "-0.001"', "markets.BTCUSDT.lot", "-0.001", "must be positive"),
    (
        "min_size < 0",
        'lot = "0.001"',
        'lot = "0.001"\nmin_size = "-0.002"',
        "markets.BTCUSDT.min_size",
        "min_size",
        "must not be negative",
    ),
    (
        "linear contract_value",
        'lot = "0.001"',
        'lot = "0.001"\ncontract_value = 100',
        "markets.BTCUSDT.contract_value",
        "contract_value",
        "a linear contract has contract_value 0",
    ),
    (
        "inverse contract_value 0",
        'contract = "linear"',
        'contract = "inverse"',
        "markets.BTCUSDT.contract_value",
        "[markets.BTCUSDT]",
        "an inverse contract needs a positive contract_value",
    ),
    (
        "inverse contract_value < 0",
        'contract = "linear"',
        'contract = "inverse"\ncontract_value = -1',
        "markets.BTCUSDT.contract_value",
        "contract_value",
        "an inverse contract needs a positive contract_value",
    ),
]


@pytest.mark.rule("UNT-MKT-01")
@pytest.mark.parametrize(
    ("case", "old", "new", "field", "needle", "fragment"), MARKET_BROKEN, ids=[b[0] for b in MARKET_BROKEN]
)
def test_market_grid_checked_at_load(
    tmp_path: Path, case: str, old: str, new: str, field: str, needle: str, fragment: str
) -> None:
    """Review finding: tick/lot 0 or negative, negative min_size and a contract value that does
    not fit the contract kind loaded and later crashed (ZeroDivisionError). They are input
    errors naming file, line and key (MarketSpec.check, run by the loader)."""
    text = GOOD.replace(old, new, 1)
    path, err = _load(tmp_path, text)
    assert err.place.file == str(path)
    assert err.place.field == field
    assert err.place.line == _line_of(text, needle)
    assert fragment in str(err)


@pytest.mark.rule("UNT-MKT-01")
@pytest.mark.parametrize("symbol", ['"BTC/USDT"', '""', '"BTC.P"', '"BTC USDT"'])
def test_a_market_symbol_that_would_make_keys_ambiguous_is_refused(tmp_path: Path, symbol: str) -> None:
    """'/' made ACCOUNT/SYMBOL/SLOT bad-debt keys and SYMBOL/SLOT expect keys ambiguous (a
    correct expect record diverged); '.' cannot be named in a param_change path."""
    text = GOOD.replace("[markets.BTCUSDT]", f"[markets.{symbol}]").replace(
        "[markets.BTCUSDT.margin]", f"[markets.{symbol}.margin]"
    )
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_profile(path)
    assert str(err.value).startswith(str(path)) and "field 'markets." in str(err.value)
    assert "symbol" in err.value.message
